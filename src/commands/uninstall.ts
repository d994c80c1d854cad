import { TOKEN_PATH, TOKEN_PROFILE } from '../core/token.js';
import { removeToken } from './token.js';
import { disableUsage } from './usage.js';
import { USAGE_DIR, USAGE_DROPIN, USAGE_UNIT_PATH } from '../core/usage.js';
import { PROBE_MEMO } from '../engine/probe-memo.js';
import { CRON_PATH, stopService } from './service.js';
import { EXIT, dataError, unsafeError } from '../core/errors.js';
import type { Action } from '../core/model.js';
import { planRemoval } from '../core/plan-removal.js';
import { renderPlanText } from '../core/render.js';
import { printable, validateSharedDir } from '../core/validate.js';
import { DEFAULTS, configPath, loadConfig } from '../engine/config.js';
import { converge, desiredFrom, preflight, underLock } from '../engine/converge.js';
import { CRON_STATE_DIR } from '../engine/cron-report.js';
import type { Io } from '../engine/io.js';
import { findInsecureParent, probe } from '../engine/probe.js';
import type { System } from '../system/system.js';

export interface UninstallOptions {
  purge: boolean;
  dryRun: boolean;
  json: boolean;
  config?: string;
  /** The one member who keeps the live shared login (everyone else logs in with their own account). */
  keepLogin?: string;
  /** Where the shared directory is when the config is already gone (uninstall --purge after uninstall). */
  sharedDir?: string;
  /** Skip the confirmation asked on a terminal. */
  yes?: boolean;
}

/** server uninstall: every member gets private copies; service, cron file and config go; the shared dir stays or is archived. */
export async function runUninstall(sys: System, o: UninstallOptions, io: Io): Promise<number> {
  preflight(sys);
  const cfgPath = configPath(o.config);
  return underLock(sys, o.dryRun, () => uninstallLocked(sys, o, io, cfgPath));
}

async function uninstallLocked(sys: System, o: UninstallOptions, io: Io, cfgPath: string): Promise<number> {
  const c = loadConfig(sys, cfgPath);
  if (!c) return afterUninstall(sys, o, io, cfgPath);
  if (o.keepLogin !== undefined && !c.managedUsers.includes(o.keepLogin))
    throw dataError(`--keep-login ${printable(o.keepLogin)} is not a managed user`, `managed users: ${c.managedUsers.join(', ') || '(none)'}`);
  const desired = desiredFrom(c);
  if (!o.dryRun && !o.json && io.interactive) {
    const planned = planRemoval(desired, probe(sys, desired), { deleteAccount: false, removeHome: false, keepLogin: o.keepLogin });
    renderPlanText(planned.actions, io.style).forEach((l) => io.out(l));
    io.out(
      `This rewrites the Claude files in ${c.managedUsers.length} home${c.managedUsers.length === 1 ? '' : 's'}${o.keepLogin ? `; only ${o.keepLogin} keeps the shared login` : '; nobody keeps the shared login (--keep-login USER gives it to one member)'}${o.purge ? `, and archives ${c.sharedDir}` : ''}.`,
    );
    const answer = (await io.prompt!.input('Proceed? [y/N]', 'N')).trim().toLowerCase();
    if (answer !== 'y' && answer !== 'yes') {
      io.err('nothing was changed');
      return EXIT.ok;
    }
  }
  const extra = (): Action[] => {
    const out: Action[] = [];
    for (const f of [sys.services.unitPath, CRON_PATH, `${CRON_STATE_DIR}/cron-report.sync`, `${CRON_STATE_DIR}/cron-report.status`, PROBE_MEMO, TOKEN_PROFILE, cfgPath]) {
      if (sys.lstat(f))
        out.push({
          kind: 'remove-file',
          code: 'uninstall',
          target: f,
          before: 'present',
          after: 'absent',
          reason: f === cfgPath ? 'status and sync stop acting' : f === TOKEN_PROFILE ? 'login shells no longer get the long-lived token' : 'no more healing',
        });
    }
    if (o.purge && sys.lstat(c.sharedDir)) {
      const archive = `${c.sharedDir}.archive-${sys.now().toISOString().replace(/:/g, '-')}`;
      out.push({ kind: 'archive-shared', code: 'uninstall', target: c.sharedDir, before: 'in place', after: archive, reason: '--purge: kept root-only, backups included' });
    }
    return out;
  };
  if (!o.dryRun) await stopService(sys);
  const { code } = await converge(sys, io, {
    desired,
    dryRun: o.dryRun,
    json: o.json,
    command: 'uninstall',
    extra,
    extraOnlyIfClean: true,
    planFn: (d, obs) => planRemoval(d, obs, { deleteAccount: false, removeHome: false, keepLogin: o.keepLogin }),
  });
  if (!o.dryRun && !o.json)
    io.err(
      o.purge
        ? 'the shared directory was archived root-only; the group was kept (groupdel it when no longer needed)'
        : `the shared directory ${c.sharedDir} and its backups were left in place; the group ${c.group} was kept`,
    );
  // The group stays, so a token left in place would stay readable by the members: it goes, a root-only copy kept.
  if (!o.dryRun && code !== EXIT.operator && sys.lstat(TOKEN_PATH)) {
    removeToken(sys, o.json ? { ...io, out: () => undefined } : io);
    io.err(`the long-lived token was removed (a root-only copy is in /var/lib/claude-share); it stays valid until its year ends: revoke it at claude.ai if nobody should use it`);
  } else if (o.dryRun && sys.lstat(TOKEN_PATH)) io.err(`would remove the long-lived token ${TOKEN_PATH} (a root-only copy kept)`);
  // Usage telemetry: every client on the machine would go on sending to a receiver that is gone.
  if (sys.lstat(USAGE_DROPIN) || sys.lstat(USAGE_UNIT_PATH)) {
    if (o.dryRun) io.err(`would remove ${USAGE_DROPIN} and the usage receiver (the rows in ${USAGE_DIR} stay)`);
    else if (code !== EXIT.operator) await disableUsage(sys, o.json ? { ...io, out: () => undefined } : { ...io, out: io.err });
  }
  return code;
}

/**
 * uninstall with the config already gone (a plain uninstall ran first, as the README orders them): nothing is
 * managed any more, so only --purge has something left to do, the shared directory (found at --shared-dir or the
 * default). Said plainly either way, never "run init first".
 */
function afterUninstall(sys: System, o: UninstallOptions, io: Io, cfgPath: string): number {
  const dir = validateSharedDir(o.sharedDir ?? DEFAULTS.sharedDir);
  const there = sys.lstat(dir);
  if (!o.purge) {
    io.err(`claude-share is already uninstalled here (no config at ${cfgPath}).${there ? ` ${dir} and its backups are still there: uninstall --purge archives them.` : ''}`);
    return EXIT.ok;
  }
  if (!there) {
    io.err(`nothing to purge: no config at ${cfgPath} and no shared directory at ${dir}${o.sharedDir ? '' : ' (pass --shared-dir DIR if it was elsewhere)'}`);
    return EXIT.ok;
  }
  const insecure = there.type !== 'dir' || there.uid !== 0 ? `${dir} is not a root-owned directory` : findInsecureParent(sys, dir);
  if (insecure) throw unsafeError(`${insecure}; not archived`, 'look at it by hand');
  // Only what claude-share made is archived: --shared-dir /usr must never move /usr.
  const looksOurs = sys.lstat(`${dir}/backups`)?.type === 'dir' && sys.lstat(`${dir}/backups`)?.uid === 0 && sys.lstat(`${dir}/home`)?.type === 'dir';
  if (!looksOurs) throw dataError(`${dir} is not a claude-share shared directory (no home/ and backups/ in it); not archived`, 'pass the SHARED_DIR the config named, or look at it by hand');
  const archive = `${dir}.archive-${sys.now().toISOString().replace(/:/g, '-')}`;
  if (o.dryRun) {
    io.out(`would archive ${dir} → ${archive} (root-only, backups included)`);
    return EXIT.ok;
  }
  sys.rename(dir, archive);
  sys.mkdir(archive, 0o700, 0, 0);
  sys.log(`archived ${dir} to ${archive} (uninstall --purge)`);
  io.out(`✓ archived ${dir} → ${archive} (root-only, backups included)`);
  return EXIT.ok;
}
