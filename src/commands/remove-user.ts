import { TOKEN_PATH } from '../core/token.js';
import { EXIT, usageError } from '../core/errors.js';
import { planRemoval } from '../core/plan-removal.js';
import { runJson } from '../core/render.js';
import { printable } from '../core/validate.js';
import { type Config, configPath, requireConfig } from '../engine/config.js';
import { configAction, converge, desiredFrom, preflight, underLock } from '../engine/converge.js';
import type { Io } from '../engine/io.js';
import type { System } from '../system/system.js';

export interface RemoveUserOptions {
  name: string;
  deleteAccount: boolean;
  removeHome: boolean;
  dryRun: boolean;
  json: boolean;
  config?: string;
}

/** server remove-user: the user gets private copies, leaves the group and MANAGED_USERS; backups are kept. */
export async function runRemoveUser(sys: System, o: RemoveUserOptions, io: Io): Promise<number> {
  preflight(sys);
  if (o.removeHome && !o.deleteAccount) throw usageError('--remove-home only goes with --delete-account');
  const cfgPath = configPath(o.config);
  return underLock(sys, o.dryRun, async () => {
    const c = requireConfig(sys, cfgPath);
    // Already not managed (removed before, or never): the state asked for holds, so a second run changes nothing and
    // succeeds, as the first run's re-run must (scripts, Ansible); the line names who is managed, for a typo.
    if (!c.managedUsers.includes(o.name)) {
      io.err(`${printable(o.name)} is not a managed user: nothing to do (managed users: ${c.managedUsers.join(', ') || 'none'})`);
      if (o.json) io.out(JSON.stringify(runJson('remove-user', o.dryRun ? { planned: [] } : { outcomes: [], remaining: [] }, []), null, 2));
      return EXIT.ok;
    }
    const config: Config = { ...c, managedUsers: c.managedUsers.filter((u) => u !== o.name), containers: c.containers.filter((u) => u !== o.name) };
    const desired = { ...desiredFrom(c), users: [o.name] };
    const spec = { deleteAccount: o.deleteAccount, removeHome: o.removeHome };
    const { code } = await converge(sys, io, {
      desired,
      dryRun: o.dryRun,
      json: o.json,
      command: 'remove-user',
      extra: () => configAction(sys, cfgPath, config),
      extraOnlyIfClean: true,
      planFn: (d, obs) => planRemoval(d, obs, spec),
    });
    // The long-lived token was readable by the group: whoever leaves may have a copy that works for its whole year.
    if (!o.dryRun && sys.lstat(TOKEN_PATH))
      io.err(`warning: ${o.name} could read the long-lived token while in the group: make a new one (claude setup-token), set it (claude-share server token set), and revoke the old one at claude.ai`);
    return code;
  });
}
