/**
 * The server's half of workspace mode (issue 16), run as the member, never as root: through the forced command of a
 * laptop's key (`tunnel ssh-command`), or by the member's own shell (`tunnel authorize` at client init, `cs run`).
 * Everything it touches is under the member's own home: ~/.claude-share/{mounts,extras,run} and ~/.ssh/authorized_keys.
 */
import { dataError, operatorError, unsafeError, usageError, EXIT } from '../core/errors.js';
import {
  WORKSPACE_PROTOCOL,
  SESSION_RE,
  TAG_RE,
  authorizedKeyLine,
  dropKeys,
  extraName,
  parseForced,
  parsePublicKey,
  putKey,
  remotePaths,
  type ServerCheck,
  type TunnelVerb,
} from '../core/workspace.js';
import type { WorkspaceHost } from '../system/workspace-host.js';

export type TunnelOptions = { action: 'ssh-command'; key: 'init' | 'session'; tag?: string; session?: string } | { action: 'authorize'; tag: string } | { action: 'run'; name: string };

/** Session keys live 30 days at most: a laptop that never says stop leaves nothing that works for ever. */
export const SESSION_KEY_DAYS = 30;

export async function runTunnelServerSide(h: WorkspaceHost, o: TunnelOptions): Promise<number> {
  if (o.action === 'authorize') return authorize(h, o.tag);
  if (o.action === 'run') return runNamed(h, o.name);
  // The forced command: SSH_ORIGINAL_COMMAND is the only input, read word by word.
  if (o.key === 'session' && !SESSION_RE.test(o.session ?? '')) throw unsafeError('this key names no session');
  if (o.key === 'init' && !TAG_RE.test(o.tag ?? '')) throw unsafeError('this key names no tag');
  const v = parseForced(h.env.SSH_ORIGINAL_COMMAND, o.key === 'session' ? { kind: 'session', session: o.session! } : { kind: 'init' });
  if (typeof v === 'string') throw unsafeError(v, 'update claude-share on your machine so both sides speak the same protocol (claude-share client init again)');
  return verb(h, v, o.tag);
}

async function verb(h0: WorkspaceHost, v: TunnelVerb, tag: string | undefined): Promise<number> {
  // The kernel's mount table names the resolved path: a home reached through a symlink is compared resolved.
  const h = { ...h0, home: h0.realpath(h0.home) ?? h0.home };
  switch (v.verb) {
    case 'check':
      h.out(JSON.stringify(await check(h)));
      return EXIT.ok;
    case 'authorize-session': {
      const key = parsePublicKey(await readStdin(h));
      if (!key) throw dataError('the session key is not one ssh-ed25519 public key');
      const expires = new Date(h.now().getTime() + SESSION_KEY_DAYS * 86400_000);
      await editAuthorizedKeys(h, (t) => putKey(t, authorizedKeyLine(serverCli(h), key, { kind: 'session', session: v.session, tag: tag!, expires })));
      h.out(JSON.stringify({ authorized: v.session }));
      return EXIT.ok;
    }
    case 'forget': {
      // Every session of this laptop first, then its keys: what it installed, and nothing else.
      const text = h.readText(`${h.home}/.ssh/authorized_keys`) ?? '';
      const sessions = [...text.matchAll(/claude-share:session:([a-z0-9_-]+-\d{8}-\d{6}):([a-z0-9._-]+)\s*$/gm)].filter((m) => m[2] === tag).map((m) => m[1]);
      for (const s of sessions) await umount(h, s);
      let removed = 0;
      await editAuthorizedKeys(h, (t) => {
        const r = dropKeys(t, (c) => c === `claude-share:init:${tag}` || (c.startsWith('claude-share:session:') && c.endsWith(`:${tag}`)));
        removed = r.removed;
        return r.text;
      });
      h.out(JSON.stringify({ keysRemoved: removed, sessionsStopped: sessions.length }));
      return EXIT.ok;
    }
    case 'prepare': {
      await cleanSession(h, v.session);
      const p = remotePaths(h.home, v.session, []);
      h.mkdirp(`${h.home}/.claude-share`, 0o700);
      for (const d of [p.runDir, `${h.home}/.claude-share/mounts`, `${h.home}/.claude-share/extras`]) h.mkdirp(d, 0o700);
      const sshfs = await sshfsInfo(h);
      h.out(JSON.stringify({ home: h.home, main: p.main, socket: p.socket, sshfs }));
      return EXIT.ok;
    }
    case 'mount':
      return mount(h, v.session, v.index, v.source);
    case 'status':
      h.out(JSON.stringify(status(h, v.session)));
      return EXIT.ok;
    case 'umount':
      h.out(JSON.stringify(await umount(h, v.session)));
      return EXIT.ok;
    case 'enter':
      return enter(h, v.session, v.args);
  }
}

function serverCli(h: WorkspaceHost): string {
  const onPath = h.which('claude-share');
  const cli = onPath ?? h.self.join(' ');
  if (/["\\\n]/.test(cli)) throw operatorError(`claude-share's path (${cli}) cannot go into authorized_keys`, 'install claude-share where its path has no quote or backslash');
  return cli;
}

async function readStdin(h: WorkspaceHost): Promise<string> {
  try {
    return await h.readStdin(4096);
  } catch {
    throw dataError('more than 4 KiB on stdin: a public key is one short line');
  }
}

/** One edit at a time (two laptops, or a session starting while another stops): none is lost. */
async function editAuthorizedKeys(h: WorkspaceHost, edit: (text: string) => string): Promise<void> {
  const dir = `${h.home}/.ssh`;
  const file = `${dir}/authorized_keys`;
  if (!h.exists(dir)) h.mkdirp(dir, 0o700);
  await h.exclusive(`${dir}/.claude-share.lock`, () => {
    const before = h.readText(file, 1 << 20) ?? '';
    const after = edit(before);
    if (after !== before) h.writeText(file, after, 0o600);
  });
}

/** At client init, from the member's own login (a password or a key they already had): the laptop's key, restricted. */
async function authorize(h: WorkspaceHost, tag: string): Promise<number> {
  if (!TAG_RE.test(tag)) throw usageError(`"${tag.slice(0, 64)}" is not a tag`, 'claude-share client init makes the tag; run that');
  const key = parsePublicKey(await readStdin(h));
  if (!key) throw dataError('stdin is not one ssh-ed25519 public key', 'claude-share client init sends it; run that');
  await editAuthorizedKeys(h, (t) => putKey(t, authorizedKeyLine(serverCli(h), key, { kind: 'init', tag })));
  h.out(JSON.stringify(await check(h)));
  return EXIT.ok;
}

async function sshfsInfo(h: WorkspaceHost): Promise<ServerCheck['sshfs']> {
  const path = h.which('sshfs');
  if (!path) return null;
  const v = await h.run(path, ['--version'], { timeoutMs: 10_000 });
  const help = await h.run(path, ['-h'], { timeoutMs: 10_000 });
  const version = /SSHFS version (\S+)/.exec(v.stdout + v.stderr)?.[1] ?? 'unknown';
  return { path, version, containSymlinks: (help.stdout + help.stderr).includes('contain_symlinks') };
}

export function findClaude(h: WorkspaceHost): string | null {
  const onPath = h.which('claude');
  if (onPath) return onPath;
  for (const p of [`${h.home}/.local/bin/claude`, `${h.home}/.claude/local/claude`]) if (h.exists(p)) return p;
  return null;
}

async function check(h: WorkspaceHost): Promise<ServerCheck> {
  return {
    protocol: WORKSPACE_PROTOCOL,
    version: h.version,
    user: h.user,
    home: h.home,
    hostname: h.hostname(),
    sshfs: await sshfsInfo(h),
    // Usable by this member, not merely present: a container's /dev/fuse is often root's alone.
    fuse: { device: h.readWrite('/dev/fuse'), fusermount: h.which('fusermount3') ?? h.which('fusermount') },
    claude: findClaude(h),
  };
}

/** This session's mount points, from the kernel's table (the member's own mounts only: they are under their home). */
function sessionMounts(h: WorkspaceHost, session: string): string[] {
  const p = remotePaths(h.home, session, []);
  const extras = `${h.home}/.claude-share/extras/${session}/`;
  return h
    .mountinfo()
    .filter((m) => m.fsType === 'fuse.sshfs' && (m.mountPoint === p.main || m.mountPoint.startsWith(extras)))
    .map((m) => m.mountPoint);
}

function pidFiles(h: WorkspaceHost, session: string): string[] {
  const run = `${h.home}/.claude-share/run`;
  return h
    .listDir(run)
    .filter((f) => f.startsWith(`${session}.`) && f.endsWith('.pid'))
    .map((f) => `${run}/${f}`);
}

/** A previous connection's leftovers: its sshfs processes (only if they still are sshfs), its mounts (lazily), its socket. */
async function cleanSession(h: WorkspaceHost, session: string): Promise<{ unmounted: number; stopped: number }> {
  let stopped = 0;
  for (const f of pidFiles(h, session)) {
    const pid = Number((h.readText(f, 64) ?? '').trim());
    const cmd = Number.isInteger(pid) && pid > 1 ? h.cmdline(pid) : null;
    if (cmd && /(^|\/)sshfs$/.test(cmd[0] ?? '')) {
      h.kill(pid, 'SIGTERM');
      stopped++;
    }
    h.rmFile(f);
  }
  const fusermount = h.which('fusermount3') ?? h.which('fusermount') ?? 'fusermount3';
  let unmounted = 0;
  for (const m of sessionMounts(h, session)) {
    const r = await h.run(fusermount, ['-u', '-z', m], { timeoutMs: 10_000 });
    if (r.code === 0) unmounted++;
  }
  h.rmFile(remotePaths(h.home, session, []).socket);
  return { unmounted, stopped };
}

async function mount(h: WorkspaceHost, session: string, index: number, source: string): Promise<number> {
  const sshfs = await sshfsInfo(h);
  if (!sshfs) throw operatorError('sshfs is not installed on this server', 'the admin installs it: sudo apt-get install sshfs fuse3');
  const p = remotePaths(h.home, session, []);
  const at = index === 0 ? p.main : `${h.home}/.claude-share/extras/${session}/${extraName(index, source)}`;
  for (const m of sessionMounts(h, session)) if (m === at) await h.run(h.which('fusermount3') ?? 'fusermount3', ['-u', '-z', at], { timeoutMs: 10_000 });
  h.mkdirp(at, 0o700);
  // -f: sshfs stays in this process tree, on this channel's stdin/stdout; passive: no ssh of its own, the SFTP stream
  // is the laptop's sftp-server at the other end of the channel. contain_symlinks where this sshfs has it: a link on
  // the laptop never leads outside the mount here.
  const opts = ['passive', 'noatime'];
  if (sshfs.containSymlinks) opts.push('contain_symlinks');
  const child = h.spawnProc(sshfs.path, [`:${source}`, at, '-f', '-o', opts.join(',')], { stdio: 'inherit' });
  h.mkdirp(p.runDir, 0o700);
  h.writeText(`${p.runDir}/${session}.${index}.pid`, `${child.pid}\n`, 0o600);
  const why = await child.ended;
  h.err(`claude-share: ${at}: ${why}`);
  return EXIT.ok;
}

function status(h: WorkspaceHost, only?: string) {
  const root = `${h.home}/.claude-share`;
  const sessions = (only ? [only] : h.listDir(`${root}/mounts`).filter((s) => SESSION_RE.test(s))).map((s) => {
    const mounted = sessionMounts(h, s);
    const p = remotePaths(h.home, s, []);
    const extras = h.listDir(`${root}/extras/${s}`).map((e) => `${root}/extras/${s}/${e}`);
    return {
      session: s,
      main: { path: p.main, mounted: mounted.includes(p.main) },
      extras: extras.map((e) => ({ path: e, mounted: mounted.includes(e) })),
      socket: h.exists(p.socket),
    };
  });
  return { protocol: WORKSPACE_PROTOCOL, hostname: h.hostname(), sessions };
}

async function umount(h: WorkspaceHost, session: string) {
  const { unmounted, stopped } = await cleanSession(h, session);
  const root = `${h.home}/.claude-share`;
  // Mount points go with rmdir only, never a recursive removal: if one were still mounted, that would delete the
  // member's files on their machine. A directory that is not empty stays.
  const extras = `${root}/extras/${session}`;
  for (const e of h.listDir(extras)) h.rmdir(`${extras}/${e}`);
  h.rmdir(extras);
  h.rmdir(remotePaths(h.home, session, []).main);
  let keysRemoved = 0;
  await editAuthorizedKeys(h, (t) => {
    const r = dropKeys(t, (c) => c.startsWith(`claude-share:session:${session}:`));
    keysRemoved = r.removed;
    return r.text;
  });
  return { session, unmounted, stopped, keysRemoved };
}

async function enter(h: WorkspaceHost, session: string, args: string[]): Promise<number> {
  const main = remotePaths(h.home, session, []).main;
  if (!sessionMounts(h, session).includes(main)) throw operatorError(`session ${session} is not mounted on ${h.hostname()}`, 'run cs live again on your machine');
  const claude = findClaude(h);
  if (!claude) {
    h.err(`claude-share: Claude Code is not installed for ${h.user} on ${h.hostname()}; the session is live at ${main}.`);
    h.err('  fix: install it on the server (npm install -g @anthropic-ai/claude-code, or ask the admin), then run cs live again');
    return EXIT.operator;
  }
  return h.runInteractive(claude, args, { cwd: main, env: { ...(h.env as Record<string, string>), CLAUDE_SHARE_SESSION: session } });
}

/** `cs run NAME` on the server: the session is the one the working directory is in (or CLAUDE_SHARE_SESSION). */
async function runNamed(h0: WorkspaceHost, name: string): Promise<number> {
  // The working directory comes resolved from the kernel: so must the home it is compared with.
  const h = { ...h0, home: h0.realpath(h0.home) ?? h0.home };
  const root = `${h.home}/.claude-share`;
  const cwd = h.cwd();
  const m = new RegExp(`^${root.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/(?:mounts|extras)/([^/]+)`).exec(cwd);
  const session = m?.[1] ?? h.env.CLAUDE_SHARE_SESSION;
  if (!session || !SESSION_RE.test(session)) throw usageError('not inside a live session', 'cd into ~/.claude-share/mounts/<session> (cs live puts claude there)');
  return h.runViaSocket(remotePaths(h.home, session, []).socket, name);
}
