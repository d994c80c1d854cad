/**
 * What each Claude Code version does to the shared credentials file (shared/claude-code-facts.md, observed with the
 * real clients in test/real-client). doctor names it for the installed client; the table in the README says the same.
 */
export type WriteMode = 'in-place' | 'severs';

export interface ClientVersion {
  version: string;
  writeMode: WriteMode;
  /** One line for people: what a token refresh does to a member's link, and what heals it. */
  summary: string;
}

/** "2.1.330 (Claude Code)" → "2.1.330"; anything else (member-written output) → null. */
export function parseClientVersion(text: string): string | null {
  const m = /^\s*(\d{1,4})\.(\d{1,4})\.(\d{1,6})(?=[\s(]|$)/.exec(text.slice(0, 200));
  return m ? `${Number(m[1])}.${Number(m[2])}.${Number(m[3])}` : null;
}

function compare(a: string, b: string): number {
  const x = a.split('.').map(Number);
  const y = b.split('.').map(Number);
  for (let i = 0; i < 3; i++) if (x[i] !== y[i]) return x[i] - y[i];
  return 0;
}

/** The first version that replaces the link by renaming a temp file over it (2.1.117 still wrote through it). */
export const FIRST_SEVERING = '2.1.118';

export function describeClient(version: string): ClientVersion {
  if (compare(version, FIRST_SEVERING) < 0) {
    return { version, writeMode: 'in-place', summary: 'a token refresh writes through the link, then chmods it 0600 (the shared file may lose group access until sync or the watcher restores it)' };
  }
  return { version, writeMode: 'severs', summary: "a token refresh replaces the member's link with a private file; sync or the watcher promotes it and relinks" };
}
