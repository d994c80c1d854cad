import { rootOnly } from '../core/trust.js';
import * as fs from 'node:fs';
import * as os from 'node:os';
import { childProcess } from './lazy.js';
import { operatorError } from '../core/errors.js';
import type { MemberProcess, MemberRun, UserEntry } from './system.js';

/**
 * Acting as a member, for doctor and login (the only two places that run a program for a member; every other step
 * works on files through pinned descriptors, real-system.ts). Threat model:
 *   - root never changes its own identity: setpriv(1) and runuser(1), both util-linux (Essential on Debian), switch
 *     uid, gid and groups in the child, with no new privileges (setpriv) and a clean environment built here;
 *   - the program run is one only root could have put there (trustedExecutable), never one from a member's PATH;
 *   - a program without a terminal runs in a session of its own (setsid), stdin closed; with a terminal (a sign-in
 *     that asks for a code) it gets a pseudo-terminal of its own (runuser --pty), never root's: no TIOCSTI into root's
 *     shell, no reading root's keystrokes after it ends;
 *   - whatever it prints is the member's: bounded here, parsed by the caller for a few fields, never printed raw;
 *   - it cannot hold root up: killed (its whole process group, never after it was reaped) at a timeout, given up 2 s
 *     later if it cannot die (traced, stuck in a FUSE read), and a child that left the group and kept the pipes open
 *     is not waited for;
 *   - it runs with umask 002 (what members' logins get), so a file its client rewrites keeps group access; root's
 *     proxy credentials (a user:password in *_PROXY) are not handed over.
 */

const SAFE_PATH = '/usr/local/bin:/usr/bin:/bin';
/** From root's environment to the member's program: what reaching the network needs here, nothing else. */
const PASS_ENV = ['NODE_EXTRA_CA_CERTS', 'HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy', 'NO_PROXY', 'no_proxy', 'LANG'];

/** setpriv and runuser by absolute path (the member's environment has no sbin in its PATH). */
function utilLinux(name: 'setpriv' | 'runuser'): string {
  for (const d of ['/usr/bin', '/usr/sbin', '/bin', '/sbin']) {
    const st = fs.statSync(`${d}/${name}`, { throwIfNoEntry: false });
    if (st?.isFile() && st.uid === 0 && !(st.mode & 0o022)) return `${d}/${name}`;
  }
  throw operatorError(`${name} is not installed: it runs a program as a member`, 'install util-linux (Debian: apt-get install util-linux)');
}

export function memberEnv(u: UserEntry, extra: Record<string, string> = {}, withTerm = false): Record<string, string> {
  const env: Record<string, string> = { HOME: u.home, USER: u.name, LOGNAME: u.name, SHELL: u.shell || '/bin/sh', PATH: SAFE_PATH };
  for (const k of [...PASS_ENV, ...(withTerm ? ['TERM', 'COLORTERM'] : [])]) {
    const v = process.env[k];
    // A proxy URL with user:password in it is root's secret: the member could read it in /proc/PID/environ.
    if (v !== undefined && v.length < 4096 && !v.includes('\0') && !(/PROXY$/i.test(k) && v.includes('@'))) env[k] = v;
  }
  return { LANG: 'C.UTF-8', ...env, ...extra };
}

/** Members share files with group write: their client runs with the umask their login gets (the umask block). */
const withMemberUmask = (argv: string[]) => ['/bin/sh', '-c', 'umask 002; exec "$@"', 'sh', ...argv];

/** After the SIGKILL at the timeout, how long a process that cannot die (traced, stuck in a FUSE read) is waited for. */
const KILL_GRACE_MS = 2000;

export function runAsMember(u: UserEntry, argv: string[], o: { timeoutMs: number; maxBytes: number; env?: Record<string, string> }): Promise<MemberRun> {
  return new Promise((resolve) => {
    const args = ['--reuid', String(u.uid), '--regid', String(u.gid), '--init-groups', '--no-new-privs', '--', ...withMemberUmask(argv)];
    const child = childProcess().spawn(utilLinux('setpriv'), args, { cwd: '/', env: memberEnv(u, o.env), detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    const out = { stdout: '', stderr: '' };
    const keep = (k: 'stdout' | 'stderr') => (d: Buffer) => {
      if (out[k].length < o.maxBytes) out[k] += d.toString('utf8').slice(0, o.maxBytes - out[k].length);
    };
    child.stdout!.on('data', keep('stdout'));
    child.stderr!.on('data', keep('stderr'));
    let timedOut = false;
    let settled = false;
    let reaped = false;
    let grace: NodeJS.Timeout | undefined;
    const finish = (r: MemberRun) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      clearTimeout(grace);
      child.stdout!.destroy();
      child.stderr!.destroy();
      // A child that never dies (see KILL_GRACE_MS) must not keep root's process alive either.
      child.unref();
      resolve(r);
    };
    // Its process group is signalled only before the child was reaped: until then its pid, and so the group, cannot
    // belong to anyone else. One that is traced or stuck is given up after the grace, reported as timed out.
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        if (!reaped && child.pid) process.kill(-child.pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
      grace = setTimeout(() => finish({ code: null, stdout: out.stdout, stderr: out.stderr, timedOut: true }), KILL_GRACE_MS);
    }, o.timeoutMs);
    child.on('error', (e) => finish({ code: null, stdout: '', stderr: '', timedOut: false, error: e.message }));
    child.on('exit', (code) => {
      reaped = true;
      clearTimeout(timer);
      // What it left running is the member's own; output still in the pipes gets a moment, not a wait.
      const done = () => finish({ code, stdout: out.stdout, stderr: out.stderr, timedOut });
      let open = 2;
      const t = setTimeout(done, 200);
      for (const s of [child.stdout!, child.stderr!])
        s.once('close', () => {
          if (--open === 0) {
            clearTimeout(t);
            done();
          }
        });
    });
  });
}

/**
 * The member's program gets a pseudo-terminal of its own; what it prints still reaches root's terminal (runuser copies
 * it), so afterwards anything a terminal sent back in answer to an escape sequence it printed (a report request) is
 * read and thrown away, never left for root's shell to run, and the terminal is reset to sane settings.
 */
export function runAsMemberOnTerminal(u: UserEntry, argv: string[], env?: Record<string, string>): Promise<number> {
  const runuser = utilLinux('runuser');
  return new Promise((resolve, reject) => {
    const child = childProcess().spawn(runuser, ['--pty', '-u', u.name, '--', ...withMemberUmask(argv)], { cwd: '/', env: memberEnv(u, env, true), stdio: 'inherit' });
    child.on('error', (e) => reject(new Error(`runuser could not run: ${e.message}`)));
    child.on('exit', (code, signal) => {
      const result = code ?? 128 + (signal ? (os.constants.signals[signal] ?? 15) : 1);
      void drainTerminal().then(() => resolve(result));
    });
  });
}

async function drainTerminal() {
  const tty = process.stdin;
  if (!tty.isTTY) return;
  try {
    tty.setRawMode(true);
    const discard = () => undefined;
    tty.on('data', discard);
    tty.resume();
    await new Promise((r) => setTimeout(r, 150));
    tty.off('data', discard);
    tty.pause();
    tty.setRawMode(false);
  } catch {
    /* not a terminal after all */
  }
  childProcess().spawnSync('stty', ['sane'], { stdio: 'inherit' });
}

/** /proc/PID/status of every process, by real uid: its groups and umask. One pass for all members. */
export function processesByUid(): Map<number, MemberProcess[]> {
  const out = new Map<number, MemberProcess[]>();
  for (const pid of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    let text: string;
    try {
      text = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    } catch {
      continue; // gone meanwhile
    }
    const field = (name: string) => new RegExp(`^${name}:\\s*(.*)$`, 'm').exec(text)?.[1] ?? '';
    const uid = Number(field('Uid').split(/\s+/)[0]);
    const umask = field('Umask');
    const list = out.get(uid) ?? [];
    list.push({ pid: Number(pid), groups: field('Groups').split(/\s+/).filter(Boolean).map(Number), umask: umask ? parseInt(umask, 8) : null });
    out.set(uid, list);
  }
  return out;
}

/** Root-owned and writable by nobody else, every directory from / down to it included. */
function rootOnlyChain(path: string): boolean {
  const parts = path.split('/').filter(Boolean);
  for (let i = 0; i <= parts.length; i++) {
    const p = '/' + parts.slice(0, i).join('/');
    const st = fs.lstatSync(p, { throwIfNoEntry: false });
    if (!st || !rootOnly(st)) return false;
    if (i < parts.length && !st.isDirectory()) return false;
  }
  return true;
}

export function trustedExecutable(nameOrPath: string, searchPath: string[]): string | null {
  const candidates = nameOrPath.includes('/') ? (nameOrPath.startsWith('/') ? [nameOrPath] : []) : searchPath.map((d) => `${d}/${nameOrPath}`);
  for (const c of candidates) {
    try {
      const dir = fs.realpathSync(c.replace(/\/[^/]+$/, '') || '/');
      const real = fs.realpathSync(c);
      const st = fs.statSync(real);
      if (st.isFile() && st.mode & 0o111 && rootOnlyChain(dir) && rootOnlyChain(real)) return real;
    } catch {
      /* not there */
    }
  }
  return null;
}
