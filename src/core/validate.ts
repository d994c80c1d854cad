import { dataError } from './errors.js';

/** shadow-utils' default NAME_REGEX, and its 32-character limit. */
const NAME_RE = /^[a-z_][a-z0-9_-]*[$]?$/;
const RESERVED = new Set([
  'root',
  'daemon',
  'bin',
  'sys',
  'sync',
  'games',
  'man',
  'lp',
  'mail',
  'news',
  'uucp',
  'proxy',
  'www-data',
  'backup',
  'list',
  'irc',
  'gnats',
  'nobody',
  'nogroup',
  'systemd-network',
  'systemd-resolve',
  'messagebus',
  'sshd',
  '_apt',
]);

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

/** Shows control and non-ASCII bytes escaped, and cuts long input, so hostile input cannot flood or rewrite the terminal. */
export function printable(s: string): string {
  const cut = s.length > 64 ? s.slice(0, 64) : s;
  return cut.replace(/[^\x20-\x7e]/g, (c) => `\\u{${c.codePointAt(0)!.toString(16)}}`) + (cut === s ? '' : `… (${s.length} characters)`);
}

/**
 * A whole message for a terminal or the log, whatever bytes it carries (an error from the kernel names the path a
 * member chose): control characters (C0, DEL, C1) and bidirectional overrides shown as \u{..}, nothing cut.
 */
export function safeText(s: string): string {
  return s.replace(/[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g, (c) => `\\u{${c.codePointAt(0)!.toString(16)}}`);
}

const FORBIDDEN_ROOTS = ['/etc', '/home', '/root', '/proc', '/sys', '/dev', '/run', '/tmp', '/var/tmp', '/usr', '/bin', '/sbin', '/lib', '/boot'];

/** The shared directory must be a plain absolute path outside the system's and the users' trees. */
export function validateSharedDir(dir: string): string {
  if (!dir.startsWith('/')) throw dataError(`shared directory "${printable(dir)}" is not an absolute path`, 'pass --shared-dir /shared/claude-share or another absolute path');
  const norm = dir.replace(/\/+/g, '/').replace(/\/$/, '');
  if (!norm || norm.split('/').some((p) => p === '..' || p === '.'))
    throw dataError(`shared directory "${printable(dir)}" is / or contains . or ..`, 'pass a plain absolute path such as /shared/claude-share');
  for (const bad of FORBIDDEN_ROOTS) {
    if (norm === bad || norm.startsWith(bad + '/'))
      throw dataError(`shared directory ${printable(norm)} is inside ${bad}`, 'choose a root-owned place such as /shared/claude-share or /srv/claude-share');
  }
  return norm;
}
