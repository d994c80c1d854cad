import * as fs from 'node:fs';
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import type { FileStat, FileType, GroupEntry, PasswordEntry, ReadOptions, SafeRead, System, UserEntry } from './system.js';

const require = createRequire(import.meta.url);
interface PosixModule {
  getpwnam(name: string): { name: string; uid: number; gid: number; dir: string; shell: string };
  getgrnam(name: string): { name: string; gid: number; members: string[] };
  openlog(ident: string, opts: Record<string, boolean>, facility: string): void;
  syslog(priority: string, message: string): void;
}
let posixModule: PosixModule | undefined;
const posix = () => (posixModule ??= require('posix') as PosixModule);

const { O_RDONLY, O_WRONLY, O_CREAT, O_EXCL, O_NOFOLLOW, O_NONBLOCK, O_NOCTTY, O_DIRECTORY } = fs.constants;
const SBIN_PATH = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];

function typeOf(st: fs.Stats): FileType {
  if (st.isFile()) return 'file';
  if (st.isDirectory()) return 'dir';
  if (st.isSymbolicLink()) return 'symlink';
  if (st.isFIFO()) return 'fifo';
  if (st.isSocket()) return 'socket';
  if (st.isCharacterDevice()) return 'char';
  if (st.isBlockDevice()) return 'block';
  return 'other';
}

const toStat = (st: fs.Stats): FileStat => ({
  type: typeOf(st),
  uid: st.uid,
  gid: st.gid,
  mode: st.mode & 0o7777,
  nlink: st.nlink,
  size: st.size,
  ino: st.ino,
  mtimeMs: st.mtimeMs,
});

const errno = (e: unknown) => (e as NodeJS.ErrnoException).code;
const tempName = (base: string, tag: string) => `.${base}.${tag}.${randomBytes(6).toString('hex')}`;
/** Linux's O_PATH: a handle on the directory itself, enough to look names up through /proc/self/fd. */
const O_PATH = 0o10000000;

/**
 * Prevents a directory swapped for a symlink (by a member who can write its parent) from redirecting root:
 * the parent is pinned by a descriptor opened with O_NOFOLLOW, and the operation goes through /proc/self/fd/N,
 * which acts like openat(2) on that very directory, whatever happens to its path meanwhile.
 */
function inParent<T>(path: string, fn: (at: (name: string) => string, base: string) => T): T {
  const slash = path.lastIndexOf('/');
  const dir = path.slice(0, slash) || '/';
  const base = path.slice(slash + 1);
  let fd: number;
  try {
    fd = fs.openSync(dir, O_PATH | O_DIRECTORY | O_NOFOLLOW);
  } catch (e) {
    if (errno(e) === 'ELOOP') throw Object.assign(new Error(`${dir} is a symlink; refusing to work through it`), { code: 'ELOOP' });
    throw e;
  }
  try {
    return fn((name) => `/proc/self/fd/${fd}/${name}`, base);
  } finally {
    fs.closeSync(fd);
  }
}

/** The System that touches the real machine. Commands are run with argv arrays, never through a shell. */
export class RealSystem implements System {
  private logOpen = false;
  private accounts: { users: Map<string, UserEntry>; groups: Map<string, GroupEntry>; stamp: string } | null = null;
  private accountsCheckedAt = 0;

  /**
   * /etc/passwd and /etc/group parsed once: getpwnam rescans the file on every call, which made a check of N users
   * cost N². Names not found there (LDAP, sssd) fall back to getpwnam/getgrnam. The cache is dropped when either
   * file changes (another command, an admin, a long-running watcher) and after every change made here.
   */
  private localAccounts() {
    // Looked at no more than every 100 ms: one check of 1,000 users must not stat the files 2,000 times.
    const now = Date.now();
    if (this.accounts && now - this.accountsCheckedAt < 100) return this.accounts;
    this.accountsCheckedAt = now;
    const stamp = ['/etc/passwd', '/etc/group'].map((f) => {
      const st = fs.statSync(f, { throwIfNoEntry: false });
      return st ? `${st.ino}:${st.size}:${st.mtimeMs}` : '-';
    }).join('/');
    if (this.accounts?.stamp === stamp) return this.accounts;
    const users = new Map<string, UserEntry>();
    const groups = new Map<string, GroupEntry>();
    for (const line of readLines('/etc/passwd')) {
      const f = line.split(':');
      if (f.length >= 7 && !users.has(f[0])) users.set(f[0], { name: f[0], uid: Number(f[2]), gid: Number(f[3]), home: f[5], shell: f[6] });
    }
    for (const line of readLines('/etc/group')) {
      const f = line.split(':');
      if (f.length >= 4 && !groups.has(f[0])) groups.set(f[0], { name: f[0], gid: Number(f[2]), members: f[3] ? f[3].split(',') : [] });
    }
    this.accounts = { users, groups, stamp };
    return this.accounts;
  }

  euid() {
    return process.geteuid?.() ?? -1;
  }
  platform() {
    return process.platform;
  }
  now() {
    return new Date();
  }
  hasCommand(name: string) {
    const dirs = [...(process.env.PATH ?? '').split(':').filter(Boolean), ...SBIN_PATH];
    return dirs.some((d) => {
      try {
        fs.accessSync(`${d}/${name}`, fs.constants.X_OK);
        return true;
      } catch {
        return false;
      }
    });
  }

  /** The cached account files are dropped after every change, whether the command worked or not. */
  private async changeAccounts(fn: () => Promise<void>) {
    try {
      await fn();
    } finally {
      this.accounts = null;
    }
  }

  getUser(name: string): UserEntry | null {
    const local = this.localAccounts().users.get(name);
    if (local) return { ...local };
    try {
      const p = posix().getpwnam(name);
      return { name: p.name, uid: p.uid, gid: p.gid, home: p.dir, shell: p.shell };
    } catch {
      return null;
    }
  }
  getGroup(name: string): GroupEntry | null {
    const local = this.localAccounts().groups.get(name);
    if (local) return { ...local, members: [...local.members] };
    try {
      const g = posix().getgrnam(name);
      return { name: g.name, gid: g.gid, members: g.members };
    } catch {
      return null;
    }
  }
  processUids() {
    const uids = new Set<number>();
    for (const pid of fs.readdirSync('/proc')) {
      if (!/^\d+$/.test(pid)) continue;
      const st = fs.statSync(`/proc/${pid}`, { throwIfNoEntry: false });
      if (st) uids.add(st.uid);
    }
    return uids;
  }

  lstat(path: string) {
    const st = fs.lstatSync(path, { throwIfNoEntry: false });
    return st ? toStat(st) : null;
  }
  readlink(path: string) {
    try {
      return fs.readlinkSync(path);
    } catch {
      return null;
    }
  }
  readdir(path: string) {
    try {
      return fs.readdirSync(path);
    } catch {
      return [];
    }
  }

  readFileNoFollow(path: string, opts: ReadOptions): SafeRead {
    let fd: number;
    try {
      fd = inParent(path, (at, base) => fs.openSync(at(base), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY));
    } catch (e) {
      const code = errno(e);
      if (code === 'ENOENT' || code === 'ENOTDIR') return { ok: false, reason: 'missing' };
      if (code === 'ELOOP') return { ok: false, reason: 'symlink' };
      return { ok: false, reason: 'unreadable' };
    }
    try {
      const stat = toStat(fs.fstatSync(fd));
      if (stat.type !== 'file') return { ok: false, reason: 'not-regular', stat };
      if (opts.owner !== undefined && stat.uid !== opts.owner) return { ok: false, reason: 'wrong-owner', stat };
      if (stat.nlink > 1) return { ok: false, reason: 'hard-linked', stat };
      if (stat.size > opts.maxBytes) return { ok: false, reason: 'too-large', stat };
      const buf = Buffer.alloc(Math.min(stat.size, opts.maxBytes) + 1);
      let len = 0;
      for (;;) {
        const n = fs.readSync(fd, buf, len, buf.length - len, null);
        if (n === 0) break;
        len += n;
        if (len >= buf.length) return { ok: false, reason: 'too-large', stat };
      }
      return { ok: true, bytes: buf.subarray(0, len), stat };
    } catch {
      return { ok: false, reason: 'unreadable' };
    } finally {
      fs.closeSync(fd);
    }
  }

  mkdir(path: string, mode: number, uid: number, gid: number) {
    inParent(path, (at, base) => {
      try {
        fs.mkdirSync(at(base), { mode: 0o700 });
      } catch (e) {
        if (errno(e) !== 'EEXIST') throw e;
      }
      const fd = fs.openSync(at(base), O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
      try {
        fs.fchownSync(fd, uid, gid);
        fs.fchmodSync(fd, mode);
        // Without CAP_FSETID the kernel silently drops setgid from a directory whose group root is not in.
        const got = fs.fstatSync(fd).mode & 0o7777;
        if (got !== mode) throw new Error(`${path}: mode ${got.toString(8)} after chmod ${mode.toString(8)} (missing CAP_FSETID?)`);
      } finally {
        fs.closeSync(fd);
      }
    });
  }

  writeFileAtomic(path: string, bytes: Buffer | string, opts: { mode: number; uid: number; gid: number }) {
    writeAndRename(path, bytes, (fd) => {
      fs.fchownSync(fd, opts.uid, opts.gid);
      fs.fchmodSync(fd, opts.mode);
    });
  }

  setOwnerMode(path: string, uid: number, gid: number, mode: number) {
    const fd = inParent(path, (at, base) => fs.openSync(at(base), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY));
    try {
      const st = fs.fstatSync(fd);
      if (!st.isFile() || st.nlink > 1) throw new Error(`${path} is not a single regular file`);
      fs.fchownSync(fd, uid, gid);
      fs.fchmodSync(fd, mode);
    } finally {
      fs.closeSync(fd);
    }
  }

  symlinkReplace(target: string, path: string) {
    inParent(path, (at, base) => {
      const tmp = at(tempName(base, 'claude-share-link'));
      fs.symlinkSync(target, tmp);
      try {
        fs.renameSync(tmp, at(base));
      } catch (e) {
        fs.rmSync(tmp, { force: true });
        throw e;
      }
    });
  }

  unlink(path: string) {
    inParent(path, (at, base) => fs.unlinkSync(at(base)));
  }

  replaceFile(path: string, bytes: Buffer | string, mode: number) {
    const st = fs.lstatSync(path, { throwIfNoEntry: false });
    if (st && !st.isFile() && !st.isSymbolicLink()) throw new Error(`${path} is a directory or special file`);
    writeAndRename(path, bytes, (fd) => fs.fchmodSync(fd, st?.isFile() ? st.mode & 0o7777 : mode));
  }

  async groupAdd(name: string) {
    await this.changeAccounts(() => run('groupadd', [name]));
  }
  async userAdd(name: string) {
    await this.changeAccounts(() => run('useradd', ['--create-home', '--shell', '/bin/bash', name]));
  }
  async setPasswords(entries: PasswordEntry[]) {
    const lines = entries.filter((e) => e.password !== null).map((e) => `${e.name}:${e.password}\n`);
    // useradd leaves a new account's password locked, which is what --no-password wants.
    if (lines.length) await this.changeAccounts(() => run('chpasswd', [], lines.join('')));
  }
  async addGroupMembers(group: string, members: string[]) {
    const have = this.getGroup(group)?.members ?? [];
    const all = [...new Set([...have, ...members])];
    await this.changeAccounts(() => run('gpasswd', ['-M', all.join(','), group]));
  }

  async removeGroupMember(group: string, member: string) {
    await this.changeAccounts(() => run('gpasswd', ['-d', member, group]));
  }
  async userDel(name: string, removeHome: boolean) {
    await this.changeAccounts(() => run('userdel', removeHome ? ['--remove', name] : [name]));
  }
  rename(from: string, to: string) {
    inParent(from, (atFrom, baseFrom) => inParent(to, (atTo, baseTo) => fs.renameSync(atFrom(baseFrom), atTo(baseTo))));
  }

  asUser<T>(user: UserEntry, fn: () => T): T {
    const groups = process.getgroups!();
    process.setgroups!([user.gid]);
    process.setegid!(user.gid);
    process.seteuid!(user.uid);
    try {
      return fn();
    } finally {
      process.seteuid!(0);
      process.setegid!(0);
      process.setgroups!(groups);
    }
  }

  private lockDepth = 0;
  private releaseLock: (() => void) | null = null;
  /** Re-entrant within this process: a command holds it from reading the config to its last write. */
  async lock() {
    if (this.lockDepth === 0) {
      const { acquireLock } = await import('./lock.js');
      this.releaseLock = await acquireLock();
    }
    this.lockDepth++;
    return () => {
      if (--this.lockDepth === 0) {
        this.releaseLock?.();
        this.releaseLock = null;
      }
    };
  }

  log(message: string) {
    try {
      if (!this.logOpen) {
        posix().openlog('claude-share', { pid: true }, 'authpriv');
        this.logOpen = true;
      }
      posix().syslog('info', message);
    } catch {
      /* no syslog on this machine: the output still names every change */
    }
  }
}

/** A new file under a temp name (O_EXCL, never a planted one), set up, fsynced, then renamed over path. */
function writeAndRename(path: string, bytes: Buffer | string, setup: (fd: number) => void) {
  inParent(path, (at, base) => {
    const tmp = at(tempName(base, 'claude-share'));
    const fd = fs.openSync(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0o600);
    try {
      fs.writeFileSync(fd, bytes);
      setup(fd);
      fs.fsyncSync(fd);
    } catch (e) {
      fs.closeSync(fd);
      fs.rmSync(tmp, { force: true });
      throw e;
    }
    fs.closeSync(fd);
    fs.renameSync(tmp, at(base));
  });
}

function readLines(path: string): string[] {
  try {
    return fs.readFileSync(path, 'utf8').split('\n');
  } catch {
    return [];
  }
}

/**
 * An argv array, never a shell; secrets only ever on stdin. node:child_process rather than execa: importing execa
 * alone cost 155-220 ms per run on these machines (bench/, README Performance), for features not used here.
 */
async function run(cmd: string, args: string[], input?: string): Promise<void> {
  const { spawn } = await import('node:child_process');
  await new Promise<void>((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: [input === undefined ? 'ignore' : 'pipe', 'ignore', 'pipe'], env: { ...process.env, LC_ALL: 'C' } });
    let stderr = '';
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr = (stderr + d).slice(-4096)));
    child.on('error', (e) => reject(new Error(`${cmd} could not run: ${e.message}`)));
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`${cmd} failed (exit ${code}): ${stderr.trim().split('\n')[0]}`))));
    if (input !== undefined) child.stdin!.end(input);
  });
}
