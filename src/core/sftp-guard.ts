/**
 * A firewall for SFTP v3 (draft-ietf-secsh-filexfer-02, OpenSSH dialect) between a member's local
 * `sftp-server -d ROOT` and `sshfs -o passive` on the shared server. The server side is untrusted: anything running
 * as the member there can drive sshfs, so every request must stay inside ROOT, the published project directory.
 *
 * How it confines:
 * - Every path is normalised lexically to an absolute path under ROOT and checked with realpath(3). The request is then
 *   forwarded carrying that normalised absolute path, so sftp-server acts on exactly the string that was checked: no
 *   `..` after a symlink (which the kernel and a lexical check disagree on), no relative path, no `~` expansion.
 * - OPEN with CREAT of a path that does not exist is forwarded with EXCL added: realpath cannot tell a missing name
 *   from a dangling symlink, and O_EXCL never follows one (it fails with EEXIST instead of creating outside ROOT).
 * - A path is only checked while no namespace-changing request is in flight at sftp-server (rule 7), so the answer
 *   cannot change between the check and the operation. sftp-server handles requests one at a time, in order.
 * - Handles opened on a read-only path are remembered, so FSETSTAT (chmod/chown/utimes through the handle) cannot
 *   change them either.
 * - Git must not turn a write into a command run on the laptop (rule 6, always on): whatever the server writes into the
 *   project is later read by the laptop's own git (a git-aware prompt runs `git status` on cd), and a repository's
 *   configuration names programs (core.fsmonitor, core.hooksPath, hooks…). So, at any depth, an entry named `.git`
 *   is read-only itself (no `git init` from the server, no gitdir-pointer file, no moving a repository's `.git`), and
 *   inside any `.git` so is every component named `config`, `config.worktree`, `hooks`, `commondir` or `gitdir`, with
 *   all under it; the rest of `.git` (objects, refs, index, HEAD, logs…) stays writable so git on the server works.
 *   Because those names are protected wherever they sit under a `.git`, moving things within `.git` keeps them
 *   protected; what could carry them out of protection (or a prepared copy in) is a rename or hardlink across the
 *   edge of a `.git` directory, and a symlink inside one (git would read `config` through it), so both are refused.
 *   Names are compared folded like read-only entries (case, Unicode normalisation, HFS+'s ignored code points).
 * - Modes: setuid, setgid and sticky bits are cleared from every ATTRS forwarded (OPEN, MKDIR, SETSTAT, FSETSTAT,
 *   lsetstat); setting owner or group is refused, and so is changing the root's own attributes (SETSTAT of the root,
 *   or FSETSTAT through a handle OPEN gave on it).
 * - Replies are judged too (rule 8), so a symlink the laptop's owner made that leads out of ROOT is useless on the
 *   server whatever its sshfs does: `-o contain_symlinks` would hide such links, but only some builds have it (Debian
 *   backports it into 3.7.3). A READLINK whose answer (a NAME with one name) is absolute, has `..` after a name (as for
 *   SYMLINK, rule 4), or resolves lexically out of ROOT from the link's directory (both as named and where it really
 *   is) is answered with a refusal instead. So is a REALPATH or expand-path answer that is not ROOT or under it:
 *   sftp-server's realpath follows links (sshfs's mount-time REALPATH of its base path resolves to ROOT and passes),
 *   and a link changed after the check would otherwise reveal a path of the laptop. The replacement takes the reply's
 *   place, in order, and completes the request like the reply would have.
 *
 * Pure: no builtin or package; the filesystem is reached only through the injected GuardFs.
 *
 * OpenSSH quirk checked against the sources (openssh-portable sftp-server.c process_symlink, and libfuse/sshfs
 * sshfs.c sshfs_symlink): SYMLINK's first string is the link's target and the second the link's own path.
 * sftp-server reads oldpath then newpath and calls symlink(oldpath, newpath); sshfs, noting the server "doesn't
 * follow standard", sends the target first (unprefixed) and the link path second (prefixed by its base path).
 * Also checked there: an unknown request type gets no reply at all from sftp-server (so we must answer it), every
 * known request gets exactly one reply, in order, and a handle is the 4-byte index of a table whose slots are reused.
 */

/** The largest packet accepted either way: sftp-server's own limit (256 KiB) plus headroom for our rewritten paths. */
export const MAX_PACKET_LENGTH = 256 * 1024 + 1024;

export const SSH_FX_PERMISSION_DENIED = 3;
export const SSH_FX_OP_UNSUPPORTED = 8;

export const REFUSE_OUTSIDE = 'claude-share: outside the published directory';
export const REFUSE_READ_ONLY = 'claude-share: read-only';
export const REFUSE_OWNER = 'claude-share: owner and group cannot be changed';
export const REFUSE_UNSUPPORTED = 'claude-share: not supported';
export const REFUSE_LINK_OUT = 'claude-share: link leads outside the published directory';

const FXP = {
  INIT: 1,
  VERSION: 2,
  OPEN: 3,
  CLOSE: 4,
  READ: 5,
  WRITE: 6,
  LSTAT: 7,
  FSTAT: 8,
  SETSTAT: 9,
  FSETSTAT: 10,
  OPENDIR: 11,
  READDIR: 12,
  REMOVE: 13,
  MKDIR: 14,
  RMDIR: 15,
  REALPATH: 16,
  STAT: 17,
  RENAME: 18,
  READLINK: 19,
  SYMLINK: 20,
  STATUS: 101,
  HANDLE: 102,
  NAME: 104,
  EXTENDED: 200,
} as const;

const PFLAG_CREAT = 0x08;
const PFLAG_EXCL = 0x20;
/** WRITE | APPEND | CREAT | TRUNC: an OPEN with any of these may change the file. */
const PFLAGS_WRITING = 0x02 | 0x04 | 0x08 | 0x10;

const ATTR_SIZE = 0x1;
const ATTR_UIDGID = 0x2;
const ATTR_PERMISSIONS = 0x4;
const ATTR_ACMODTIME = 0x8;
const ATTR_EXTENDED = 0x80000000;
/** setuid, setgid, sticky: cleared from every mode forwarded */
const MODE_SPECIAL = 0o7000;

/** Rule 6: inside a `.git`, these names (and all under them) are what git reads as configuration or runs; folded. */
const GIT_DIR = '.git';
const GIT_SENSITIVE = new Set(['config', 'config.worktree', 'hooks', 'commondir', 'gitdir']);

export interface GuardFs {
  /**
   * realpath(3) of an absolute path, or null when it does not exist (ENOENT/ENOTDIR); may throw for other errors
   * (treat a throw as refusal). Must be the kernel's resolution (Node: fs.realpathSync.native), not a lexical one.
   */
  realpath(path: string): string | null;
}

export interface GuardOptions {
  /** absolute, already a realpath */
  root: string;
  fs: GuardFs;
  /**
   * paths relative to root that are read-only through the mount (e.g. ['.claude-share']): any write, create, remove,
   * rename, setstat, symlink or hardlink at or under them is refused. Git's own files are read-only in addition,
   * always, whatever this says: any entry named `.git`, and `config`, `config.worktree`, `hooks`, `commondir`,
   * `gitdir` (with all under them) inside any `.git`, at any depth (rule 6, see the top of the file).
   */
  readOnly?: string[];
  /** called once per refused request with a short reason (for a log); never receives file contents */
  onRefuse?: (what: string) => void;
}

export interface GuardOut {
  /** bytes to write to sftp-server's stdin (whole packets) */
  toServer: Uint8Array[];
  /**
   * bytes to write back to sshfs (responses from sftp-server passed through or, for a link or path that leads out of
   * the root, replaced by a refusal; plus our own refusals)
   */
  toClient: Uint8Array[];
}

/** A malformed or oversized packet: the caller closes the channel. */
export class SftpProtocolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SftpProtocolError';
  }
}

interface Refusal {
  code: number;
  message: string;
}
const OUTSIDE: Refusal = { code: SSH_FX_PERMISSION_DENIED, message: REFUSE_OUTSIDE };
const READ_ONLY: Refusal = { code: SSH_FX_PERMISSION_DENIED, message: REFUSE_READ_ONLY };
const OWNER: Refusal = { code: SSH_FX_PERMISSION_DENIED, message: REFUSE_OWNER };
const UNSUPPORTED: Refusal = { code: SSH_FX_OP_UNSUPPORTED, message: REFUSE_UNSUPPORTED };
const LINK_OUT: Refusal = { code: SSH_FX_PERMISSION_DENIED, message: REFUSE_LINK_OUT };
const isRefusal = (v: object): v is Refusal => 'code' in v;

/**
 * How a forwarded request's NAME reply is judged (rule 8): 'target', a READLINK's, is a link's target, checked as if
 * the link were in each of `dirs`; 'resolved', a REALPATH's or expand-path's, is a path that must be the root or under it.
 */
type Answer = { kind: 'target'; dirs: string[] } | { kind: 'resolved' };

/** What a request does once released: forward these bytes (and judge the reply as `answer` says), or refuse. */
type Verdict = { send: Uint8Array; readOnlyOpen?: boolean; answer?: Answer } | Refusal;

/**
 * When a queued request may be decided: 'order' as soon as it is at the head of the queue; 'paths' also only when no
 * namespace-changing request is in flight; 'handles' (FSETSTAT) only when no OPEN of a read-only path is in flight,
 * whose handle it could be guessing.
 */
type Gate = 'order' | 'paths' | 'handles';

interface Request {
  /** null for INIT, the only request without one */
  id: number | null;
  /** for the refusal log: the operation and its path(s), never file contents */
  op: string;
  paths: Uint8Array[];
  gate: Gate;
  /** changes what paths resolve to (rule 7) */
  mutating: boolean;
  /** the handle a CLOSE releases */
  closes?: string;
  decide: () => Verdict;
}

interface InFlight {
  mutating: boolean;
  readOnlyOpen: boolean;
  closes?: string;
  /** rule 8: the reply is judged, and `what` names the request in the refusal log */
  answer?: Answer & { what: string };
}

/** Where a checked path lands: `norm` is what is forwarded, `at` the real location it acts on. */
interface Place {
  norm: string;
  at: string;
  /** follow ops only: whether realpath found it */
  exists: boolean;
}

/** How a single-path request is checked. */
interface PathRule {
  /** follows a symlink in the last component (rule 2) rather than acting on the entry itself (rule 3) */
  follow: boolean;
  /** rule 3: the root itself is acceptable (LSTAT, READLINK) */
  rootOk?: boolean;
  /** rule 2: a missing path is refused rather than forwarded */
  mustExist?: boolean;
  /** changes the entry: refused in a read-only area */
  writes?: boolean;
  mutating?: boolean;
  /** ATTRS follow the path (validated; special mode bits cleared, owner and group refused: see takeAttrs) */
  attrs?: boolean;
  /** rule 8: the NAME reply is a link's target (READLINK) or a resolved path (REALPATH, expand-path) */
  answer?: Answer['kind'];
  /** expand-path: `~` and `~/x` mean the root (what sftp-server -d does); `~user` is refused */
  tilde?: boolean;
}

const PATH_RULES: Partial<Record<number, PathRule>> = {
  [FXP.SETSTAT]: { follow: true, mustExist: true, writes: true, attrs: true },
  [FXP.OPENDIR]: { follow: true },
  [FXP.REALPATH]: { follow: true, answer: 'resolved' },
  [FXP.STAT]: { follow: true },
  [FXP.LSTAT]: { follow: false, rootOk: true },
  [FXP.READLINK]: { follow: false, rootOk: true, answer: 'target' },
  [FXP.REMOVE]: { follow: false, writes: true, mutating: true },
  [FXP.RMDIR]: { follow: false, writes: true, mutating: true },
  [FXP.MKDIR]: { follow: false, writes: true, mutating: true, attrs: true },
};

const EXT_PATH_RULES: Partial<Record<string, PathRule>> = {
  'statvfs@openssh.com': { follow: true },
  'expand-path@openssh.com': { follow: true, tilde: true, answer: 'resolved' },
  'lsetstat@openssh.com': { follow: false, writes: true, attrs: true },
};

/** Extended requests with two paths, both acted on without following (rule 3); both change the namespace. */
const EXT_TWO_PATHS = new Set(['posix-rename@openssh.com', 'hardlink@openssh.com']);

/** Handle-only request types (the handle came from a checked OPEN/OPENDIR): the fields after the handle. */
const HANDLE_OPS: Partial<Record<number, { op: string; rest: (r: Reader) => void }>> = {
  [FXP.CLOSE]: { op: 'close', rest: () => {} },
  [FXP.READ]: { op: 'read', rest: (r) => r.skip(8 + 4) },
  [FXP.WRITE]: { op: 'write', rest: (r) => (r.skip(8), r.string()) },
  [FXP.FSTAT]: { op: 'fstat', rest: () => {} },
  [FXP.READDIR]: { op: 'readdir', rest: () => {} },
};

/** Extended requests that need no path check; their fields are validated only. */
const EXT_PASS: Partial<Record<string, (r: Reader) => void>> = {
  'fstatvfs@openssh.com': (r) => r.string(),
  'fsync@openssh.com': (r) => r.string(),
  'copy-data': (r) => (r.string(), r.skip(16), r.string(), r.skip(8)),
  'limits@openssh.com': () => {},
  'users-groups-by-id@openssh.com': (r) => (r.string(), r.string()),
};

const OP_NAMES: Partial<Record<number, string>> = {
  [FXP.OPEN]: 'open',
  [FXP.SETSTAT]: 'setstat',
  [FXP.OPENDIR]: 'opendir',
  [FXP.REALPATH]: 'realpath',
  [FXP.STAT]: 'stat',
  [FXP.LSTAT]: 'lstat',
  [FXP.READLINK]: 'readlink',
  [FXP.REMOVE]: 'remove',
  [FXP.RMDIR]: 'rmdir',
  [FXP.MKDIR]: 'mkdir',
  [FXP.RENAME]: 'rename',
  [FXP.SYMLINK]: 'symlink',
  [FXP.FSETSTAT]: 'fsetstat',
};

export class SftpGuard {
  private readonly root: string;
  private readonly fs: GuardFs;
  private readonly readOnly: string[];
  private readonly onRefuse?: (what: string) => void;
  private readonly requests = new Framer();
  private readonly responses = new Framer();
  /** requests received and not yet decided, in arrival order */
  private readonly queue: Request[] = [];
  /** forwarded requests awaiting sftp-server's reply, by id */
  private readonly inFlight = new Map<number, InFlight>();
  /** ids queued or in flight: a reused one could make a reply release the wrong request */
  private readonly pendingIds = new Set<number>();
  private mutatingInFlight = 0;
  private readOnlyOpensInFlight = 0;
  /** handles sftp-server returned for OPENs of read-only paths */
  private readonly readOnlyHandles = new Set<string>();
  private refusedCount = 0;

  constructor(o: GuardOptions) {
    if (!o.root.startsWith('/')) throw new Error(`SftpGuard: root must be absolute: ${o.root}`);
    this.root = normalizeAbs(o.root);
    this.fs = o.fs;
    this.readOnly = (o.readOnly ?? []).map((e) => fold(normalizeAbs(join(this.root, e))));
    this.onRefuse = o.onRefuse;
  }

  /** How many requests have been answered with a refusal. */
  get refused(): number {
    return this.refusedCount;
  }

  /** How many requests are held back (rule 7); a caller may pause reading from the client while this grows. */
  get held(): number {
    return this.queue.length;
  }

  /** Bytes that came from sshfs (requests); chunks may split or join packets arbitrarily. */
  fromClient(chunk: Uint8Array): GuardOut {
    const out: GuardOut = { toServer: [], toClient: [] };
    this.requests.push(chunk);
    for (let pkt = this.requests.next(); pkt !== null; pkt = this.requests.next()) {
      const req = this.parse(pkt);
      if (req.id !== null) {
        if (this.pendingIds.has(req.id)) throw new SftpProtocolError(`request id ${req.id} reused while still pending`);
        this.pendingIds.add(req.id);
      }
      this.queue.push(req);
      this.pump(out);
    }
    return out;
  }

  /** Bytes that came from sftp-server (responses); chunks may split or join packets arbitrarily. */
  fromServer(chunk: Uint8Array): GuardOut {
    const out: GuardOut = { toServer: [], toClient: [] };
    this.responses.push(chunk);
    for (let pkt = this.responses.next(); pkt !== null; pkt = this.responses.next()) {
      const type = pkt[4];
      if (type === FXP.VERSION) {
        out.toClient.push(pkt);
        continue;
      }
      const r = new Reader(pkt, 5);
      const id = r.u32();
      const f = this.inFlight.get(id);
      if (f === undefined) {
        out.toClient.push(pkt);
        continue;
      }
      // rule 8: the refusal takes the reply's place, and completes the request as the reply would have
      if (f.answer !== undefined && type === FXP.NAME && this.leadsOut(f.answer, r)) {
        this.refuse(out, id, f.answer.what, LINK_OUT);
      } else out.toClient.push(pkt);
      this.inFlight.delete(id);
      this.pendingIds.delete(id);
      if (f.mutating) this.mutatingInFlight--;
      if (f.readOnlyOpen) {
        this.readOnlyOpensInFlight--;
        if (type === FXP.HANDLE) this.readOnlyHandles.add(handleKey(r.string()));
      }
      if (f.closes !== undefined) this.readOnlyHandles.delete(f.closes);
    }
    this.pump(out);
    return out;
  }

  /** Decide queued requests from the head, in order, until one must wait. */
  private pump(out: GuardOut): void {
    while (this.queue.length > 0) {
      const req = this.queue[0];
      if (req.gate === 'paths' && this.mutatingInFlight > 0) return;
      if (req.gate === 'handles' && this.readOnlyOpensInFlight > 0) return;
      this.queue.shift();
      let v: Verdict;
      try {
        v = req.decide();
      } catch {
        v = OUTSIDE; // fail closed
      }
      if (req.id === null) {
        if (!isRefusal(v)) out.toServer.push(v.send);
        continue;
      }
      if (isRefusal(v)) {
        this.pendingIds.delete(req.id);
        this.refuse(out, req.id, describe(req), v);
        continue;
      }
      out.toServer.push(v.send);
      const readOnlyOpen = v.readOnlyOpen === true;
      const answer = v.answer && { ...v.answer, what: describe(req) };
      this.inFlight.set(req.id, { mutating: req.mutating, readOnlyOpen, closes: req.closes, answer });
      if (req.mutating) this.mutatingInFlight++;
      if (readOnlyOpen) this.readOnlyOpensInFlight++;
    }
  }

  /** Answer request `id` with a refusal, count it, and log it once (`what`: the operation and its paths). */
  private refuse(out: GuardOut, id: number, what: string, v: Refusal): void {
    this.refusedCount++;
    out.toClient.push(statusPacket(id, v.code, v.message));
    this.onRefuse?.(`${what}: ${v.message.replace(/^claude-share: /, '')}`);
  }

  /**
   * Rule 8: whether a NAME reply (`r` just past its id) to a READLINK, REALPATH or expand-path leads out of the root.
   * sftp-server sends exactly one name for these; anything else is a protocol error.
   */
  private leadsOut(answer: Answer, r: Reader): boolean {
    const count = r.u32();
    if (count !== 1) throw new SftpProtocolError(`NAME reply with ${count} names where one was asked for`);
    const s = text(r.string());
    if (answer.kind === 'resolved') return s === null || !s.startsWith('/') || !this.inside(normalizeAbs(s));
    return s === null || answer.dirs.some((dir) => this.targetLeaves(s, dir));
  }

  /**
   * Rules 4 and 8, lexically: a link in `dir` with this target leads out of the root when the target is absolute, has
   * `..` after a name (`a/up/../x`: the kernel resolves it from wherever `a/up` leads, which a lexical check cannot
   * know), or, resolved from `dir`, leaves the root. Linear in the target's length (it is untrusted).
   */
  private targetLeaves(target: string, dir: string): boolean {
    if (target.startsWith('/')) return true;
    let named = false;
    for (const c of target.split('/')) {
      if (c === '' || c === '.') continue;
      if (c !== '..') named = true;
      else if (named) return true;
    }
    return !this.inside(normalizeAbs(join(dir, target)));
  }

  /** Parse one whole request (throwing on malformed fields) into how it will be decided. */
  private parse(pkt: Uint8Array): Request {
    const type = pkt[4];
    const r = new Reader(pkt, 5);
    const pass = (): Verdict => ({ send: pkt });
    if (type === FXP.INIT) {
      r.u32(); // version
      return { id: null, op: 'init', paths: [], gate: 'order', mutating: false, decide: pass };
    }
    const id = r.u32();
    const handleOp = HANDLE_OPS[type];
    if (handleOp !== undefined) {
      const handle = r.string();
      handleOp.rest(r);
      const closes = type === FXP.CLOSE ? handleKey(handle) : undefined;
      return { id, op: handleOp.op, paths: [], gate: 'order', mutating: false, closes, decide: pass };
    }
    const op = OP_NAMES[type] ?? `type ${type}`;
    switch (type) {
      case FXP.OPEN: {
        const path = r.string();
        const flagsAt = r.pos;
        const pflags = r.u32();
        const chown = setsOwner(takeAttrs(r, pkt));
        const tail = pkt.subarray(flagsAt + 4);
        const decide = (): Verdict => (chown ? OWNER : this.open(id, path, pflags, tail));
        return { id, op, paths: [path], gate: 'paths', mutating: false, decide };
      }
      case FXP.FSETSTAT: {
        const handle = handleKey(r.string());
        const chown = setsOwner(takeAttrs(r, pkt));
        const decide = (): Verdict => (chown ? OWNER : this.readOnlyHandles.has(handle) ? READ_ONLY : { send: pkt });
        return { id, op, paths: [], gate: 'handles', mutating: false, decide };
      }
      case FXP.RENAME:
        return this.twoPaths(type, id, op, [], r, pkt);
      case FXP.SYMLINK: {
        const target = r.string();
        const link = r.string();
        const tail = pkt.subarray(r.pos);
        return { id, op, paths: [target, link], gate: 'paths', mutating: true, decide: () => this.symlink(id, target, link, tail) };
      }
      case FXP.EXTENDED:
        return this.extended(id, r, pkt);
    }
    const rule = PATH_RULES[type];
    if (rule !== undefined) return this.onePath(type, id, op, [], rule, r, pkt);
    return { id, op, paths: [], gate: 'order', mutating: false, decide: () => UNSUPPORTED };
  }

  private extended(id: number, r: Reader, pkt: Uint8Array): Request {
    const nameBytes = r.string();
    const name = text(nameBytes) ?? '';
    const head = sshString(nameBytes);
    const op = name.replace(/@openssh\.com$/, '');
    const rule = EXT_PATH_RULES[name];
    if (rule !== undefined) return this.onePath(FXP.EXTENDED, id, op, head, rule, r, pkt);
    if (EXT_TWO_PATHS.has(name)) return this.twoPaths(FXP.EXTENDED, id, op, head, r, pkt);
    const validate = EXT_PASS[name];
    if (validate !== undefined) {
      validate(r);
      return { id, op, paths: [], gate: 'order', mutating: false, decide: () => ({ send: pkt }) };
    }
    // home-directory and anything unknown (home-directory would name a path outside the root)
    return { id, op: 'extended', paths: [nameBytes], gate: 'order', mutating: false, decide: () => UNSUPPORTED };
  }

  private onePath(type: number, id: number, op: string, head: Uint8Array[], rule: PathRule, r: Reader, pkt: Uint8Array): Request {
    const path = r.string();
    const tailAt = r.pos;
    const chown = rule.attrs === true && setsOwner(takeAttrs(r, pkt));
    const tail = pkt.subarray(tailAt);
    const decide = (): Verdict => {
      if (chown) return OWNER;
      let s = text(path);
      if (rule.tilde && s !== null) s = untilde(s);
      const p = rule.follow ? this.follow(s) : this.noFollow(s, rule.rootOk === true);
      if (isRefusal(p)) return p;
      if (rule.mustExist && !p.exists) return OUTSIDE;
      if (rule.writes && this.protects(p)) return READ_ONLY;
      const send = packet(type, id, [...head, ...sshString(encode(p.norm)), tail]);
      // a READLINK's target is judged from the link's directory as named and as it really is (rule 8)
      if (rule.answer === 'target') return { send, answer: { kind: 'target', dirs: [dirname(p.norm), dirname(p.at)] } };
      return rule.answer === 'resolved' ? { send, answer: { kind: 'resolved' } } : { send };
    };
    return { id, op, paths: [path], gate: 'paths', mutating: rule.mutating === true, decide };
  }

  /**
   * RENAME, posix-rename, hardlink: both entries acted on without following; neither may touch a read-only area.
   * hardlink's source is also checked as followed: link(2) follows a symlink there on macOS and the BSDs (not Linux),
   * which would otherwise hard-link a file from outside the root into it. Neither may cross the edge of a `.git`
   * directory (rule 6): whatever is inside one may hold git's protected names, which would leave protection on the
   * way out (`.git/modules/x` moved out, its `config` edited, moved back), and a prepared copy could come in.
   */
  private twoPaths(type: number, id: number, op: string, head: Uint8Array[], r: Reader, pkt: Uint8Array): Request {
    const from = r.string();
    const to = r.string();
    const tail = pkt.subarray(r.pos);
    const isLink = op === 'hardlink';
    const decide = (): Verdict => {
      const a = this.noFollow(text(from), false);
      if (isRefusal(a)) return a;
      const followed = isLink ? this.follow(text(from)) : a;
      if (isRefusal(followed) || !followed.exists) return OUTSIDE;
      const b = this.noFollow(text(to), false);
      if (isRefusal(b)) return b;
      // moving a directory that holds a read-only entry would carry it out of protection
      if ([a.norm, a.at, followed.at, b.norm, b.at].some((p) => this.isReadOnly(p, true))) return READ_ONLY;
      const inGit = (...ps: string[]) => ps.some((p) => this.inGitDir(p));
      if (inGit(a.norm, a.at, followed.at) !== inGit(b.norm, b.at)) return READ_ONLY;
      return { send: packet(type, id, [...head, ...sshString(encode(a.norm)), ...sshString(encode(b.norm)), tail]) };
    };
    return { id, op, paths: [from, to], gate: 'paths', mutating: true, decide };
  }

  private open(id: number, path: Uint8Array, pflags: number, tail: Uint8Array): Verdict {
    const p = this.follow(text(path));
    if (isRefusal(p)) return p;
    if (!p.exists && (pflags & PFLAG_CREAT) === 0) return OUTSIDE;
    // a handle on the root itself is remembered too: FSETSTAT through it would chmod the root
    const readOnly = this.protects(p);
    if (readOnly && (pflags & PFLAGS_WRITING) !== 0) return READ_ONLY;
    // realpath cannot tell "missing" from "dangling symlink"; O_EXCL makes open(2) refuse to follow the latter
    const flags = p.exists ? pflags : pflags | PFLAG_EXCL;
    return { send: packet(FXP.OPEN, id, [...sshString(encode(p.norm)), u32(flags), tail]), readOnlyOpen: readOnly };
  }

  /** SYMLINK (target, linkpath) — OpenSSH order, see the top of the file. */
  private symlink(id: number, targetBytes: Uint8Array, linkBytes: Uint8Array, tail: Uint8Array): Verdict {
    const link = this.noFollow(text(linkBytes), false);
    if (isRefusal(link)) return link;
    // rule 6: git reads its files through a symlink in `.git` as it would the files themselves
    if (this.protects(link) || this.inGitDir(link.norm) || this.inGitDir(link.at)) return READ_ONLY;
    const target = text(targetBytes);
    // resolved from the directory the link really lands in, as the kernel will when following it
    if (target === null || this.targetLeaves(target, dirname(link.at))) return OUTSIDE;
    const resolved = normalizeAbs(join(dirname(link.at), target));
    // and what exists of it must resolve inside too: a target through a link that leads out (one the laptop's owner
    // made) would hand the laptop's own programs a way out
    for (let p = resolved; ; p = dirname(p)) {
      const real = this.realpath(p);
      if (real === undefined) return OUTSIDE;
      if (real !== null) {
        if (!this.inside(real)) return OUTSIDE;
        break;
      }
      if (p === this.root || p === '/') break;
    }
    return { send: packet(FXP.SYMLINK, id, [...sshString(targetBytes), ...sshString(encode(link.norm)), tail]) };
  }

  /** Rules 1 and 2: the path follows a symlink in its last component. */
  private follow(s: string | null): Place | Refusal {
    const norm = this.lexical(s);
    if (norm === null) return OUTSIDE;
    const real = this.realpath(norm);
    if (real === undefined) return OUTSIDE;
    if (real !== null) return this.inside(real) ? { norm, at: real, exists: true } : OUTSIDE;
    if (norm === this.root) return OUTSIDE;
    const parent = this.realpath(dirname(norm));
    if (parent == null || !this.inside(parent)) return OUTSIDE;
    return { norm, at: join(parent, basename(norm)), exists: false };
  }

  /** Rules 1 and 3: the request acts on the entry itself, so only its directory must resolve inside. */
  private noFollow(s: string | null, rootOk: boolean): Place | Refusal {
    const norm = this.lexical(s);
    if (norm === null || s === null) return OUTSIDE;
    if (norm === this.root) return rootOk ? { norm, at: this.root, exists: true } : OUTSIDE;
    const last = lastComponent(s);
    if (last === '.' || last === '..') return OUTSIDE;
    const parent = this.realpath(dirname(norm));
    if (parent == null || !this.inside(parent)) return OUTSIDE;
    return { norm, at: join(parent, basename(norm)), exists: true };
  }

  /** Rule 1: absolute and normalised, relative to the root; null when it leaves the root (or is not a valid path). */
  private lexical(s: string | null): string | null {
    if (s === null) return null;
    const norm = normalizeAbs(s.startsWith('/') ? s : join(this.root, s));
    return this.inside(norm) ? norm : null;
  }

  /** realpath, with undefined for "it threw" (refused like an escape). */
  private realpath(p: string): string | null | undefined {
    try {
      return this.fs.realpath(p);
    } catch {
      return undefined;
    }
  }

  private inside(p: string): boolean {
    return within(p, this.root);
  }

  /** A write to this place is refused: it is read-only (rules 5, 6), or the root itself (its mode, its owner). */
  private protects(p: Place): boolean {
    return p.at === this.root || this.isReadOnly(p.norm) || this.isReadOnly(p.at);
  }

  /**
   * At or under a read-only entry, or one of git's protected files (rule 6); with ancestors, also a directory that
   * contains a read-only entry (for git's, see twoPaths). Compared case- and normalisation-folded: on a
   * case-insensitive disk (macOS) `.CLAUDE-SHARE` is the same directory.
   */
  private isReadOnly(p: string, ancestors = false): boolean {
    const f = fold(p);
    return this.readOnly.some((ro) => within(f, ro) || (ancestors && within(ro, f))) || this.isGitProtected(p);
  }

  /**
   * Rule 6: an entry named `.git` itself, or, inside any `.git`, a component named as in GIT_SENSITIVE and all
   * under it. `p` is absolute, normalised and inside the root.
   */
  private isGitProtected(p: string): boolean {
    const c = this.components(p);
    const g = c.indexOf(GIT_DIR);
    return g >= 0 && (c[c.length - 1] === GIT_DIR || c.slice(g + 1).some((x) => GIT_SENSITIVE.has(x)));
  }

  /** Strictly inside a `.git` directory (at any depth): `p` absolute, normalised and inside the root. */
  private inGitDir(p: string): boolean {
    return this.components(p).slice(0, -1).includes(GIT_DIR);
  }

  /** The folded components of `p` below the root (a `.git` above the root is none of the server's doing). */
  private components(p: string): string[] {
    const rel = within(p, this.root) ? p.slice(this.root.length) : p;
    return fold(rel)
      .split('/')
      .filter((c) => c !== '');
  }
}

// ---- paths (plain strings: this module may not import node:path) ----

/** `/a//b/./../c` → `/a/c`; `..` at `/` stays at `/`, as in the kernel. */
function normalizeAbs(p: string): string {
  const out: string[] = [];
  for (const seg of p.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') out.pop();
    else out.push(seg);
  }
  return '/' + out.join('/');
}

function within(p: string, dir: string): boolean {
  return p === dir || p.startsWith(dir === '/' ? '/' : dir + '/');
}

function join(dir: string, name: string): string {
  return dir.endsWith('/') ? dir + name : dir + '/' + name;
}

function dirname(p: string): string {
  const i = p.lastIndexOf('/');
  return i <= 0 ? '/' : p.slice(0, i);
}

function basename(p: string): string {
  return p.slice(p.lastIndexOf('/') + 1);
}

/** The last component as written (trailing slashes ignored), to spot `.` and `..`. */
function lastComponent(s: string): string {
  const t = s.replace(/\/+$/, '');
  return t.slice(t.lastIndexOf('/') + 1);
}

const HFS_IGNORED = /[\u200c-\u200f\u202a-\u202e\u206a-\u206f\ufeff]/g;

/**
 * Over-folds rather than under-folds (ſ → s, ß → ss, composed → decomposed): only ever refuses more. Also drops the
 * code points HFS+ ignores in names (as git's own is_hfs_dotgit does), so `.g\u200cit` is `.git` there.
 */
function fold(p: string): string {
  return p.normalize('NFD').replace(HFS_IGNORED, '').toUpperCase().toLowerCase().normalize('NFD');
}

/** expand-path's `~` and `~/x` are sftp-server's start directory, the root; `~user` is someone's home: refused. */
function untilde(s: string): string | null {
  if (s === '~') return '';
  if (s.startsWith('~/')) return s.slice(2);
  return s.startsWith('~') ? null : s;
}

// ---- bytes ----

/**
 * Paths must be valid UTF-8 without NUL: the check works on strings, so two byte strings decoding alike (U+FFFD)
 * could be checked as one file and opened as another. Fatal decoding with the BOM kept round-trips exactly.
 */
const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const looseUtf8 = new TextDecoder('utf-8');
const utf8Encoder = new TextEncoder();

function text(b: Uint8Array): string | null {
  if (b.includes(0)) return null;
  try {
    return strictUtf8.decode(b);
  } catch {
    return null;
  }
}

const encode = (s: string): Uint8Array => utf8Encoder.encode(s);

/** For the refusal log: the operation and its paths, never file contents. */
function describe(req: Request): string {
  const paths = req.paths.map(quote).join(' ');
  return `${req.op}${paths ? ' ' + paths : ''}`;
}

/** For the refusal log: printable, bounded. */
function quote(b: Uint8Array): string {
  const s = looseUtf8.decode(b.subarray(0, 200));
  return JSON.stringify(b.length > 200 ? s + '…' : s);
}

/** sftp-server's handles are 4-byte strings; anything over 255 bytes it rejects, so it never matches. */
function handleKey(b: Uint8Array): string {
  if (b.length > 255) return '!';
  let k = '';
  for (const x of b) k += x.toString(16).padStart(2, '0');
  return k;
}

function u32(n: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n >>> 0);
  return b;
}

function sshString(b: Uint8Array): Uint8Array[] {
  return [u32(b.length), b];
}

function packet(type: number, id: number, parts: Uint8Array[]): Uint8Array {
  const len = parts.reduce((n, p) => n + p.length, 1 + 4);
  const out = new Uint8Array(4 + len);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, len);
  out[4] = type;
  dv.setUint32(5, id);
  let o = 9;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** SSH_FXP_STATUS: id, code, message, empty language tag. */
export function statusPacket(id: number, code: number, message: string): Uint8Array {
  return packet(FXP.STATUS, id, [u32(code), ...sshString(encode(message)), u32(0)]);
}

/** Reads fields of one whole packet; a field running past its end is a protocol error. */
class Reader {
  constructor(
    private readonly b: Uint8Array,
    public pos: number,
  ) {}

  private need(n: number): void {
    if (this.pos + n > this.b.length) throw new SftpProtocolError('truncated field in packet');
  }

  skip(n: number): void {
    this.need(n);
    this.pos += n;
  }

  u32(): number {
    this.need(4);
    const b = this.b;
    const p = this.pos;
    this.pos += 4;
    return ((b[p] << 24) | (b[p + 1] << 16) | (b[p + 2] << 8) | b[p + 3]) >>> 0;
  }

  /** An SSH string: a view, never a copy sized by the untrusted length. */
  string(): Uint8Array {
    const n = this.u32();
    this.need(n);
    const s = this.b.subarray(this.pos, this.pos + n);
    this.pos += n;
    return s;
  }
}

/**
 * ATTRS (v3): flags, then size, uid/gid, permissions, atime/mtime and extended pairs as the flags say. Clears the
 * setuid, setgid and sticky bits of the permissions in `pkt` itself (the packet `r` reads, the guard's own copy: see
 * Framer.next), so whatever later forwards those bytes forwards the cleared mode. Returns the flags.
 */
function takeAttrs(r: Reader, pkt: Uint8Array): number {
  const flags = r.u32();
  if (flags & ATTR_SIZE) r.skip(8);
  if (flags & ATTR_UIDGID) r.skip(8);
  if (flags & ATTR_PERMISSIONS) {
    const at = r.pos;
    const mode = r.u32();
    if (mode & MODE_SPECIAL) pkt.set(u32(mode & ~MODE_SPECIAL), at);
  }
  if (flags & ATTR_ACMODTIME) r.skip(8);
  if (flags & ATTR_EXTENDED) {
    // each pair takes at least 8 bytes, so a huge count fails fast on the packet end
    for (let n = r.u32(); n > 0; n--) {
      r.string();
      r.string();
    }
  }
  return flags;
}

/** chown through the mount is refused: sftp-server runs as the laptop's user, it could only fail or surprise. */
function setsOwner(attrFlags: number): boolean {
  return (attrFlags & ATTR_UIDGID) !== 0;
}

/** Reassembles length-prefixed packets from arbitrary chunks; the length is checked before anything waits on it. */
class Framer {
  private buf = new Uint8Array(0);
  private start = 0;
  private end = 0;

  push(chunk: Uint8Array): void {
    if (this.end + chunk.length > this.buf.length) {
      const live = this.end - this.start;
      if (live + chunk.length > this.buf.length) {
        const next = new Uint8Array(Math.max(live + chunk.length, this.buf.length * 2, 4096));
        next.set(this.buf.subarray(this.start, this.end));
        this.buf = next;
      } else this.buf.copyWithin(0, this.start, this.end);
      this.start = 0;
      this.end = live;
    }
    this.buf.set(chunk, this.end);
    this.end += chunk.length;
  }

  /** The next whole packet, length prefix included, as its own copy; null until one is complete. */
  next(): Uint8Array | null {
    const have = this.end - this.start;
    if (have < 4) return null;
    const b = this.buf;
    const s = this.start;
    const len = ((b[s] << 24) | (b[s + 1] << 16) | (b[s + 2] << 8) | b[s + 3]) >>> 0;
    if (len > MAX_PACKET_LENGTH) throw new SftpProtocolError(`packet of ${len} bytes exceeds ${MAX_PACKET_LENGTH}`);
    if (len < 1) throw new SftpProtocolError('empty packet');
    if (have < 4 + len) return null;
    const pkt = b.slice(s, s + 4 + len);
    this.start += 4 + len;
    if (this.start === this.end) {
      this.start = this.end = 0;
      if (this.buf.length > 4 * MAX_PACKET_LENGTH) this.buf = new Uint8Array(0);
    }
    return pkt;
  }
}
