import { rootOnly } from '../core/trust.js';
import { SHADOW_UTILS, SYSTEMD, type ToolRun } from '../core/platform.js';
import * as fs from 'node:fs';
import { randomBytes } from 'node:crypto';
import type { ChildProcess } from 'node:child_process';
import { childProcess } from './lazy.js';
import type { FileStat, FileType, GroupEntry, HttpHandlers, PasswordEntry, ReadOptions, SafeRead, Signal, System, UserEntry } from './system.js';
import { parseProcNetTcp, type TcpSocket } from '../core/usage.js';
import { safeText } from '../core/validate.js';
import { processesByUid, runAsMember, runAsMemberOnTerminal, trustedExecutable } from './member-exec.js';

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
  ctimeMs: st.ctimeMs,
});

const errno = (e: unknown) => (e as NodeJS.ErrnoException).code;
const tempName = (base: string, tag: string) => `.${base}.${tag}.${randomBytes(6).toString('hex')}`;
/** Linux's O_PATH: a handle on the directory itself, enough to look names up through /proc/self/fd. */
const O_PATH = 0o10000000;

/**
 * Threat model of every path root writes or reads below: managed members own their homes and can write the shared
 * copies, so any name below a directory they can write may be swapped for a symlink, a hard link, a FIFO or another
 * directory at any moment. Root never changes identity (distribution builds of Node refuse process.seteuid with a
 * system libuv, and it is fragile in a threaded runtime); instead, in the style of systemd's chase()/tmpfiles:
 *   - the parent directory of every name root acts on is reached by a walk from / that opens each component with
 *     O_PATH|O_NOFOLLOW|O_DIRECTORY relative to the previous one (through /proc/self/fd/N, Node's stand-in for
 *     openat), so a swapped component is refused, never followed, and the result is pinned by a descriptor;
 *   - a symlink on the way is followed only where only root could have put it (a root-owned directory that nobody
 *     else can write, e.g. /home -> /var/home), and a step from a directory of one unprivileged user into one owned by
 *     another is refused (chase's CHASE_SAFE "unsafe transition");
 *   - the last name is opened with O_NOFOLLOW; owner and mode are read with fstat and applied with fchown/fchmod on
 *     that very descriptor, never re-resolved by name; new files are created with O_EXCL under a random name.
 * Symlinks root creates in a home stay root-owned: in a non-sticky directory a link's owner grants nothing, and
 * chowning a name in a directory a member can write is itself a race (lchown of a name swapped for a hard link).
 */
const MAX_HOPS = 40;

export class UnsafePathError extends Error {
  code = 'EUNSAFE';
}

/**
 * Directories whose whole chain from / is root-owned and writable by nobody else (/, /home, /shared/claude-share,
 * the backups): no member can rename or replace them, so their pinned descriptors are kept for the rest of the run
 * instead of being walked again for every file (a sync of 1,000 members opens them thousands of times). Dropped
 * whenever this process takes or releases the lock, renames anything, or changes such a directory.
 */
const trustedDirs = new Map<string, { fd: number; st: fs.Stats }>();
export function forgetPinnedDirs(): void {
  for (const { fd } of trustedDirs.values()) fs.closeSync(fd);
  trustedDirs.clear();
}
// rootOnly: core/trust.ts, with the threat model this walk implements.

/** Opens dir through the pinned walk described above; the caller closes the descriptor. */
export function openDirPinned(dir: string): number {
  const parts = dir.split('/').filter((c) => c && c !== '.');
  // Start below the longest cached prefix of the path as given (before any symlink or '..' is met).
  let k = parts.length;
  while (k > 0 && !trustedDirs.has('/' + parts.slice(0, k).join('/'))) k--;
  let todo = parts.slice(k);
  let at = parts.slice(0, k);
  let cur = k > 0 ? trustedDirs.get('/' + at.join('/'))! : null;
  let fd = cur?.fd ?? fs.openSync('/', O_PATH | O_DIRECTORY);
  let st = cur?.st ?? fs.fstatSync(fd);
  // Whether fd is held by the cache (never closed here), and whether the chain so far is root's alone.
  let cached = !!cur;
  let chainTrusted = k > 0 || rootOnly(st);
  const release = () => {
    if (!cached) fs.closeSync(fd);
  };
  const restartAtRoot = () => {
    release();
    at = [];
    fd = fs.openSync('/', O_PATH | O_DIRECTORY);
    st = fs.fstatSync(fd);
    cached = false;
    chainTrusted = rootOnly(st);
  };
  let hops = 0;
  try {
    while (todo.length) {
      const name = todo.shift()!;
      if (name === '..') {
        // Only reached through a trusted symlink's target: resolve it on the walked (real) path, from / again.
        todo = [...at.slice(0, -1), ...todo];
        restartAtRoot();
        continue;
      }
      let next: number;
      try {
        next = fs.openSync(`/proc/self/fd/${fd}/${name}`, O_PATH | O_DIRECTORY | O_NOFOLLOW);
      } catch (e) {
        if (errno(e) !== 'ELOOP' && errno(e) !== 'ENOTDIR') throw e;
        const link = fs.lstatSync(`/proc/self/fd/${fd}/${name}`, { throwIfNoEntry: false });
        if (!link?.isSymbolicLink()) throw e;
        const where = '/' + [...at, name].join('/');
        if (!rootOnly(st) || link.uid !== 0) throw new UnsafePathError(`${where} is a symlink in a directory others can change; refusing to follow it`);
        if (++hops > MAX_HOPS) throw Object.assign(new Error(`${where}: too many symlinks`), { code: 'ELOOP' });
        const target = fs.readlinkSync(`/proc/self/fd/${fd}/${name}`);
        todo = [...target.split('/').filter((c) => c && c !== '.'), ...todo];
        if (target.startsWith('/')) restartAtRoot();
        continue;
      }
      const nst = fs.fstatSync(next);
      if (st.uid !== 0 && nst.uid !== st.uid) {
        fs.closeSync(next);
        throw new UnsafePathError(`${'/' + [...at, name].join('/')}: owned by uid ${nst.uid} inside a directory of uid ${st.uid}; refusing`);
      }
      release();
      fd = next;
      st = nst;
      at.push(name);
      chainTrusted = chainTrusted && rootOnly(nst);
      cached = chainTrusted;
      if (cached) trustedDirs.set('/' + at.join('/'), { fd, st });
    }
    // The caller closes what it gets: a cached directory is handed out as a fresh descriptor of the same one.
    return cached ? fs.openSync(`/proc/self/fd/${fd}`, O_PATH | O_DIRECTORY) : fd;
  } catch (e) {
    release();
    throw e;
  }
}

/** Runs fn with the parent of path pinned (see the threat model above); at(name) names an entry of that very directory. */
function inParent<T>(path: string, fn: (at: (name: string) => string, base: string) => T): T {
  const slash = path.lastIndexOf('/');
  const dir = path.slice(0, slash) || '/';
  const base = path.slice(slash + 1);
  const fd = openDirPinned(dir);
  try {
    return fn((name) => `/proc/self/fd/${fd}/${name}`, base);
  } finally {
    fs.closeSync(fd);
  }
}

/** The System that touches the real machine. Commands are run with argv arrays, never through a shell. */
export class RealSystem implements System {
  readonly accountTools = SHADOW_UTILS;
  readonly services = SYSTEMD;
  private logger: ChildProcess | null | undefined;
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
    const stamp = ['/etc/passwd', '/etc/group']
      .map((f) => {
        const st = fs.statSync(f, { throwIfNoEntry: false });
        return st ? `${st.ino}:${st.size}:${st.mtimeMs}` : '-';
      })
      .join('/');
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
    const f = nssLookup('passwd', name);
    return f && f.length >= 7 ? { name: f[0], uid: Number(f[2]), gid: Number(f[3]), home: f[5], shell: f[6] } : null;
  }
  getGroup(name: string): GroupEntry | null {
    const local = this.localAccounts().groups.get(name);
    if (local) return { ...local, members: [...local.members] };
    const f = nssLookup('group', name);
    return f && f.length >= 4 ? { name: f[0], gid: Number(f[2]), members: f[3] ? f[3].split(',') : [] } : null;
  }
  processesByUid() {
    return processesByUid();
  }
  trustedExecutable(nameOrPath: string) {
    return trustedExecutable(nameOrPath, [...(process.env.PATH ?? '').split(':').filter((d) => d.startsWith('/')), ...SBIN_PATH]);
  }
  runAsMember(user: UserEntry, argv: string[], o: { timeoutMs: number; maxBytes: number; env?: Record<string, string> }) {
    return runAsMember(user, argv, o);
  }
  runAsMemberOnTerminal(user: UserEntry, argv: string[], env?: Record<string, string>) {
    return runAsMemberOnTerminal(user, argv, env);
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
    try {
      const st = fs.lstatSync(path, { throwIfNoEntry: false });
      return st ? toStat(st) : null;
    } catch (e) {
      // A member put a file where a directory was (ENOTDIR) or a loop of links (ELOOP): nothing is there to see.
      if (['ENOTDIR', 'ELOOP', 'ENAMETOOLONG', 'EACCES'].includes(errno(e) ?? '')) return null;
      throw e;
    }
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

  listDirPinned(path: string, max: number): { name: string; stat: FileStat }[] | null {
    let fd: number;
    try {
      fd = openDirPinned(path);
    } catch {
      return null;
    }
    let dir: fs.Dir | null = null;
    try {
      dir = fs.opendirSync(`/proc/self/fd/${fd}`);
      const out: { name: string; stat: FileStat }[] = [];
      for (let e = dir.readSync(); e && out.length < max; e = dir.readSync()) {
        const st = fs.lstatSync(`/proc/self/fd/${fd}/${e.name}`, { throwIfNoEntry: false });
        if (st) out.push({ name: e.name, stat: toStat(st) });
      }
      return out;
    } catch {
      return null;
    } finally {
      dir?.closeSync();
      fs.closeSync(fd);
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
      if (code === 'EUNSAFE') return { ok: false, reason: 'unsafe-path' };
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
        // All that fstat said is there: what the stat returned describes (a write since changes mtime and size, which
        // every later step compares), without a second read(2) to see the end.
        if (len === stat.size) break;
      }
      return { ok: true, bytes: buf.subarray(0, len), stat };
    } catch {
      return { ok: false, reason: 'unreadable' };
    } finally {
      fs.closeSync(fd);
    }
  }

  mkdir(path: string, mode: number, uid: number, gid: number) {
    // Its owner or mode may change here: it is looked at afresh next time.
    const was = trustedDirs.get(path.replace(/\/+$/, ''));
    if (was) {
      fs.closeSync(was.fd);
      trustedDirs.delete(path.replace(/\/+$/, ''));
    }
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

  setGroupMode(path: string, gid: number, mode: number) {
    const fd = inParent(path, (at, base) => fs.openSync(at(base), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY));
    try {
      const st = fs.fstatSync(fd);
      if (!st.isFile() || st.nlink > 1) throw new Error(`${path} is not a single regular file`);
      fs.fchownSync(fd, st.uid, gid);
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

  symlinkOverExpected(target: string, path: string, expect: { ino: number; size: number; mtimeMs: number }): string | null {
    return inParent(path, (at, base) => {
      const aside = at(tempName(base, 'claude-share-aside'));
      // A client renaming its new login over the path at any instant: before this rename it is what moves aside (and is
      // put back below), after it the link below fails on it. A plain rename of a link over the path would destroy it.
      fs.renameSync(at(base), aside);
      const st = fs.lstatSync(aside);
      if (st.ino !== expect.ino || st.size !== expect.size || st.mtimeMs !== expect.mtimeMs) {
        try {
          // A directory cannot be hard-linked back; renamed back, it never replaces anything but an empty directory.
          if (st.isDirectory()) {
            fs.renameSync(aside, at(base));
            return `${path} became a directory meanwhile; left alone`;
          }
          fs.linkSync(aside, at(base));
          fs.unlinkSync(aside);
          return `${path} was written again meanwhile; left for the next pass`;
        } catch (e) {
          if (!['EEXIST', 'ENOTDIR', 'ENOTEMPTY', 'EISDIR'].includes(errno(e) ?? '')) throw e;
          return `${path} was written twice meanwhile; the earlier write is kept beside it as ${aside.slice(aside.lastIndexOf('/') + 1)}`;
        }
      }
      try {
        fs.symlinkSync(target, at(base));
      } catch (e) {
        if (errno(e) !== 'EEXIST') throw e;
        fs.unlinkSync(aside);
        return `${path} was written again meanwhile; left for the next pass`;
      }
      fs.unlinkSync(aside);
      return null;
    });
  }

  unlink(path: string) {
    inParent(path, (at, base) => fs.unlinkSync(at(base)));
  }

  removeEmptyDir(path: string) {
    try {
      inParent(path, (at, base) => fs.rmdirSync(at(base)));
    } finally {
      forgetPinnedDirs();
    }
  }

  replaceFile(path: string, bytes: Buffer | string, opts: { mode: number; uid: number; gid: number }) {
    inParent(path, (at, base) => {
      // The old file is looked at through an O_NOFOLLOW descriptor (a symlink there is replaced, never followed).
      let keep: number | undefined;
      try {
        const fd = fs.openSync(at(base), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY);
        try {
          const st = fs.fstatSync(fd);
          if (!st.isFile()) throw new Error(`${path} is a directory or special file`);
          keep = st.mode & 0o7777;
        } finally {
          fs.closeSync(fd);
        }
      } catch (e) {
        if (errno(e) !== 'ENOENT' && errno(e) !== 'ELOOP') throw e;
      }
      createAndRename(at, base, bytes, (fd) => {
        fs.fchownSync(fd, opts.uid, opts.gid);
        fs.fchmodSync(fd, keep ?? opts.mode);
      });
    });
  }

  async groupAdd(name: string) {
    await this.changeAccounts(() => run(this.accountTools.groupAdd(name)));
  }
  async userAdd(name: string, shell: 'login' | 'none' = 'login') {
    await this.changeAccounts(() => run(this.accountTools.userAdd(name, shell)));
  }
  async setPasswords(entries: PasswordEntry[]) {
    const lines = entries.filter((e) => e.password !== null).map((e) => `${e.name}:${e.password}`);
    // useradd leaves a new account's password locked, which is what --no-password wants.
    if (lines.length) await this.changeAccounts(() => run(this.accountTools.setPasswords(lines)));
  }
  async addGroupMembers(group: string, members: string[]) {
    const have = this.getGroup(group)?.members ?? [];
    await this.changeAccounts(() => run(this.accountTools.setGroupMembers(group, [...new Set([...have, ...members])])));
  }
  async removeGroupMember(group: string, member: string) {
    await this.changeAccounts(() => run(this.accountTools.removeGroupMember(group, member)));
  }
  async userDel(name: string, removeHome: boolean) {
    await this.changeAccounts(() => run(this.accountTools.userDel(name, removeHome)));
  }
  async runTool(t: ToolRun): Promise<number> {
    return run(t).then(
      () => 0,
      () => 1,
    );
  }
  selfPath(): string {
    if (fs.existsSync('/usr/local/bin/claude-share')) return '/usr/local/bin/claude-share';
    return fs.realpathSync(process.argv[1]);
  }
  onSignal(signals: Signal[], handler: (s: Signal) => void): () => void {
    const each = signals.map((s) => [s, () => handler(s)] as const);
    for (const [s, h] of each) process.on(s, h);
    return () => each.forEach(([s, h]) => process.off(s, h));
  }
  watchDir(dir: string, onChange: (name: string | null) => void, onError: () => void): { close(): void } {
    const w = fs.watch(dir, { persistent: true }, (_event, file) => onChange(file === null ? null : String(file)));
    w.on('error', () => {
      w.close();
      onError();
    });
    return w;
  }
  async serveHttp(o: { host: string; port: number; maxBodyBytes: number }, h: HttpHandlers): Promise<{ close(): void }> {
    const http = await import('node:http');
    const connectionIds = new WeakMap<object, number>();
    let lastId = 0;
    const server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      let over = false;
      const answer = () => {
        let reply: { status: number; body: string };
        try {
          reply = h.request({
            method: req.method ?? '',
            path: (req.url ?? '').split('?')[0],
            contentType: String(req.headers['content-type'] ?? ''),
            body: over ? null : Buffer.concat(chunks),
            connection: connectionIds.get(req.socket) ?? -1,
            remotePort: req.socket.remotePort ?? 0,
            localPort: req.socket.localPort ?? 0,
          });
        } catch {
          // One request that could not be handled (a full disk, say) must not take the server down for everyone.
          reply = { status: 500, body: '{"error":"not stored"}' };
        }
        res.writeHead(reply.status, { 'content-type': 'application/json', ...(over ? { connection: 'close' } : {}) });
        res.end(reply.body);
      };
      req.on('data', (c: Buffer) => {
        if (over) return;
        size += c.length;
        if (size > o.maxBodyBytes) {
          over = true;
          chunks.length = 0;
          answer();
          req.socket.destroySoon();
        } else chunks.push(c);
      });
      req.on('end', () => over || answer());
      req.on('error', () => req.socket.destroy());
    });
    server.headersTimeout = 5_000;
    server.requestTimeout = 10_000;
    server.keepAliveTimeout = 5_000;
    server.maxConnections = 512;
    server.on('connection', (sock) => {
      const c = { id: ++lastId, remotePort: sock.remotePort ?? 0, localPort: sock.localPort ?? 0 };
      connectionIds.set(sock, c.id);
      let ok = false;
      try {
        ok = h.accept(c);
      } catch {
        ok = false;
      }
      if (!ok) return void sock.destroy();
      sock.on('close', () => {
        try {
          h.closed(c);
        } catch {
          // nothing to undo: the connection is gone either way
        }
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(o.port, o.host, () => {
        server.off('error', reject);
        // Later errors (EMFILE at accept, say) cost one connection, never the server.
        server.on('error', () => undefined);
        resolve();
      });
    });
    return { close: () => void server.close() };
  }
  tcpSockets(): TcpSocket[] {
    return ['/proc/net/tcp', '/proc/net/tcp6'].flatMap((f) => {
      try {
        return parseProcNetTcp(fs.readFileSync(f, 'utf8'));
      } catch {
        return [];
      }
    });
  }
  userNameOf(uid: number): string | null {
    for (const u of this.localAccounts().users.values()) if (u.uid === uid) return u.name;
    const f = nssLookup('passwd', String(uid));
    return f && f.length >= 7 && Number(f[2]) === uid ? f[0] : null;
  }
  appendRootOnly(path: string, text: string) {
    const fd = fs.openSync(path, fs.constants.O_WRONLY | fs.constants.O_APPEND | fs.constants.O_CREAT | fs.constants.O_NOFOLLOW, 0o600);
    try {
      const st = fs.fstatSync(fd);
      if (!st.isFile() || st.uid !== 0 || st.nlink !== 1 || (st.mode & 0o077) !== 0) throw new Error(`${path} is not a root-only regular file`);
      const bytes = Buffer.from(text);
      for (let off = 0; off < bytes.length;) off += fs.writeSync(fd, bytes, off);
    } finally {
      fs.closeSync(fd);
    }
  }
  rename(from: string, to: string) {
    try {
      inParent(from, (atFrom, baseFrom) => inParent(to, (atTo, baseTo) => fs.renameSync(atFrom(baseFrom), atTo(baseTo))));
    } finally {
      forgetPinnedDirs();
    }
  }

  private lockDepth = 0;
  private releaseLock: (() => void) | null = null;
  /** Re-entrant within this process: a command holds it from reading the config to its last write. */
  async lock() {
    if (this.lockDepth === 0) {
      forgetPinnedDirs();
      const { acquireLock } = await import('./lock.js');
      this.releaseLock = await acquireLock();
    }
    this.lockDepth++;
    return () => {
      if (--this.lockDepth === 0) {
        forgetPinnedDirs();
        this.releaseLock?.();
        this.releaseLock = null;
      }
    };
  }

  /**
   * syslog (authpriv.info) through one logger(1) process started at the first message and fed on stdin, one line a
   * message: no native addon, no process per line, and the journal or rsyslog gets it alike.
   */
  log(message: string) {
    try {
      if (this.logger === undefined) {
        this.logger = null;
        if (!this.hasCommand('logger')) return;
        const child = childProcess().spawn('logger', ['--id=' + process.pid, '-t', 'claude-share', '-p', 'authpriv.info'], { stdio: ['pipe', 'ignore', 'ignore'] });
        child.on('error', () => (this.logger = null));
        child.stdin!.on('error', () => (this.logger = null));
        child.unref();
        (child.stdin as unknown as { unref?: () => void }).unref?.();
        this.logger = child;
      }
      this.logger?.stdin!.write(safeText(message) + '\n');
    } catch {
      /* no syslog on this machine: the output still names every change */
    }
  }
}

/** A new file under a temp name (O_EXCL, never a planted one), set up through its descriptor, fsynced, renamed over path. */
function writeAndRename(path: string, bytes: Buffer | string, setup: (fd: number) => void) {
  inParent(path, (at, base) => createAndRename(at, base, bytes, setup));
}

function createAndRename(at: (name: string) => string, base: string, bytes: Buffer | string, setup: (fd: number) => void) {
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
}

/**
 * Accounts that are not in /etc/passwd or /etc/group (LDAP, sssd): asked of getent(1) only when nsswitch.conf names a
 * source other than the local files, so a run over many new names starts no process per name.
 */
let nssExtra: Record<string, boolean> | undefined;
function nssLookup(db: 'passwd' | 'group', name: string): string[] | null {
  nssExtra ??= Object.fromEntries(
    ['passwd', 'group'].map((d) => {
      const line = readLines('/etc/nsswitch.conf').find((l) => l.trimStart().startsWith(d + ':'));
      const sources = (line?.replace(/#.*/, '').split(':')[1] ?? 'files').split(/\s+/).filter((w) => /^[a-z]/.test(w));
      return [d, sources.some((w) => !['files', 'compat', 'systemd'].includes(w))];
    }),
  );
  if (!nssExtra[db] || name.includes(':') || name.startsWith('-')) return null;
  try {
    const out = childProcess().execFileSync('getent', [db, name], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 10_000 });
    return out.split('\n')[0].split(':');
  } catch {
    return null;
  }
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
async function run({ argv: [cmd, ...args], stdin: input }: ToolRun): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    // Its own process group: a Ctrl-C on root's terminal reaches this process (which finishes the step under way and
    // stops), never a useradd or chpasswd half-way through /etc/passwd and /etc/shadow.
    const child = childProcess().spawn(cmd, args, { stdio: [input === undefined ? 'ignore' : 'pipe', 'ignore', 'pipe'], env: { ...process.env, LC_ALL: 'C' }, detached: true });
    let stderr = '';
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr = (stderr + d).slice(-4096)));
    child.on('error', (e) => reject(new Error(`${cmd} could not run: ${e.message}`)));
    // Killed by a signal: only possible in the instant between fork and setsid, before it touched anything.
    child.on('close', (code, signal) =>
      code === 0 ? resolve() : reject(new Error(signal ? `${cmd} was stopped by ${signal} as it started; nothing was changed by it` : `${cmd} failed (exit ${code}): ${stderr.trim().split('\n')[0]}`)),
    );
    if (input !== undefined) child.stdin!.end(input);
  });
}
