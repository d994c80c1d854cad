import { CliError, EXIT, dataError, unsafeError } from '../core/errors.js';
import type { System } from '../system/system.js';
import { nameProblem } from '../core/validate.js';

export interface UserSpec {
  name: string;
  password: string | null;
}

export const MAX_SECRET_FILE_BYTES = 1024 * 1024;
/** chpasswd reads lines into a fixed buffer; longer passwords would be cut or refused midway. */
export const MAX_PASSWORD = 512;
/** What Buffer#toString('utf8') puts where bytes are not UTF-8. */
export const NOT_UTF8 = '\uFFFD';

/**
 * The one password rule, on every path (users file, --user, the prompt, add-user's --password and its file): chpasswd
 * reads `name:password` lines, so a line break would start a second line (root's password); control characters and
 * overlong input are refused too. Returns what is wrong, never the password.
 */
export function passwordProblem(password: string): string | null {
  if (!password) return 'the password is empty';
  if (password.includes(NOT_UTF8)) return 'the password is not valid UTF-8';
  if ([...password].length > MAX_PASSWORD) return `the password is longer than ${MAX_PASSWORD} characters`;
  // C0 controls (line breaks, NUL, escape), DEL and C1 controls.
  if (/[\u0000-\u001f\u007f-\u009f]/.test(password)) return 'the password has a line break or another control character';
  return null;
}

/** Throws the data error (65) every path uses for a bad password. */
export function assertPassword(password: string | null, who: string): void {
  const bad = password === null ? null : passwordProblem(password);
  if (bad) throw dataError(`${who}: ${bad}`, `give one line of printable UTF-8 text, at most ${MAX_PASSWORD} characters`);
}

const MAX_ERRORS_SHOWN = 5;

/** Parses `name:password` lines; every bad line is reported at once, with its number, and nothing is changed. */
export function parseUsersFile(text: string, source: string): UserSpec[] {
  const errors: string[] = [];
  const seen = new Map<string, number>();
  const users: UserSpec[] = [];
  text.split('\n').forEach((raw, i) => {
    const n = i + 1;
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (!line.trim() || line.trimStart().startsWith('#')) return;
    const colon = line.indexOf(':');
    if (colon < 0) {
      errors.push(`line ${n}: expected name:password`);
      return;
    }
    const name = line.slice(0, colon);
    const password = line.slice(colon + 1);
    if (line.includes(NOT_UTF8)) {
      errors.push(`line ${n}: not valid UTF-8`);
      return;
    }
    // Nothing from a secret file is echoed: a line with a misplaced colon could show part of a password.
    const bad = nameProblem(name);
    if (bad) errors.push(`line ${n}: invalid user name (lower-case letters, digits, _ and -, starting with a letter or _, at most 32)`);
    else if (seen.has(name)) errors.push(`line ${n}: duplicate user (first on line ${seen.get(name)})`);
    const pw = passwordProblem(password);
    if (pw) errors.push(`line ${n}: ${pw}`);
    if (!bad && !seen.has(name)) seen.set(name, n);
    users.push({ name, password });
  });
  // One line (errors reach the terminal with control characters escaped), the first few named: a wrong format in a
  // file of 1,000 users is one message, not a screenful.
  const shown = errors.slice(0, MAX_ERRORS_SHOWN).join('; ') + (errors.length > MAX_ERRORS_SHOWN ? `; … and ${errors.length - MAX_ERRORS_SHOWN} more` : '');
  if (errors.length) throw dataError(`${source}: ${errors.length} bad line${errors.length === 1 ? '' : 's'}: ${shown}`, 'fix these lines; nothing was changed');
  if (!users.length) throw dataError(`${source}: no users in the file`, 'add lines of the form name:password');
  return users;
}

/** Reads a file that holds passwords: root-owned, mode 0600, a regular file reached without a symlink. */
export function readSecretFile(sys: System, path: string): string {
  const r = sys.readFileNoFollow(path, { maxBytes: MAX_SECRET_FILE_BYTES });
  const fix = `run: chown root:root ${path} && chmod 0600 ${path}`;
  if (!r.ok) {
    if (r.reason === 'missing') throw new CliError('bad-input', EXIT.dataErr, `${path}: no such file`, 'check the path');
    if (r.reason === 'too-large') throw dataError(`${path}: larger than ${MAX_SECRET_FILE_BYTES} bytes`, 'split the file');
    throw unsafeError(`refusing ${path}: ${r.reason === 'symlink' ? 'it is a symlink' : r.reason}`, 'pass a regular root-owned file with mode 0600');
  }
  if (r.stat.uid !== 0) throw unsafeError(`refusing ${path}: owned by uid ${r.stat.uid}, not root`, fix);
  if ((r.stat.mode & 0o777) !== 0o600) throw unsafeError(`refusing ${path}: mode ${(r.stat.mode & 0o7777).toString(8)}, not 600`, fix);
  // Invalid bytes become U+FFFD here, and every line holding one is refused: a password is never silently altered.
  return r.bytes.toString('utf8');
}
