import { beforeEach, describe, expect, it } from 'vitest';
import { runAddUser } from '../src/commands/add-user.js';
import { runInit } from '../src/commands/init.js';
import { runStatus } from '../src/commands/status.js';
import { runSync } from '../src/commands/sync.js';
import { captureIo, creds, HOUR, initOpts, machineWithRootLogin } from './helpers/fixtures.js';
import type { MemorySystem } from './helpers/memory-system.js';

const NOW = Date.parse('2026-11-23T12:00:00Z');
const SH = '/shared/claude-share/home';
const SHARED_CREDS = `${SH}/.claude/.credentials.json`;
const CFG = '/etc/claude-share/config';
let sys: MemorySystem;

const status = () => runStatus(sys, { json: false, quiet: false, config: CFG }, captureIo());
const statusJson = () => {
  const io = captureIo();
  const code = runStatus(sys, { json: true, quiet: false, config: CFG }, io);
  return { code, doc: JSON.parse(io.lines.join('\n')) };
};
const sync = async (extra = {}) => {
  const io = captureIo();
  const code = await runSync(sys, { dryRun: false, json: false, quiet: false, config: CFG, ...extra }, io);
  return { code, io };
};
const uid = (n: string) => sys.getUser(n)!.uid;
const home = (n: string, rel: string) => `/home/${n}/${rel}`;
const backupsOf = (suffix: string) => [...sys.files.keys()].filter((p) => p.includes('/backups/') && p.endsWith(suffix));

/** The five ways Claude Code writes .credentials.json (../shared/claude-code-facts.md), done as the member. */
const fakeClaude = {
  inPlaceThenChmod(user: string, json: string) {
    const n = sys.files.get(SHARED_CREDS)!;
    n.content = Buffer.from(json);
    if (n.uid === uid(user)) n.mode = 0o600;
  },
  tempRenameInHome(user: string, json: string) {
    sys.addFile(home(user, '.claude/.credentials.json'), json, uid(user), uid(user), 0o600).mtimeMs = sys.clock++;
  },
  oneHopRenameInShared(user: string, json: string) {
    const old = sys.files.get(SHARED_CREDS)!;
    sys.addFile(SHARED_CREDS, json, uid(user), old.gid, old.mode);
  },
};

beforeEach(async () => {
  sys = machineWithRootLogin(NOW + 2 * HOUR);
  sys.addFile('/root/users', 'alice:a\nbob:b\ncarol:c\n', 0, 0, 0o600);
  expect(await runInit(sys, initOpts({ usersFromFile: '/root/users' }), captureIo())).toBe(0);
  expect(status()).toBe(0);
});

describe('status and sync against each Claude write mode', () => {
  it('(a) in-place write + chmod 0600 by the owner: permission drift, repaired to 0660', async () => {
    sys.files.get(SHARED_CREDS)!.uid = uid('alice');
    fakeClaude.inPlaceThenChmod('alice', creds(NOW + 8 * HOUR, { account: 'acct-1' }));
    const { code, doc } = statusJson();
    expect(code).toBe(1);
    expect(doc.problems.map((p: { code: string }) => p.code)).toContain('permission-drift');
    expect((await sync()).code).toBe(0);
    expect(sys.lstat(SHARED_CREDS)!.mode).toBe(0o660);
    expect(JSON.parse(sys.content(SHARED_CREDS)!).claudeAiOauth.expiresAt).toBe(NOW + 8 * HOUR);
    expect(status()).toBe(0);
  });

  it('(b) temp + rename in ~/.claude severs the link: the newer token is promoted, never thrown away', async () => {
    const fresh = creds(NOW + 8 * HOUR, { account: 'acct-1', extra: { futureField: { keep: true } } });
    const old = sys.content(SHARED_CREDS);
    fakeClaude.tempRenameInHome('bob', fresh);
    const { code, doc } = statusJson();
    expect(code).toBe(1);
    expect(doc.users.find((u: { name: string }) => u.name === 'bob').items[0]).toMatchObject({ state: 'severed' });
    expect(doc.login.newerSevered).toBe(1);
    expect(JSON.stringify(doc)).not.toContain('sk-ant');
    const r = await sync();
    expect(r.code).toBe(0);
    expect(sys.content(SHARED_CREDS)).toBe(fresh);
    expect(sys.lstat(SHARED_CREDS)).toMatchObject({ uid: 0, mode: 0o660, gid: sys.getGroup('claudeshare')!.gid });
    expect(sys.readlink(home('bob', '.claude/.credentials.json'))).toBe(SHARED_CREDS);
    expect(backupsOf('/shared/.claude/.credentials.json').map((p) => sys.content(p))).toEqual([old]);
    expect(backupsOf('/bob/.claude/.credentials.json').map((p) => sys.content(p))).toEqual([fresh]);
    expect(r.io.lines.join('\n')).toMatch(/backup: .*bob/);
    expect(sys.logs.some((l) => l.includes('promote-shared') && l.includes('user=bob'))).toBe(true);
    expect(sys.logs.join('\n')).not.toContain('sk-ant');
    expect(status()).toBe(0);
    const again = sys.snapshot();
    expect((await sync()).code).toBe(0);
    expect(sys.snapshot()).toBe(again);
  });

  it('(c) one-hop temp + rename in the shared dir keeps the link and the mode: healthy', async () => {
    fakeClaude.oneHopRenameInShared('carol', creds(NOW + 8 * HOUR, { account: 'acct-1' }));
    expect(status()).toBe(0);
  });

  it('(d) a logged-out stub never wins: backed up and relinked', async () => {
    const shared = sys.content(SHARED_CREDS);
    const stub = creds(0, { refresh: '', account: 'acct-1' });
    fakeClaude.tempRenameInHome('alice', stub);
    expect(status()).toBe(1);
    expect((await sync()).code).toBe(0);
    expect(sys.content(SHARED_CREDS)).toBe(shared);
    expect(backupsOf('/alice/.claude/.credentials.json').map((p) => sys.content(p))).toEqual([stub]);
    expect(sys.readlink(home('alice', '.claude/.credentials.json'))).toBe(SHARED_CREDS);
  });

  it("(d2) the shared token expired, then members' clients wrote logged-out stubs (the refresh failed: revoked by a /logout, or the login ended): logged-out (exit 2) naming who was first; the stubs stay as evidence until someone logs in again", async () => {
    sys.clock += 3 * HOUR; // the shared access token (2 h) has expired
    const shared = sys.content(SHARED_CREDS);
    const stub = creds(0, { refresh: '', account: 'acct-1' });
    fakeClaude.tempRenameInHome('bob', stub);
    sys.clock += 1000;
    fakeClaude.tempRenameInHome('alice', stub);
    const { code, doc } = statusJson();
    expect(code).toBe(2);
    const p = doc.problems.find((x: { code: string }) => x.code === 'logged-out');
    expect(p.message).toMatch(/could not be refreshed: after its access token expired, Claude wrote a logged-out copy for bob, alice .* the first is bob's/);
    expect((await sync()).code).toBe(2);
    expect(sys.content(SHARED_CREDS)).toBe(shared);
    expect(sys.lstat(home('bob', '.claude/.credentials.json'))?.type).toBe('file');
    expect(statusJson().code).toBe(2);
    // carol logs in again: her login is promoted, and everyone is relinked to it.
    fakeClaude.tempRenameInHome('carol', creds(sys.clock + 8 * HOUR, { account: 'acct-1', refresh: 'new-login' }));
    expect((await sync()).code).toBe(0);
    for (const u of ['alice', 'bob', 'carol']) expect(sys.readlink(home(u, '.claude/.credentials.json'))).toBe(SHARED_CREDS);
    expect(statusJson().code).toBe(0);
  });

  it("(d3) the loser of a refresh race writes a stub right after the winner's token was promoted (before it expires): not a dead login, the stub is relinked", async () => {
    // Short-lived tokens (as the real-client suite's fake endpoint issues them): by the time status looks, the
    // promoted token has expired too; the stub came after the promotion but before that expiry.
    sys.clock += 3 * HOUR;
    fakeClaude.tempRenameInHome('bob', creds(sys.clock + 1000, { account: 'acct-1', refresh: 'winner' }));
    expect((await sync()).code).toBe(0);
    sys.clock += 100;
    fakeClaude.tempRenameInHome('alice', creds(0, { refresh: '', account: 'acct-1' }));
    sys.clock += 5000;
    // And a stub right after the expiry itself (the client refreshes at expiry and loses the race): still alive.
    fakeClaude.tempRenameInHome('carol', creds(0, { refresh: '', account: 'acct-1' }));
    const { code, doc } = statusJson();
    expect(code).toBe(1);
    expect(doc.problems.map((p: { code: string }) => p.code)).not.toContain('logged-out');
    expect((await sync()).code).toBe(0);
    expect(sys.readlink(home('alice', '.claude/.credentials.json'))).toBe(SHARED_CREDS);
  });

  it('(e) /login with another account never wins, and the report names the user', async () => {
    const shared = sys.content(SHARED_CREDS);
    fakeClaude.tempRenameInHome('carol', creds(NOW + 9 * HOUR, { account: 'acct-OTHER' }));
    const { doc } = statusJson();
    expect(doc.problems.find((p: { code: string }) => p.code === 'other-account-login')).toMatchObject({ user: 'carol' });
    const r = await sync();
    expect(r.io.errors.join('\n')).toContain('carol logged in to another account');
    expect(sys.content(SHARED_CREDS)).toBe(shared);
    expect(backupsOf('/carol/.claude/.credentials.json')).toHaveLength(1);
  });

  it('(e2) /login with another account by a client that drops accountUuid, having rewritten the shared .claude.json through the link: the pinned account holds, the member is named, nothing promoted; --accept-account switches on purpose', async () => {
    const SHARED_JSON = `${SH}/.claude/.claude.json`;
    const { readPinnedAccount } = await import('../src/engine/login-life.js');
    expect(readPinnedAccount(sys)).toBe('acct-1'); // pinned by init
    const shared = sys.content(SHARED_CREDS);
    const other = creds(NOW + 9 * HOUR); // no accountUuid (versions up to 2.1.118)
    fakeClaude.tempRenameInHome('bob', other);
    // Claude's one-hop temp + rename next to the shared .claude.json, with the other account's oauthAccount.
    sys.addFile(SHARED_JSON, JSON.stringify({ oauthAccount: { accountUuid: 'acct-2' }, hasCompletedOnboarding: true }), uid('bob'), sys.getGroup('claudeshare')!.gid, 0o660);
    const { doc } = statusJson();
    expect(doc.login.newerSevered).toBe(0);
    const warn = doc.problems.find((p: { code: string; path?: string }) => p.code === 'other-account-login' && p.path === SHARED_JSON);
    expect(warn).toMatchObject({ user: 'bob' });
    expect(warn.fix).toContain('claude-share sync --accept-account');
    expect(doc.problems.some((p: { code: string; user?: string; path?: string }) => p.code === 'other-account-login' && p.user === 'bob' && p.path !== SHARED_JSON)).toBe(true);
    // On purpose: the freshest login wins, and its account is the shared one from now on.
    const io = captureIo();
    expect(await runSync(sys, { dryRun: false, json: false, quiet: false, config: CFG, acceptAccount: true }, io)).toBe(0);
    expect(sys.content(SHARED_CREDS)).toBe(other);
    expect(sys.content(SHARED_CREDS)).not.toBe(shared);
    expect(readPinnedAccount(sys)).toBe('acct-2');
    const after = statusJson();
    expect(after.code).toBe(0);
    expect(after.doc.problems.filter((p: { code: string }) => p.code === 'other-account-login')).toEqual([]);
  });

  it('(e3) the same with a plain sync: the shared login stays, bob is backed up and relinked (no endless conflict), and the warning stays until the shared .claude.json names the shared account again', async () => {
    const SHARED_JSON = `${SH}/.claude/.claude.json`;
    const shared = sys.content(SHARED_CREDS);
    fakeClaude.tempRenameInHome('bob', creds(NOW + 9 * HOUR));
    sys.addFile(SHARED_JSON, JSON.stringify({ oauthAccount: { accountUuid: 'acct-2' }, hasCompletedOnboarding: true }), uid('bob'), sys.getGroup('claudeshare')!.gid, 0o660);
    const r = await sync();
    expect(r.code).toBe(0);
    expect(r.io.errors.join('\n')).toContain('bob logged in with another account through the link');
    expect(sys.content(SHARED_CREDS)).toBe(shared);
    expect(sys.readlink(home('bob', '.claude/.credentials.json'))).toBe(SHARED_CREDS);
    expect(backupsOf('/bob/.claude/.credentials.json')).toHaveLength(1);
  });

  it('several members severed: the greatest expiresAt wins and every copy is backed up', async () => {
    fakeClaude.tempRenameInHome('alice', creds(NOW + 3 * HOUR, { account: 'acct-1' }));
    fakeClaude.tempRenameInHome('bob', creds(NOW + 7 * HOUR, { account: 'acct-1' }));
    fakeClaude.tempRenameInHome('carol', creds(NOW + 5 * HOUR, { account: 'acct-1' }));
    expect(statusJson().doc.login.newerSevered).toBe(3);
    expect((await sync()).code).toBe(0);
    expect(JSON.parse(sys.content(SHARED_CREDS)!).claudeAiOauth.expiresAt).toBe(NOW + 7 * HOUR);
    for (const u of ['alice', 'bob', 'carol']) expect(backupsOf(`/${u}/.claude/.credentials.json`)).toHaveLength(1);
    expect(status()).toBe(0);
  });

  it('a deleted link, a wrong target, a member out of the group: all repaired; a dry run changes nothing first', async () => {
    sys.files.delete(home('alice', '.claude/settings.json'));
    sys.addLink(home('bob', '.claude.json'), '/tmp/elsewhere', uid('bob'), uid('bob'));
    sys.groups.get('claudeshare')!.members = ['alice', 'bob'];
    const { code, doc } = statusJson();
    expect(code).toBe(1);
    const codes = doc.problems.map((p: { code: string }) => p.code);
    expect(codes).toEqual(expect.arrayContaining(['missing', 'wrong-target', 'not-in-group']));
    const before = sys.snapshot();
    const dry = await sync({ dryRun: true });
    expect(dry.code).toBe(0);
    expect(sys.snapshot()).toBe(before);
    expect(dry.io.lines.join('\n')).toMatch(/would link \/home\/bob\/\.claude\.json/);
    expect((await sync()).code).toBe(0);
    expect(sys.readlink(home('bob', '.claude.json'))).toBe(`${SH}/.claude/.claude.json`);
    expect(sys.getGroup('claudeshare')!.members).toContain('carol');
    expect(status()).toBe(0);
  });

  describe('a layout before 0.2 (the shared .claude.json in <shared>/home, which was group-writable)', () => {
    const LEGACY = `${SH}/.claude.json`;
    const NEW = `${SH}/.claude/.claude.json`;
    const makeLegacy = () => {
      const node = sys.files.get(NEW)!;
      sys.files.delete(NEW);
      sys.files.set(LEGACY, node);
      sys.files.get(SH)!.mode = 0o2770;
      for (const u of ['alice', 'bob', 'carol']) sys.addLink(home(u, '.claude.json'), LEGACY, uid(u), uid(u));
      return node.content!.toString();
    };

    it('sync moves it into <shared>/home/.claude, makes <shared>/home root-only and relinks everyone; a dry run changes nothing', async () => {
      const content = makeLegacy();
      const { code, doc } = statusJson();
      expect(code).toBe(1);
      expect(doc.problems.map((p: { code: string }) => p.code)).toEqual(expect.arrayContaining(['legacy-layout']));
      const before = sys.snapshot();
      expect((await sync({ dryRun: true })).code).toBe(0);
      expect(sys.snapshot()).toBe(before);
      const { code: rc, io } = await sync();
      expect(rc).toBe(0);
      expect(io.lines.join('\n')).toMatch(/moved the shared \.claude\.json \(layout before 0\.2\) to/);
      expect(sys.lstat(LEGACY)).toBeNull();
      expect(sys.content(NEW)).toBe(content);
      expect(sys.lstat(SH)).toMatchObject({ uid: 0, mode: 0o2750 });
      for (const u of ['alice', 'bob', 'carol']) expect(sys.readlink(home(u, '.claude.json'))).toBe(NEW);
      const after = sys.snapshot();
      expect((await sync()).code).toBe(0);
      expect(sys.snapshot()).toBe(after);
      expect(status()).toBe(0);
    });

    it('when both exist, the old one goes to the root-only set-aside directory (never deleted, never among the backups) and the new one stays', async () => {
      const content = makeLegacy();
      sys.addFile(NEW, '{"newer":true}\n', uid('bob'), sys.getGroup('claudeshare')!.gid, 0o660);
      expect((await sync()).code).toBe(0);
      expect(sys.lstat(LEGACY)).toBeNull();
      expect(sys.content(NEW)).toBe('{"newer":true}\n');
      const kept = [...sys.files.keys()].filter((p) => p.startsWith('/shared/claude-share/set-aside/') && p.includes('/.claude.json.legacy'));
      expect(kept).toHaveLength(1);
      expect(sys.content(kept[0])).toBe(content);
      expect(status()).toBe(0);
    });
  });

  it('a member put back into the group while logged in is told to log in again (sync, add-user, the watcher alike)', async () => {
    sys.groups.get('claudeshare')!.members = ['alice', 'bob'];
    sys.running.add(uid('carol'));
    const { code, io } = await sync();
    expect(code).toBe(0);
    expect(io.errors.join('\n')).toMatch(/logged in right now: carol\. They must log out and back in/);
    const again = await sync();
    expect(again.io.errors.join('\n')).not.toMatch(/logged in right now/);
  });

  it('add-user of an existing account that is logged in names it: the new group applies at its next login', async () => {
    const dave = sys.addUser('dave');
    sys.running.add(dave.uid);
    const io = captureIo();
    expect(await runAddUser(sys, { name: 'dave', noPassword: true, allowSystemUser: false, dryRun: false, json: false, config: CFG, yes: true }, io)).toBe(0);
    expect(io.errors.join('\n')).toMatch(/logged in right now: dave\./);
  });

  it('JSON names the user of every problem (one per member out of the group) and counts what sync did', async () => {
    sys.groups.get('claudeshare')!.members = ['alice'];
    const { doc } = statusJson();
    const out = doc.problems.filter((p: { code: string }) => p.code === 'not-in-group');
    expect(out.map((p: { user: string }) => p.user).sort()).toEqual(['bob', 'carol']);
    const io = captureIo();
    expect(await runSync(sys, { dryRun: false, json: true, quiet: false, config: CFG }, io)).toBe(0);
    const res = JSON.parse(io.lines.join('\n'));
    expect(res.counts).toEqual({ changed: 1, unchanged: 0, failed: 0, conflicts: 0, backedUp: 0, planned: 0 });
  });

  it('a shared file set to 0600 by its owner is permission drift for the others', async () => {
    const n = sys.files.get(`${SH}/.claude/settings.json`)!;
    n.uid = uid('alice');
    n.mode = 0o600;
    expect(statusJson().doc.problems.find((p: { code: string }) => p.code === 'permission-drift')).toBeTruthy();
    expect((await sync()).code).toBe(0);
    expect(sys.lstat(`${SH}/.claude/settings.json`)).toMatchObject({ uid: uid('alice'), mode: 0o660 });
  });

  it('logged out everywhere and no login at all need an operator (exit 2)', async () => {
    sys.addFile(SHARED_CREDS, creds(0, { refresh: '' }), 0, sys.getGroup('claudeshare')!.gid, 0o660);
    expect(status()).toBe(2);
    sys.files.delete(SHARED_CREDS);
    expect(statusJson().doc.problems.find((p: { code: string }) => p.code === 'no-login')).toMatchObject({ severity: 'operator' });
  });

  it('a severed file that is a hard link or belongs to someone else is never read', async () => {
    fakeClaude.tempRenameInHome('alice', creds(NOW + 9 * HOUR));
    sys.files.get(home('alice', '.claude/.credentials.json'))!.nlink = 2;
    sys.calls.length = 0;
    expect(status()).toBe(2);
    expect(sys.calls).not.toContain(`read ${home('alice', '.claude/.credentials.json')}`);
    const r = await sync();
    expect(r.code).toBe(2);
    expect(sys.files.get(home('alice', '.claude/.credentials.json'))!.type).toBe('file');
  });

  it('a failed promotion leaves the winner severed: its live token is never relinked away', async () => {
    const fresh = creds(NOW + 8 * HOUR, { account: 'acct-1' });
    fakeClaude.tempRenameInHome('bob', fresh);
    sys.failWrites.add(SHARED_CREDS);
    const r = await sync();
    expect(r.code).toBe(2);
    expect(sys.content(home('bob', '.claude/.credentials.json'))).toBe(fresh);
    expect(sys.files.get(home('bob', '.claude/.credentials.json'))!.type).toBe('file');
    sys.failWrites.clear();
    expect((await sync()).code).toBe(0);
    expect(sys.content(SHARED_CREDS)).toBe(fresh);
  });

  it('a shared copy written by Claude after the look is never overwritten', async () => {
    fakeClaude.tempRenameInHome('bob', creds(NOW + 8 * HOUR, { account: 'acct-1' }));
    const { plan } = await import('../src/core/plan.js');
    const { probe } = await import('../src/engine/probe.js');
    const { applyPlan } = await import('../src/engine/apply.js');
    const { syncDesired } = await import('../src/engine/converge.js');
    const { loadConfig } = await import('../src/engine/config.js');
    const d = syncDesired(loadConfig(sys, CFG)!);
    const p = plan(d, probe(sys, d));
    const newer = creds(NOW + 9 * HOUR, { account: 'acct-1' });
    fakeClaude.oneHopRenameInShared('carol', newer);
    const out = await applyPlan(sys, d, p.actions, { passwords: new Map(), backupRoot: '/shared/claude-share/backups/t' });
    expect(out.find((o) => o.action.kind === 'promote-shared')!.result).toBe('conflict');
    expect(sys.content(SHARED_CREDS)).toBe(newer);
    expect(sys.files.get(home('bob', '.claude/.credentials.json'))!.type).toBe('file');
  });

  it("init run again promotes a member's fresher token instead of backing it away", async () => {
    const fresh = creds(NOW + 8 * HOUR, { account: 'acct-1' });
    fakeClaude.tempRenameInHome('alice', fresh);
    expect(await runInit(sys, initOpts({ usersFromFile: '/root/users' }), captureIo())).toBe(0);
    expect(sys.content(SHARED_CREDS)).toBe(fresh);
  });

  it('--user limits the work to one member', async () => {
    sys.files.delete(home('alice', '.claude/settings.json'));
    sys.files.delete(home('bob', '.claude/settings.json'));
    expect((await sync({ user: 'bob' })).code).toBe(0);
    expect(sys.readlink(home('bob', '.claude/settings.json'))).toBeTruthy();
    expect(sys.lstat(home('alice', '.claude/settings.json'))).toBeNull();
  });
});
