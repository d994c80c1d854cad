import { existsSync, realpathSync } from 'node:fs';
import { loadConfig, configPath } from './config.js';
import { operatorError } from './errors.js';
import type { Io } from './operations.js';
import type { System } from './system.js';

export const UNIT_PATH = '/etc/systemd/system/claude-share-watch.service';
export const CRON_PATH = '/etc/cron.d/claude-share';

/** The command to put in unit and cron files: the installed binary, else the one running now. */
export function selfPath(): string {
  if (existsSync('/usr/local/bin/claude-share')) return '/usr/local/bin/claude-share';
  return realpathSync(process.argv[1]);
}

/**
 * The watcher needs root's powers over homes (it acts as each user) and the shared dir, and nothing else:
 * no network, no kernel tunables, no new privileges. RestrictSUIDSGID stays off: the shared dirs are setgid.
 */
export function unitFile(bin: string, sharedDir: string): string {
  return `# Written by claude-share server install-service. Remove with: claude-share server install-service --uninstall
[Unit]
Description=claude-share: heal severed Claude Code login links within a second
After=local-fs.target

[Service]
Type=simple
ExecStart=${bin} server watch
ExecReload=/bin/kill -HUP $MAINPID
Restart=on-failure
RestartSec=2s
NoNewPrivileges=yes
# /usr and /boot read-only; /etc stays writable: a heal may put a member back in the group (gpasswd).
ProtectSystem=yes
# The lock directory, root-only, kept between runs (sync from cron takes the same lock).
RuntimeDirectory=claude-share
RuntimeDirectoryMode=0700
RuntimeDirectoryPreserve=yes
PrivateTmp=yes
PrivateNetwork=yes
PrivateDevices=yes
ProtectKernelTunables=yes
ProtectKernelModules=yes
ProtectKernelLogs=yes
ProtectControlGroups=yes
ProtectClock=yes
ProtectHostname=yes
RestrictNamespaces=yes
RestrictRealtime=yes
LockPersonality=yes
SystemCallArchitectures=native
RestrictAddressFamilies=AF_UNIX
CapabilityBoundingSet=CAP_CHOWN CAP_FOWNER CAP_FSETID CAP_SETUID CAP_SETGID CAP_DAC_OVERRIDE CAP_DAC_READ_SEARCH CAP_KILL

[Install]
WantedBy=multi-user.target
`;
}

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

const hasSystemd = () => existsSync('/run/systemd/system');

/** Stops and disables the watcher before uninstall removes its unit file. */
export async function stopService(): Promise<void> {
  if (!hasSystemd() || !existsSync(UNIT_PATH)) return;
  await systemctl('disable', '--now', 'claude-share-watch.service');
}

/** systemctl, argv only; a failure is reported by the caller's next step, not thrown. */
async function systemctl(...args: string[]): Promise<number> {
  const { spawnSync } = await import('node:child_process');
  const r = spawnSync('systemctl', args, { stdio: ['ignore', 'ignore', 'inherit'] });
  return r.status ?? 1;
}

export async function runInstallService(sys: System, o: ServiceOptions, io: Io): Promise<number> {
  if (o.uninstall) {
    await stopService();
    if (sys.lstat(UNIT_PATH)) sys.unlink(UNIT_PATH);
    if (hasSystemd()) await systemctl('daemon-reload');
    io.out(`removed ${UNIT_PATH}`);
    return 0;
  }
  const c = loadConfig(sys, configPath(o.config));
  if (!c) throw operatorError('no configuration', 'run claude-share server init first');
  sys.writeFileAtomic(UNIT_PATH, unitFile(selfPath(), c.sharedDir), { mode: 0o644, uid: 0, gid: 0 });
  io.out(`wrote ${UNIT_PATH}`);
  if (!hasSystemd()) {
    io.err('systemd is not running on this machine: the unit was written but not started.');
    io.err('use cron instead: claude-share server install-cron --heal');
    return 2;
  }
  if ((await systemctl('daemon-reload')) !== 0 || (await systemctl('enable', '--now', 'claude-share-watch.service')) !== 0) {
    throw operatorError('systemctl could not enable claude-share-watch.service', 'see: systemctl status claude-share-watch');
  }
  io.out('enabled and started claude-share-watch.service (journalctl -u claude-share-watch to follow it)');
  return 0;
}

export function runInstallCron(sys: System, o: ServiceOptions & { heal: boolean }, io: Io): number {
  if (o.uninstall) {
    if (sys.lstat(CRON_PATH)) sys.unlink(CRON_PATH);
    io.out(`removed ${CRON_PATH}`);
    return 0;
  }
  // A file in /etc/cron.d without a daemon to read it would look like monitoring and be none.
  if (!CRON_DAEMONS.some((p) => sys.lstat(p))) {
    throw operatorError(
      `no cron daemon is installed (looked for ${CRON_DAEMONS.join(', ')}); nothing was written`,
      'install one (apt install cron), or use the watcher instead: claude-share server install-service',
    );
  }
  if (!sys.lstat('/etc/cron.d')) sys.mkdir('/etc/cron.d', 0o755, 0, 0);
  sys.writeFileAtomic(CRON_PATH, cronFile(selfPath(), o.heal), { mode: 0o644, uid: 0, gid: 0 });
  io.out(`wrote ${CRON_PATH}: ${o.heal ? 'sync --cron every minute' : 'status --cron every 5 minutes'}; root is mailed only when problems appear, change or clear`);
  return 0;
}
