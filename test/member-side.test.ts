import { beforeEach, describe, expect, it } from 'vitest';
import { runDoctor, type DoctorOptions } from '../src/commands/doctor.js';
import { ACCOUNT_STATE, LOGIN_STATE } from '../src/engine/login-life.js';
import { runLogin, type LoginOptions } from '../src/commands/login.js';
import { runInit } from '../src/commands/init.js';
import type { MemberRun, UserEntry } from '../src/system/system.js';
import { captureIo, creds, HOUR, initOpts, machineWithRootLogin } from './helpers/fixtures.js';
import type { MemorySystem } from './helpers/memory-system.js';

// doctor and login: the two commands that run the member's own client (as the member, never as root).
const CFG = '/etc/claude-share/config';
const CLAUDE = '/usr/bin/claude';
const SHARED_CREDS = '/shared/claude-share/home/.claude/.credentials.json';
let sys: MemorySystem;
let gid: number;

const ok = (stdout: string, code = 0): MemberRun => ({ code, stdout, stderr: '', timedOut: false });
/** The installed client: a version, and `auth status` as each member says (default: logged in). */
function client(version = '2.1.330 (Claude Code)', auth: (u: UserEntry) => MemberRun = () => ok('{"loggedIn":true,"authMethod":"claude.ai"}')) {
  sys.trusted.add(CLAUDE);
  sys.answer = (u, argv) => (argv[1] === '--version' ? ok(version) : argv.slice(1).join(' ') === 'auth status' ? auth(u) : ok('', 64));
}
const snapshot = () => sys.snapshot();
const uid = (name: string) => sys.getUser(name)!.uid;

async function doctor(o: Partial<DoctorOptions> = {}) {
  const io = captureIo();
  const code = await runDoctor(sys, { all: false, json: false, config: CFG, ...o }, io);
  return { code, text: io.lines.join('\n'), io };
}
async function doctorDoc(o: Partial<DoctorOptions> = {}) {
  const r = await doctor({ ...o, json: true });
  return { code: r.code, doc: JSON.parse(r.text) };
}
const refusal = async (run: () => Promise<unknown>) => {
  const before = snapshot();
  const e = (await run().then(
    () => null,
    (x) => x,
  )) as { exitCode: number; message: string; hint: string } | null;
  expect(snapshot()).toBe(before);
  return e;
};

beforeEach(async () => {
  sys = machineWithRootLogin(Date.parse('2026-11-23T12:00:00Z') + 2 * HOUR);
  sys.addFile('/root/users', 'alice:a\nbob:b\n', 0, 0, 0o600);
  expect(await runInit(sys, initOpts({ usersFromFile: '/root/users' }), captureIo())).toBe(0);
  gid = sys.getGroup('claudeshare')!.gid;
  sys.procs.set(uid('alice'), [{ pid: 4001, groups: [uid('alice'), gid], umask: 0o002 }]);
});

describe('doctor', () => {
  it('healthy: runs the installed claude as each member (never as root), reads their sessions, exits 0', async () => {
    client();
    const { code, text } = await doctor({ all: true });
    expect(code).toBe(0);
    expect(text).toContain('claude 2.1.330 at /usr/bin/claude');
    expect(text).toMatch(/alice\n {2}✓ claude auth status as alice: logged in \(claude\.ai\)\n {2}✓ 1 process: all with group claudeshare/);
    expect(text).toContain('bob\n  ✓ claude auth status as bob: logged in');
    expect(sys.memberRuns.map((r) => [r.user, r.argv.join(' '), r.terminal])).toEqual([
      ['alice', '/usr/bin/claude --version', false],
      ['alice', '/usr/bin/claude auth status', false],
      ['bob', '/usr/bin/claude auth status', false],
    ]);
    // The client must not update itself or phone home because root asked it something.
    expect(sys.memberRuns[1].env).toMatchObject({ DISABLE_AUTOUPDATER: '1', CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1' });
  });

  it('one member: only that member is run and reported; JSON has the client, its write mode and each check', async () => {
    client('2.1.112 (Claude Code)');
    const { code, doc } = await doctorDoc({ user: 'alice' });
    expect(code).toBe(0);
    expect(doc).toMatchObject({ schemaVersion: 2, command: 'doctor', healthy: true, group: 'claudeshare', claude: { path: CLAUDE, version: '2.1.112', writeMode: 'in-place' }, exitCode: 0 });
    expect(doc.checks).toEqual([{ user: 'alice', uid: uid('alice'), loggedIn: true, authMethod: 'claude.ai', processes: 1, withoutGroup: [], umaskBlocksGroup: [] }]);
    expect(new Set(sys.memberRuns.map((r) => r.user))).toEqual(new Set(['alice']));
    client('2.1.118 (Claude Code)');
    expect((await doctorDoc({ user: 'bob' })).doc.claude.writeMode).toBe('severs');
  });

  it('a member whose client says logged out while the shared login works: member-logged-out, exit 2', async () => {
    client(undefined, (u) => (u.name === 'bob' ? ok('{"loggedIn":false}', 1) : ok('{"loggedIn":true}')));
    const { code, text } = await doctor({ all: true });
    expect(code).toBe(2);
    expect(text).toContain('✗ claude auth status as bob: not logged in');
    expect(text).toMatch(/error \[member-logged-out\] claude auth status, run as bob, says not logged in although the shared login is usable\n {4}fix: run claude-share sync/);
  });

  it('the exit code decides when output and exit disagree; hostile output is never printed, only named', async () => {
    const evil = '\x1b]0;pwned\x07{"loggedIn":true,"authMethod":"\x1b[31mroot"}';
    client(undefined, (u) => (u.name === 'alice' ? ok(evil, 1) : ok('x'.repeat(100_000), 3)));
    const { code, doc } = await doctorDoc({ all: true });
    expect(code).toBe(2);
    expect(doc.checks.map((c: { loggedIn: unknown; authMethod: unknown }) => [c.loggedIn, c.authMethod])).toEqual([
      [false, null],
      [null, null],
    ]);
    const failed = doc.problems.find((p: { code: string }) => p.code === 'claude-check-failed');
    expect(failed).toMatchObject({ user: 'bob', message: 'claude auth status, run as bob, exited 3 without the expected answer' });
    const text = (await doctor({ all: true })).text;
    expect(text).not.toMatch(/\x1b|pwned|xxxx/);
  });

  it('a session started before the member joined the group, and one with umask 077: named with pids, exit 1', async () => {
    client();
    sys.procs.set(uid('bob'), [
      { pid: 5001, groups: [uid('bob')], umask: 0o077 },
      { pid: 5002, groups: [uid('bob'), gid], umask: 0o002 },
    ]);
    const { code, text } = await doctor({ user: 'bob' });
    expect(code).toBe(1);
    expect(text).toContain('! 2 processes: 1 without group claudeshare');
    expect(text).toContain('! umask: 1 with group access taken away (0077)');
    expect(text).toMatch(/warning \[session-without-group\] 1 of 2 processes of bob run without group claudeshare \(pid 5001\)/);
    expect(text).toMatch(/warning \[session-umask\] 1 of 2 processes of bob run with umask 0077 \(pid 5001\)/);
  });

  it('no claude only root could have installed: the live check is skipped and said, nothing is run', async () => {
    const { code, text } = await doctor({ all: true });
    expect(code).toBe(0);
    expect(text).toContain("healthy as far as status sees (the members' client was not asked)");
    expect(text).toContain('warning [claude-not-found]');
    expect(sys.memberRuns).toEqual([]);
  });

  it('the version comes from the root-owned package the client was installed with, never from a member', async () => {
    client('9.9.9 (Claude Code)');
    for (const d of ['/usr', '/usr/lib', '/usr/lib/node_modules']) sys.addDir(d, 0, 0, 0o755);
    sys.addDir('/usr/lib/node_modules/claude-code', 0, 0, 0o755);
    sys.addFile('/usr/lib/node_modules/claude-code/package.json', '{"name":"@anthropic-ai/claude-code","version":"2.1.112"}');
    sys.trusted.clear();
    sys.trusted.add('/usr/lib/node_modules/claude-code/cli.js');
    const { doc } = await doctorDoc({ all: true, claude: '/usr/lib/node_modules/claude-code/cli.js' });
    expect(doc.claude).toMatchObject({ version: '2.1.112', writeMode: 'in-place' });
    expect(sys.memberRuns.some((r) => r.argv.includes('--version'))).toBe(false);
    // A package.json a member owns is not believed: the member is asked, and says what it says.
    sys.files.get('/usr/lib/node_modules/claude-code/package.json')!.uid = uid('alice');
    expect((await doctorDoc({ all: true, claude: '/usr/lib/node_modules/claude-code/cli.js' })).doc.claude.version).toBe('9.9.9');
  });

  it('a client that gives no version: claude-check-failed, exit 1 (nothing is called healthy that was not checked)', async () => {
    client('garbage');
    const { code, text } = await doctor({ user: 'alice' });
    expect(code).toBe(1);
    expect(text).toContain('warning [claude-check-failed] /usr/bin/claude --version, run as alice, exited 0 without the expected answer');
  });

  it('status problems of the members checked come along (drift → exit 1), others do not', async () => {
    client();
    sys.groups.get('claudeshare')!.members = ['alice'];
    expect((await doctor({ user: 'bob' })).code).toBe(1);
    const a = await doctor({ user: 'alice' });
    expect(a.code).toBe(0);
    expect(a.text).not.toContain('bob');
  });

  it('refusals change nothing: no member (64), both (64), a stranger (65), an untrusted --claude (77), not root (77)', async () => {
    expect((await refusal(() => doctor()))?.exitCode).toBe(64);
    expect((await refusal(() => doctor({ user: 'alice', all: true })))?.exitCode).toBe(64);
    expect(await refusal(() => doctor({ user: 'mallory' }))).toMatchObject({ exitCode: 65, hint: 'managed users: alice, bob' });
    expect((await refusal(() => doctor({ all: true, claude: '/home/alice/bin/claude' })))?.exitCode).toBe(77);
    (sys as unknown as { euid: () => number }).euid = () => 1000;
    expect((await refusal(() => doctor({ all: true })))?.exitCode).toBe(77);
    expect(sys.memberRuns).toEqual([]);
  });
});

describe('login', () => {
  const login = async (o: Partial<LoginOptions> = {}, interactive = false) => {
    const io = { ...captureIo(), interactive };
    const code = await runLogin(sys, { run: false, acceptAccount: false, config: CFG, ...o }, io);
    return { code, text: io.lines.join('\n'), err: io.errors.join('\n') };
  };
  /** What the member's client does at a sign-in (2.1.118+): a new login renamed over the member's link. */
  const signsIn = (account: string, code = 0) => {
    sys.onTerminal = (u) => {
      if (code) return code;
      sys.addFile(`${u.home}/.claude/.credentials.json`, creds(sys.clock + 8 * HOUR, { account, refresh: 'sk-ant-ort01-new' }), u.uid, u.uid, 0o600).mtimeMs = sys.clock + 1;
      return code;
    };
  };
  const sharedRefresh = () => JSON.parse(sys.content(SHARED_CREDS)!).claudeAiOauth.refreshToken;

  it('without --run: how the login stands, the account to sign in with, the two steps; changes nothing, runs nothing', async () => {
    const before = snapshot();
    const { code, text } = await login();
    expect(code).toBe(0);
    expect(text).toContain('The shared login works');
    expect(text).toContain('It belongs to a@example.com (account acct-1): sign in with that account.');
    expect(text).toContain('claude auth login --email a@example.com');
    expect(text).toContain('sudo claude-share login --as alice --run');
    expect(text).toContain('Never /logout');
    expect(snapshot()).toBe(before);
    expect(sys.memberRuns).toEqual([]);
  });

  it('an address a member wrote into the shared .claude.json is a hint only when it names the pinned account and looks like one (never an option)', async () => {
    sys.trusted.add(CLAUDE);
    signsIn('acct-1');
    for (const email of ['--help@example.com', 'a@example.com\u001b[2J', 'x'.repeat(70) + '@example.com']) {
      sys.files.get('/shared/claude-share/home/.claude/.claude.json')!.content = Buffer.from(JSON.stringify({ oauthAccount: { accountUuid: 'acct-1', emailAddress: email } }));
      sys.memberRuns = [];
      const r = await login({ as: 'alice', run: true }, true);
      expect(r.text).toContain('It belongs to account acct-1');
      expect(sys.memberRuns[0].argv).toEqual([CLAUDE, 'auth', 'login']);
    }
  });

  it('--run: the sign-in as the member on a terminal of its own, then the new login is shared and lives 30 days from now', async () => {
    sys.trusted.add(CLAUDE);
    signsIn('acct-1');
    sys.clock += 20 * 24 * HOUR;
    const { code, text } = await login({ as: 'alice', run: true }, true);
    expect(code).toBe(0);
    expect(sys.memberRuns).toEqual([{ user: 'alice', argv: [CLAUDE, 'auth', 'login', '--email', 'a@example.com'], terminal: true, env: { DISABLE_AUTOUPDATER: '1' } }]);
    expect(sharedRefresh()).toBe('sk-ant-ort01-new');
    expect(sys.readlink('/home/alice/.claude/.credentials.json')).toBe(SHARED_CREDS);
    expect(JSON.parse(sys.content(LOGIN_STATE)!).firstSeenMs).toBe(sys.clock);
    expect(text).toMatch(/✓ alice's new login is the shared one; it ends \S+ \(in 30 days\) \(estimated\)\.$/);
  });

  it('--run with another account: nothing is shared, the new login stays in the home for sync --accept-account; with --accept-account it is shared and pinned', async () => {
    sys.trusted.add(CLAUDE);
    signsIn('acct-2');
    const before = sharedRefresh();
    const r = await login({ as: 'alice', run: true }, true);
    expect(r.code).toBe(2);
    expect(r.err).toContain('alice signed in to another account than the shared one (a@example.com (account acct-1)): nothing was shared.');
    expect(sharedRefresh()).toBe(before);
    expect(sys.lstat('/home/alice/.claude/.credentials.json')?.type).toBe('file');

    const a = await login({ as: 'alice', run: true, acceptAccount: true }, true);
    expect(a.code).toBe(0);
    expect(sharedRefresh()).toBe('sk-ant-ort01-new');
    expect(JSON.parse(sys.content(ACCOUNT_STATE)!).account).toBe('acct-2');
  });

  it("--run --accept-account shares the member's new login, never a login another member planted (far newer, any account)", async () => {
    sys.trusted.add(CLAUDE);
    signsIn('acct-2');
    const bob = sys.getUser('bob')!;
    sys.addFile('/home/bob/.claude/.credentials.json', creds(sys.clock + 9000 * HOUR, { account: 'acct-evil', refresh: 'sk-ant-ort01-planted' }), bob.uid, bob.uid, 0o600).mtimeMs = sys.clock + 2;
    const r = await login({ as: 'alice', run: true, acceptAccount: true }, true);
    expect(r.code).toBe(0);
    expect(sharedRefresh()).toBe('sk-ant-ort01-new');
    expect(JSON.parse(sys.content(ACCOUNT_STATE)!).account).toBe('acct-2');
  });

  it('a sign-in that fails shares nothing (exit 2); refusals (no --as, no terminal, a stranger, no claude) run nothing', async () => {
    sys.trusted.add(CLAUDE);
    signsIn('acct-1', 1);
    const failed = await refusal(() => login({ as: 'alice', run: true }, true));
    expect(failed).toMatchObject({ exitCode: 2, message: 'the sign-in as alice ended with exit 1; nothing was shared' });
    sys.memberRuns = [];
    expect((await refusal(() => login({ run: true }, true)))?.exitCode).toBe(64);
    expect((await refusal(() => login({ as: 'alice', run: true }, false)))?.exitCode).toBe(64);
    expect((await refusal(() => login({ as: 'mallory', run: true }, true)))?.exitCode).toBe(65);
    sys.trusted.clear();
    expect((await refusal(() => login({ as: 'alice', run: true }, true)))?.exitCode).toBe(2);
    expect(sys.memberRuns).toEqual([]);
  });
});
