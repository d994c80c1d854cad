import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RealSystem, UnsafePathError, openDirPinned } from '../src/system/real-system.js';

// The pinned walk on the real kernel, in a temp dir. Cases that give files to other uids need root (CI is root).
const root = process.geteuid?.() === 0;
const M = 65534; // a member: nobody
const OTHER = 65533;

let top: string;
beforeEach(() => {
  top = fs.realpathSync(fs.mkdtempSync(`${tmpdir()}/cs-real-`));
  fs.chmodSync(top, 0o755);
});
afterEach(() => fs.rmSync(top, { recursive: true, force: true }));

const pinnedIno = (dir: string) => {
  const fd = openDirPinned(dir);
  try {
    return fs.fstatSync(fd).ino;
  } finally {
    fs.closeSync(fd);
  }
};

describe('openDirPinned', () => {
  it('opens a plain directory', () => {
    fs.mkdirSync(`${top}/a/b`, { recursive: true });
    expect(pinnedIno(`${top}/a/b`)).toBe(fs.statSync(`${top}/a/b`).ino);
  });

  it('refuses a symlink in a directory others can write, and never reaches its target', () => {
    fs.mkdirSync(`${top}/open`, { mode: 0o777 });
    fs.chmodSync(`${top}/open`, 0o777);
    fs.mkdirSync(`${top}/secret`);
    fs.symlinkSync(`${top}/secret`, `${top}/open/link`);
    expect(() => openDirPinned(`${top}/open/link`)).toThrow(UnsafePathError);
  });

  it.runIf(root)('follows a root-owned symlink in a root-owned directory nobody else can write (/home -> /var/home)', () => {
    fs.mkdirSync(`${top}/var/home`, { recursive: true });
    fs.symlinkSync('var/home', `${top}/home`);
    fs.symlinkSync('../var/home', `${top}/var/up`);
    expect(pinnedIno(`${top}/home`)).toBe(fs.statSync(`${top}/var/home`).ino);
    expect(pinnedIno(`${top}/var/up`)).toBe(fs.statSync(`${top}/var/home`).ino);
  });

  it.runIf(root)("refuses a member's symlink even in the member's own home", () => {
    fs.mkdirSync(`${top}/alice`);
    fs.chownSync(`${top}/alice`, M, M);
    fs.symlinkSync('/etc', `${top}/alice/.claude`);
    fs.lchownSync(`${top}/alice/.claude`, M, M);
    expect(() => openDirPinned(`${top}/alice/.claude`)).toThrow(UnsafePathError);
    const r = new RealSystem().readFileNoFollow(`${top}/alice/.claude/passwd`, { maxBytes: 1 << 20 });
    expect(r).toEqual({ ok: false, reason: 'unsafe-path' });
  });

  it.runIf(root)("refuses a step from one member's directory into another's (chase's unsafe transition)", () => {
    fs.mkdirSync(`${top}/alice/bob`, { recursive: true });
    fs.chownSync(`${top}/alice`, M, M);
    fs.chownSync(`${top}/alice/bob`, OTHER, OTHER);
    expect(() => openDirPinned(`${top}/alice/bob`)).toThrow(/owned by uid 65533/);
    fs.chownSync(`${top}/alice/bob`, M, M);
    expect(pinnedIno(`${top}/alice/bob`)).toBe(fs.statSync(`${top}/alice/bob`).ino);
  });
});

describe.runIf(root)('listDirPinned (status: when a member last started a session)', () => {
  it("lists a member's directory through the pinned descriptor, at most max entries, with lstat of each; a member's link swapped in is never listed through", () => {
    fs.mkdirSync(`${top}/alice/.claude/projects/p1`, { recursive: true });
    fs.mkdirSync(`${top}/alice/.claude/projects/p2`);
    fs.symlinkSync('/etc', `${top}/alice/.claude/projects/etc-link`);
    for (const p of ['alice', 'alice/.claude', 'alice/.claude/projects', 'alice/.claude/projects/p1', 'alice/.claude/projects/p2']) fs.chownSync(`${top}/${p}`, M, M);
    fs.lchownSync(`${top}/alice/.claude/projects/etc-link`, M, M);
    const sys = new RealSystem();
    const list = sys.listDirPinned(`${top}/alice/.claude/projects`, 10)!;
    expect(list.map((e) => `${e.name}:${e.stat.type}`).sort()).toEqual(['etc-link:symlink', 'p1:dir', 'p2:dir']);
    expect(sys.listDirPinned(`${top}/alice/.claude/projects`, 2)).toHaveLength(2);
    // The member swaps projects for a link to /etc: nothing is listed (the walk refuses her link).
    fs.renameSync(`${top}/alice/.claude/projects`, `${top}/alice/.claude/old`);
    fs.symlinkSync('/etc', `${top}/alice/.claude/projects`);
    fs.lchownSync(`${top}/alice/.claude/projects`, M, M);
    expect(sys.listDirPinned(`${top}/alice/.claude/projects`, 10)).toBeNull();
    expect(sys.listDirPinned(`${top}/nothing-here`, 10)).toBeNull();
  });
});

describe.runIf(root)('RealSystem writes in a home, as root, for the member', () => {
  it('replaceFile gives the member the file through the descriptor and replaces a planted symlink, never following it', () => {
    fs.mkdirSync(`${top}/alice`);
    fs.chownSync(`${top}/alice`, M, M);
    fs.writeFileSync(`${top}/victim`, 'root only');
    fs.symlinkSync(`${top}/victim`, `${top}/alice/.bashrc`);
    new RealSystem().replaceFile(`${top}/alice/.bashrc`, 'umask 002\n', { mode: 0o644, uid: M, gid: M });
    const st = fs.lstatSync(`${top}/alice/.bashrc`);
    expect([st.isFile(), st.uid, st.gid, st.mode & 0o7777]).toEqual([true, M, M, 0o644]);
    expect(fs.readFileSync(`${top}/victim`, 'utf8')).toBe('root only');
    expect(fs.statSync(`${top}/victim`).uid).toBe(0);
  });

  it('replaceFile keeps the mode of an existing regular file', () => {
    fs.mkdirSync(`${top}/alice`);
    fs.chownSync(`${top}/alice`, M, M);
    fs.writeFileSync(`${top}/alice/.profile`, 'x', { mode: 0o600 });
    new RealSystem().replaceFile(`${top}/alice/.profile`, 'y', { mode: 0o644, uid: M, gid: M });
    expect(fs.statSync(`${top}/alice/.profile`).mode & 0o7777).toBe(0o600);
  });

  it('symlinkOverExpected links over the file looked at, and leaves a file written after the look where it is (nothing aside left behind)', () => {
    fs.mkdirSync(`${top}/alice`);
    fs.chownSync(`${top}/alice`, M, M);
    const sys = new RealSystem();
    const path = `${top}/alice/.credentials.json`;
    const look = () => {
      const st = fs.lstatSync(path);
      return { ino: st.ino, size: st.size, mtimeMs: st.mtimeMs };
    };
    fs.writeFileSync(path, 'fake22');
    expect(sys.symlinkOverExpected('/shared/creds', path, look())).toBeNull();
    expect(fs.readlinkSync(path)).toBe('/shared/creds');
    // Looked at fake22; the member's client then renamed fake23 over it: fake23 stays, untouched.
    fs.rmSync(path);
    fs.writeFileSync(path, 'fake22');
    const seen = look();
    fs.writeFileSync(`${path}.tmp`, 'fake23');
    fs.renameSync(`${path}.tmp`, path);
    expect(sys.symlinkOverExpected('/shared/creds', path, seen)).toMatch(/was written again meanwhile/);
    expect(fs.readFileSync(path, 'utf8')).toBe('fake23');
    expect(fs.readdirSync(`${top}/alice`)).toEqual(['.credentials.json']);
  });

  it('mkdir gives the member its directory and refuses a symlink there', () => {
    fs.mkdirSync(`${top}/alice`);
    fs.chownSync(`${top}/alice`, M, M);
    const sys = new RealSystem();
    sys.mkdir(`${top}/alice/.claude`, 0o700, M, M);
    const st = fs.lstatSync(`${top}/alice/.claude`);
    expect([st.isDirectory(), st.uid, st.mode & 0o7777]).toEqual([true, M, 0o700]);
    fs.symlinkSync('/etc', `${top}/alice/x`);
    expect(() => sys.mkdir(`${top}/alice/x`, 0o700, M, M)).toThrow();
    expect(fs.statSync('/etc').uid).toBe(0);
  });
});

describe.runIf(root)('the lock names a live root claude-share, not just a pid', () => {
  it("a member's process at the recorded pid does not hold it; a live root holder with its start time does", async () => {
    const { acquireLock, startTime } = await import('../src/system/lock.js');
    const { spawn } = await import('node:child_process');
    const lock = `${top}/run/lock`;
    fs.mkdirSync(`${top}/run`, { mode: 0o700 });
    // The member forked until she got the pid of a killed holder: same pid, her uid.
    const member = spawn('sleep', ['30'], { uid: M, gid: M, stdio: 'ignore' });
    try {
      await new Promise((r) => member.once('spawn', r));
      fs.writeFileSync(lock, `${member.pid} ${startTime(member.pid!)}\n`);
      const release = await acquireLock(lock, 500);
      expect(fs.readFileSync(lock, 'utf8')).toBe(`${process.pid} ${startTime(process.pid)}\n`);
      release();
      expect(fs.existsSync(lock)).toBe(false);
    } finally {
      member.kill();
    }
    // A live root holder (this very process, with its real start time) is waited for, then reported.
    fs.writeFileSync(lock, `${process.pid} ${startTime(process.pid)}\n`);
    await expect(acquireLock(lock, 300)).rejects.toThrow(/holds/);
    // The same pid with another start time is a recycled pid: stale.
    fs.writeFileSync(lock, `${process.pid} 1\n`);
    (await acquireLock(lock, 300))();
  });
});

describe.runIf(root)('pinned directories kept for the run', () => {
  it('are root-only chains only, and a rename drops them: nothing lands in a directory that moved', async () => {
    const { forgetPinnedDirs } = await import('../src/system/real-system.js');
    const base = fs.mkdtempSync('/var/lib/cs-pin-');
    fs.chmodSync(base, 0o755);
    try {
      const sys = new RealSystem();
      fs.mkdirSync(`${base}/shared`, { mode: 0o755 });
      sys.writeFileAtomic(`${base}/shared/a`, '1', { mode: 0o600, uid: 0, gid: 0 });
      sys.rename(`${base}/shared`, `${base}/archive`);
      fs.mkdirSync(`${base}/shared`, { mode: 0o755 });
      sys.writeFileAtomic(`${base}/shared/b`, '2', { mode: 0o600, uid: 0, gid: 0 });
      expect(fs.readdirSync(`${base}/shared`)).toEqual(['b']);
      expect(fs.readdirSync(`${base}/archive`)).toEqual(['a']);
      // A group-writable directory is never kept: a member of the group could swap what is below it.
      fs.mkdirSync(`${base}/open`, { mode: 0o775 });
      fs.chmodSync(`${base}/open`, 0o775);
      fs.mkdirSync(`${base}/open/d`);
      sys.writeFileAtomic(`${base}/open/d/x`, '1', { mode: 0o600, uid: 0, gid: 0 });
      fs.renameSync(`${base}/open/d`, `${base}/open/moved`);
      fs.mkdirSync(`${base}/open/d`);
      sys.writeFileAtomic(`${base}/open/d/y`, '2', { mode: 0o600, uid: 0, gid: 0 });
      expect(fs.readdirSync(`${base}/open/d`)).toEqual(['y']);
    } finally {
      forgetPinnedDirs();
      fs.rmSync(base, { recursive: true, force: true });
    }
  });
});

describe.runIf(root)('runAsMember (setpriv, on the real kernel)', () => {
  const nobody = { name: 'nobody', uid: M, gid: 65534, home: '/nonexistent', shell: '/usr/sbin/nologin' };

  it("runs as the member, with umask 002, no new privileges, none of root's environment, in a session of its own", async () => {
    process.env.CS_TEST_SECRET = 'hunter2';
    try {
      const r = await new RealSystem().runAsMember(
        nobody,
        ['/bin/sh', '-c', 'echo "$(id -u) $(umask) $(awk \'/^NoNewPrivs/ {print $2}\' /proc/self/status) ${CS_TEST_SECRET:-unset} $HOME $(cut -d " " -f 6 /proc/$$/stat) $$"'],
        { timeoutMs: 10_000, maxBytes: 1024 },
      );
      const [uid, umask, nnp, secret, home, sid, pid] = r.stdout.trim().split(' ');
      expect([r.code, uid, umask, nnp, secret, home]).toEqual([0, String(M), '0002', '1', 'unset', '/nonexistent']);
      // setsid: it leads its own session (its sid is its own pid, the sh that setpriv exec'd), not root's.
      expect(sid).toBe(pid);
    } finally {
      delete process.env.CS_TEST_SECRET;
    }
  });

  it('a program that outlives its timeout is killed with its group; one that leaves a child holding the pipes is not waited for; output is capped', async () => {
    const sys = new RealSystem();
    const t0 = Date.now();
    const slow = await sys.runAsMember(nobody, ['/bin/sh', '-c', 'sleep 30 & sleep 30'], { timeoutMs: 300, maxBytes: 1024 });
    expect(slow).toMatchObject({ code: null, timedOut: true });
    const t1 = Date.now();
    expect(t1 - t0).toBeLessThan(5_000);
    const left = await sys.runAsMember(nobody, ['/bin/sh', '-c', 'setsid sleep 8 & echo done'], { timeoutMs: 10_000, maxBytes: 1024 });
    expect(left).toMatchObject({ code: 0, timedOut: false });
    expect(left.stdout).toContain('done');
    // Waiting for the pipes to close would take the 8 s of the child it left behind.
    expect(Date.now() - t1).toBeLessThan(4_000);
    const big = await sys.runAsMember(nobody, ['/bin/sh', '-c', 'head -c 200000 /dev/zero | tr "\\0" x'], { timeoutMs: 10_000, maxBytes: 1000 });
    expect(big.stdout.length).toBe(1000);
  });
});
