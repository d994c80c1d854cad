import { dataError } from './errors.js';

/** shadow-utils' default NAME_REGEX, and its 32-character limit. */
const NAME_RE = /^[a-z_][a-z0-9_-]*[$]?$/;
const RESERVED = new Set(['root', 'daemon', 'bin', 'sys', 'sync', 'games', 'man', 'lp', 'mail', 'news', 'uucp', 'proxy', 'www-data', 'backup', 'list', 'irc', 'gnats', 'nobody', 'nogroup', 'systemd-network', 'systemd-resolve', 'messagebus', 'sshd', '_apt']);

export function nameProblem(name: string): string | null {
  if (!name) return 'the name is empty';
  if (name.length > 32) return `"${printable(name)}" is longer than 32 characters`;
  if (!NAME_RE.test(name)) return `"${printable(name)}" is not a valid user name (lower-case letters, digits, _ and -, starting with a letter or _)`;
  return null;
}

export function isReserved(name: string): boolean {
  return RESERVED.has(name);
}

export function assertValidName(name: string, what = 'user name'): void {
  const p = nameProblem(name);
  if (p) throw dataError(`invalid ${what}: ${p}`, 'choose a name matching ^[a-z_][a-z0-9_-]*$, at most 32 characters');
}

/** Shows control and non-ASCII bytes escaped, so a hostile name cannot rewrite the terminal. */
export function printable(s: string): string {
  return s.replace(/[^\x20-\x7e]/g, (c) => `\\u{${c.codePointAt(0)!.toString(16)}}`);
}
