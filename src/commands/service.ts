import { loadConfig, configPath } from '../engine/config.js';
import { EXIT, operatorError } from '../core/errors.js';
import type { Io } from '../engine/io.js';
import type { System } from '../system/system.js';

export const CRON_PATH = '/etc/cron.d/claude-share';

export function cronFile(bin: string, heal: boolean): string {
  return `# Written by claude-share server install-cron. Remove with: claude-share server install-cron --uninstall
# cron mails root whatever this prints: with --cron, problems and warnings when they appear or change, and one line
# when they are resolved.${heal ? ' Routine heals (a token refresh relinked, ~3 per member per day) go to syslog only.' : ''}
MAILTO=root
${heal ? '* * * * *' : '*/5 * * * *'} root ${bin} ${heal ? 'sync --cron' : 'status --cron'}
`;
}

/** Where Debian/Ubuntu (cron, cronie, busybox) and the others put a cron daemon. */
export const CRON_DAEMONS = ['/usr/sbin/cron', '/usr/sbin/crond', '/sbin/crond', '/usr/bin/crond', '/usr/sbin/cronie'];

export interface ServiceOptions {
  uninstall: boolean;
  config?: string;
}

/** Stops the watcher before uninstall removes its unit file (nothing when it is not installed or not running). */
export async function stopService(sys: System): Promise<void> {
  const m = sys.services;
  if (!sys.lstat(m.runningMarker) || !sys.lstat(m.unitPath)) return;
  for (const t of m.stop) await sys.runTool(t);
}

export async function runInstallService(sys: System, o: ServiceOptions, io: Io): Promise<number> {
  const m = sys.services;
  const running = !!sys.lstat(m.runningMarker);
  if (o.uninstall) {
    await stopService(sys);
    if (sys.lstat(m.unitPath)) sys.unlink(m.unitPath);
    if (running) for (const t of m.forget) await sys.runTool(t);
    io.out(`removed ${m.unitPath}`);
    return EXIT.ok;
  }
  const c = loadConfig(sys, configPath(o.config));
  if (!c) throw operatorError('no configuration', 'run claude-share server init first');
  sys.writeFileAtomic(m.unitPath, m.unitText(sys.selfPath()), { mode: 0o644, uid: 0, gid: 0 });
  io.out(`wrote ${m.unitPath}`);
  if (!running) {
    io.err(`${m.name} is not running on this machine: the unit was written but not started.`);
    io.err('use cron instead: claude-share server install-cron --heal');
    return EXIT.operator;
  }
  for (const t of m.start) if ((await sys.runTool(t)) !== 0) throw operatorError(`${t.argv.join(' ')} failed: the watcher was not started`, `see: ${m.inspect}`);
  io.out(`enabled and started the watcher under ${m.name} (${m.logs} to follow it)`);
  return EXIT.ok;
}

export function runInstallCron(sys: System, o: ServiceOptions & { heal: boolean }, io: Io): number {
  if (o.uninstall) {
    if (sys.lstat(CRON_PATH)) sys.unlink(CRON_PATH);
    io.out(`removed ${CRON_PATH}`);
    return EXIT.ok;
  }
  // A file in /etc/cron.d without a daemon to read it would look like monitoring and be none.
  if (!CRON_DAEMONS.some((p) => sys.lstat(p))) {
    throw operatorError(
      `no cron daemon is installed (looked for ${CRON_DAEMONS.join(', ')}); nothing was written`,
      'install one (apt install cron), or use the watcher instead: claude-share server install-service',
    );
  }
  if (!sys.lstat('/etc/cron.d')) sys.mkdir('/etc/cron.d', 0o755, 0, 0);
  sys.writeFileAtomic(CRON_PATH, cronFile(sys.selfPath(), o.heal), { mode: 0o644, uid: 0, gid: 0 });
  io.out(`wrote ${CRON_PATH}: ${o.heal ? 'sync --cron every minute' : 'status --cron every 5 minutes'}; root is mailed only when problems appear, change or clear`);
  return EXIT.ok;
}
