/**
 * Workspace mode (issue 16), the pure part: a member works on the shared server against files on their own machine.
 *
 * One SSH connection, opened by the member's machine (the "laptop"), carries everything:
 *   - the mounts: the server runs `sshfs -o passive`, whose SFTP stream is the laptop's own `sftp-server` (through
 *     the laptop's SFTP guard, core/sftp-guard.ts), so the laptop needs no sshd and the server no key to it;
 *   - the command proxy: a Unix socket forwarded from the server to the laptop's runner, which runs only NAMED
 *     commands from the allow-list the member wrote (`.claude-share/commands` in the project, read once at start);
 *   - the remote `claude`, in a pseudo-terminal.
 * Every command the laptop's keys can run on the server is a forced command (`tunnel ssh-command`), parsed here by
 * parseForced: never a shell string.
 */

/** Bumped when the laptop and the server stop understanding each other's tunnel verbs. */
export const WORKSPACE_PROTOCOL = 1;

export interface Target {
  user: string;
  host: string;
  port: number;
}

export interface Profile extends Target {
  /** the laptop's tag in the server's authorized_keys: claude-share:init:<tag> */
  tag: string;
  /** the server's claude-share, as the forced command runs it */
  serverCli: string;
  /** what `tunnel check` said at init */
  server: ServerCheck;
  savedAt: string;
}

export interface ServerCheck {
  protocol: number;
  version: string;
  user: string;
  home: string;
  hostname: string;
  sshfs: { path: string; version: string; containSymlinks: boolean } | null;
  fuse: { device: boolean; fusermount: string | null };
  claude: string | null;
}

const USER_RE = /^[a-z_][a-z0-9_-]{0,31}$/;
const HOST_RE = /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$|^\d{1,3}(?:\.\d{1,3}){3}$/;

/** USER@HOST or USER@HOST:PORT, strictly: what reaches ssh's argv must never look like an option. */
export function parseTarget(s: string, port?: number): Target | string {
  const m = /^([^@]+)@([^:]+)(?::(\d{1,5}))?$/.exec(s);
  if (!m) return `"${s.slice(0, 64)}" is not USER@HOST`;
  const [, user, host, p] = m;
  if (!USER_RE.test(user)) return `"${user.slice(0, 32)}" is not a valid user name`;
  if (!HOST_RE.test(host) || host.length > 253) return `"${host.slice(0, 64)}" is not a host name or IPv4 address`;
  const n = port ?? (p ? Number(p) : 22);
  if (!Number.isInteger(n) || n < 1 || n > 65535) return `port ${n} is out of range`;
  return { user, host, port: n };
}

/** A session: the project directory's name (cleaned, at most 24 characters) and the start time. */
export const SESSION_RE = /^[a-z0-9][a-z0-9_-]{0,23}-\d{8}-\d{6}$/;

export function sessionName(dir: string, now: Date): string {
  const base =
    (dir.split('/').filter(Boolean).pop() ?? 'root')
      .toLowerCase()
      .replace(/[^a-z0-9_-]+/g, '-')
      .replace(/^[-_]+/, '')
      .slice(0, 24)
      .replace(/[-_]+$/, '') || 'project';
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  const stamp = `${now.getUTCFullYear()}${p(now.getUTCMonth() + 1)}${p(now.getUTCDate())}-${p(now.getUTCHours())}${p(now.getUTCMinutes())}${p(now.getUTCSeconds())}`;
  return `${base}-${stamp}`;
}

/** The name an extra directory gets under its session: N-name. */
export function extraName(index: number, dir: string): string {
  const base =
    (dir.split('/').filter(Boolean).pop() ?? 'root')
      .replace(/[^A-Za-z0-9._-]+/g, '-')
      .replace(/^[.-]+/, '')
      .slice(0, 40) || 'dir';
  return `${index}-${base}`;
}

export const MAX_EXTRAS = 8;

/** Where distributions put OpenSSH's sftp-server (Debian, Fedora, macOS, Arch). */
export const SFTP_SERVER_PATHS = ['/usr/lib/openssh/sftp-server', '/usr/libexec/openssh/sftp-server', '/usr/libexec/sftp-server', '/usr/lib/ssh/sftp-server'];

export interface RemotePaths {
  main: string;
  extras: string[];
  /** the forwarded command socket */
  socket: string;
  runDir: string;
}

/** Where a session lives in the member's server home; index 0 is the project, 1.. the extras. */
export function remotePaths(home: string, session: string, extras: string[]): RemotePaths {
  const root = `${home}/.claude-share`;
  return {
    main: `${root}/mounts/${session}`,
    extras: extras.map((d, i) => `${root}/extras/${session}/${extraName(i + 1, d)}`),
    socket: `${root}/run/${session}.sock`,
    runDir: `${root}/run`,
  };
}

/** A laptop path as it crosses to the server: base64url, so no byte of it is ever parsed by a shell. */
export const encodeArg = (s: string) => Buffer.from(s, 'utf8').toString('base64url');
export function decodeArg(s: string): string | null {
  if (!/^[A-Za-z0-9_-]{1,8192}$/.test(s)) return null;
  const out = Buffer.from(s, 'base64url').toString('utf8');
  return encodeArg(out) === s ? out : null;
}

/** An absolute, printable path with no . or .. component. */
export function plainAbsolute(p: string): boolean {
  return p.startsWith('/') && p.length <= 4096 && !/[\u0000-\u001f\u007f]/.test(p) && !p.split('/').some((c) => c === '.' || c === '..');
}

// ---------------------------------------------------------------------------------------------------------------
// The allow-list of named commands.

export interface NamedCommands {
  commands: Record<string, string[]>;
  problems: string[];
}
export const COMMAND_NAME_RE = /^[a-z][a-z0-9_-]{0,31}$/;
export const MAX_COMMANDS = 64;

/**
 * `.claude-share/commands`: one `name = program arg…` per line, # comments. The right side is split into a fixed
 * argv: words separated by blanks, '…' and "…" quote (no escapes, no variables, no globbing, no shell). A line that
 * does not parse is reported and skipped, never guessed.
 */
export function parseCommands(text: string): NamedCommands {
  const commands: Record<string, string[]> = {};
  const problems: string[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.replace(/\r$/, '').trim();
    if (!line || line.startsWith('#')) return;
    const eq = line.indexOf('=');
    const where = `line ${i + 1}`;
    if (eq < 0) return problems.push(`${where}: no "=" (write name = program args)`);
    const name = line.slice(0, eq).trim();
    if (!COMMAND_NAME_RE.test(name)) return problems.push(`${where}: "${name.slice(0, 32)}" is not a command name (a-z, 0-9, _ and -, starting with a letter)`);
    if (Object.hasOwn(commands, name)) return problems.push(`${where}: "${name}" is named twice`);
    if (Object.keys(commands).length >= MAX_COMMANDS) return problems.push(`${where}: more than ${MAX_COMMANDS} commands`);
    const argv = splitWords(line.slice(eq + 1));
    if (typeof argv === 'string') return problems.push(`${where}: ${argv}`);
    if (!argv.length) return problems.push(`${where}: "${name}" has no program`);
    commands[name] = argv;
  });
  return { commands, problems };
}

function splitWords(s: string): string[] | string {
  const out: string[] = [];
  let cur: string | null = null;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === "'" || c === '"') {
      const end = s.indexOf(c, i + 1);
      if (end < 0) return `unterminated ${c}`;
      cur = (cur ?? '') + s.slice(i + 1, end);
      i = end;
    } else if (c === ' ' || c === '\t') {
      if (cur !== null) out.push(cur);
      cur = null;
    } else if (/[\u0000-\u001f\u007f]/.test(c)) {
      return 'a control character';
    } else cur = (cur ?? '') + c;
  }
  if (cur !== null) out.push(cur);
  return out;
}

/**
 * The environment a named command gets: nothing from the server, only what the laptop's own session had. PATH keeps
 * only absolute entries outside the published directories: `.`, `node_modules/.bin` or a project's `bin/` on it would
 * let a file the server wrote stand in for the program the member named.
 */
export function cleanEnv(env: Record<string, string | undefined>, session: string, published: string[]): Record<string, string> {
  const out: Record<string, string> = { CLAUDE_SHARE_SESSION: session };
  for (const k of ['HOME', 'USER', 'LOGNAME', 'LANG', 'LC_ALL', 'TZ', 'TMPDIR', 'SHELL']) if (env[k] !== undefined) out[k] = env[k]!;
  const inside = (d: string) => published.some((p) => d === p || d.startsWith(`${p}/`));
  const path = (env.PATH ?? '').split(':').filter((d) => d.startsWith('/') && !d.split('/').includes('..') && !inside(d.replace(/\/+$/, '')));
  out.PATH = path.length ? path.join(':') : '/usr/local/bin:/usr/bin:/bin';
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// The command proxy's wire: the server's `tunnel run NAME` sends one line of JSON; the runner answers with frames.

export const FRAME = { stdout: 1, stderr: 2, exit: 3, refused: 4 } as const;
export const MAX_REQUEST = 1024;
export const MAX_FRAME = 1 << 20;

export function frame(type: number, payload: Uint8Array | string): Buffer {
  const body = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : Buffer.from(payload);
  const head = Buffer.alloc(5);
  head[0] = type;
  head.writeUInt32BE(body.length, 1);
  return Buffer.concat([head, body]);
}

/** Splits a byte stream into frames; a frame longer than MAX_FRAME or of an unknown type is an error. */
export class FrameReader {
  private buf = Buffer.alloc(0);
  push(chunk: Uint8Array): { type: number; payload: Buffer }[] | string {
    this.buf = Buffer.concat([this.buf, chunk]);
    const out: { type: number; payload: Buffer }[] = [];
    while (this.buf.length >= 5) {
      const type = this.buf[0];
      const len = this.buf.readUInt32BE(1);
      if (type < 1 || type > 4 || len > MAX_FRAME) return 'a malformed frame';
      if (this.buf.length < 5 + len) break;
      out.push({ type, payload: this.buf.subarray(5, 5 + len) });
      this.buf = this.buf.subarray(5 + len);
    }
    return out;
  }
}

/** The runner's reading of one request line: only a name, checked against the allow-list. */
export function parseRunRequest(line: string, allowed: Record<string, string[]>): { name: string; argv: string[] } | string {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    return 'the request is not JSON';
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return 'the request is not an object';
  const keys = Object.keys(v);
  const name = (v as { name?: unknown }).name;
  if (keys.some((k) => k !== 'name' && k !== 'v') || typeof name !== 'string') return 'the request must be {"name": "..."} and nothing else';
  if (!COMMAND_NAME_RE.test(name)) return `"${name.slice(0, 32).replace(/[^\x20-\x7e]/g, '?')}" is not a command name`;
  const argv = Object.hasOwn(allowed, name) ? allowed[name] : undefined;
  if (!argv) {
    const names = Object.keys(allowed);
    return `"${name}" is not on this project's list of commands (${names.length ? names.join(', ') : 'the list is empty'}); the member adds it to .claude-share/commands on their machine and starts the session again`;
  }
  return { name, argv };
}

// ---------------------------------------------------------------------------------------------------------------
// authorized_keys: what client init and cs live install on the server, and exactly that removed again.

export const KEY_COMMENT_PREFIX = 'claude-share:';
const PUBKEY_RE = /^ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI[A-Za-z0-9+/]{43}=?$/;
export const TAG_RE = /^[a-z0-9][a-z0-9._-]{0,63}$/;

/** The public key alone (type and blob), or null: nothing else a client sends ever reaches authorized_keys. */
export function parsePublicKey(text: string): string | null {
  const parts = text.trim().split(/\s+/);
  if (parts.length < 2 || parts.length > 3) return null;
  const key = `${parts[0]} ${parts[1]}`;
  return PUBKEY_RE.test(key) ? key : null;
}

export type KeyKind = { kind: 'init'; tag: string } | { kind: 'session'; tag: string; session: string; expires: Date };

/**
 * One line. Both kinds are `restrict`ed to the forced command; only a session key may forward (the command socket)
 * and have a terminal (claude), and it expires on its own (OpenSSH's expiry-time) if the laptop never says stop.
 */
export function authorizedKeyLine(cli: string, key: string, k: KeyKind): string {
  const cmd = k.kind === 'init' ? `${cli} tunnel ssh-command --key init --tag ${k.tag}` : `${cli} tunnel ssh-command --key session --session ${k.session} --tag ${k.tag}`;
  const opts = k.kind === 'init' ? `restrict,command="${cmd}"` : `restrict,port-forwarding,pty,expiry-time="${expiryStamp(k.expires)}",command="${cmd}"`;
  return `${opts} ${key} ${keyComment(k)}`;
}

export const keyComment = (k: KeyKind) => (k.kind === 'init' ? `${KEY_COMMENT_PREFIX}init:${k.tag}` : `${KEY_COMMENT_PREFIX}session:${k.session}:${k.tag}`);

function expiryStamp(d: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getUTCFullYear()}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}${p(d.getUTCHours())}${p(d.getUTCMinutes())}Z`;
}

/** The lines whose comment (the last word) satisfies pick are dropped; every other byte is kept as it was. */
export function dropKeys(text: string, pick: (comment: string) => boolean): { text: string; removed: number } {
  let removed = 0;
  const lines = text.split('\n');
  const kept = lines.filter((l) => {
    const comment = l.trim().split(/\s+/).pop() ?? '';
    if (comment.startsWith(KEY_COMMENT_PREFIX) && pick(comment)) {
      removed++;
      return false;
    }
    return true;
  });
  return { text: kept.join('\n'), removed };
}

/** Replace (or add) the line with the same comment. */
export function putKey(text: string, line: string): string {
  const comment = line.split(' ').pop()!;
  const { text: rest } = dropKeys(text, (c) => c === comment);
  const body = rest.replace(/\n*$/, '');
  return (body ? `${body}\n` : '') + `${line}\n`;
}

// ---------------------------------------------------------------------------------------------------------------
// The forced command: what a laptop's key may run, parsed from SSH_ORIGINAL_COMMAND word by word.

export type TunnelVerb =
  | { verb: 'check' }
  | { verb: 'authorize-session'; session: string }
  | { verb: 'forget' }
  | { verb: 'prepare'; session: string }
  | { verb: 'mount'; session: string; index: number; source: string }
  | { verb: 'status'; session?: string }
  | { verb: 'umount'; session: string }
  | { verb: 'enter'; session: string; args: string[] };

export function parseForced(original: string | undefined, key: { kind: 'init' } | { kind: 'session'; session: string }): TunnelVerb | string {
  const w = (original ?? '').split(' ');
  if (w[0] !== 'tunnel') return 'this key runs only claude-share tunnel verbs';
  const own = (s: string | undefined) => (key.kind === 'session' ? s === key.session : SESSION_RE.test(s ?? '')) && SESSION_RE.test(s ?? '');
  const n = w.length;
  switch (w[1]) {
    case 'check':
      if (n === 2) return { verb: 'check' };
      break;
    case 'status':
      if (n === 2) return { verb: 'status' };
      if (n === 3 && own(w[2])) return { verb: 'status', session: w[2] };
      break;
    case 'umount':
      if (n === 3 && own(w[2])) return { verb: 'umount', session: w[2] };
      break;
    case 'authorize-session':
      if (key.kind === 'init' && n === 3 && own(w[2])) return { verb: 'authorize-session', session: w[2] };
      break;
    case 'forget':
      if (key.kind === 'init' && n === 2) return { verb: 'forget' };
      break;
    case 'prepare':
      if (key.kind === 'session' && n === 3 && own(w[2])) return { verb: 'prepare', session: w[2] };
      break;
    case 'mount': {
      const source = decodeArg(w[4] ?? '');
      if (key.kind === 'session' && n === 5 && own(w[2]) && /^[0-9]$/.test(w[3]) && source !== null && plainAbsolute(source)) return { verb: 'mount', session: w[2], index: Number(w[3]), source };
      break;
    }
    case 'enter': {
      if (key.kind !== 'session' || !own(w[2]) || n > 4) break;
      const args = n === 4 ? decodeArg(w[3]) : '[]';
      let parsed: unknown;
      try {
        parsed = JSON.parse(args ?? '');
      } catch {
        break;
      }
      if (Array.isArray(parsed) && parsed.length <= 64 && parsed.every((a) => typeof a === 'string' && a.length <= 65536)) return { verb: 'enter', session: w[2], args: parsed as string[] };
      break;
    }
  }
  return `"${(original ?? '').slice(0, 80).replace(/[^\x20-\x7e]/g, '?')}" is not a tunnel verb this key may run`;
}

/** What `cs live` prints before the remote claude starts. */
export function welcome(o: { server: string; session: string; main: string; local: string; extras: { remote: string; local: string }[]; commands: string[] }): string[] {
  return [
    `claude-share live: ${o.server}, session ${o.session}`,
    `  ${o.main}  <=  ${o.local}`,
    ...o.extras.map((e) => `  ${e.remote}  <=  ${e.local}`),
    o.commands.length ? `  commands run on this machine: ${o.commands.join(', ')} (on the server: cs run NAME)` : '  no named commands (.claude-share/commands)',
    `  stop with: cs stop`,
  ];
}
