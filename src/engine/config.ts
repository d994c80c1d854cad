import { CliError, EXIT, operatorError, unsafeError } from '../core/errors.js';
import type { System } from '../system/system.js';
import { isReserved, nameProblem, printable, validateSharedDir } from '../core/validate.js';

export const DEFAULT_CONFIG_PATH = '/etc/claude-share/config';

export interface Config {
  sharedDir: string;
  group: string;
  sourceUser: string;
  managedUsers: string[];
  shareSettingsLocal: boolean;
  /** Backup runs older than this many days are pruned (never anyone's newest login backup). */
  backupKeepDays: number;
  /** The managed users that are containers (server add-container); a subset of managedUsers. */
  containers: string[];
}

export const DEFAULT_BACKUP_KEEP_DAYS = 30;
const KEYS = ['SHARED_DIR', 'GROUP', 'SOURCE_USER', 'MANAGED_USERS', 'SHARE_SETTINGS_LOCAL', 'BACKUP_KEEP_DAYS', 'CONTAINERS'] as const;

export function configPath(flag?: string, env: NodeJS.ProcessEnv = process.env): string {
  return flag || env.CLAUDE_SHARE_CONFIG || DEFAULT_CONFIG_PATH;
}

export function serializeConfig(c: Config): string {
  return [
    '# Written by claude-share. Edit with care: status and sync act on this file.',
    `SHARED_DIR=${c.sharedDir}`,
    `GROUP=${c.group}`,
    `SOURCE_USER=${c.sourceUser}`,
    `MANAGED_USERS=${c.managedUsers.join(',')}`,
    `SHARE_SETTINGS_LOCAL=${c.shareSettingsLocal ? 'yes' : 'no'}`,
    `BACKUP_KEEP_DAYS=${c.backupKeepDays}`,
    // Only when there are containers: a config without them stays as earlier versions wrote it.
    ...(c.containers.length ? [`CONTAINERS=${c.containers.join(',')}`] : []),
    '',
  ].join('\n');
}

export function parseConfig(text: string, path: string): Config {
  const values = new Map<string, string>();
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (!line || line.startsWith('#')) return;
    const eq = line.indexOf('=');
    if (eq < 1) throw new CliError('config-invalid', EXIT.dataErr, `${path}:${i + 1}: expected KEY=VALUE`, 'fix the line or re-run claude-share server init');
    const key = line.slice(0, eq);
    if (!(KEYS as readonly string[]).includes(key)) {
      throw new CliError('config-invalid', EXIT.dataErr, `${path}:${i + 1}: unknown key ${key}`, `known keys: ${KEYS.join(', ')}`);
    }
    values.set(key, line.slice(eq + 1));
  });
  for (const key of ['SHARED_DIR', 'GROUP'] as const) {
    if (!values.get(key)) throw new CliError('config-invalid', EXIT.dataErr, `${path}: missing ${key}`, 're-run claude-share server init to rewrite it');
  }
  const c: Config = {
    sharedDir: validateSharedDir(values.get('SHARED_DIR')!),
    group: values.get('GROUP')!,
    sourceUser: values.get('SOURCE_USER') || 'root',
    managedUsers: (values.get('MANAGED_USERS') ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
    shareSettingsLocal: (values.get('SHARE_SETTINGS_LOCAL') ?? 'yes') !== 'no',
    backupKeepDays: DEFAULT_BACKUP_KEEP_DAYS,
    containers: (values.get('CONTAINERS') ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
  };
  const stray = c.containers.find((n) => !c.managedUsers.includes(n));
  if (stray !== undefined)
    throw new CliError('config-invalid', EXIT.dataErr, `${path}: CONTAINERS names ${printable(stray)}, which is not in MANAGED_USERS`, `add it to MANAGED_USERS or remove it from CONTAINERS`);
  const keep = values.get('BACKUP_KEEP_DAYS');
  if (keep !== undefined) {
    if (!/^[1-9][0-9]{0,4}$/.test(keep))
      throw new CliError(
        'config-invalid',
        EXIT.dataErr,
        `${path}: BACKUP_KEEP_DAYS=${printable(keep)} is not a number of days (1 to 99999)`,
        `fix the line, e.g. BACKUP_KEEP_DAYS=${DEFAULT_BACKUP_KEEP_DAYS}`,
      );
    c.backupKeepDays = Number(keep);
  }
  const bad = [c.group, c.sourceUser, ...c.managedUsers].find((n) => nameProblem(n)) ?? c.managedUsers.find((n) => n === 'root' || isReserved(n));
  if (bad !== undefined)
    throw new CliError('config-invalid', EXIT.dataErr, `${path}: "${printable(bad)}" cannot be a group, source or managed user`, 'fix the config, or re-run claude-share server init');
  return c;
}

/** Loads the config; a config that someone other than root can change is refused (it steers root's actions). */
export function loadConfig(sys: System, path: string): Config | null {
  const read = sys.readFileNoFollow(path, { maxBytes: 4 * 1024 * 1024 });
  if (!read.ok) {
    if (read.reason === 'missing') return null;
    throw unsafeError(`refusing config ${path}: ${read.reason}`, 'the config must be a regular root-owned file, mode 0644 or stricter');
  }
  if (read.stat.uid !== 0 || (read.stat.mode & 0o022) !== 0) {
    throw unsafeError(`refusing config ${path}: owned by uid ${read.stat.uid}, mode ${octal(read.stat.mode)}`, `run: chown root:root ${path} && chmod 0644 ${path}`);
  }
  return parseConfig(read.bytes.toString('utf8'), path);
}

export function requireConfig(sys: System, path: string): Config {
  const c = loadConfig(sys, path);
  if (!c) throw operatorError(`no configuration at ${path}`, 'run claude-share server init first');
  return c;
}

export const octal = (mode: number) => '0' + (mode & 0o7777).toString(8).padStart(3, '0');

/** What init uses when neither a flag nor the config says otherwise. */
export const DEFAULTS = { sharedDir: '/shared/claude-share', group: 'claudeshare', sourceUser: 'root', count: 2 };
