/**
 * What differs between Linux distributions, as data: how accounts are changed and which service manager runs the
 * watcher. The engine names an operation; the platform gives the argv. Debian, Ubuntu, Fedora and the other
 * shadow-utils systems run systemd; Alpine (busybox adduser/addgroup, OpenRC) would be one more entry of each, and
 * the engine would not change. Pure: nothing here runs anything (the System does, src/system/real-system.ts).
 */

/** One run of a tool: its argv, and what goes to its stdin (chpasswd's NAME:PASSWORD lines: never argv). */
export interface ToolRun {
  argv: string[];
  stdin?: string;
}

export interface AccountTools {
  name: string;
  /** Every command it runs: preflight refuses before anything changes when one is missing. */
  commands: string[];
  /** How to install them, for that refusal's fix line. */
  install: string;
  groupAdd(name: string): ToolRun;
  /** A member gets a login shell; a container's account none (nobody logs in as it). */
  userAdd(name: string, shell: 'login' | 'none'): ToolRun;
  /** All NAME:PASSWORD lines in one run. */
  setPasswords(lines: string[]): ToolRun;
  /** The group's whole member list, set in one run. */
  setGroupMembers(group: string, members: string[]): ToolRun;
  removeGroupMember(group: string, member: string): ToolRun;
  userDel(name: string, removeHome: boolean): ToolRun;
}

export const SHADOW_UTILS: AccountTools = {
  name: 'shadow-utils',
  commands: ['useradd', 'groupadd', 'chpasswd', 'gpasswd'],
  install: 'install the shadow utilities (Debian/Ubuntu: apt-get install passwd)',
  groupAdd: (name) => ({ argv: ['groupadd', name] }),
  userAdd: (name, shell) => ({ argv: ['useradd', '--create-home', '--shell', shell === 'login' ? '/bin/bash' : '/usr/sbin/nologin', name] }),
  setPasswords: (lines) => ({ argv: ['chpasswd'], stdin: lines.map((l) => `${l}\n`).join('') }),
  setGroupMembers: (group, members) => ({ argv: ['gpasswd', '-M', members.join(','), group] }),
  removeGroupMember: (group, member) => ({ argv: ['gpasswd', '-d', member, group] }),
  userDel: (name, removeHome) => ({ argv: removeHome ? ['userdel', '--remove', name] : ['userdel', name] }),
};

export interface ServiceManager {
  name: string;
  /** Where the watcher's service file goes. */
  unitPath: string;
  /** This path exists when the manager is the running init (a unit written without it would never start). */
  runningMarker: string;
  unitText(bin: string): string;
  /** Load the (new) unit and start it now and at boot. */
  start: ToolRun[];
  /** Stop it now and at boot (uninstall, install-service --uninstall). */
  stop: ToolRun[];
  /** Forget a removed unit. */
  forget: ToolRun[];
  /** Where its output goes, for the line after a start. */
  logs: string;
  /** What to run when starting failed. */
  inspect: string;
}

const SYSTEMD_UNIT = 'claude-share-watch.service';

/** What every unit of claude-share's denies its service (the watcher's and the usage receiver's). */
export const SYSTEMD_SANDBOXING = `PrivateTmp=yes
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
SystemCallArchitectures=native`;

/**
 * The watcher needs root's powers over homes (it acts as each user) and the shared dir, and nothing else:
 * no network, no kernel tunables, no new privileges. RestrictSUIDSGID stays off: the shared dirs are setgid.
 */
function systemdUnit(bin: string): string {
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
PrivateNetwork=yes
${SYSTEMD_SANDBOXING}
RestrictAddressFamilies=AF_UNIX
CapabilityBoundingSet=CAP_CHOWN CAP_FOWNER CAP_FSETID CAP_SETUID CAP_SETGID CAP_DAC_OVERRIDE CAP_DAC_READ_SEARCH CAP_KILL

[Install]
WantedBy=multi-user.target
`;
}

export const SYSTEMD: ServiceManager = {
  name: 'systemd',
  unitPath: `/etc/systemd/system/${SYSTEMD_UNIT}`,
  runningMarker: '/run/systemd/system',
  unitText: systemdUnit,
  start: [{ argv: ['systemctl', 'daemon-reload'] }, { argv: ['systemctl', 'enable', '--now', SYSTEMD_UNIT] }],
  stop: [{ argv: ['systemctl', 'disable', '--now', SYSTEMD_UNIT] }],
  forget: [{ argv: ['systemctl', 'daemon-reload'] }],
  logs: 'journalctl -u claude-share-watch',
  inspect: 'systemctl status claude-share-watch',
};
