import { beforeEach, describe, expect, it } from 'vitest';
import { runInstallService } from '../src/commands/service.js';
import { runUninstall } from '../src/commands/uninstall.js';
import { SYSTEMD } from '../src/core/platform.js';
import { captureIo, initializedMachine } from './helpers/fixtures.js';
import type { MemorySystem } from './helpers/memory-system.js';

// install-service through the service-manager seam (src/core/platform.ts): the unit, the manager's own commands, in
// order, and what happens when the manager is absent or fails. The real systemd-analyze check is in 40-watch.bats.
const CFG = '/etc/claude-share/config';
const UNIT = SYSTEMD.unitPath;
let sys: MemorySystem;
const ran = () => sys.toolRuns.map((t) => t.argv.join(' '));

beforeEach(async () => {
  sys = await initializedMachine('alice:a\n');
  for (const d of ['/etc/systemd', '/etc/systemd/system']) sys.addDir(d, 0, 0, 0o755);
});
const systemdRunning = () => {
  sys.addDir('/run/systemd', 0, 0, 0o755);
  sys.addDir('/run/systemd/system', 0, 0, 0o755);
};

describe('install-service', () => {
  it('writes a root-owned 0644 unit running the installed binary, then loads and starts it', async () => {
    systemdRunning();
    const io = captureIo();
    expect(await runInstallService(sys, { uninstall: false, config: CFG }, io)).toBe(0);
    expect(sys.lstat(UNIT)).toMatchObject({ type: 'file', uid: 0, gid: 0, mode: 0o644 });
    expect(sys.content(UNIT)).toMatch(/^ExecStart=\/usr\/local\/bin\/claude-share server watch$/m);
    expect(sys.content(UNIT)).toMatch(/^NoNewPrivileges=yes$/m);
    expect(ran()).toEqual(['systemctl daemon-reload', 'systemctl enable --now claude-share-watch.service']);
    expect(io.lines.join('\n')).toMatch(/journalctl -u claude-share-watch/);
  });

  it('without systemd running: the unit is written, nothing is run, exit 2 and cron named as the way instead', async () => {
    const io = captureIo();
    expect(await runInstallService(sys, { uninstall: false, config: CFG }, io)).toBe(2);
    expect(sys.lstat(UNIT)?.type).toBe('file');
    expect(sys.toolRuns).toEqual([]);
    expect(io.errors.join('\n')).toMatch(/systemd is not running[\s\S]*install-cron --heal/);
  });

  it('a failing systemctl is an operator error (2) naming the command and where to look', async () => {
    systemdRunning();
    sys.toolExit = (t) => (t.argv.includes('enable') ? 1 : 0);
    await expect(runInstallService(sys, { uninstall: false, config: CFG }, captureIo())).rejects.toMatchObject({
      exitCode: 2,
      message: expect.stringMatching(/systemctl enable --now claude-share-watch.service failed/),
      hint: 'see: systemctl status claude-share-watch',
    });
  });

  it('without a config: refused before anything is written', async () => {
    systemdRunning();
    await expect(runInstallService(sys, { uninstall: false, config: '/etc/claude-share/none' }, captureIo())).rejects.toMatchObject({ exitCode: 2 });
    expect(sys.lstat(UNIT)).toBeNull();
    expect(sys.toolRuns).toEqual([]);
  });

  it('--uninstall stops it, removes the unit and reloads; run again it has nothing to stop', async () => {
    systemdRunning();
    await runInstallService(sys, { uninstall: false, config: CFG }, captureIo());
    sys.toolRuns = [];
    expect(await runInstallService(sys, { uninstall: true, config: CFG }, captureIo())).toBe(0);
    expect(sys.lstat(UNIT)).toBeNull();
    expect(ran()).toEqual(['systemctl disable --now claude-share-watch.service', 'systemctl daemon-reload']);
    sys.toolRuns = [];
    expect(await runInstallService(sys, { uninstall: true, config: CFG }, captureIo())).toBe(0);
    expect(ran()).toEqual(['systemctl daemon-reload']);
  });

  it('uninstall stops the watcher before it removes its unit; a dry run runs nothing', async () => {
    systemdRunning();
    await runInstallService(sys, { uninstall: false, config: CFG }, captureIo());
    sys.toolRuns = [];
    expect(await runUninstall(sys, { purge: false, dryRun: true, json: false, config: CFG }, captureIo())).toBe(0);
    expect(sys.toolRuns).toEqual([]);
    expect(await runUninstall(sys, { purge: false, dryRun: false, json: false, config: CFG }, captureIo())).toBe(0);
    expect(ran()).toEqual(['systemctl disable --now claude-share-watch.service']);
    expect(sys.lstat(UNIT)).toBeNull();
  });
});
