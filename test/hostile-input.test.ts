import { beforeEach, describe, expect, it } from 'vitest';
import { runInit } from '../src/commands/init.js';
import { runStatus } from '../src/commands/status.js';
import { runSync } from '../src/commands/sync.js';
import { inspectCredentials } from '../src/core/credentials.js';
import { isoOf, parseJsonBounded, saneEpochMs, shellQuote } from '../src/core/untrusted.js';
import { captureIo, creds, HOUR, initOpts, machineWithRootLogin } from './helpers/fixtures.js';
import type { MemorySystem } from './helpers/memory-system.js';

// Issue 11.1-11.3: no byte a member writes can abort a run, reach the terminal raw, or make the work quadratic.
const NOW = Date.parse('2026-11-23T12:00:00Z');
const SH = '/shared/claude-share/home';
const SHARED_CREDS = `${SH}/.claude/.credentials.json`;
const CFG = '/etc/claude-share/config';
let sys: MemorySystem;
const uid = (n: string) => sys.getUser(n)!.uid;
const backups = (suffix: string) => [...sys.files.keys()].filter((p) => p.includes('/backups/') && p.endsWith(suffix));
const statusJson = () => {
  const io = captureIo();
  const code = runStatus(sys, { json: true, quiet: false, config: CFG }, io);
  return { code, doc: JSON.parse(io.lines.join('\n')) };
};
const statusText = () => {
  const io = captureIo();
  const code = runStatus(sys, { json: false, quiet: false, config: CFG }, io);
  return { code, text: [...io.lines, ...io.errors].join('\n') };
};
const sync = async () => {
  const io = captureIo();
  const code = await runSync(sys, { dryRun: false, json: false, quiet: false, config: CFG }, io);
  return { code, text: [...io.lines, ...io.errors].join('\n') };
};

beforeEach(async () => {
  sys = machineWithRootLogin(NOW + 2 * HOUR);
  sys.addFile('/root/users', 'alice:a\nbob:b\n', 0, 0, 0o600);
  expect(await runInit(sys, initOpts({ usersFromFile: '/root/users' }), captureIo())).toBe(0);
});

describe('values from members', () => {
  it('parseJsonBounded refuses nesting deeper than 64 without recursion, and ignores brackets inside strings', () => {
    expect(parseJsonBounded('['.repeat(200_000) + ']'.repeat(200_000))).toBeUndefined();
    expect(parseJsonBounded('['.repeat(64) + ']'.repeat(64))).toBeDefined();
    expect(parseJsonBounded('{"a":"[[[[\\"[[["}', 2)).toEqual({ a: '[[[["[[[' });
    expect(parseJsonBounded('{nope')).toBeUndefined();
  });

  it('dates outside 1970-2100 are not believed, and formatting never throws', () => {
    expect([saneEpochMs(1e300), saneEpochMs(-1), saneEpochMs(Number.NaN), saneEpochMs('1'), saneEpochMs(NOW)]).toEqual([undefined, undefined, undefined, undefined, NOW]);
    expect(isoOf(1e300)).toBe('invalid date');
    const info = inspectCredentials(Buffer.from(creds(1e300)), NOW);
    expect(info.state).toBe('logged-out');
    expect(info.expiresAt).toBeUndefined();
  });

  it("one member's expiresAt 1e300 is one problem on that member: status and sync finish, the other member is healed", async () => {
    const alice = `/home/alice/.claude/.credentials.json`;
    sys.addFile(alice, creds(1e300, { account: 'acct-1' }), uid('alice'), uid('alice'), 0o600);
    sys.addFile(`/home/bob/.claude/.credentials.json`, creds(NOW + 8 * HOUR, { account: 'acct-1' }), uid('bob'), uid('bob'), 0o600);
    const { code, doc } = statusJson();
    expect(code).toBe(1);
    expect(doc.login.expiresAt).not.toBe('invalid date');
    const r = await sync();
    expect(r.code).toBe(0);
    // bob's real token won; alice's absurd one never did.
    expect(JSON.parse(sys.content(SHARED_CREDS)!).claudeAiOauth.expiresAt).toBe(NOW + 8 * HOUR);
    expect(sys.readlink(alice)).toBe(SHARED_CREDS);
  });

  it('refreshTokenExpiresAt 1e300 in the shared copy: status still reports the login', () => {
    const doc = JSON.parse(creds(NOW + HOUR, { account: 'acct-1' }));
    doc.claudeAiOauth.refreshTokenExpiresAt = 1e300;
    sys.files.get(SHARED_CREDS)!.content = Buffer.from(JSON.stringify(doc));
    const r = statusJson();
    expect(r.code).toBe(0);
    expect(r.doc.login.refreshTokenExpiresAt).toBeNull();
  });

  it('200,000 nested arrays in the shared settings.json: that file is reported and rebuilt, not a stack overflow', async () => {
    sys.files.get(`${SH}/.claude/settings.json`)!.content = Buffer.from(`{"hooks":${'['.repeat(200_000)}${']'.repeat(200_000)}}`);
    const r = statusJson();
    expect(r.code).toBe(1);
    expect(r.doc.problems.map((p: { code: string }) => p.code)).toContain('shared-invalid');
    expect((await sync()).code).toBe(0);
    expect(sys.content(`${SH}/.claude/settings.json`)).toBe('{}\n');
    expect(backups('shared/.claude/settings.json')).toHaveLength(1);
  });
});

describe("what reaches root's terminal", () => {
  it('a temp file named with escapes and $(...) is printed escaped, and the fix line carries no member bytes', () => {
    sys.addFile(`${SH}/.claude/x.tmp.$(touch PWNED)\x1b[2J\x1b]52;c;ZXZpbA==\x07`, '', uid('alice'), 0, 0o600);
    const { text } = statusText();
    expect(text).not.toMatch(/\x1b|\x07/);
    expect(text).toContain('\\u{1b}[2J');
    const fix = text.split('\n').find((l) => l.includes('rm -i'))!;
    expect(fix).toContain('rm -i -- /shared/claude-share/home/.claude/*.tmp.*');
    expect(fix).not.toContain('PWNED');
  });

  it('subscriptionType from the shared login is printable and short', () => {
    const doc = JSON.parse(creds(NOW + HOUR, { account: 'acct-1' }));
    doc.claudeAiOauth.subscriptionType = '\x1b[2Jmax\x1b]52;c;ZXZpbA==\x07' + 'x'.repeat(5000);
    sys.files.get(SHARED_CREDS)!.content = Buffer.from(JSON.stringify(doc));
    const { text } = statusText();
    expect(text).not.toMatch(/\x1b|\x07/);
    expect(text).not.toContain('x'.repeat(100));
  });

  it('an error that names a path a member chose (a failed step, the watcher, an internal error) is printed escaped, whole', async () => {
    const { renderOutcomeLine } = await import('../src/core/render.js');
    const { safeText } = await import('../src/core/validate.js');
    const evil = "ENOENT: no such file or directory, open '/proc/self/fd/43/\x1b]0;OWNED\x07\x1b[2J\x1b[31mFAKE-OK\u202e'";
    const line = renderOutcomeLine(
      {
        action: { kind: 'link', code: 'severed', target: '/home/alice/.claude/settings.json', user: 'alice', before: 'x', after: 'link to y', reason: 'r' },
        result: 'failed',
        message: evil,
        backups: [],
      },
      { color: false },
    );
    expect(line).not.toMatch(/[\x00-\x08\x0b-\x1f\x7f\u202e]/);
    expect(line).toContain('\\u{1b}]0;OWNED\\u{7}');
    expect(safeText('x'.repeat(5000))).toHaveLength(5000);
    expect(safeText('plain → text')).toBe('plain → text');
  });

  it('shellQuote quotes anything a shell would interpret', () => {
    expect(shellQuote('/plain/path-1.json')).toBe('/plain/path-1.json');
    expect(shellQuote("a b$(x)'y")).toBe(`'a b$(x)'\\''y'`);
  });
});

describe('what a member can multiply costs O(n) and is capped in reports', () => {
  it('80,000 .claude.json.corrupted.* files: one warning with the count, a few names', () => {
    for (let i = 0; i < 80_000; i++) sys.addFile(`/home/alice/.claude.json.corrupted.${i}`, '', uid('alice'), uid('alice'), 0o600);
    const { doc } = statusJson();
    const corrupted = doc.problems.filter((p: { code: string }) => p.code === 'claude-json-corrupted');
    expect(corrupted).toHaveLength(1);
    expect(corrupted[0].message).toContain('80000');
    expect(corrupted[0].message).toContain('(79997 more)');
  });

  it('60,000 temp files in the shared dir: one warning per directory, and the others are still healed', async () => {
    for (let i = 0; i < 60_000; i++) sys.addFile(`${SH}/.claude/.credentials.json.tmp.${i}`, '', uid('alice'), 0, 0o600);
    sys.files.delete('/home/bob/.claude/settings.json');
    const r = await sync();
    expect(r.code).toBe(0);
    expect(r.text.match(/leftover temp/g)).toHaveLength(1);
    expect(sys.readlink('/home/bob/.claude/settings.json')).toBe(`${SH}/.claude/settings.json`);
  });
});

describe('monitoring after a failed run', () => {
  it('a status run that fails rewrites the Prometheus file as unhealthy and keeps the last success time', () => {
    const prom = '/var/lib/prom/claude-share.prom';
    expect(runStatus(sys, { json: false, quiet: true, prometheus: prom, config: CFG }, captureIo())).toBe(0);
    const ok = sys.content(prom)!;
    expect(ok).toMatch(/^claude_share_healthy 1$/m);
    expect(ok).toMatch(/^claude_share_run_ok 1$/m);
    const last = /^claude_share_last_success_timestamp_seconds (\d+)$/m.exec(ok)![1];
    // The config becomes unreadable for root (a run that cannot finish).
    sys.files.get(CFG)!.mode = 0o666;
    expect(() => runStatus(sys, { json: false, quiet: true, prometheus: prom, config: CFG }, captureIo())).toThrow();
    const failed = sys.content(prom)!;
    expect(failed).toMatch(/^claude_share_healthy 0$/m);
    expect(failed).toMatch(/^claude_share_run_ok 0$/m);
    expect(failed).toContain(`claude_share_last_success_timestamp_seconds ${last}`);
  });
});

describe('init input that would hand out root (issue 11.7, 11.8)', () => {
  const fresh = () => {
    const s = machineWithRootLogin(NOW + 2 * HOUR);
    s.groups.set('sudo', { name: 'sudo', gid: 27, members: [] });
    s.groups.set('devs', { name: 'devs', gid: 1500, members: ['mallory'] });
    return s;
  };
  const init = (s: MemorySystem, extra: Record<string, unknown>) => runInit(s, initOpts({ user: ['csx:pw'], ...extra }), captureIo()).catch((e) => e.exitCode);

  it('refuses a system group (77) and an existing group with unmanaged members unless --adopt-group; changes nothing', async () => {
    for (const [extra, want] of [
      [{ group: 'sudo' }, 77],
      [{ group: 'sudo', adoptGroup: true }, 77],
      [{ group: 'devs' }, 77],
    ] as const) {
      const s = fresh();
      const before = s.snapshot();
      expect(await init(s, extra)).toBe(want);
      expect(s.snapshot()).toBe(before);
    }
    const s = fresh();
    expect(await init(s, { group: 'devs', adoptGroup: true })).toBe(0);
    expect(s.getGroup('devs')!.members).toContain('csx');
  });

  it('one password rule on every path: a line break (chpasswd injection), a control character or 513 characters is 65, before any change', async () => {
    for (const pw of ['pw\nroot:x', 'a\x1bb', 'x'.repeat(513), '']) {
      const s = fresh();
      const before = s.snapshot();
      expect(await init(s, { user: [`csx:${pw}`] })).toBe(65);
      s.addFile('/root/u', `csy:${pw}\n`, 0, 0, 0o600);
      expect(await runInit(s, initOpts({ usersFromFile: '/root/u' }), captureIo()).catch((e) => e.exitCode)).toBe(65);
      expect(s.calls.filter((c) => c.startsWith('chpasswd'))).toEqual([]);
      s.files.delete('/root/u');
      expect(s.snapshot()).toBe(before);
    }
    const s = fresh();
    expect(await init(s, { user: ['csx:' + 'é'.repeat(512)] })).toBe(0);
  });
});

describe('a broken shared .claude.json is never rebuilt from a private one (issue 11.6)', () => {
  const SHARED_JSON = `${SH}/.claude/.claude.json`;
  const privateJson = JSON.stringify({ oauthAccount: { accountUuid: 'acct-1' }, mcpServers: { db: { env: { PASSWORD: 'hunter2-secret' } } } });

  it('with no good backup: a minimal document; the private file goes to the root-only backups', async () => {
    sys.files.delete('/home/alice/.claude.json');
    sys.addFile('/home/alice/.claude.json', privateJson, uid('alice'), uid('alice'), 0o600);
    sys.files.get(SHARED_JSON)!.content = Buffer.from('{"oauthAccount":');
    expect((await sync()).code).toBe(0);
    expect(sys.content(SHARED_JSON)).not.toContain('hunter2');
    expect(JSON.parse(sys.content(SHARED_JSON)!)).toEqual({ hasCompletedOnboarding: true });
    const saved = backups('alice/.claude.json');
    expect(saved).toHaveLength(1);
    expect(sys.lstat(saved[0])!.mode).toBe(0o600);
    expect(sys.content(saved[0])).toContain('hunter2');
  });

  it('with a good copy in the backups: the newest good shared copy comes back', async () => {
    const good = sys.content(SHARED_JSON)!;
    sys.files.get(SHARED_JSON)!.content = Buffer.from('x');
    expect((await sync()).code).toBe(0); // no good backup yet: minimal, and 'x' is backed up
    sys.clock += 60_000;
    const run = '/shared/claude-share/backups/2026-11-23T11-00-00.000Z';
    sys.addDir(run, 0, 0, 0o700);
    sys.addDir(`${run}/shared`, 0, 0, 0o700);
    sys.addFile(`${run}/shared/.claude.json`, good, 0, 0, 0o600);
    sys.files.get(SHARED_JSON)!.content = Buffer.from('{broken');
    sys.addFile('/home/alice/.claude.json', privateJson, uid('alice'), uid('alice'), 0o600);
    expect((await sync()).code).toBe(0);
    expect(sys.content(SHARED_JSON)).toBe(good);
  });
});

describe('a member cannot block everyone by replacing <shared>/home/.claude (issue 11.4)', () => {
  const DIR = `${SH}/.claude`;
  it('mv .claude .claude.old && touch .claude: sync sets the file aside, puts the real directory back, names the member', async () => {
    sys.rename(DIR, `${SH}/.claude.old`);
    sys.addFile(DIR, '', uid('alice'), uid('alice'), 0o644);
    // Meanwhile bob's Claude refreshed: his private copy holds the only live token, promoted in the same sync.
    const token = creds(NOW + 8 * HOUR, { account: 'acct-1' });
    sys.addFile('/home/bob/.claude/.credentials.json', token, uid('bob'), uid('bob'), 0o600);
    const st = statusJson();
    const msgs = st.doc.problems.filter((p: { code: string }) => p.code === 'shared-intruder').map((p: { message: string }) => p.message);
    expect(msgs.some((m: string) => /^alice replaced .* moved the real one to .*\.claude\.old/.test(m))).toBe(true);
    const r = await sync();
    expect(r.code).toBe(0);
    expect(sys.lstat(DIR)!.type).toBe('dir');
    expect(sys.content(SHARED_CREDS)).toBe(token);
    expect(sys.lstat(`${SH}/.claude.old`)).toBeNull();
    expect([...sys.files.keys()].filter((p) => p.startsWith('/shared/claude-share/set-aside/') && p.includes('/.claude.alice.'))).toHaveLength(1);
    expect(statusJson().code).toBe(0);
  });

  it('a symlink there and no original to be found: set aside, a new directory, and healing goes on', async () => {
    sys.files.delete(DIR);
    for (const k of [...sys.files.keys()]) if (k.startsWith(DIR + '/')) sys.files.delete(k);
    sys.addLink(DIR, '/etc', uid('alice'), uid('alice'));
    sys.addFile('/home/bob/.claude/.credentials.json', creds(NOW + 8 * HOUR, { account: 'acct-1' }), uid('bob'), uid('bob'), 0o600);
    const r = await sync();
    expect(r.code).toBe(0);
    expect(sys.lstat(DIR)!.type).toBe('dir');
    expect(JSON.parse(sys.content(SHARED_CREDS)!).claudeAiOauth.expiresAt).toBe(NOW + 8 * HOUR);
    expect(sys.lstat('/etc')!.type).toBe('dir');
  });
});

describe('removal completes whatever members did to the shared files (issue 11.4)', () => {
  it('a shared settings.json grown past the size cap: remove-user finishes, and no sync puts the member back', async () => {
    const { runRemoveUser } = await import('../src/commands/remove-user.js');
    sys.files.get(`${SH}/.claude/settings.json`)!.content = Buffer.alloc(17 * 1024 * 1024, 0x20);
    const io = captureIo();
    const code = await runRemoveUser(sys, { name: 'alice', deleteAccount: false, removeHome: false, dryRun: false, json: false, config: CFG }, io);
    expect(code).not.toBe(1);
    expect(sys.content(CFG)).not.toMatch(/alice/);
    expect(sys.getGroup('claudeshare')!.members).not.toContain('alice');
    expect(sys.lstat('/home/alice/.claude/settings.json')).toBeNull();
    expect(sys.lstat('/home/alice/.claude/.credentials.json')).toBeNull();
    await sync();
    expect(sys.getGroup('claudeshare')!.members).not.toContain('alice');
  });
});

describe('backups a member can cause are bounded (issue 11.3)', () => {
  const SETTINGS = '/home/alice/.claude/settings.json';
  const sever = (bytes: Buffer) => {
    sys.files.delete(SETTINGS);
    sys.addFile(SETTINGS, bytes, uid('alice'), uid('alice'), 0o600).mtimeMs = sys.clock++;
  };
  const rootBackupBytes = () =>
    [...sys.files.entries()].filter(([p, n]) => p.includes('/backups/') && !p.endsWith('/MANIFEST.json') && n.type === 'file').reduce((s, [, n]) => s + n.content.length, 0);

  it('files over 1 MiB and files past 8 MiB per member per hour stay in her home; identical content is stored once; every heal happens', async () => {
    const base = rootBackupBytes(); // root's own login, moved to the backups by init
    sever(Buffer.alloc(2 * 1024 * 1024, 0x61));
    expect((await sync()).code).toBe(0);
    expect(rootBackupBytes()).toBe(base);
    const kept = [...sys.files.keys()].filter((p) => p.startsWith(SETTINGS + '.claude-share-kept.'));
    expect(kept).toHaveLength(1);
    expect(sys.lstat(kept[0])!.uid).toBe(uid('alice'));
    expect(sys.readlink(SETTINGS)).toBe(`${SH}/.claude/settings.json`);
    // The same 100 KB twice: one copy in root's backups.
    for (let i = 0; i < 2; i++) {
      sever(Buffer.alloc(100 * 1024, 0x62));
      sys.clock += 1000;
      expect((await sync()).code).toBe(0);
    }
    expect(rootBackupBytes()).toBe(base + 100 * 1024);
    // 40 different 512 KiB files in a loop: root stores at most the budget, the rest stays hers, every one is relinked.
    for (let i = 0; i < 40; i++) {
      sever(Buffer.alloc(512 * 1024, 0x63 + (i % 20)).fill(i, 0, 1));
      sys.clock += 1000;
      expect((await sync()).code).toBe(0);
      expect(sys.readlink(SETTINGS)).toBe(`${SH}/.claude/settings.json`);
    }
    expect(rootBackupBytes() - base).toBeLessThanOrEqual(8 * 1024 * 1024);
    expect(rootBackupBytes() - base).toBeGreaterThan(7 * 1024 * 1024);
    // An hour later the budget is back.
    sys.clock += 3600_000;
    sever(Buffer.alloc(1000, 0x7a));
    const before = rootBackupBytes();
    expect((await sync()).code).toBe(0);
    expect(rootBackupBytes()).toBe(before + 1000);
  });
});

describe('one home that cannot be examined', () => {
  it('is one problem on that member while the others are healed', async () => {
    const real = sys.readdir.bind(sys);
    sys.readdir = (p: string) => {
      if (p === '/home/alice') throw new Error('EIO: something a member did');
      return real(p);
    };
    sys.files.delete('/home/bob/.claude/settings.json');
    // A new entry in her home: it is listed again (an unchanged home is not, probe-memo.ts), and the listing fails.
    sys.addFile('/home/alice/notes', 'x', uid('alice'), uid('alice'));
    const r = await sync();
    expect(r.code).toBe(2);
    expect(r.text).toMatch(/unsafe-path.*home of alice could not be examined: EIO/);
    expect(sys.readlink('/home/bob/.claude/settings.json')).toBe(`${SH}/.claude/settings.json`);
  });
});

describe('a private credentials file still being written', () => {
  it('is left alone for 2 s while it does not parse, then backed up and relinked', async () => {
    const path = '/home/alice/.claude/.credentials.json';
    sys.files.delete(path);
    sys.addFile(path, '', uid('alice'), uid('alice'), 0o600); // truncated by an in-place write, mtime = now
    let r = await sync();
    expect(sys.lstat(path)!.type).toBe('file');
    expect(r.text).toContain('is being written');
    sys.clock += 3000;
    r = await sync();
    expect(r.code).toBe(0);
    expect(sys.readlink(path)).toBe(SHARED_CREDS);
  });
});

describe('the live token is never relinked away (last line of defence in apply)', () => {
  it('a relink planned when the shared copy was fresher waits when, by apply time, the shared copy is older or gone', async () => {
    const { applyPlan } = await import('../src/engine/apply.js');
    const { syncDesired } = await import('../src/engine/converge.js');
    const { loadConfig } = await import('../src/engine/config.js');
    const path = '/home/alice/.claude/.credentials.json';
    sys.files.delete(path);
    const n = sys.addFile(path, creds(NOW + 5 * HOUR, { account: 'acct-1' }), uid('alice'), uid('alice'), 0o600);
    const d = syncDesired(loadConfig(sys, CFG)!);
    const action = {
      kind: 'link' as const,
      code: 'severed' as const,
      target: path,
      user: 'alice',
      before: 'private file',
      after: 'link',
      reason: 'test',
      backupFrom: { path, owner: uid('alice'), expect: { ino: n.ino, size: n.content.length, mtimeMs: n.mtimeMs }, rel: '.claude/.credentials.json' },
      guardToken: true,
    };
    // The shared copy (2 h) is older than alice's (5 h): a member swapped it meanwhile.
    let [o] = await applyPlan(sys, d, [action], { passwords: new Map(), backupRoot: '/shared/claude-share/backups/t1' });
    expect(o.result).toBe('conflict');
    expect(sys.lstat(path)!.type).toBe('file');
    sys.files.delete(SHARED_CREDS);
    [o] = await applyPlan(sys, d, [action], { passwords: new Map(), backupRoot: '/shared/claude-share/backups/t2' });
    expect(o.result).toBe('conflict');
    // Once the shared copy is fresher, the relink goes ahead.
    sys.addFile(SHARED_CREDS, creds(NOW + 6 * HOUR, { account: 'acct-1' }), 0, 0, 0o660);
    [o] = await applyPlan(sys, d, [action], { passwords: new Map(), backupRoot: '/shared/claude-share/backups/t3' });
    expect(o.result).toBe('replaced');
    expect(sys.readlink(path)).toBe(SHARED_CREDS);
  });
});

describe('all backups together stay under a cap', () => {
  it('the oldest go first, settings before logins, never the newest login backup of anyone', async () => {
    const { BACKUP_LIMITS } = await import('../src/engine/apply.js');
    const saved = BACKUP_LIMITS.totalBytes;
    BACKUP_LIMITS.totalBytes = 400_000; // the rule, at a size an in-memory test handles quickly
    const BACKUP_TOTAL_CAP = BACKUP_LIMITS.totalBytes;
    const B = '/shared/claude-share/backups';
    const mk = (run: string, who: string, rel: string, size: number) => {
      const dirs = [`${B}/${run}`, `${B}/${run}/${who}`, `${B}/${run}/${who}/.claude`];
      for (const dd of dirs) if (!sys.files.has(dd)) sys.addDir(dd, 0, 0, 0o700);
      sys.addFile(`${B}/${run}/${who}/${rel}`, Buffer.alloc(size), 0, 0, 0o600);
    };
    const big = Math.floor(BACKUP_TOTAL_CAP / 4);
    mk('2026-01-01T00-00-00.000Z', 'alice', '.claude/.credentials.json', 1000); // alice's only login backup
    mk('2026-01-02T00-00-00.000Z', 'bob', '.claude/settings.json', big);
    mk('2026-01-03T00-00-00.000Z', 'bob', '.claude/settings.json', big);
    mk('2026-01-04T00-00-00.000Z', 'bob', '.claude/.credentials.json', big);
    mk('2026-01-05T00-00-00.000Z', 'bob', '.claude/.credentials.json', big);
    mk('2026-01-06T00-00-00.000Z', 'bob', '.claude/settings.json', big);
    // A heal that writes a backup triggers the pruning.
    sys.files.delete('/home/alice/.claude/settings.json');
    sys.addFile('/home/alice/.claude/settings.json', '{"x":1}', uid('alice'), uid('alice'), 0o600);
    expect((await sync()).code).toBe(0);
    const left = [...sys.files.entries()].filter(([p, n]) => p.startsWith(B) && n.type === 'file');
    expect(left.reduce((s, [, n]) => s + n.content.length, 0)).toBeLessThanOrEqual(BACKUP_TOTAL_CAP);
    const has = (p: string) => sys.files.has(`${B}/${p}`);
    expect(has('2026-01-01T00-00-00.000Z/alice/.claude/.credentials.json')).toBe(true);
    expect(has('2026-01-02T00-00-00.000Z/bob/.claude/settings.json')).toBe(false);
    expect(has('2026-01-03T00-00-00.000Z/bob/.claude/settings.json')).toBe(false);
    expect(has('2026-01-05T00-00-00.000Z/bob/.claude/.credentials.json')).toBe(true);
    BACKUP_LIMITS.totalBytes = saved;
  });

  it('what a member owns in the backups (a 0.2.0 set-aside she still writes to) is never sized, pruned or listed; a file that cannot be pruned is logged, the run goes on', async () => {
    const { BACKUP_LIMITS } = await import('../src/engine/apply.js');
    const { runBackupsList } = await import('../src/commands/backups.js');
    const saved = BACKUP_LIMITS.totalBytes;
    BACKUP_LIMITS.totalBytes = 400_000;
    const B = '/shared/claude-share/backups';
    const old = '2026-11-23T10-00-00.000Z';
    for (const dd of [`${B}/${old}`, `${B}/${old}/bob`, `${B}/${old}/bob/.claude`]) if (!sys.files.has(dd)) sys.addDir(dd, 0, 0, 0o700);
    sys.addFile(`${B}/${old}/bob/.claude/settings.json`, '{"bob":"only copy"}', 0, 0, 0o600);
    // Hers, 2775, with a file far over the cap in it (a sparse 1 TiB file, to lstat).
    sys.addDir(`${B}/${old}/set-aside`, 0, 0, 0o700);
    sys.addDir(`${B}/${old}/set-aside/.claude.json.legacy.7`, uid('alice'), uid('alice'), 0o2775);
    sys.addFile(`${B}/${old}/set-aside/.claude.json.legacy.7/big`, Buffer.alloc(BACKUP_LIMITS.totalBytes + 1), uid('alice'), uid('alice'), 0o644);
    sys.files.delete('/home/alice/.claude/settings.json');
    sys.addFile('/home/alice/.claude/settings.json', '{"x":1}', uid('alice'), uid('alice'), 0o600);
    expect((await sync()).code).toBe(0);
    expect(sys.content(`${B}/${old}/bob/.claude/settings.json`)).toBe('{"bob":"only copy"}');
    expect(sys.files.has(`${B}/${old}/set-aside/.claude.json.legacy.7/big`)).toBe(true);
    const io = captureIo();
    runBackupsList(sys, { json: true, config: CFG }, io);
    expect(io.lines.join('\n')).not.toContain('legacy.7');
    // Over the cap with root's own files, and one of them cannot go: logged, the next one goes, exit 0.
    for (const n of [1, 2]) sys.addFile(`${B}/${old}/bob/.claude/settings.json.${n}`, Buffer.alloc(300_000), 0, 0, 0o600);
    const unlink = sys.unlink.bind(sys);
    sys.unlink = (p: string) => {
      if (p.endsWith('settings.json.1')) throw Object.assign(new Error(`EPERM: operation not permitted, unlink '${p}'`), { code: 'EPERM' });
      unlink(p);
    };
    sys.files.delete('/home/alice/.claude/settings.json');
    sys.addFile('/home/alice/.claude/settings.json', '{"x":2}', uid('alice'), uid('alice'), 0o600);
    expect((await sync()).code).toBe(0);
    expect(sys.files.has(`${B}/${old}/bob/.claude/settings.json.1`)).toBe(true);
    expect(sys.files.has(`${B}/${old}/bob/.claude/settings.json.2`)).toBe(false);
    expect(sys.logs.some((l) => l.startsWith('could not prune backup'))).toBe(true);
    sys.unlink = unlink;
    BACKUP_LIMITS.totalBytes = saved;
  });
});
