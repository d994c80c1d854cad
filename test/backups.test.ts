import { beforeEach, describe, expect, it } from 'vitest';
import { runBackupsList, runBackupsRestore } from '../src/commands/backups.js';
import { runInit } from '../src/commands/init.js';
import { runStatus } from '../src/commands/status.js';
import { runSync } from '../src/commands/sync.js';
import { captureIo, creds, HOUR, initOpts, machineWithRootLogin } from './helpers/fixtures.js';
import type { MemorySystem } from './helpers/memory-system.js';

const NOW = Date.parse('2026-11-23T12:00:00Z');
const SD = '/shared/claude-share';
const SH = `${SD}/home/.claude`;
const CFG = '/etc/claude-share/config';
let sys: MemorySystem;

const uid = (n: string) => sys.getUser(n)!.uid;
const sync = () => runSync(sys, { dryRun: false, json: false, quiet: false, config: CFG }, captureIo());
const list = () => {
  const io = captureIo();
  expect(runBackupsList(sys, { json: true, config: CFG }, io)).toBe(0);
  return JSON.parse(io.lines.join('\n')) as {
    keepDays: number;
    runs: { run: string; files: { file: string; path: string; kind: string; user?: string; uid: number | null; mode: number | null }[] }[];
  };
};
const restore = async (what: string, extra: Record<string, boolean> = {}) => {
  const io = captureIo();
  const code = await runBackupsRestore(sys, { what, asShared: false, force: false, dryRun: false, config: CFG, ...extra }, io);
  return { code, text: io.lines.join('\n'), io };
};
const aliceSettings = (text: string) => {
  const n = sys.addFile('/home/alice/.claude/settings.json', text, uid('alice'), uid('alice'), 0o640);
  n.mtimeMs = sys.clock++;
};

beforeEach(async () => {
  sys = machineWithRootLogin(NOW + 2 * HOUR);
  sys.addFile('/root/users', 'alice:a\nbob:b\n', 0, 0, 0o600);
  expect(await runInit(sys, initOpts({ usersFromFile: '/root/users' }), captureIo())).toBe(0);
});

describe('backups list', () => {
  it('names every file of every run with where it came from, its owner and mode there', async () => {
    aliceSettings('{"theme":"alice"}\n');
    expect(await sync()).toBe(0);
    const doc = list();
    expect(doc.keepDays).toBe(30);
    const all = doc.runs.flatMap((r) => r.files.map((f) => ({ ...f, run: r.run })));
    const hers = all.find((f) => f.path === '/home/alice/.claude/settings.json')!;
    expect(hers).toMatchObject({ kind: 'member', user: 'alice', uid: uid('alice'), mode: 0o640 });
    expect(all.some((f) => f.path === '/root/.claude/.credentials.json' && f.kind === 'member')).toBe(true);
    const text = captureIo();
    runBackupsList(sys, { json: false, config: CFG }, text);
    expect(text.lines.join('\n')).toMatch(/← \/home\/alice\/\.claude\/settings\.json \(member, alice, mode 0640/);
  });
});

describe('backups restore', () => {
  it("a managed member's file goes back as the shared copy (--as-shared), never into her home behind sync's back; the current one is backed up first", async () => {
    aliceSettings('{"theme":"alice"}\n');
    expect(await sync()).toBe(0);
    const run = list().runs.find((r) => r.files.some((f) => f.user === 'alice'))!;
    const file = run.files.find((f) => f.user === 'alice')!.file;
    await expect(restore(`${run.run}/${file}`)).rejects.toMatchObject({ exitCode: 65, message: expect.stringMatching(/alice is managed/) });
    const before = sys.snapshot();
    expect((await restore(`${run.run}/${file}`, { asShared: true, dryRun: true })).code).toBe(0);
    expect(sys.snapshot()).toBe(before);
    const old = sys.content(`${SH}/settings.json`);
    const r = await restore(`${run.run}/${file}`, { asShared: true });
    expect(r.code).toBe(0);
    expect(sys.content(`${SH}/settings.json`)).toBe('{"theme":"alice"}\n');
    expect(sys.lstat(`${SH}/settings.json`)).toMatchObject({ uid: 0, gid: sys.getGroup('claudeshare')!.gid, mode: 0o660 });
    const saved = list()
      .runs.flatMap((x) => x.files.map((f) => `${SD}/backups/${x.run}/${f.file}`))
      .filter((p) => p.includes('/shared/.claude/settings.json'));
    expect(saved.map((p) => sys.content(p))).toContain(old);
    expect(runStatus(sys, { json: false, quiet: true, config: CFG }, captureIo())).toBe(0);
  });

  it('a live shared login is never replaced without --force; with it, the live one is backed up first', async () => {
    const rootRun = list().runs.find((r) => r.files.some((f) => f.path === '/root/.claude/.credentials.json'))!;
    const what = `${rootRun.run}/${rootRun.files.find((f) => f.path === '/root/.claude/.credentials.json')!.file}`;
    const live = creds(NOW + 9 * HOUR, { account: 'acct-1', refresh: 'live' });
    sys.files.get(`${SH}/.credentials.json`)!.content = Buffer.from(live);
    const before = sys.snapshot();
    await expect(restore(what, { asShared: true })).rejects.toMatchObject({ exitCode: 2, message: expect.stringMatching(/is live/) });
    expect(sys.snapshot()).toBe(before);
    expect((await restore(what, { asShared: true, force: true })).code).toBe(0);
    expect(sys.content(`${SH}/.credentials.json`)).not.toBe(live);
    const saved = list()
      .runs.flatMap((x) => x.files.map((f) => `${SD}/backups/${x.run}/${f.file}`))
      .filter((p) => p.endsWith('/shared/.claude/.credentials.json'));
    expect(saved.map((p) => sys.content(p))).toContain(live);
  });

  it('an unmanaged member gets the file back in her home, hers, with the recorded mode; unknown names are 65', async () => {
    aliceSettings('{"theme":"alice"}\n');
    expect(await sync()).toBe(0);
    const run = list().runs.find((r) => r.files.some((f) => f.user === 'alice'))!;
    const file = run.files.find((f) => f.user === 'alice')!.file;
    sys.files.set(CFG, { ...sys.files.get(CFG)!, content: Buffer.from(sys.content(CFG)!.replace('MANAGED_USERS=alice,bob', 'MANAGED_USERS=bob')) });
    expect((await restore(`${run.run}/${file}`)).code).toBe(0);
    expect(sys.lstat('/home/alice/.claude/settings.json')).toMatchObject({ type: 'file', uid: uid('alice'), mode: 0o640 });
    expect(sys.content('/home/alice/.claude/settings.json')).toBe('{"theme":"alice"}\n');
    await expect(restore('nosuch/run')).rejects.toMatchObject({ exitCode: 65 });
    await expect(restore('justarun')).rejects.toMatchObject({ exitCode: 64 });
    // The backup's full path works as well as RUN/FILE.
    expect((await restore(`${SD}/backups/${run.run}/${file}`, { dryRun: true })).code).toBe(0);
  });

  it("a name that belongs to another account now (deleted, then reused) does not get the old one's file: 65, nothing written", async () => {
    aliceSettings('{"theme":"alice"}\n');
    expect(await sync()).toBe(0);
    const run = list().runs.find((r) => r.files.some((f) => f.user === 'alice'))!;
    const file = run.files.find((f) => f.user === 'alice')!.file;
    sys.files.set(CFG, { ...sys.files.get(CFG)!, content: Buffer.from(sys.content(CFG)!.replace('MANAGED_USERS=alice,bob', 'MANAGED_USERS=bob')) });
    sys.users.get('alice')!.uid = 4242;
    const before = sys.snapshot();
    await expect(restore(`${run.run}/${file}`)).rejects.toMatchObject({ exitCode: 65, message: expect.stringMatching(/another account with the same name/) });
    expect(sys.snapshot()).toBe(before);
  });

  it('a shared copy that cannot be read (hard-linked by a member) is not replaced without a backup unless --force says so', async () => {
    const rootRun = list().runs.find((r) => r.files.some((f) => f.path === '/root/.claude/.credentials.json'))!;
    const what = `${rootRun.run}/${rootRun.files.find((f) => f.path === '/root/.claude/.credentials.json')!.file}`;
    sys.files.get(`${SH}/.credentials.json`)!.nlink = 2;
    const before = sys.snapshot();
    await expect(restore(what, { asShared: true })).rejects.toMatchObject({ exitCode: 2, message: expect.stringMatching(/cannot be backed up first/) });
    expect(sys.snapshot()).toBe(before);
    const r = await restore(what, { asShared: true, force: true });
    expect(r.code).toBe(0);
    expect(r.io.errors.join('\n')).toMatch(/replaced without a backup \(--force\)/);
  });
});

describe('retention', () => {
  it("runs older than BACKUP_KEEP_DAYS go, the directories too, but anyone's newest login backup stays", async () => {
    const old = `${SD}/backups/2026-09-01T00-00-00.000Z`;
    for (const d of [old, `${old}/bob`, `${old}/bob/.claude`, `${old}/alice`, `${old}/alice/.claude`]) sys.addDir(d, 0, 0, 0o700);
    sys.addFile(`${old}/bob/.claude/.credentials.json`, 'bob-old-login', 0, 0, 0o600);
    sys.addFile(`${old}/alice/.claude/settings.json`, 'x', 0, 0, 0o600);
    sys.addFile(`${old}/alice/.claude/.credentials.json`, 'alice-old-login', 0, 0, 0o600);
    const older = `${SD}/backups/2026-08-01T00-00-00.000Z`;
    for (const d of [older, `${older}/alice`, `${older}/alice/.claude`]) sys.addDir(d, 0, 0, 0o700);
    sys.addFile(`${older}/alice/.claude/settings.json`, 'y', 0, 0, 0o600);
    // A run that writes a backup prunes: alice's newer login backup makes her old one expendable.
    sys.addFile('/home/alice/.claude/.credentials.json', creds(NOW + HOUR, { account: 'acct-1' }), uid('alice'), uid('alice'), 0o600).mtimeMs = sys.clock++;
    expect(await sync()).toBe(0);
    expect(sys.lstat(older)).toBeNull();
    expect(sys.lstat(`${old}/alice`)).toBeNull();
    expect(sys.content(`${old}/bob/.claude/.credentials.json`)).toBe('bob-old-login');
    expect(list().runs.map((r) => r.run)).not.toContain('2026-08-01T00-00-00.000Z');
  });
});
