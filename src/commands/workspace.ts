/**
 * The laptop's half of workspace mode (issue 16), run as the member on their own machine: `client init|status|
 * uninstall`, `cs live|add|list|remove|where|status|stop`, and the supervisor (`tunnel serve`) that holds the one
 * SSH connection, the mounts' SFTP streams (through the guard) and the command runner, and reconnects.
 *
 * Files: ~/.config/claude-share/ (profile.json, the init key, known_hosts, extras.json) and ~/.local/state/claude-share/
 * (live.json, and one directory per session: its key, the control and command sockets, state.json, serve.log).
 */
import { EXIT, dataError, operatorError, usageError } from '../core/errors.js';
import {
  MAX_EXTRAS,
  SESSION_RE,
  SFTP_SERVER_PATHS,
  TAG_RE,
  WORKSPACE_PROTOCOL,
  encodeArg,
  extraName,
  parseCommands,
  parseTarget,
  plainAbsolute,
  remotePaths,
  sessionName,
  welcome,
  type Profile,
  type ServerCheck,
  type Target,
} from '../core/workspace.js';
import type { Proc, WorkspaceHost } from '../system/workspace-host.js';

export type ClientOptions =
  | { action: 'init'; target: string; port?: number; json?: boolean }
  | { action: 'client-status'; json?: boolean }
  | { action: 'uninstall' }
  | { action: 'live'; noClaude?: boolean; args: string[] }
  | { action: 'add' | 'remove'; dir: string }
  | { action: 'list' }
  | { action: 'where' }
  | { action: 'status'; json?: boolean }
  | { action: 'stop' }
  | { action: 'serve'; session: string }
  | { action: 'tunnel-status'; json?: boolean }
  | { action: 'tunnel-umount'; session: string }
  | { action: 'tunnel-mount' };

interface Dirs {
  config: string;
  state: string;
}
const dirsOf = (h: WorkspaceHost): Dirs => ({
  config: `${h.env.XDG_CONFIG_HOME?.startsWith('/') ? h.env.XDG_CONFIG_HOME : `${h.home}/.config`}/claude-share`,
  state: `${h.env.XDG_STATE_HOME?.startsWith('/') ? h.env.XDG_STATE_HOME : `${h.home}/.local/state`}/claude-share`,
});

interface SessionFile {
  session: string;
  dir: string;
  extras: string[];
  commands: Record<string, string[]>;
}
interface SessionState {
  pid: number;
  phase: 'connecting' | 'live' | 'reconnecting' | 'stopping';
  since: string;
  reconnects: number;
  remote?: { home: string; main: string; extras: string[]; socket: string };
  sshfs?: ServerCheck['sshfs'];
  error?: string;
}
interface Live {
  session: string;
  pid: number;
  dir: string;
}

/** Keepalive: the server is declared gone after interval × count seconds without an answer. */
const keepalive = (h: WorkspaceHost) => {
  const n = Number(h.env.CLAUDE_SHARE_KEEPALIVE ?? 15);
  return Number.isInteger(n) && n >= 1 && n <= 600 ? n : 15;
};

function readJson<T>(h: WorkspaceHost, path: string): T | null {
  const t = h.readText(path, 1 << 20);
  if (t === null) return null;
  try {
    return JSON.parse(t) as T;
  } catch {
    throw dataError(`${path} is not valid JSON`, `remove it and run the command again`);
  }
}

function profileOf(h: WorkspaceHost): Profile {
  const p = readJson<Profile>(h, `${dirsOf(h).config}/profile.json`);
  if (!p) throw usageError('no server profile on this machine', 'run claude-share client init USER@HOST first');
  return p;
}

const target = (p: Target) => `${p.user}@${p.host}`;

/**
 * What every connection overrides in the member's own ssh configuration: nothing of the laptop is forwarded (their
 * agent, X11, a RemoteForward they configured for other hosts) and no local command runs, whatever ~/.ssh/config says
 * or the server's side of authorized_keys allows. Host keys: ours (learnt at client init) and the member's own.
 */
function sshHardening(h: WorkspaceHost): string[] {
  const files = [`${dirsOf(h).config}/known_hosts`, `${h.home}/.ssh/known_hosts`];
  if (files.some((f) => f.includes('"'))) throw usageError('the home directory has a double quote in its path', 'ssh cannot be given such a known_hosts path');
  return [
    '-o', 'ForwardAgent=no',
    '-o', 'ForwardX11=no',
    '-o', 'ClearAllForwardings=yes',
    '-o', 'PermitLocalCommand=no',
    '-o', 'Tunnel=no',
    '-o', `UserKnownHostsFile=${files.map((f) => `"${f}"`).join(' ')}`,
  ]; // prettier-ignore
}

/** ssh's options, the same for every connection: our key only, no prompt, keepalives. */
function sshBase(h: WorkspaceHost, p: Target, key: string): string[] {
  const k = keepalive(h);
  return [
    ...sshHardening(h),
    '-o', 'BatchMode=yes',
    '-o', 'IdentitiesOnly=yes',
    '-o', `IdentityFile=${key}`,
    '-o', 'StrictHostKeyChecking=yes',
    '-o', `ServerAliveInterval=${k}`,
    '-o', 'ServerAliveCountMax=3',
    '-o', 'ConnectTimeout=10',
    '-o', 'LogLevel=ERROR',
    '-p', String(p.port),
  ]; // prettier-ignore
}

/** A connection of its own, never a master the member's ssh configuration may have running. */
const sshDirect = (h: WorkspaceHost, p: Target, key: string) => [...sshBase(h, p, key), '-o', 'ControlMaster=no', '-o', 'ControlPath=none'];

function sftpServer(h: WorkspaceHost): string | null {
  return SFTP_SERVER_PATHS.find((p) => h.exists(p)) ?? null;
}

/** user.host.random: two laptops of the same name never take each other's keys on the server. */
function laptopTag(h: WorkspaceHost): string {
  const t = `${h.user}.${h.hostname()}`
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, '-')
    .replace(/^[^a-z0-9]+/, '')
    .slice(0, 48);
  return `${TAG_RE.test(t) ? t : 'laptop'}.${h.randomHex(4)}`;
}

export async function runClient(h: WorkspaceHost, o: ClientOptions): Promise<number> {
  switch (o.action) {
    case 'init':
      return init(h, o.target, o.port, !!o.json);
    case 'client-status':
      return clientStatus(h, !!o.json);
    case 'uninstall':
      return uninstall(h);
    case 'live':
      return live(h, o.args, !!o.noClaude);
    case 'add':
    case 'remove':
      return editExtras(h, o.action, o.dir);
    case 'list':
      return listExtras(h);
    case 'where':
      return where(h);
    case 'status':
      return status(h, !!o.json);
    case 'stop':
      return stop(h);
    case 'serve':
      return serve(h, o.session);
    case 'tunnel-status':
    case 'tunnel-umount': {
      const p = profileOf(h);
      if (o.action === 'tunnel-umount' && !SESSION_RE.test(o.session))
        throw usageError(`"${o.session.slice(0, 64)}" is not a session name`, 'claude-share tunnel status lists them (name-YYYYMMDD-HHMMSS)');
      const args = o.action === 'tunnel-status' ? ['status'] : ['umount', o.session];
      const r = await h.run('ssh', [...sshDirect(h, p, `${dirsOf(h).config}/id_ed25519`), target(p), 'tunnel', ...args], { timeoutMs: 60_000 });
      if (r.code !== 0)
        throw operatorError(
          `${p.host} ${r.code === 255 ? 'was not reached' : `refused (exit ${r.code})`}: ${r.stderr.trim().slice(0, 300)}`,
          'claude-share client status shows the profile; claude-share client init again if the two sides differ',
        );
      if (o.action === 'tunnel-status' && !o.json) {
        const v = JSON.parse(r.stdout) as { hostname: string; sessions: { session: string; main: { path: string; mounted: boolean }; extras: { path: string; mounted: boolean }[] }[] };
        if (!v.sessions.length) h.out(`${v.hostname}: no session of yours`);
        for (const s of v.sessions) for (const m of [s.main, ...s.extras]) h.out(`${s.session}\t${m.mounted ? 'mounted' : 'not mounted'}\t${m.path}`);
      } else h.out(r.stdout.trim());
      return EXIT.ok;
    }
    case 'tunnel-mount': {
      const code = await live(h, [], true);
      if (code === EXIT.ok) h.out('mounted; claude-share tunnel umount SESSION (or cs stop) ends it');
      return code;
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------
// client init / status / uninstall

async function init(h: WorkspaceHost, spec: string, port: number | undefined, json: boolean): Promise<number> {
  const t = parseTarget(spec, port);
  if (typeof t === 'string') throw usageError(t, 'claude-share client init alice@server.example.org (add --port N for another port)');
  const missing = ['ssh', 'ssh-keygen'].filter((p) => !h.which(p));
  if (missing.length || !sftpServer(h))
    throw operatorError(
      `this machine lacks ${[...missing, ...(sftpServer(h) ? [] : ['sftp-server'])].join(', ')}`,
      "install OpenSSH's client and sftp-server (Debian: sudo apt-get install openssh-client openssh-sftp-server)",
    );
  const d = dirsOf(h);
  h.mkdirp(d.config, 0o700);
  const key = `${d.config}/id_ed25519`;
  // The same laptop again (the key and a profile for this server): the same tag, so its line is replaced, not added.
  // The key's own comment names the tag it was made with (a failed init, rerun, must not leave a second line).
  const commented = /\bclaude-share:init:([a-z0-9._-]+)\s*$/.exec(h.readText(`${key}.pub`, 4096) ?? '')?.[1];
  const tag = commented && TAG_RE.test(commented) && h.exists(key) ? commented : laptopTag(h);
  if (!h.exists(key)) {
    const r = await h.run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', `claude-share:init:${tag}`, '-f', key], { timeoutMs: 30_000 });
    if (r.code !== 0) throw operatorError(`ssh-keygen failed: ${r.stderr.trim()}`);
    h.err(`claude-share: made the key ${key}`);
  } else h.err(`claude-share: reusing the key ${key}`);
  const pub = h.readText(`${key}.pub`, 4096) ?? '';
  // The first connection is the member's own login (their password or key, their terminal): it installs our key,
  // restricted to the forced command. The host key is learnt here, once, and checked on every later connection.
  const first = await h.runInteractive('ssh', [
    ...sshHardening(h),
    '-o', 'ControlMaster=no',
    '-o', 'ControlPath=none',
    '-o', 'StrictHostKeyChecking=accept-new',
    '-o', 'ConnectTimeout=15',
    '-o', 'LogLevel=ERROR',
    '-p', String(t.port),
    target(t),
    'claude-share', 'tunnel', 'authorize', '--tag', tag,
  ], { stdinText: pub }); // prettier-ignore
  if (first === 127)
    throw operatorError(
      `claude-share is not installed on ${t.host} (or not on ${t.user}'s PATH)`,
      `the server's admin installs it (install.sh in the README); then run claude-share client init ${spec} again`,
    );
  if (first !== 0) throw operatorError(`could not install the key on ${t.host} (ssh exit ${first})`, `check that ssh -p ${t.port} ${target(t)} works with your password or key, then run this again`);
  // Then the key alone, as every later connection: it must work and the server must have what a mount needs.
  const r = await h.run('ssh', [...sshDirect(h, t, key), target(t), 'tunnel', 'check'], { timeoutMs: 30_000 });
  if (r.code !== 0)
    throw operatorError(
      `the new key does not work on ${t.host}: ${r.stderr.trim().slice(0, 300)}`,
      'the server must allow public keys (PubkeyAuthentication yes) and stream forwarding; ask its admin',
    );
  let server: ServerCheck;
  try {
    server = JSON.parse(r.stdout) as ServerCheck;
  } catch {
    throw operatorError(`the server answered something else than its check: ${r.stdout.slice(0, 200)}`);
  }
  if (server.protocol !== WORKSPACE_PROTOCOL)
    throw operatorError(
      `the server's claude-share (${server.version}) speaks protocol ${server.protocol}, this one (${h.version}) ${WORKSPACE_PROTOCOL}`,
      'install the same claude-share release on both sides',
    );
  const profile: Profile = { ...t, tag, serverCli: 'claude-share', server, savedAt: h.now().toISOString() };
  h.writeText(`${d.config}/profile.json`, JSON.stringify(profile, null, 2) + '\n', 0o600);
  const problems = serverProblems(server);
  if (json) h.out(JSON.stringify({ profile, problems }));
  else {
    for (const l of describeProfile(h, profile)) h.out(l);
    for (const p of problems) h.err(`claude-share: warning: ${p}`);
  }
  return problems.length ? EXIT.operator : EXIT.ok;
}

function serverProblems(s: ServerCheck): string[] {
  const out: string[] = [];
  if (!s.sshfs) out.push('sshfs is not installed on the server: the admin runs apt-get install sshfs');
  if (!s.fuse.device || !s.fuse.fusermount)
    out.push('FUSE is not usable on the server (/dev/fuse must be there and read-write for members, fusermount3 installed): the admin runs apt-get install fuse3');
  return out;
}

function describeProfile(h: WorkspaceHost, p: Profile): string[] {
  const s = p.server;
  return [
    `server:       ${target(p)} port ${p.port} (${s.hostname}), claude-share ${s.version}`,
    `key:          ${dirsOf(h).config}/id_ed25519 (restricted on the server to claude-share's tunnel; tag ${p.tag})`,
    `sshfs:        ${s.sshfs ? `${s.sshfs.version} at ${s.sshfs.path}, ${s.sshfs.containSymlinks ? 'contains symlinks (contain_symlinks)' : 'no contain_symlinks: links that leave a mount are refused on this machine only'}` : 'NOT INSTALLED'}`,
    `FUSE:         ${s.fuse.device && s.fuse.fusermount ? `/dev/fuse, ${s.fuse.fusermount}` : 'MISSING'}`,
    `claude:       ${s.claude ?? 'not installed for this member on the server (cs live will say so)'}`,
    `this machine: claude-share ${h.version}, ${sftpServer(h) ?? 'no sftp-server'}`,
  ];
}

function clientStatus(h: WorkspaceHost, json: boolean): number {
  const p = profileOf(h);
  if (json) h.out(JSON.stringify({ profile: p, key: h.exists(`${dirsOf(h).config}/id_ed25519`) }));
  else for (const l of describeProfile(h, p)) h.out(l);
  return EXIT.ok;
}

async function uninstall(h: WorkspaceHost): Promise<number> {
  const d = dirsOf(h);
  const p = profileOf(h);
  const liveNow = readJson<Live>(h, `${d.state}/live.json`);
  if (liveNow && running(h, liveNow)) await stop(h);
  const r = await h.run('ssh', [...sshDirect(h, p, `${d.config}/id_ed25519`), target(p), 'tunnel', 'forget'], { timeoutMs: 60_000 });
  if (r.code !== 0) throw operatorError(`could not remove the keys from ${p.host}: ${r.stderr.trim().slice(0, 300)}`, 'nothing was removed here; run it again when the server is reachable');
  h.out(`removed from ${p.host}: ${r.stdout.trim()}`);
  h.remove(d.config);
  h.remove(d.state);
  h.out(`removed ${d.config} and ${d.state}`);
  return EXIT.ok;
}

// ---------------------------------------------------------------------------------------------------------------
// cs add / list / remove

function extrasOf(h: WorkspaceHost): string[] {
  return readJson<string[]>(h, `${dirsOf(h).config}/extras.json`) ?? [];
}

function editExtras(h: WorkspaceHost, action: 'add' | 'remove', dir: string): number {
  const abs = dir.startsWith('/') ? dir : `${h.cwd()}/${dir}`;
  const real = h.realpath(abs);
  const list = extrasOf(h);
  if (action === 'add') {
    if (!real || !h.isDir(real)) throw usageError(`${dir} is not a directory`, 'cs add DIR, with a directory of this machine');
    const bad = tooWide(h, real) ?? list.map((e) => (overlap(real, e) && real !== e ? `it overlaps ${e}, already attached` : null)).find(Boolean);
    if (bad) throw usageError(`${real} cannot be attached: ${bad}`, 'attach a project-sized directory that no other attached one contains');
    if (list.includes(real)) {
      h.out(`already attached: ${real}`);
      return EXIT.ok;
    }
    if (list.length >= MAX_EXTRAS) throw usageError(`already ${MAX_EXTRAS} extra directories`, 'cs remove one first (cs list shows them)');
    list.push(real);
  } else {
    const at = list.indexOf(real ?? abs);
    if (at < 0) throw usageError(`${dir} is not attached`, 'cs list shows the attached directories');
    list.splice(at, 1);
  }
  h.mkdirp(dirsOf(h).config, 0o700);
  h.writeText(`${dirsOf(h).config}/extras.json`, JSON.stringify(list, null, 2) + '\n', 0o600);
  h.out(`${action === 'add' ? 'attached' : 'detached'}: ${real ?? abs} (from the next cs live)`);
  return EXIT.ok;
}

/** One contains the other (or they are the same): two mounts would serve the same files, each guard blind to the other. */
const overlap = (a: string, b: string) => a === b || a.startsWith(`${b}/`) || b.startsWith(`${a}/`);

/** A directory too wide to publish: /, the home, or one that contains the home (its keys, its configuration). */
function tooWide(h: WorkspaceHost, dir: string): string | null {
  const home = h.realpath(h.home) ?? h.home;
  if (dir === '/') return 'it is /';
  if (dir === home || home.startsWith(`${dir}/`)) return `it is or contains your home ${home}`;
  return null;
}

function listExtras(h: WorkspaceHost): number {
  const list = extrasOf(h);
  if (!list.length) h.out('no extra directories (cs add DIR attaches one to the next sessions)');
  list.forEach((d, i) => h.out(`${extraName(i + 1, d)}\t${d}`));
  return EXIT.ok;
}

// ---------------------------------------------------------------------------------------------------------------
// cs live / where / status / stop

/** The session's supervisor is still that process (a pid the kernel gave to another program since is not signalled). */
function running(h: WorkspaceHost, live: Live): boolean {
  if (!h.alive(live.pid)) return false;
  const cmd = h.cmdline(live.pid);
  return cmd === null || (cmd.includes('serve') && cmd.includes(live.session));
}

function liveSession(h: WorkspaceHost): { live: Live; state: SessionState | null } | null {
  const d = dirsOf(h);
  const live = readJson<Live>(h, `${d.state}/live.json`);
  if (!live) return null;
  return { live, state: readJson<SessionState>(h, `${d.state}/${live.session}/state.json`) };
}

async function live(h: WorkspaceHost, args: string[], noClaude: boolean): Promise<number> {
  const p = profileOf(h);
  const d = dirsOf(h);
  const dir = h.realpath(h.cwd());
  if (!dir) throw usageError('the working directory is gone');
  const wide = tooWide(h, dir);
  if (wide) throw usageError(`refusing to publish ${dir}: ${wide}`, 'cd into a project directory and run cs live there');
  const sftp = sftpServer(h);
  if (!sftp) throw operatorError('sftp-server is not installed on this machine', 'Debian: sudo apt-get install openssh-sftp-server');
  let cur = liveSession(h);
  if (cur && !running(h, cur.live)) {
    h.err(`claude-share: session ${cur.live.session} had stopped; cleaning it up`);
    await stop(h);
    cur = null;
  }
  let session: string;
  const started = !cur;
  if (cur) {
    if (cur.live.dir !== dir) throw usageError(`session ${cur.live.session} is live for ${cur.live.dir}`, 'cs stop ends it; then cs live here');
    session = cur.live.session;
  } else {
    const extras = extrasOf(h).filter((e) => h.isDir(e));
    const clash = extras.find((e) => overlap(e, dir) || tooWide(h, e));
    if (clash) throw usageError(`the attached directory ${clash} overlaps this project (or is too wide to publish)`, `cs remove ${clash}, or run cs live in another directory`);
    session = sessionName(dir, h.now());
    const allow = h.readText(`${dir}/.claude-share/commands`, 65536);
    const parsed = parseCommands(allow ?? '');
    for (const pr of parsed.problems) h.err(`claude-share: .claude-share/commands: ${pr}`);
    const sdir = `${d.state}/${session}`;
    h.mkdirp(d.state, 0o700);
    h.mkdirp(sdir, 0o700);
    const sf: SessionFile = { session, dir, extras, commands: parsed.commands };
    h.writeText(`${sdir}/session.json`, JSON.stringify(sf, null, 2) + '\n', 0o600);
    // A key for this session alone, installed through the init key; cs stop removes it, and it expires on its own.
    const kg = await h.run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', `claude-share:session:${session}`, '-f', `${sdir}/key`], { timeoutMs: 30_000 });
    if (kg.code !== 0) {
      h.remove(sdir);
      throw operatorError(`ssh-keygen failed: ${kg.stderr.trim()}`);
    }
    const auth = await h.run('ssh', [...sshDirect(h, p, `${d.config}/id_ed25519`), target(p), 'tunnel', 'authorize-session', session], {
      stdin: h.readText(`${sdir}/key.pub`, 4096) ?? '',
      timeoutMs: 30_000,
    });
    if (auth.code !== 0) {
      h.remove(sdir);
      throw operatorError(`${p.host} refused the session key: ${auth.stderr.trim().slice(0, 300)}`, 'check the server with claude-share client status, or run claude-share client init again');
    }
    const pid = h.spawnDetached(h.self[0], [...h.self.slice(1), 'tunnel', 'serve', '--session', session], `${sdir}/serve.log`);
    h.writeText(`${d.state}/live.json`, JSON.stringify({ session, pid, dir } satisfies Live) + '\n', 0o600);
    cur = liveSession(h);
  }
  // Up to a minute for the connection and the mounts (a session met again may be reconnecting).
  const sdir = `${d.state}/${session}`;
  const deadline = h.now().getTime() + 60_000;
  for (;;) {
    const st = readJson<SessionState>(h, `${sdir}/state.json`);
    if (st?.phase === 'live' && st.remote) break;
    if (!running(h, cur!.live) || h.now().getTime() > deadline) {
      const log = (h.readText(`${sdir}/serve.log`, 1 << 20) ?? '').trim().split('\n').slice(-8);
      for (const l of log) h.err(`  ${l}`);
      // One this run started goes again; one met again (live before, reconnecting now) is left to reconnect.
      if (started) await stop(h);
      else throw operatorError(`session ${session} is not live now (${st?.phase ?? 'stopped'}${st?.error ? `: ${st.error}` : ''})`, 'wait for the server to answer (cs status), or cs stop');
      throw operatorError(`the session did not come up${st?.error ? `: ${st.error}` : ''}`, `the lines above are the end of its log; claude-share client status checks the server`);
    }
    await h.sleep(200);
  }
  cur = liveSession(h);
  const st = cur!.state!;
  const sf = readJson<SessionFile>(h, `${d.state}/${session}/session.json`)!;
  for (const l of welcome({
    server: `${target(p)} (${p.server.hostname})`,
    session,
    main: st.remote!.main,
    local: dir,
    extras: st.remote!.extras.map((r, i) => ({ remote: r, local: sf.extras[i] })),
    commands: Object.keys(sf.commands),
  }))
    h.out(l);
  if (noClaude) return EXIT.ok;
  const tty = h.stdinIsTTY;
  return h.runInteractive('ssh', [
    ...sshBase(h, p, `${d.state}/${session}/key`),
    '-S',
    `${d.state}/${session}/ctl`,
    tty ? '-tt' : '-T',
    target(p),
    'tunnel',
    'enter',
    session,
    encodeArg(JSON.stringify(args)),
  ]);
}

function where(h: WorkspaceHost): number {
  const cur = liveSession(h);
  if (!cur?.state?.remote || !running(h, cur.live)) throw usageError('no live session', 'cs live starts one');
  h.out(cur.state.remote.main);
  for (const e of cur.state.remote.extras) h.out(e);
  return EXIT.ok;
}

function status(h: WorkspaceHost, json: boolean): number {
  const d = dirsOf(h);
  const profile = readJson<Profile>(h, `${d.config}/profile.json`);
  const cur = liveSession(h);
  const alive = !!cur && running(h, cur.live);
  const sf = cur ? readJson<SessionFile>(h, `${d.state}/${cur.live.session}/session.json`) : null;
  const v = {
    profile: profile ? { user: profile.user, host: profile.host, port: profile.port, server: profile.server.hostname } : null,
    session: cur
      ? {
          name: cur.live.session,
          dir: cur.live.dir,
          running: alive,
          phase: alive ? (cur.state?.phase ?? 'connecting') : 'stopped',
          reconnects: cur.state?.reconnects ?? 0,
          main: cur.state?.remote?.main ?? null,
          extras: (cur.state?.remote?.extras ?? []).map((r, i) => ({ remote: r, local: sf?.extras[i] ?? null })),
          commands: Object.keys(sf?.commands ?? {}),
          sshfs: cur.state?.sshfs ?? null,
        }
      : null,
    extras: extrasOf(h),
  };
  if (json) {
    h.out(JSON.stringify(v));
    return EXIT.ok;
  }
  h.out(v.profile ? `server:  ${v.profile.user}@${v.profile.host} port ${v.profile.port} (${v.profile.server})` : 'server:  none (claude-share client init USER@HOST)');
  if (!v.session) h.out('session: none (cs live in a project directory starts one)');
  else {
    h.out(`session: ${v.session.name} (${v.session.phase}${v.session.reconnects ? `, ${v.session.reconnects} reconnects` : ''})`);
    h.out(`  ${v.session.main ?? '?'}  <=  ${v.session.dir}`);
    for (const e of v.session.extras) h.out(`  ${e.remote}  <=  ${e.local}`);
  }
  for (const e of v.extras) h.out(`extra:   ${e}`);
  return EXIT.ok;
}

async function stop(h: WorkspaceHost): Promise<number> {
  const d = dirsOf(h);
  const cur = liveSession(h);
  if (!cur) {
    h.out('no live session');
    return EXIT.ok;
  }
  const { session, pid } = cur.live;
  if (running(h, cur.live)) {
    h.kill(pid, 'SIGTERM');
    for (let i = 0; i < 100 && h.alive(pid); i++) await h.sleep(150);
    if (running(h, cur.live)) {
      h.kill(pid, 'SIGKILL');
      // its master connection would outlive it
      const prof = readJson<Profile>(h, `${d.config}/profile.json`);
      if (prof) await h.run('ssh', ['-F', 'none', '-S', `${d.state}/${session}/ctl`, '-O', 'exit', target(prof)], { timeoutMs: 3000 });
    }
  }
  // Whatever the supervisor could not do (it was gone, or the link was down), through the init key.
  const p = readJson<Profile>(h, `${d.config}/profile.json`);
  let remote = '';
  if (p) {
    const r = await h.run('ssh', [...sshDirect(h, p, `${d.config}/id_ed25519`), target(p), 'tunnel', 'umount', session], { timeoutMs: 60_000 });
    remote = r.code === 0 ? r.stdout.trim() : `not reached (${r.stderr.trim().slice(0, 200)}); its key expires on its own`;
  }
  h.remove(`${d.state}/${session}`);
  h.remove(`${d.state}/live.json`);
  h.out(`stopped ${session}; server: ${remote}`);
  return EXIT.ok;
}

// ---------------------------------------------------------------------------------------------------------------
// The supervisor: one connection, its mounts and the command runner; reconnects until told to stop.

async function serve(h: WorkspaceHost, session: string): Promise<number> {
  const d = dirsOf(h);
  const sdir = `${d.state}/${session}`;
  const p = profileOf(h);
  const sf = readJson<SessionFile>(h, `${sdir}/session.json`);
  if (!sf) throw usageError(`no session ${session}`, 'cs live starts one');
  const sftp = sftpServer(h)!;
  const key = `${sdir}/key`;
  const ctl = `${sdir}/ctl`;
  const log = (l: string) => h.err(`${h.now().toISOString()} ${l}`);
  const state: SessionState = { pid: process.pid, phase: 'connecting', since: h.now().toISOString(), reconnects: 0 };
  const save = () => h.writeText(`${sdir}/state.json`, JSON.stringify(state, null, 2) + '\n', 0o600);
  save();
  const base = sshBase(h, p, key);
  const commands = await h.serveCommands(`${sdir}/cmd.sock`, { allowed: sf.commands, dir: sf.dir, published: [sf.dir, ...sf.extras], session, log });
  let stopping = false;
  let wake: () => void = () => {};
  const stopped = new Promise<string>((r) => (wake = () => r('stop')));
  h.onSignal(() => {
    stopping = true;
    wake();
  });
  let procs: Proc[] = [];
  const remote = (args: string[], timeoutMs = 20_000) => h.run('ssh', [...base, '-S', ctl, '-o', 'ControlMaster=no', target(p), 'tunnel', ...args], { timeoutMs });
  let backoff = 1000;
  // The control commands (-O) read no configuration (-F none): `-O forward` would otherwise also send every
  // RemoteForward of the member's ~/.ssh/config to the master.
  while (!stopping) {
    const master = h.spawnProc('ssh', [...base, '-M', '-S', ctl, '-N', '-o', 'ControlPersist=no', '-o', 'ExitOnForwardFailure=yes', target(p)], { logTo: `${sdir}/serve.log` });
    procs = [master];
    try {
      let up = false;
      for (let i = 0; i < 100 && !up; i++) {
        if ((await h.run('ssh', ['-F', 'none', '-S', ctl, '-O', 'check', target(p)], { timeoutMs: 5000 })).code === 0) up = true;
        else if (await Promise.race([master.ended.then(() => true), h.sleep(200).then(() => false)])) break;
      }
      if (!up) throw new Error('the connection did not come up');
      const prep = await remote(['prepare', session]);
      if (prep.code !== 0) throw new Error(`prepare: ${prep.stderr.trim()}`);
      const info = JSON.parse(prep.stdout) as { home: string; main: string; socket: string; sshfs: ServerCheck['sshfs'] };
      // The server's answer goes into ssh's -R only as the path this session's socket must have there.
      if (typeof info.home !== 'string' || !plainAbsolute(info.home) || /[\s:]/.test(info.home) || info.socket !== remotePaths(info.home, session, []).socket)
        throw new Error("the server answered prepare with paths that are not this session's");
      const fwd = await h.run('ssh', ['-F', 'none', '-S', ctl, '-O', 'forward', '-R', `${info.socket}:${sdir}/cmd.sock`, target(p)], { timeoutMs: 10_000 });
      if (fwd.code !== 0) throw new Error(`the command socket was not forwarded: ${fwd.stderr.trim()}`);
      const dirs = [sf.dir, ...sf.extras];
      for (const [i, dir] of dirs.entries()) {
        const ch = h.sftpChannel({ program: 'ssh', args: [...base, '-S', ctl, '-o', 'ControlMaster=no', target(p), 'tunnel', 'mount', session, String(i), encodeArg(dir)] }, sftp, dir, (l) =>
          log(`mount ${i}: ${l}`),
        );
        procs.push(ch);
      }
      const paths = remotePaths(info.home, session, sf.extras);
      let mounted = false;
      for (let i = 0; i < 50 && !mounted; i++) {
        await h.sleep(200);
        const st = await remote(['status', session]);
        if (st.code !== 0) continue;
        const s = (JSON.parse(st.stdout) as { sessions: { main: { mounted: boolean }; extras: { mounted: boolean }[] }[] }).sessions[0];
        mounted = !!s && s.main.mounted && s.extras.filter((e) => e.mounted).length === sf.extras.length;
      }
      if (!mounted) throw new Error('the mounts did not come up (see the remote lines above)');
      Object.assign(state, { phase: 'live', since: h.now().toISOString(), remote: { home: info.home, main: paths.main, extras: paths.extras, socket: paths.socket }, sshfs: info.sshfs });
      delete state.error;
      save();
      log(`live: ${paths.main}${state.reconnects ? ` (reconnect ${state.reconnects})` : ''}`);
      backoff = 1000;
      const why = await Promise.race([stopped, ...procs.map((x) => x.ended)]);
      if (stopping) break;
      log(`link lost: ${why}`);
    } catch (e) {
      if (stopping) break;
      state.error = (e as Error).message;
      log(`not live: ${state.error}`);
    }
    for (const x of procs) x.stop();
    state.phase = 'reconnecting';
    state.reconnects++;
    save();
    await Promise.race([h.sleep(backoff), stopped]);
    backoff = Math.min(backoff * 2, 10_000);
  }
  // Stopping, within cs stop's 15 s even when the link is half dead: the named commands first (they run here), then
  // the mount channels (sshfs sees its stream close and unmounts), then the server cleans up what is left and
  // removes the session key, through the connection if it still answers.
  state.phase = 'stopping';
  save();
  await commands.close();
  for (const x of procs.slice(1)) x.stop();
  const r = await remote(['umount', session], 8_000);
  log(`stop: ${r.code === 0 ? r.stdout.trim() : `the server was not reached (${r.stderr.trim()})`}`);
  await h.run('ssh', ['-F', 'none', '-S', ctl, '-O', 'exit', target(p)], { timeoutMs: 3000 });
  for (const x of procs) x.stop();
  return EXIT.ok;
}
