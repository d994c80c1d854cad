/**
 * Reading values members wrote: every byte of a file in a home or of a shared copy is hostile input. One bad value
 * must become one problem on its item, never an exception that stops the run for everyone (a 1e300 date made
 * toISOString throw; 200,000 nested arrays overflowed the stack of a recursive walk).
 */

/** Deeper than any file Claude writes (a few levels); deep enough for what members put in settings. */
export const MAX_JSON_DEPTH = 64;

/** JSON.parse after a linear pre-scan that refuses nesting deeper than maxDepth; undefined when not acceptable JSON. */
export function parseJsonBounded(bytes: Buffer | string, maxDepth = MAX_JSON_DEPTH): unknown {
  const text = typeof bytes === 'string' ? bytes : bytes.toString('utf8');
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > maxDepth) return undefined;
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** Epoch milliseconds from 1970 to 2100, the only dates believed; anything else (1e300, -1, NaN, "soon") is absent. */
export const MAX_EPOCH_MS = Date.UTC(2100, 0, 1);
export function saneEpochMs(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) && v >= 0 && v <= MAX_EPOCH_MS ? Math.floor(v) : undefined;
}

/** An ISO date that never throws: out-of-range input gives 'invalid date'. */
export function isoOf(ms: number): string {
  const d = new Date(ms);
  return Number.isNaN(d.getTime()) ? 'invalid date' : d.toISOString();
}

/** Quotes s for a POSIX shell, so a path in a `fix:` line can be pasted as root without running what is in its name. */
export function shellQuote(s: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}
