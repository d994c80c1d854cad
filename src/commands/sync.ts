import { dataError } from '../core/errors.js';
import { printable } from '../core/validate.js';
import { configPath, requireConfig } from '../engine/config.js';
import { converge, preflight, reloginNote, syncDesired, underLock, type ConvergeResult } from '../engine/converge.js';
import type { Io } from '../engine/io.js';
import type { System } from '../system/system.js';

export interface SyncOptions {
  dryRun: boolean;
  json: boolean;
  quiet: boolean;
  cron?: boolean;
  user?: string;
  config?: string;
  /** Make the freshest usable login the shared one whatever its account, and pin that account. */
  acceptAccount?: boolean;
  /** Internal (login --run): only this member's severed login may be promoted, never another member's. */
  promoteOnlyFrom?: string;
}

/** sync: repair every drift; the freshest valid login of the shared account becomes the shared copy. */
export async function runSync(sys: System, o: SyncOptions, io: Io): Promise<number> {
  preflight(sys);
  return underLock(sys, o.dryRun, async () => {
    const c = requireConfig(sys, configPath(o.config));
    if (o.user && !c.managedUsers.includes(o.user)) throw dataError(`${printable(o.user)} is not a managed user`, `managed users: ${c.managedUsers.join(', ') || '(none)'}`);
    const desired = { ...syncDesired(c, o.user ? [o.user] : undefined), acceptAccount: !!o.acceptAccount, ...(o.promoteOnlyFrom ? { promoteFrom: [o.promoteOnlyFrom] } : {}) };
    return (await converge(sys, io, { desired, dryRun: o.dryRun, json: o.json, quiet: o.quiet, command: 'sync', cron: o.cron, notes: (s, _p, outcomes, out) => reloginNote(s, outcomes, out) })).code;
  });
}

/** One quiet sync pass for the watcher: the same converge as `sync`, its lines going to io. */
export function healOnce(sys: System, cfgPath: string, io: Io, onlyUsers?: string[]): Promise<ConvergeResult> {
  return underLock(sys, false, async () => {
    const c = requireConfig(sys, cfgPath);
    const users = onlyUsers?.filter((u) => c.managedUsers.includes(u));
    return converge(sys, io, {
      desired: syncDesired(c, users),
      dryRun: false,
      json: false,
      quiet: true,
      command: 'watch',
      notes: (s, _p, outcomes, out) => reloginNote(s, outcomes, out),
    });
  });
}
