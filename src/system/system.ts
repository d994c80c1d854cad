/**
 * Everything that touches the OS goes through this interface, so the core runs against an in-memory system in tests.
 * Every method that reads or writes a file reaches its parent through a pinned walk that refuses symlinks a member
 * could have planted (see real-system.ts): root never follows a path a managed user controls, and never changes identity.
 */
import type { AccountTools, ServiceManager, ToolRun } from '../core/platform.js';
import type { TcpSocket } from '../core/usage.js';

export type Signal = 'SIGINT' | 'SIGTERM' | 'SIGHUP';

export type FileType = 'file' | 'dir' | 'symlink' | 'fifo' | 'socket' | 'char' | 'block' | 'other';

export interface FileStat {
  type: FileType;
  uid: number;
  gid: number;
  /** Permission bits including setuid/setgid/sticky (mode & 0o7777). */
  mode: number;
  nlink: number;
  size: number;
  ino: number;
  mtimeMs: number;
  /** Changed by the kernel at every write, chmod, chown or utimes; nobody can set it back (probe-memo.ts). */
  ctimeMs: number;
}

export interface HttpRequest {
  method: string;
  path: string;
  contentType: string;
  /** null: longer than maxBodyBytes (not read to the end). */
  body: Buffer | null;
  /** The connection it came on (HttpConnection.id). */
  connection: number;
  remotePort: number;
  localPort: number;
}
/** One TCP connection: an id of its own (a port is reused as soon as it is closed), and its two ports. */
export interface HttpConnection {
  id: number;
  remotePort: number;
  localPort: number;
}
export interface HttpHandlers {
  accept(c: HttpConnection): boolean;
  /** Its answer; a throw is answered 500 (logged by the caller's own code, never a crash of the server). */
  request(r: HttpRequest): { status: number; body: string };
  /** A connection accepted earlier is gone. */
  closed(c: HttpConnection): void;
}

export interface UserEntry {
  name: string;
  uid: number;
  gid: number;
  home: string;
  shell: string;
}

export interface GroupEntry {
  name: string;
  gid: number;
  members: string[];
}

export type SafeReadFailure = 'missing' | 'symlink' | 'not-regular' | 'wrong-owner' | 'hard-linked' | 'too-large' | 'unreadable' | 'unsafe-path';
export type SafeRead = { ok: true; bytes: Buffer; stat: FileStat } | { ok: false; reason: SafeReadFailure; stat?: FileStat };

export interface ReadOptions {
  /** Refuse unless the file belongs to this uid. */
  owner?: number;
  maxBytes: number;
}

/** One process of a member, as /proc/PID/status shows it (doctor). */
export interface MemberProcess {
  pid: number;
  /** Supplementary groups (the Groups: line). */
  groups: number[];
  /** null on kernels without the Umask: line (before 4.7). */
  umask: number | null;
}

/** What a program run as a member left: its exit, and the first bytes of its output (member-written, untrusted). */
export interface MemberRun {
  /** null when it was killed by a signal or could not start. */
  code: number | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  /** It could not start at all (setpriv or the program missing). */
  error?: string;
}

export interface PasswordEntry {
  name: string;
  /** null locks the password (SSH-key-only accounts). */
  password: string | null;
}

export interface System {
  /** How this platform changes accounts, and which service manager runs the watcher (src/core/platform.ts). */
  readonly accountTools: AccountTools;
  readonly services: ServiceManager;
  /** Runs a platform tool as root (argv only; secrets on stdin), output discarded; its exit code, never a throw. */
  runTool(t: ToolRun): Promise<number>;
  /** The command to put in unit and cron files: the installed binary, else the one running now. */
  selfPath(): string;
  /**
   * Calls handler at each of these signals until the returned function is called (a mutating run at SIGINT/SIGTERM
   * finishes the step under way, starts no other, and says what is left; the watcher reloads at SIGHUP).
   */
  onSignal(signals: Signal[], handler: (s: Signal) => void): () => void;
  /** Watches one directory (inotify): onChange gets the name that changed (null: not known), onError when it broke. */
  watchDir(dir: string, onChange: (name: string | null) => void, onError: () => void): { close(): void };
  /**
   * Serves HTTP on host:port until closed (the usage receiver). accept() decides at each new connection (by its ports:
   * the peer's uid is the kernel's, tcpSockets()); request() answers each request. A body over maxBodyBytes is not read
   * further: request() gets null, and the connection is closed after the answer. Short timeouts: a client that sends
   * slowly holds nothing for long.
   */
  serveHttp(o: { host: string; port: number; maxBodyBytes: number }, h: HttpHandlers): Promise<{ close(): void }>;
  /** The TCP sockets of this network namespace (/proc/net/tcp and tcp6), with the uid that owns each. */
  tcpSockets(): TcpSocket[];
  /** The name of the account with this uid, null when there is none. */
  userNameOf(uid: number): string | null;
  /** Appends to a root-only file: created root 0600 if missing, never through a symlink, never someone else's file. */
  appendRootOnly(path: string, text: string): void;

  euid(): number;
  platform(): string;
  now(): Date;
  hasCommand(name: string): boolean;

  getUser(name: string): UserEntry | null;
  getGroup(name: string): GroupEntry | null;
  /** The uids that own a running process (users who are logged in), from one pass over /proc. */
  processUids(): Set<number>;

  /** Every process by real uid, from one pass over /proc (doctor: the groups and umask of members' sessions). */
  processesByUid(): Map<number, MemberProcess[]>;
  /**
   * An executable that only root could have put there: found on root's PATH (or given as an absolute path), the file
   * and every directory to it, symlinks resolved, root-owned and writable by nobody else. null when there is none.
   */
  trustedExecutable(nameOrPath: string): string | null;
  /**
   * Runs argv as the member (their uid, gid and groups, no new privileges, a clean environment with their HOME, in a
   * session of its own with no terminal), stopped after timeoutMs; at most maxBytes of each output are kept. Root
   * never changes its own identity: setpriv(1) does, in the child.
   */
  runAsMember(user: UserEntry, argv: string[], o: { timeoutMs: number; maxBytes: number; env?: Record<string, string> }): Promise<MemberRun>;
  /**
   * Runs argv as the member on a pseudo-terminal of its own (runuser --pty), for a sign-in that asks for a code: the
   * member's program never gets root's terminal (no TIOCSTI into root's shell). Resolves to its exit code.
   */
  runAsMemberOnTerminal(user: UserEntry, argv: string[], env?: Record<string, string>): Promise<number>;

  lstat(path: string): FileStat | null;
  readlink(path: string): string | null;
  readdir(path: string): string[];
  /**
   * The first `max` entries of a directory a member may control, with what lstat says of each: reached through the
   * pinned walk (never through a link a member could swap in) and listed through that very descriptor. null when it
   * is not a directory or not safely reachable.
   */
  listDirPinned(path: string, max: number): { name: string; stat: FileStat }[] | null;
  /**
   * Reads a regular file through one descriptor opened with O_NOFOLLOW|O_NONBLOCK, then checks it with fstat:
   * a planted symlink, FIFO, device, hard link or giant file is refused before a byte is read.
   */
  readFileNoFollow(path: string, opts: ReadOptions): SafeRead;

  /** mkdir (if missing) then chown/chmod; refuses when the path is a symlink. */
  mkdir(path: string, mode: number, uid: number, gid: number): void;
  /** Temp file in the same directory, fsync, rename over path, then owner and mode. */
  writeFileAtomic(path: string, bytes: Buffer | string, opts: { mode: number; uid: number; gid: number }): void;
  /**
   * Sets group and mode through a descriptor opened without following links. The owner is kept as fstat of that
   * descriptor shows it: a member swapping names meanwhile (renameat2 RENAME_EXCHANGE) cannot make root give one
   * member's file to another.
   */
  setGroupMode(path: string, gid: number, mode: number): void;
  /** Atomically replaces path with a symlink to target (symlink at a temp name, rename over). */
  symlinkReplace(target: string, path: string): void;
  /**
   * Replaces the member's file at path, which must still be the one looked at (ino, size, mtime), by a symlink to
   * target, never losing a write that lands meanwhile: the file is first renamed aside (whatever is there at that
   * instant moves, nothing is overwritten), checked, and only then is the link created, without replacing anything.
   * A newer file found aside is put back (link, never over a still newer one). Returns null when linked, else why not.
   */
  symlinkOverExpected(target: string, path: string, expect: { ino: number; size: number; mtimeMs: number }): string | null;
  unlink(path: string): void;
  /** rmdir(2): an empty directory only (backup retention). */
  removeEmptyDir(path: string): void;
  /**
   * Atomically replaces path (a regular file, a symlink, or nothing) with a regular file holding bytes, owned by
   * uid:gid, through a temp file and rename: a final symlink is replaced, never followed. An existing regular file
   * keeps its mode.
   */
  replaceFile(path: string, bytes: Buffer | string, opts: { mode: number; uid: number; gid: number }): void;

  groupAdd(name: string): Promise<void>;
  userAdd(name: string, shell?: 'login' | 'none'): Promise<void>;
  /** All passwords in one chpasswd call fed on stdin; null entries are locked. */
  setPasswords(entries: PasswordEntry[]): Promise<void>;
  /** Adds members to a group in one call. */
  addGroupMembers(group: string, members: string[]): Promise<void>;
  removeGroupMember(group: string, member: string): Promise<void>;
  userDel(name: string, removeHome: boolean): Promise<void>;
  /** rename(2) within root-owned places (the --purge archive). */
  rename(from: string, to: string): void;

  log(message: string): void;
  /** Exclusive lock for mutating commands; resolves to its release function. */
  lock(): Promise<() => void>;
}
