import { dataError, usageError } from '../core/errors.js';
import { assertValidName, isReserved } from '../core/validate.js';
import { type Config, configPath, requireConfig } from '../engine/config.js';
import { configAction, converge, desiredFrom, preflight, reloginNote, underLock } from '../engine/converge.js';
import { type Io, askPassword } from '../engine/io.js';
import { assertPassword, readSecretFile } from '../engine/users-file.js';
import type { System } from '../system/system.js';

export interface AddUserOptions {
  name: string;
  password?: string;
  passwordFromFile?: string;
  noPassword: boolean;
  allowSystemUser: boolean;
  dryRun: boolean;
  json: boolean;
  config?: string;
  yes: boolean;
}

/** server add-user: create or adopt one account. An adopted user's private files are backed up, never promoted. */
export async function runAddUser(sys: System, o: AddUserOptions, io: Io): Promise<number> {
  preflight(sys);
  assertValidName(o.name);
  const cfgPath = configPath(o.config);
  // Validated and password read without the lock (a prompt must not hold it); the config is read again under it.
  const pre = requireConfig(sys, cfgPath);
  if (o.name === 'root' || isReserved(o.name)) throw dataError(`${o.name} is a system account and cannot be a managed user`, 'choose another name');
  if (o.name === pre.group) throw dataError(`user ${o.name} has the same name as the group`, 'choose another user name');
  const existing = sys.getUser(o.name);
  if (existing && existing.uid < 1000 && !o.allowSystemUser) throw usageError(`${o.name} is a system account (uid ${existing.uid})`, 'pass --allow-system-user if you really mean it');
  let password: string | null = null;
  if (!existing) {
    if (o.password !== undefined) {
      io.err('warning: --password puts the password on the command line, visible to other processes; prefer --password-from-file or the prompt');
      password = o.password;
    } else if (o.passwordFromFile) password = readSecretFile(sys, o.passwordFromFile).replace(/\r?\n$/, '');
    else if (!o.noPassword) {
      if (!io.interactive) throw usageError(`no password for new user ${o.name}`, 'pass --password-from-file FILE, or --no-password for an SSH-key-only account');
      password = await askPassword(io.prompt!, o.name, io.err);
    }
    assertPassword(password, `the password of ${o.name}`);
  }
  return underLock(sys, o.dryRun, async () => {
    const c = requireConfig(sys, cfgPath);
    const config: Config = { ...c, managedUsers: [...new Set([...c.managedUsers, o.name])] };
    const desired = desiredFrom(config, { createUsers: sys.getUser(o.name) ? [] : [o.name], onlyUsers: [o.name], promoteFrom: c.managedUsers.includes(o.name) ? [o.name] : [] });
    const { code } = await converge(sys, io, {
      desired,
      dryRun: o.dryRun,
      json: o.json,
      command: 'add-user',
      passwords: new Map([[o.name, password]]),
      extra: () => configAction(sys, cfgPath, config),
      notes: (s, _p, outcomes, out) => reloginNote(s, outcomes, out),
    });
    return code;
  });
}
