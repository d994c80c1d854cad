import { describe, expect, it } from 'vitest';
import { runInit } from '../src/commands/init.js';
import { runStatus } from '../src/commands/status.js';
import { captureIo, creds, HOUR, initOpts, machineWithRootLogin } from './helpers/fixtures.js';
import { MemorySystem } from './helpers/memory-system.js';

const SH = '/shared/claude-share/home';

async function initTwoUsers(sys: MemorySystem, extra: Record<string, unknown> = {}) {
  sys.addFile('/root/users', 'alice:pw-a\nbob:pw:b\n', 0, 0, 0o600);
  const io = captureIo();
  const code = await runInit(sys, initOpts({ usersFromFile: '/root/users', ...extra }), io);
  return { code, io };
}

describe('server init on the in-memory system', () => {
  it("creates group, users, shared copies and links, and moves root's credentials", async () => {
    const now = Date.parse('2026-11-23T12:00:00Z');
    const sys = machineWithRootLogin(now + 5 * HOUR);
    const rootCreds = sys.content('/root/.claude/.credentials.json');
    const { code, io } = await initTwoUsers(sys);
    expect(io.errors.join('\n')).toContain("root's own `claude` now needs its own /login");
    expect(code).toBe(0);
    expect(sys.getGroup('claudeshare')!.members.sort()).toEqual(['alice', 'bob']);
    expect(sys.passwords.get('bob')).toBe('pw:b');
    expect(sys.calls.filter((c) => c.startsWith('chpasswd'))).toEqual(['chpasswd alice,bob']);
    expect(sys.content(`${SH}/.claude/.credentials.json`)).toBe(rootCreds);
    expect(sys.lstat('/root/.claude/.credentials.json')).toBeNull();
    const backups = [...sys.files.keys()].filter((p) => p.includes('/backups/') && p.endsWith('.credentials.json'));
    expect(backups).toHaveLength(1);
    expect(sys.content(backups[0])).toBe(rootCreds);
    expect(sys.lstat(backups[0])!.mode).toBe(0o600);
    const cj = JSON.parse(sys.content(`${SH}/.claude/.claude.json`)!);
    expect(cj.oauthAccount.accountUuid).toBe('acct-1');
    expect(cj.projects).toBeUndefined();
    expect(cj.mcpServers).toBeUndefined();
    for (const u of ['alice', 'bob']) {
      for (const rel of ['.claude/.credentials.json', '.claude.json', '.claude/settings.json', '.claude/settings.local.json']) {
        expect(sys.readlink(`/home/${u}/${rel}`)).toBe(`${SH}/.claude/${rel.replace('.claude/', '')}`);
      }
      expect(sys.lstat(`/home/${u}/.claude`)).toMatchObject({ type: 'dir', uid: sys.getUser(u)!.uid, mode: 0o700 });
      expect(sys.content(`/home/${u}/.bashrc`)).toContain('umask 002');
      expect(sys.content(`/home/${u}/.profile`)).toContain('umask 002');
    }
    for (const rel of ['.claude/.credentials.json', '.claude.json', '.claude/settings.json', '.claude/settings.local.json']) {
      expect(sys.lstat(`${SH}/.claude/${rel.replace('.claude/', '')}`)).toMatchObject({ gid: sys.getGroup('claudeshare')!.gid, mode: 0o660 });
    }
    expect(sys.lstat('/shared/claude-share')).toMatchObject({ uid: 0, mode: 0o2750 });
    // Members write only the directory of the shared copies, never its parent: nobody can move it away.
    expect(sys.lstat(SH)).toMatchObject({ uid: 0, mode: 0o2750 });
    expect(sys.lstat(`${SH}/.claude`)).toMatchObject({ uid: 0, mode: 0o2770 });
    expect(sys.content('/etc/claude-share/config')).toContain('MANAGED_USERS=alice,bob');
    expect(io.lines.join('\n')).not.toMatch(/pw-a|sk-ant/);
  });

  it('settings.local.json sharing switched off and back on a live setup: private copies, then links again; a re-run without the flag keeps it', async () => {
    const sys = machineWithRootLogin(Date.parse('2026-11-23T14:00:00Z'));
    sys.addFile('/root/users', 'alice:pw-a\nbob:pw-b\n', 0, 0, 0o600);
    expect(await runInit(sys, initOpts({ usersFromFile: '/root/users' }), captureIo())).toBe(0);
    const SHL = `${SH}/.claude/settings.local.json`;
    sys.files.get(SHL)!.content = Buffer.from('{"permissions":{"allow":["Bash(ls)"]}}\n');
    const off = captureIo();
    expect(await runInit(sys, initOpts({ settingsLocal: false }), off)).toBe(0);
    expect(sys.content('/etc/claude-share/config')).toContain('SHARE_SETTINGS_LOCAL=no');
    for (const u of ['alice', 'bob']) {
      expect(sys.lstat(`/home/${u}/.claude/settings.local.json`)).toMatchObject({ type: 'file', uid: sys.getUser(u)!.uid, mode: 0o600 });
      expect(sys.content(`/home/${u}/.claude/settings.local.json`)).toBe('{"permissions":{"allow":["Bash(ls)"]}}\n');
    }
    expect(runStatus(sys, { json: false, quiet: false, config: '/etc/claude-share/config' }, captureIo())).toBe(0);
    // A re-run without either flag keeps what the config says.
    expect(await runInit(sys, initOpts({ settingsLocal: undefined }), captureIo())).toBe(0);
    expect(sys.content('/etc/claude-share/config')).toContain('SHARE_SETTINGS_LOCAL=no');
    expect(sys.lstat('/home/alice/.claude/settings.local.json')!.type).toBe('file');
    // alice changed hers meanwhile: switching back keeps it in the backups and links her again.
    sys.files.get('/home/alice/.claude/settings.local.json')!.content = Buffer.from('{"mine":true}\n');
    expect(await runInit(sys, initOpts({ settingsLocal: true }), captureIo())).toBe(0);
    expect(sys.content('/etc/claude-share/config')).toContain('SHARE_SETTINGS_LOCAL=yes');
    for (const u of ['alice', 'bob']) expect(sys.readlink(`/home/${u}/.claude/settings.local.json`)).toBe(SHL);
    const kept = [...sys.files.keys()].filter((p) => p.includes('/backups/') && p.endsWith('/alice/.claude/settings.local.json'));
    expect(kept.map((p) => sys.content(p))).toContain('{"mine":true}\n');
    expect(runStatus(sys, { json: false, quiet: false, config: '/etc/claude-share/config' }, captureIo())).toBe(0);
  });

  it('a second identical run changes nothing, and status is healthy', async () => {
    const sys = machineWithRootLogin(Date.parse('2026-11-23T17:00:00Z'));
    await initTwoUsers(sys);
    const before = sys.snapshot();
    const { code, io } = await initTwoUsers(sys);
    expect(code).toBe(0);
    expect(sys.snapshot()).toBe(before);
    expect(io.lines.at(-1)).toMatch(/nothing to do/);
    expect(runStatus(sys, { json: false, quiet: true, config: '/etc/claude-share/config' }, captureIo())).toBe(0);
  });

  it('--dry-run changes nothing and lists the actions', async () => {
    const sys = machineWithRootLogin(Date.parse('2026-11-23T17:00:00Z'));
    sys.addFile('/root/users', 'alice:pw\n', 0, 0, 0o600);
    const before = sys.snapshot();
    const io = captureIo();
    expect(await runInit(sys, initOpts({ usersFromFile: '/root/users', dryRun: true }), io)).toBe(0);
    expect(sys.snapshot()).toBe(before);
    const text = io.lines.join('\n');
    expect(text).toContain('would create user alice');
    expect(text).toContain('would link /home/alice/.claude/.credentials.json');
  });

  it('succeeds without any login and says so; the credentials link waits for the first login', async () => {
    const sys = new MemorySystem();
    const { code, io } = await initTwoUsers(sys);
    expect(code).toBe(0);
    expect(io.errors.join('\n')).toMatch(/no Claude login yet/);
    expect(sys.lstat(`${SH}/.claude/.credentials.json`)).toBeNull();
    expect(sys.readlink('/home/alice/.claude/.credentials.json')).toBe(`${SH}/.claude/.credentials.json`);
    expect(sys.content(`${SH}/.claude/.claude.json`)).toBe('{}\n');
  });

  it('a non-root source user becomes a member; its private files are backed up and linked', async () => {
    const sys = new MemorySystem();
    const carol = sys.addUser('carol');
    sys.addDir('/home/carol/.claude', carol.uid, carol.gid, 0o700);
    const c = creds(Date.parse('2026-11-23T20:00:00Z'));
    sys.addFile('/home/carol/.claude/.credentials.json', c, carol.uid, carol.gid, 0o600);
    const { code } = await initTwoUsers(sys, { sourceUser: 'carol' });
    expect(code).toBe(0);
    expect(sys.content(`${SH}/.claude/.credentials.json`)).toBe(c);
    expect(sys.readlink('/home/carol/.claude/.credentials.json')).toBe(`${SH}/.claude/.credentials.json`);
    expect(sys.getGroup('claudeshare')!.members).toContain('carol');
    const backup = [...sys.files.keys()].find((p) => p.includes('/backups/') && p.includes('/carol/') && p.endsWith('.credentials.json'));
    expect(backup && sys.content(backup)).toBe(c);
  });

  it('names the members who are logged in right now: they must log in again for the group', async () => {
    const sys = new MemorySystem();
    const dave = sys.addUser('dave');
    sys.running.add(dave.uid);
    sys.addFile('/root/users', 'dave:pw\nerin:pw\n', 0, 0, 0o600);
    const io = captureIo();
    expect(await runInit(sys, initOpts({ usersFromFile: '/root/users' }), io)).toBe(0);
    expect(io.errors.join('\n')).toMatch(/logged in right now: dave\. They must log out/);
  });

  it("refuses a shared directory inside a member's home (65)", async () => {
    const sys = new MemorySystem();
    sys.addUser('dave', { home: '/srv/dave' });
    sys.addDir('/srv', 0, 0, 0o755);
    await expect(runInit(sys, initOpts({ user: ['dave'], sharedDir: '/srv/dave/cs' }), captureIo())).rejects.toMatchObject({ exitCode: 65 });
  });

  it('on a terminal, --user NAME without a password is asked for it, twice', async () => {
    const sys = new MemorySystem();
    const asked: string[] = [];
    const io = {
      ...captureIo(),
      interactive: true,
      prompt: { input: async (m: string, d?: string) => (m.startsWith('Proceed') ? 'y' : (d ?? '')), password: async (m: string) => (asked.push(m), 'Secret-1') },
    };
    expect(await runInit(sys, initOpts({ user: ['zoe'], sharedDir: '/shared/claude-share', group: 'claudeshare', sourceUser: 'root', yes: false }), io)).toBe(0);
    expect(asked).toEqual(['Password for zoe', 'Repeat the password for zoe']);
    expect(sys.passwords.get('zoe')).toBe('Secret-1');
  });

  it('on a terminal the plan is shown and confirmed first: anything but y changes nothing; an existing account is not asked for a password', async () => {
    const sys = new MemorySystem();
    sys.addUser('yann');
    const asked: string[] = [];
    let count = 0;
    const prompt = (proceed: string) => ({
      input: async (m: string, d?: string) => (
        asked.push(m),
        m.startsWith('Proceed') ? proceed : m.startsWith('How many') ? '2' : m.startsWith('Name of user') ? (++count % 2 ? 'yann' : 'zed') : (d ?? '')
      ),
      password: async (m: string) => (asked.push(m), 'Secret-1'),
    });
    const before = sys.snapshot();
    const no = { ...captureIo(), interactive: true, prompt: prompt('') };
    expect(await runInit(sys, initOpts({ user: [], yes: false }), no)).toBe(0);
    expect(sys.snapshot()).toBe(before);
    expect(no.lines.join('\n')).toMatch(/would create user zed/);
    expect(no.errors.join('\n')).toMatch(/yann already exists: its password is not changed/);
    expect(no.errors.join('\n')).toMatch(/nothing was changed/);
    expect(asked).not.toContain('Password for yann');
    expect(asked).toContain('Password for zed');
    expect(asked[asked.length - 1]).toBe('Proceed? [y/N]');
    const yes = { ...captureIo(), interactive: true, prompt: prompt('y') };
    expect(await runInit(sys, initOpts({ user: [], yes: false }), yes)).toBe(0);
    expect(sys.getUser('zed')).toBeTruthy();
    expect(sys.passwords.has('yann')).toBe(false);
  });

  it('SIGINT at user 3 of 6: the step under way finishes, 130, what is left is named; the re-run gives those 3 their passwords', async () => {
    const sys = machineWithRootLogin(Date.parse('2026-11-23T14:00:00Z'));
    sys.addFile('/root/users', [1, 2, 3, 4, 5, 6].map((i) => `u${i}:Pw-${i}`).join('\n') + '\n', 0, 0, 0o600);
    const add = sys.userAdd.bind(sys);
    let n = 0;
    sys.userAdd = async (name: string) => {
      await add(name);
      if (++n === 3) sys.signal('SIGINT');
    };
    const io = captureIo();
    expect(await runInit(sys, initOpts({ usersFromFile: '/root/users' }), io)).toBe(130);
    expect(['u1', 'u2', 'u3'].every((u) => sys.getUser(u))).toBe(true);
    expect(sys.getUser('u4')).toBeNull();
    for (const u of ['u1', 'u2', 'u3']) expect(sys.passwords.get(u) ?? null).toBeNull();
    expect(sys.content('/var/lib/claude-share/pending-passwords')).toBe('u1\nu2\nu3\n');
    expect(sys.lstat('/var/lib/claude-share/pending-passwords')).toMatchObject({ uid: 0, mode: 0o600 });
    const said = io.errors.join('\n');
    expect(said).toMatch(/interrupted: finishing the step under way/);
    expect(said).toMatch(/interrupted after 4 changes; \d+ steps not done \(3 create-user, 1 set-passwords/);
    expect(sys.signalHandlers.size).toBe(0);
    sys.userAdd = add;
    expect(await runInit(sys, initOpts({ usersFromFile: '/root/users' }), captureIo())).toBe(0);
    for (let i = 1; i <= 6; i++) expect(sys.passwords.get(`u${i}`)).toBe(`Pw-${i}`);
    expect(sys.lstat('/var/lib/claude-share/pending-passwords')).toBeNull();
  });

  it('a journal name not given again is named: still locked, with the way out', async () => {
    const sys = machineWithRootLogin(Date.parse('2026-11-23T14:00:00Z'));
    sys.addUser('ghost');
    sys.addDir('/var/lib/claude-share', 0, 0, 0o700);
    sys.addFile('/var/lib/claude-share/pending-passwords', 'ghost\n', 0, 0, 0o600);
    sys.addFile('/root/users', 'amy:Pw-a\n', 0, 0, 0o600);
    const io = captureIo();
    expect(await runInit(sys, initOpts({ usersFromFile: '/root/users' }), io)).toBe(0);
    expect(io.errors.join('\n')).toMatch(/ghost was created by an interrupted init and still has no password \(locked\)/);
  });

  it('refuses to run as non-root with exit 77', async () => {
    const sys = new MemorySystem();
    (sys as unknown as { euid: () => number }).euid = () => 1000;
    await expect(runInit(sys, initOpts({ user: ['alice'] }), captureIo())).rejects.toMatchObject({ exitCode: 77 });
  });

  it('refuses a shared directory whose parent a member can write, before any change', async () => {
    const sys = new MemorySystem();
    sys.addDir('/srv', 0, 0, 0o777);
    sys.addFile('/root/users', 'alice:pw\n', 0, 0, 0o600);
    const before = sys.snapshot();
    await expect(runInit(sys, initOpts({ usersFromFile: '/root/users', sharedDir: '/srv/cs' }), captureIo())).rejects.toMatchObject({ exitCode: 77 });
    expect(sys.snapshot()).toBe(before);
  });

  it.each([
    ['mode 0644', (s: MemorySystem) => s.addFile('/root/users', 'alice:pw\n', 0, 0, 0o644), 77],
    ['a symlink', (s: MemorySystem) => (s.addFile('/root/real', 'alice:pw\n', 0, 0, 0o600), s.addLink('/root/users', '/root/real')), 77],
    ['not owned by root', (s: MemorySystem) => s.addFile('/root/users', 'alice:pw\n', 1000, 0, 0o600), 77],
    ['a bad name', (s: MemorySystem) => s.addFile('/root/users', 'Alice:pw\n', 0, 0, 0o600), 65],
    ['a duplicate', (s: MemorySystem) => s.addFile('/root/users', 'alice:pw\nalice:pw2\n', 0, 0, 0o600), 65],
    ['an empty password', (s: MemorySystem) => s.addFile('/root/users', 'alice:\n', 0, 0, 0o600), 65],
  ])('refuses a users file with %s and changes nothing', async (_, make, exitCode) => {
    const sys = new MemorySystem();
    make(sys);
    const before = sys.snapshot();
    await expect(runInit(sys, initOpts({ usersFromFile: '/root/users' }), captureIo())).rejects.toMatchObject({ exitCode });
    expect(sys.snapshot()).toBe(before);
  });

  it('with many users prints one line per phase with counts and time (no line of names), with a live counter where the terminal allows', async () => {
    const sys = new MemorySystem();
    const names = Array.from({ length: 12 }, (_, i) => `u${i}`);
    sys.addFile('/root/users', names.map((n) => `${n}:pw`).join('\n'), 0, 0, 0o600);
    const io = captureIo();
    const ticks: string[] = [];
    io.progress = (t) => ticks.push(t);
    expect(await runInit(sys, initOpts({ usersFromFile: '/root/users' }), io)).toBe(0);
    const text = io.lines.join('\n');
    expect(text).toMatch(/^✓ accounts: 12 changed, 0 unchanged, 12 users \(\d+\.\d s\)$/m);
    expect(text).toMatch(/^✓ passwords: 1 changed, 0 unchanged, 12 users/m);
    expect(text).toMatch(/^✓ group membership: 1 changed/m);
    expect(text).toMatch(/^✓ homes: \d+ changed, 0 unchanged, 12 users/m);
    expect(io.lines.some((l) => l.startsWith('✓ linked'))).toBe(false);
    expect(Math.max(...io.lines.map((l) => l.length))).toBeLessThan(120);
    expect(io.lines.length).toBeLessThan(15);
    expect(ticks).toContain('[12/12] u11');
  });

  it('without users and without a terminal, names the flag (exit 64)', async () => {
    await expect(runInit(new MemorySystem(), initOpts(), captureIo())).rejects.toMatchObject({ exitCode: 64, hint: expect.stringContaining('--users-from-file') });
  });

  it('never writes through a ~/.claude that is a symlink to /etc', async () => {
    const sys = machineWithRootLogin(Date.parse('2026-11-23T17:00:00Z'));
    const eve = sys.addUser('eve');
    sys.addLink('/home/eve/.claude', '/etc', eve.uid, eve.gid);
    sys.addFile('/root/users', 'eve:pw\n', 0, 0, 0o600);
    const etcBefore = [...sys.files.keys()].filter((p) => p.startsWith('/etc/')).sort();
    const io = captureIo();
    const code = await runInit(sys, initOpts({ usersFromFile: '/root/users' }), io);
    expect(code).toBe(2);
    expect(io.errors.join('\n')).toMatch(/unsafe-path/);
    expect([...sys.files.keys()].filter((p) => p.startsWith('/etc/') && p !== '/etc/claude-share/config' && p !== '/etc/claude-share').sort()).toEqual(etcBefore);
    expect(sys.readlink('/home/eve/.claude.json')).toBe(`${SH}/.claude/.claude.json`);
  });
});
