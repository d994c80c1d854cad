import { SHADOW_UTILS, SYSTEMD, type ToolRun } from '../../src/core/platform.js';
import type { FileStat, FileType, GroupEntry, HttpHandlers, MemberProcess, MemberRun, PasswordEntry, ReadOptions, SafeRead, Signal, System, UserEntry } from '../../src/system/system.js';
import type { TcpSocket } from '../../src/core/usage.js';

interface Node {
  type: FileType;
  uid: number;
  gid: number;
  mode: number;
  content: Buffer;
  target: string;
  ino: number;
  mtimeMs: number;
  nlink: number;
  /** The in-memory ctime: bumped by any change to the node, or to a directory's entries (FileMap). */
  changes: number;
}

let changeClock = 1;
/**
 * A node whose every property change moves its ctime, as the kernel's does: tests change content, mode and owner
 * directly, so nothing cached by ctime (probe-memo.ts) can go stale here either.
 */
function tracked(n: Node): Node {
  return new Proxy(n, {
    set(target, prop, value) {
      (target as unknown as Record<string | symbol, unknown>)[prop] = value;
      if (prop !== 'changes') target.changes = changeClock++;
      return true;
    },
  });
}

/** The file tree: adding or removing an entry moves its directory's ctime, as on a real file system. */
class FileMap extends Map<string, Node> {
  override set(path: string, n: Node) {
    this.touchParent(path);
    return super.set(path, n);
  }
  override delete(path: string) {
    if (this.has(path)) this.touchParent(path);
    return super.delete(path);
  }
  private touchParent(path: string) {
    const dir = super.get(path.slice(0, path.lastIndexOf('/')) || '/');
    if (dir) dir.changes = changeClock++;
  }
}

/** An in-memory Linux: users, groups and a file tree with owners, modes, symlinks (followed in the middle of a path, as the kernel does). */
export class MemorySystem implements System {
  readonly accountTools = SHADOW_UTILS;
  readonly services = SYSTEMD;
  /** Platform tools run (systemctl, …), in order; `toolExit` decides each exit code. */
  toolRuns: ToolRun[] = [];
  toolExit: (t: ToolRun) => number = () => 0;
  /** Who listens to which signal now (onSignal); signal() sends one. */
  signalHandlers = new Set<{ signals: Signal[]; handler: (s: Signal) => void }>();
  /** Watched directories (watchDir): fire(dir, name) is an inotify event. */
  watched = new Map<string, { onChange: (name: string | null) => void; onError: () => void }>();
  /** The HTTP server serveHttp started (the usage receiver): its handlers, as the kernel would call them. */
  http: { host: string; port: number; maxBodyBytes: number; h: HttpHandlers; closed: boolean } | null = null;
  /** What tcpSockets() returns (the peers of the receiver's connections). */
  sockets: TcpSocket[] = [];
  files = new FileMap();
  users = new Map<string, UserEntry>();
  groups = new Map<string, GroupEntry>();
  passwords = new Map<string, string | null>();
  logs: string[] = [];
  calls: string[] = [];
  running = new Set<number>();
  /** Processes per uid (doctor). */
  procs = new Map<number, MemberProcess[]>();
  /** Executables only root could have put there (trustedExecutable), by path. */
  trusted = new Set<string>();
  /** Programs run as members: every call is recorded; `answer` decides what each returns. */
  memberRuns: { user: string; argv: string[]; terminal: boolean; env?: Record<string, string> }[] = [];
  answer: (user: UserEntry, argv: string[]) => MemberRun = () => ({ code: 0, stdout: '', stderr: '', timedOut: false });
  onTerminal: (user: UserEntry, argv: string[]) => number = () => 0;
  clock = Date.parse('2026-11-23T12:00:00Z');
  private ino = 100;
  private identity: { uid: number; gid: number } = { uid: 0, gid: 0 };
  private nextUid = 1000;

  constructor() {
    this.addDir('/', 0, 0, 0o755);
    for (const d of ['/etc', '/home', '/root', '/run', '/run/lock', '/var', '/var/lib', '/var/lib/prom']) this.addDir(d, 0, 0, 0o755);
    this.chmod('/root', 0o700);
    this.users.set('root', { name: 'root', uid: 0, gid: 0, home: '/root', shell: '/bin/bash' });
    this.groups.set('root', { name: 'root', gid: 0, members: [] });
  }

  // ---- fixture helpers ----
  addDir(path: string, uid: number, gid: number, mode: number) {
    this.files.set(path, this.node('dir', uid, gid, mode));
  }
  addFile(path: string, content: string | Buffer, uid = 0, gid = 0, mode = 0o644) {
    const n = this.node('file', uid, gid, mode);
    n.content = Buffer.from(content);
    this.files.set(path, n);
    return n;
  }
  addLink(path: string, target: string, uid = 0, gid = 0) {
    const n = this.node('symlink', uid, gid, 0o777);
    n.target = target;
    this.files.set(path, n);
  }
  addUser(name: string, opts: { uid?: number; home?: string } = {}) {
    const uid = opts.uid ?? this.nextUid++;
    const home = opts.home ?? `/home/${name}`;
    this.users.set(name, { name, uid, gid: uid, home, shell: '/bin/bash' });
    this.groups.set(name, { name, gid: uid, members: [] });
    if (!this.files.has(home)) this.addDir(home, uid, uid, 0o750);
    return this.users.get(name)!;
  }
  content(path: string) {
    return this.files.get(path)?.content.toString('utf8');
  }
  chmod(path: string, mode: number) {
    this.files.get(path)!.mode = mode;
  }
  snapshot() {
    return JSON.stringify(
      [...this.files.entries()]
        .map(([p, n]) => [p, n.type, n.uid, n.gid, n.mode, n.target, n.content.toString('base64')])
        .concat([...this.users.keys()].map((u) => ['user', u]))
        .concat([...this.groups.values()].map((g) => ['group', g.name, g.members.join(',')])),
    );
  }

  private node(type: FileType, uid: number, gid: number, mode: number): Node {
    return tracked({ type, uid, gid, mode, content: Buffer.alloc(0), target: '', ino: this.ino++, mtimeMs: this.clock, nlink: 1, changes: changeClock++ });
  }

  /** Resolves every component but the last through symlinks, as path lookup does. */
  private resolveParent(path: string): string {
    const parts = path.split('/').filter(Boolean);
    let cur = '';
    for (let i = 0; i < parts.length - 1; i++) {
      cur = `${cur}/${parts[i]}`;
      for (let hops = 0; this.files.get(cur)?.type === 'symlink'; hops++) {
        if (hops > 8) throw err('ELOOP');
        const t = this.files.get(cur)!.target;
        cur = t.startsWith('/') ? t.replace(/\/+$/, '') : `${cur.replace(/\/[^/]*$/, '')}/${t}`;
      }
      const n = this.files.get(cur);
      if (!n) throw err('ENOENT');
      if (n.type !== 'dir') throw err('ENOTDIR');
    }
    return `${cur}/${parts[parts.length - 1] ?? ''}`.replace(/^\/\/$/, '/');
  }
  private real(path: string): string {
    return path === '/' ? '/' : this.resolveParent(path);
  }
  /**
   * The real system's pinned walk (real-system.ts openDirPinned): a symlink on the way is followed only in a
   * root-owned directory nobody else can write, and a step from one unprivileged owner to another is refused.
   */
  private pinned(path: string): string {
    const parts = path.split('/').filter(Boolean);
    const last = parts.pop() ?? '';
    let cur = '';
    let hops = 0;
    while (parts.length) {
      const name = parts.shift()!;
      const parent = this.files.get(cur || '/')!;
      const next = `${cur}/${name}`;
      const n = this.files.get(next);
      if (!n) throw err('ENOENT');
      if (n.type === 'symlink') {
        if (parent.uid !== 0 || (parent.mode & 0o022) !== 0 || n.uid !== 0 || ++hops > 40) throw err('EUNSAFE');
        const t = n.target.split('/').filter(Boolean);
        if (n.target.startsWith('/')) cur = '';
        parts.unshift(...t);
        continue;
      }
      if (n.type !== 'dir') throw err('ENOTDIR');
      if (parent.uid !== 0 && n.uid !== parent.uid) throw err('EUNSAFE');
      cur = next;
    }
    return `${cur}/${last}`;
  }
  private canWriteDir(dirPath: string) {
    const { uid, gid } = this.identity;
    if (uid === 0) return true;
    const d = this.files.get(dirPath);
    if (!d) throw err('ENOENT');
    if (d.uid === uid) return (d.mode & 0o200) !== 0;
    if (d.gid === gid) return (d.mode & 0o020) !== 0;
    return (d.mode & 0o002) !== 0;
  }
  private checkWrite(path: string) {
    const dir = path.replace(/\/[^/]+$/, '') || '/';
    if (!this.canWriteDir(dir)) throw err('EACCES');
  }

  // ---- System ----
  euid() {
    return this.identity.uid;
  }
  platform() {
    return 'linux';
  }
  now() {
    return new Date(this.clock);
  }
  async runTool(t: ToolRun) {
    this.toolRuns.push(t);
    return this.toolExit(t);
  }
  selfPath() {
    return '/usr/local/bin/claude-share';
  }
  onSignal(signals: Signal[], handler: (s: Signal) => void) {
    const h = { signals, handler };
    this.signalHandlers.add(h);
    return () => void this.signalHandlers.delete(h);
  }
  signal(s: Signal) {
    for (const h of [...this.signalHandlers]) if (h.signals.includes(s)) h.handler(s);
  }
  watchDir(dir: string, onChange: (name: string | null) => void, onError: () => void) {
    const w = { onChange, onError };
    this.watched.set(dir, w);
    return { close: () => void (this.watched.get(dir) === w && this.watched.delete(dir)) };
  }
  hasCommand() {
    return true;
  }
  getUser(name: string) {
    return this.users.get(name) ?? null;
  }
  getGroup(name: string) {
    const g = this.groups.get(name);
    return g ? { ...g, members: [...g.members] } : null;
  }
  async serveHttp(o: { host: string; port: number; maxBodyBytes: number }, h: HttpHandlers) {
    const server = { ...o, h, closed: false };
    this.http = server;
    return { close: () => void (server.closed = true) };
  }
  tcpSockets() {
    return this.sockets.map((x) => ({ ...x }));
  }
  userNameOf(uid: number) {
    for (const u of this.users.values()) if (u.uid === uid) return u.name;
    return null;
  }
  appendRootOnly(path: string, text: string) {
    const p = this.pinned(path);
    const n = this.files.get(p);
    if (n && (n.type !== 'file' || n.uid !== 0 || (n.mode & 0o077) !== 0)) throw new Error(`${path} is not a root-only regular file`);
    if (!n) this.checkWrite(p);
    const file = n ?? this.node('file', 0, 0, 0o600);
    file.content = Buffer.concat([file.content ?? Buffer.alloc(0), Buffer.from(text)]);
    this.files.set(p, file);
    this.calls.push(`append ${p}`);
  }
  processUids() {
    return new Set(this.running);
  }
  processesByUid() {
    return new Map([...this.procs].map(([uid, list]) => [uid, list.map((p) => ({ ...p, groups: [...p.groups] }))]));
  }
  trustedExecutable(nameOrPath: string) {
    if (nameOrPath.startsWith('/')) return this.trusted.has(nameOrPath) ? nameOrPath : null;
    return [...this.trusted].find((p) => p.endsWith(`/${nameOrPath}`)) ?? null;
  }
  async runAsMember(user: UserEntry, argv: string[], o: { env?: Record<string, string> }) {
    this.memberRuns.push({ user: user.name, argv: [...argv], terminal: false, env: o.env });
    return this.answer(user, argv);
  }
  async runAsMemberOnTerminal(user: UserEntry, argv: string[], env?: Record<string, string>) {
    this.memberRuns.push({ user: user.name, argv: [...argv], terminal: true, env });
    return this.onTerminal(user, argv);
  }
  lstat(path: string): FileStat | null {
    let p: string;
    try {
      p = this.real(path);
    } catch {
      return null;
    }
    const n = this.files.get(p);
    return n
      ? { type: n.type, uid: n.uid, gid: n.gid, mode: n.mode, nlink: n.nlink, size: n.type === 'symlink' ? n.target.length : n.content.length, ino: n.ino, mtimeMs: n.mtimeMs, ctimeMs: n.changes }
      : null;
  }
  readlink(path: string) {
    const n = this.files.get(this.real(path));
    return n?.type === 'symlink' ? n.target : null;
  }
  readdir(path: string) {
    const p = this.real(path).replace(/\/$/, '');
    return [...this.files.keys()].filter((k) => k !== p && k.startsWith(p + '/') && !k.slice(p.length + 1).includes('/')).map((k) => k.slice(p.length + 1));
  }
  listDirPinned(path: string, max: number) {
    let p: string;
    try {
      p = this.pinned(path);
    } catch {
      return null;
    }
    const n = this.files.get(p);
    if (!n || n.type !== 'dir') return null;
    return this.readdir(p)
      .slice(0, max)
      .map((name) => ({ name, stat: this.lstat(`${p}/${name}`)! }));
  }
  readFileNoFollow(path: string, opts: ReadOptions): SafeRead {
    this.calls.push(`read ${path}`);
    let p: string;
    try {
      p = this.pinned(path);
    } catch (e) {
      return { ok: false, reason: (e as { code?: string }).code === 'EUNSAFE' ? 'unsafe-path' : 'missing' };
    }
    const n = this.files.get(p);
    if (!n) return { ok: false, reason: 'missing' };
    if (n.type === 'symlink') return { ok: false, reason: 'symlink' };
    const stat = this.lstat(path)!;
    if (n.type !== 'file') return { ok: false, reason: 'not-regular', stat };
    if (opts.owner !== undefined && n.uid !== opts.owner) return { ok: false, reason: 'wrong-owner', stat };
    if (n.nlink > 1) return { ok: false, reason: 'hard-linked', stat };
    if (n.content.length > opts.maxBytes) return { ok: false, reason: 'too-large', stat };
    const { uid, gid } = this.identity;
    const readable = uid === 0 || (n.uid === uid ? n.mode & 0o400 : n.gid === gid ? n.mode & 0o040 : n.mode & 0o004);
    if (!readable) return { ok: false, reason: 'unreadable' };
    return { ok: true, bytes: Buffer.from(n.content), stat };
  }
  mkdir(path: string, mode: number, uid: number, gid: number) {
    const p = this.pinned(path);
    const n = this.files.get(p);
    if (n && n.type !== 'dir') throw err(n.type === 'symlink' ? 'ELOOP' : 'EEXIST');
    if (!n) {
      this.checkWrite(p);
      this.files.set(p, this.node('dir', this.identity.uid, this.identity.gid, mode));
    }
    const d = this.files.get(p)!;
    if (this.identity.uid !== 0 && (uid !== this.identity.uid || d.uid !== this.identity.uid)) throw err('EPERM');
    Object.assign(d, { uid, gid, mode });
  }
  /** Paths whose writes fail (a full disk), to test what happens after a failed step. */
  failWrites = new Set<string>();
  writeFileAtomic(path: string, bytes: Buffer | string, opts: { mode: number; uid: number; gid: number }) {
    const p = this.pinned(path);
    if (this.failWrites.has(p)) throw err('ENOSPC');
    this.checkWrite(p);
    const n = this.node('file', opts.uid, opts.gid, opts.mode);
    n.content = Buffer.from(bytes);
    this.files.set(p, n);
    this.calls.push(`write ${p}`);
  }
  setGroupMode(path: string, gid: number, mode: number) {
    const n = this.files.get(this.pinned(path));
    if (!n) throw err('ENOENT');
    if (n.type === 'symlink') throw err('ELOOP');
    if (n.type !== 'file' || n.nlink > 1) throw new Error('not a single regular file');
    Object.assign(n, { gid, mode });
  }
  symlinkReplace(target: string, path: string) {
    const p = this.pinned(path);
    this.checkWrite(p);
    if (this.files.get(p)?.type === 'dir') throw err('EISDIR');
    const n = this.node('symlink', this.identity.uid, this.identity.gid, 0o777);
    n.target = target;
    this.files.set(p, n);
    this.calls.push(`link ${p}`);
  }
  symlinkOverExpected(target: string, path: string, expect: { ino: number; size: number; mtimeMs: number }) {
    const st = this.lstat(path);
    if (!st || st.ino !== expect.ino || st.size !== expect.size || st.mtimeMs !== expect.mtimeMs) return `${path} was written again meanwhile; left for the next pass`;
    this.symlinkReplace(target, path);
    return null;
  }
  unlink(path: string) {
    const p = this.pinned(path);
    this.checkWrite(p);
    if (this.files.get(p)?.type === 'dir') throw err('EISDIR');
    this.files.delete(p);
  }
  removeEmptyDir(path: string) {
    const p = this.pinned(path);
    this.checkWrite(p);
    if (this.files.get(p)?.type !== 'dir') throw err('ENOTDIR');
    if (this.readdir(p).length) throw err('ENOTEMPTY');
    this.files.delete(p);
  }
  replaceFile(path: string, bytes: Buffer | string, opts: { mode: number; uid: number; gid: number }) {
    const p = this.pinned(path);
    const old = this.files.get(p);
    if (old && old.type !== 'file' && old.type !== 'symlink') throw err('EISDIR');
    this.checkWrite(p);
    const n = this.node('file', opts.uid, opts.gid, old?.type === 'file' ? old.mode : opts.mode);
    n.content = Buffer.from(bytes);
    this.files.set(p, n);
  }
  async groupAdd(name: string) {
    this.calls.push(`groupadd ${name}`);
    this.groups.set(name, { name, gid: 2000 + this.groups.size, members: [] });
  }
  async userAdd(name: string, shell: 'login' | 'none' = 'login') {
    this.calls.push(`useradd ${name}`);
    this.addUser(name);
    if (shell === 'none') this.users.get(name)!.shell = '/usr/sbin/nologin';
    this.passwords.set(name, null);
  }
  async setPasswords(entries: PasswordEntry[]) {
    this.calls.push(`chpasswd ${entries.map((e) => e.name).join(',')}`);
    for (const e of entries) this.passwords.set(e.name, e.password);
  }
  async addGroupMembers(group: string, members: string[]) {
    this.calls.push(`gpasswd ${group} ${members.join(',')}`);
    const g = this.groups.get(group)!;
    g.members = [...new Set([...g.members, ...members])];
  }
  async removeGroupMember(group: string, member: string) {
    this.calls.push(`gpasswd -d ${member} ${group}`);
    const g = this.groups.get(group)!;
    g.members = g.members.filter((m) => m !== member);
  }
  async userDel(name: string, removeHome: boolean) {
    this.calls.push(`userdel ${name}${removeHome ? ' -r' : ''}`);
    const u = this.users.get(name)!;
    this.users.delete(name);
    if (removeHome) for (const k of [...this.files.keys()]) if (k === u.home || k.startsWith(u.home + '/')) this.files.delete(k);
  }
  rename(from: string, to: string) {
    for (const k of [...this.files.keys()].sort()) {
      if (k === from || k.startsWith(from + '/')) {
        this.files.set(to + k.slice(from.length), this.files.get(k)!);
        this.files.delete(k);
      }
    }
  }

  log(message: string) {
    this.logs.push(message);
  }
  locked = 0;
  async lock() {
    this.locked++;
    return () => void this.locked--;
  }
}

function err(code: string) {
  return Object.assign(new Error(code), { code });
}
