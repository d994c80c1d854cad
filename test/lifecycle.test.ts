import { beforeEach, describe, expect, it } from 'vitest';
import { runInit } from '../src/commands/init.js';
import { runRemoveUser } from '../src/commands/remove-user.js';
import { runStatus } from '../src/commands/status.js';
import { runUninstall } from '../src/commands/uninstall.js';
import { captureIo, HOUR, initOpts, machineWithRootLogin } from './helpers/fixtures.js';
import type { MemorySystem } from './helpers/memory-system.js';

const NOW = Date.parse('2026-11-23T12:00:00Z');
const SH = '/shared/claude-share/home';
const CFG = '/etc/claude-share/config';
let sys: MemorySystem;
const files = { unit: '/etc/systemd/system/claude-share-watch.service', cron: '/etc/cron.d/claude-share' };
const rm = (extra = {}) => runRemoveUser(sys, { name: 'bob', deleteAccount: false, removeHome: false, dryRun: false, json: false, config: CFG, ...extra }, captureIo());

beforeEach(async () => {
  sys = machineWithRootLogin(NOW + 2 * HOUR);
  sys.addFile('/root/users', 'alice:a\nbob:b\n', 0, 0, 0o600);
  expect(await runInit(sys, initOpts({ usersFromFile: '/root/users' }), captureIo())).toBe(0);
});

describe('remove-user', () => {
  it('replaces the links with private copies (the login excepted: bob logs in himself), leaves the group and the config; status stays healthy', async () => {
    const shared = sys.content(`${SH}/.claude/.credentials.json`);
    const io = captureIo();
    expect(await runRemoveUser(sys, { name: 'bob', deleteAccount: false, removeHome: false, dryRun: false, json: false, config: CFG }, io)).toBe(0);
    const bob = sys.getUser('bob')!;
    // A copy of the single-use refresh token would log alice out at bob's first refresh.
    expect(sys.lstat('/home/bob/.claude/.credentials.json')).toBeNull();
    expect(sys.content(`${SH}/.claude/.credentials.json`)).toBe(shared);
    expect(sys.lstat('/home/bob/.claude/settings.json')).toMatchObject({ type: 'file', uid: bob.uid, mode: 0o600 });
    expect(sys.lstat('/home/bob/.claude.json')).toMatchObject({ type: 'file', uid: bob.uid });
    const said = io.errors.join('\n');
    // The login link goes without a copy, and the line says so.
    expect(io.lines.join('\n')).toContain('removed the link, no private copy: /home/bob/.claude/.credentials.json');
    expect(io.lines.join('\n')).not.toContain('with a private copy: /home/bob/.claude/.credentials.json');
    expect(said.match(/login-not-copied/g)).toHaveLength(1);
    expect(said).toMatch(/bob leaves without the shared login/);
    expect(sys.getGroup('claudeshare')!.members).toEqual(['alice']);
    expect(sys.content(CFG)).toContain('MANAGED_USERS=alice\n');
    expect(sys.readlink('/home/alice/.claude/.credentials.json')).toBe(`${SH}/.claude/.credentials.json`);
    expect(runStatus(sys, { json: false, quiet: true, config: CFG }, captureIo())).toBe(0);
  });

  it('--dry-run changes nothing; --delete-account keeps the home unless --remove-home', async () => {
    const before = sys.snapshot();
    expect(await rm({ dryRun: true })).toBe(0);
    expect(sys.snapshot()).toBe(before);
    const io = captureIo();
    expect(await runRemoveUser(sys, { name: 'bob', deleteAccount: true, removeHome: false, dryRun: false, json: false, config: CFG }, io)).toBe(0);
    expect(sys.getUser('bob')).toBeNull();
    // The account this run deleted is not reported missing afterwards.
    expect(io.errors.join('\n')).not.toContain('user-missing');
    expect(sys.lstat('/home/bob/.claude/settings.json')?.type).toBe('file');
  });

  it('a user who is not managed (removed before, or a typo): nothing to do, exit 0, the managed users named, nothing changed; --remove-home alone is refused (64)', async () => {
    const before = sys.snapshot();
    const io = captureIo();
    expect(await runRemoveUser(sys, { name: 'zed', deleteAccount: false, removeHome: false, dryRun: false, json: false, config: CFG }, io)).toBe(0);
    expect(io.errors.join('\n')).toMatch(/^zed is not a managed user: nothing to do \(managed users: .*alice/);
    expect(sys.snapshot()).toBe(before);
    await expect(rm({ removeHome: true })).rejects.toMatchObject({ exitCode: 64 });
  });
});

describe('uninstall', () => {
  it('gives everyone private copies (nobody the login), removes cron, unit and config, keeps the shared dir', async () => {
    sys.addFile(files.cron, 'x');
    const io = captureIo();
    expect(await runUninstall(sys, { purge: false, dryRun: false, json: false, config: CFG }, io)).toBe(0);
    for (const u of ['alice', 'bob']) expect(sys.lstat(`/home/${u}/.claude/.credentials.json`)).toBeNull();
    for (const u of ['alice', 'bob']) expect(sys.lstat(`/home/${u}/.claude/settings.json`)?.type).toBe('file');
    expect(io.errors.join('\n').match(/alice, bob leave without the shared login/g)).toHaveLength(1);
    expect(sys.lstat(CFG)).toBeNull();
    expect(sys.lstat(files.cron)).toBeNull();
    expect(sys.lstat(`${SH}/.claude/.credentials.json`)?.type).toBe('file');
    expect([...sys.files.keys()].some((p) => p.startsWith('/shared/claude-share/backups/'))).toBe(true);
  });

  it('--keep-login USER: that one member keeps the live login, the others none; an unmanaged name is 65 before any change', async () => {
    const shared = sys.content(`${SH}/.claude/.credentials.json`);
    const before = sys.snapshot();
    await expect(runUninstall(sys, { purge: false, dryRun: false, json: false, config: CFG, keepLogin: 'zed' }, captureIo())).rejects.toMatchObject({ exitCode: 65 });
    expect(sys.snapshot()).toBe(before);
    expect(await runUninstall(sys, { purge: false, dryRun: false, json: false, config: CFG, keepLogin: 'alice' }, captureIo())).toBe(0);
    expect(sys.content('/home/alice/.claude/.credentials.json')).toBe(shared);
    expect(sys.lstat('/home/alice/.claude/.credentials.json')).toMatchObject({ type: 'file', uid: sys.getUser('alice')!.uid, mode: 0o600 });
    expect(sys.lstat('/home/bob/.claude/.credentials.json')).toBeNull();
  });

  it('on a terminal it shows the plan and asks; anything but y changes nothing', async () => {
    const before = sys.snapshot();
    const io = { ...captureIo(), interactive: true, prompt: { input: async () => 'n', password: async () => '' } };
    expect(await runUninstall(sys, { purge: false, dryRun: false, json: false, config: CFG }, io)).toBe(0);
    expect(sys.snapshot()).toBe(before);
    expect(io.lines.join('\n')).toMatch(/would replace the link with a private copy/);
    expect(io.lines.join('\n')).toMatch(/nobody keeps the shared login/);
    expect(io.errors.join('\n')).toMatch(/nothing was changed/);
    const yes = { ...captureIo(), interactive: true, prompt: { input: async () => 'y', password: async () => '' } };
    expect(await runUninstall(sys, { purge: false, dryRun: false, json: false, config: CFG }, yes)).toBe(0);
    expect(sys.lstat(CFG)).toBeNull();
  });

  it("--purge after a plain uninstall (the README's order) archives the shared directory; a second one says there is nothing left", async () => {
    expect(await runUninstall(sys, { purge: false, dryRun: false, json: false, config: CFG }, captureIo())).toBe(0);
    const again = captureIo();
    expect(await runUninstall(sys, { purge: false, dryRun: false, json: false, config: CFG }, again)).toBe(0);
    expect(again.errors.join('\n')).toMatch(/already uninstalled.*uninstall --purge archives them/);
    expect(again.errors.join('\n')).not.toMatch(/init/);
    const purge = captureIo();
    expect(await runUninstall(sys, { purge: true, dryRun: false, json: false, config: CFG }, purge)).toBe(0);
    expect(sys.lstat('/shared/claude-share')).toBeNull();
    expect(purge.lines.join('\n')).toMatch(/archived \/shared\/claude-share → \/shared\/claude-share\.archive-/);
    const last = captureIo();
    expect(await runUninstall(sys, { purge: true, dryRun: false, json: false, config: CFG }, last)).toBe(0);
    expect(last.errors.join('\n')).toMatch(/nothing to purge/);
    // --shared-dir pointing at anything else root owns is refused, nothing moved.
    sys.addDir('/srv', 0, 0, 0o755);
    sys.addDir('/srv/data', 0, 0, 0o755);
    await expect(runUninstall(sys, { purge: true, dryRun: false, json: false, config: CFG, sharedDir: '/srv/data' }, captureIo())).rejects.toMatchObject({ exitCode: 65 });
    expect(sys.lstat('/srv/data')).toBeTruthy();
  });

  it('--purge moves the shared directory, backups included, to a root-only archive', async () => {
    expect(await runUninstall(sys, { purge: true, dryRun: false, json: false, config: CFG }, captureIo())).toBe(0);
    expect(sys.lstat('/shared/claude-share')).toBeNull();
    const archive = [...sys.files.keys()].find((p) => /^\/shared\/claude-share\.archive-[^/]+$/.test(p))!;
    expect(sys.lstat(archive)).toMatchObject({ uid: 0, mode: 0o700 });
    expect(sys.lstat(`${archive}/backups`)).toBeTruthy();
  });

  it('--dry-run changes nothing', async () => {
    const before = sys.snapshot();
    const io = captureIo();
    expect(await runUninstall(sys, { purge: true, dryRun: true, json: false, config: CFG }, io)).toBe(0);
    expect(sys.snapshot()).toBe(before);
    expect(io.lines.join('\n')).toContain('would move the shared directory');
  });
});

describe('status --prometheus', () => {
  it('writes the textfile metrics atomically', async () => {
    sys.files.delete('/home/alice/.claude/settings.json');
    expect(runStatus(sys, { json: false, quiet: true, prometheus: '/var/lib/prom/cs.prom', config: CFG }, captureIo())).toBe(1);
    const text = sys.content('/var/lib/prom/cs.prom')!;
    expect(text).toContain('claude_share_healthy 0');
    expect(text).toContain('claude_share_problems{code="missing",severity="drift"} 1');
    // Every other code is there at 0, so a series drops to 0 instead of disappearing.
    expect(text).toContain('claude_share_problems{code="shared-intruder",severity="warning"} 0');
    expect(text).toContain('claude_share_problems{code="no-login",severity="operator"} 0');
    expect(text).not.toContain('code="config"');
    expect(text).toContain('claude_share_managed_users 2');
    expect(text).toMatch(/claude_share_login_expiry_seconds 7200\n/);
  });

  it('writes no expiry at all when there is no login (not a 0 that reads as "expires now")', async () => {
    sys.files.delete('/shared/claude-share/home/.claude/.credentials.json');
    expect(runStatus(sys, { json: false, quiet: true, prometheus: '/var/lib/prom/cs.prom', config: CFG }, captureIo())).toBe(2);
    const text = sys.content('/var/lib/prom/cs.prom')!;
    expect(text).not.toContain('login_expiry');
    expect(text).toContain('claude_share_problems{code="no-login",severity="operator"} 1');
  });
});

describe('status --prometheus with a directory that does not exist', () => {
  it('is a usage error (64) that names the fix, and writes nothing', () => {
    const before = sys.snapshot();
    let err: { exitCode?: number; message?: string; hint?: string } = {};
    try {
      runStatus(sys, { json: false, quiet: true, prometheus: '/var/lib/prometheus/node-exporter/claude-share.prom', config: CFG }, captureIo());
    } catch (e) {
      err = e as typeof err;
    }
    expect(err.exitCode).toBe(64);
    expect(err.message).toContain('/var/lib/prometheus/node-exporter does not exist');
    expect(err.hint).toContain('mkdir -p /var/lib/prometheus/node-exporter');
    expect(sys.snapshot()).toBe(before);
  });
});
