/**
 * Workspace mode's reach into the machine (issue 16): processes (ssh, sftp-server, sshfs, fusermount3, claude),
 * sockets, and the files of the user who runs it. Nothing here runs as root: on the laptop it is the member's own
 * account, on the server the member's account through the forced command. The orchestration is in
 * commands/workspace.ts and commands/tunnel.ts; the rules in core/workspace.ts and core/sftp-guard.ts.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import { randomBytes } from 'node:crypto';
import { SftpGuard, SftpProtocolError } from '../core/sftp-guard.js';
import { readAllStdin } from './stdin.js';
import { operatorError } from '../core/errors.js';
import { FRAME, FrameReader, MAX_REQUEST, cleanEnv, frame, parseRunRequest } from '../core/workspace.js';

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface Proc {
  pid: number;
  /** resolves with a short reason when the process (or one of a pair) ended */
  ended: Promise<string>;
  stop(): void;
}

export interface CommandServer {
  close(): Promise<void>;
}

export interface WorkspaceHost {
  /** this claude-share's version, and how to run it again (node + cli.js) */
  version: string;
  self: string[];
  env: Record<string, string | undefined>;
  home: string;
  user: string;
  hostname(): string;
  cwd(): string;
  now(): Date;
  which(program: string): string | null;
  exists(path: string): boolean;
  /** may this process read and write it (access(2)) */
  readWrite(path: string): boolean;
  realpath(path: string): string | null;
  isDir(path: string): boolean;
  readText(path: string, maxBytes?: number): string | null;
  /** written whole through a temporary file and rename, with this mode */
  writeText(path: string, text: string, mode: number): void;
  mkdirp(path: string, mode: number): void;
  remove(path: string): void;
  /** unlink(2) of a file (or socket); nothing when it is gone */
  rmFile(path: string): void;
  listDir(path: string): string[];
  /** rmdir(2): an empty directory only (never what a live mount shows); false when it was not removed */
  rmdir(path: string): boolean;
  /** fn while holding a lock directory (mkdir is atomic); waits up to 10 s, a lock older than 60 s is stale */
  exclusive<T>(lock: string, fn: () => T): Promise<T>;
  randomHex(bytes: number): string;
  run(program: string, args: string[], o?: { stdin?: string; timeoutMs?: number; env?: Record<string, string> }): Promise<RunResult>;
  /** stdio inherited: a terminal handed over (stdinText: stdin is that text instead; the terminal stays for prompts) */
  runInteractive(program: string, args: string[], o?: { cwd?: string; env?: Record<string, string>; stdinText?: string }): Promise<number>;
  stdinIsTTY: boolean;
  /** all of stdin, refused past maxBytes */
  readStdin(maxBytes: number): Promise<string>;
  /** a process of its own session, stdio to a log file; it outlives this one */
  spawnDetached(program: string, args: string[], log: string): number;
  spawnProc(program: string, args: string[], o?: { stdio?: 'inherit' | 'ignore'; logTo?: string }): Proc;
  /** ssh's stdio joined to a local sftp-server's, with the guard between them */
  sftpChannel(ssh: { program: string; args: string[] }, sftpServer: string, root: string, log: (line: string) => void): Proc;
  serveCommands(socket: string, o: { allowed: Record<string, string[]>; dir: string; published: string[]; session: string; log: (line: string) => void }): Promise<CommandServer>;
  /** the client side on the server: one named command through the forwarded socket, output streamed, exit code back */
  runViaSocket(socket: string, name: string): Promise<number>;
  alive(pid: number): boolean;
  cmdline(pid: number): string[] | null;
  kill(pid: number, signal?: NodeJS.Signals): void;
  mountinfo(): { mountPoint: string; fsType: string }[];
  sleep(ms: number): Promise<void>;
  onSignal(handler: (sig: NodeJS.Signals) => void): void;
  out(line: string): void;
  err(line: string): void;
}

function endedOf(child: ChildProcess, what: string): Promise<string> {
  return new Promise((resolve) => {
    child.on('error', (e) => resolve(`${what}: ${e.message}`));
    child.on('exit', (code, sig) => resolve(`${what} ended (${sig ?? `exit ${code}`})`));
  });
}

/** Control characters (tab aside), C1 and bidirectional overrides shown as \uXXXX (inside a JSON string, the same character). */
export const terminalSafe = (s: string) => s.replace(/[\u0000-\u0008\u000a-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);

export function realWorkspaceHost(version: string, cliPath: string): WorkspaceHost {
  const info = os.userInfo();
  const home = process.env.HOME && process.env.HOME.startsWith('/') ? process.env.HOME : info.homedir;
  const host: WorkspaceHost = {
    version,
    self: [process.execPath, cliPath],
    env: process.env,
    home,
    user: info.username,
    hostname: () => os.hostname(),
    cwd: () => process.cwd(),
    now: () => new Date(),
    which(program) {
      for (const d of (process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin').split(':')) {
        if (!d.startsWith('/')) continue;
        const p = `${d}/${program}`;
        try {
          fs.accessSync(p, fs.constants.X_OK);
          if (fs.statSync(p).isFile()) return p;
        } catch {
          /* next */
        }
      }
      return null;
    },
    exists: (p) => fs.existsSync(p),
    readWrite(p) {
      try {
        fs.accessSync(p, fs.constants.R_OK | fs.constants.W_OK);
        return true;
      } catch {
        return false;
      }
    },
    realpath(p) {
      try {
        return fs.realpathSync.native(p);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'ENOENT' || code === 'ENOTDIR') return null;
        throw e;
      }
    },
    isDir(p) {
      try {
        return fs.statSync(p).isDirectory();
      } catch {
        return false;
      }
    },
    readText(p, maxBytes = 1 << 20) {
      let fd: number;
      try {
        fd = fs.openSync(p, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
        throw e;
      }
      try {
        const st = fs.fstatSync(fd);
        if (!st.isFile()) throw new Error(`${p} is not a regular file`);
        if (st.size > maxBytes) throw new Error(`${p} is larger than ${maxBytes} bytes`);
        const buf = Buffer.alloc(st.size);
        const n = fs.readSync(fd, buf, 0, st.size, 0);
        return buf.subarray(0, n).toString('utf8');
      } finally {
        fs.closeSync(fd);
      }
    },
    writeText(p, text, mode) {
      const tmp = `${p}.claude-share-${process.pid}.tmp`;
      fs.writeFileSync(tmp, text, { mode, flag: 'wx' });
      try {
        fs.chmodSync(tmp, mode);
        fs.renameSync(tmp, p);
      } catch (e) {
        fs.rmSync(tmp, { force: true });
        throw e;
      }
    },
    mkdirp(p, mode) {
      fs.mkdirSync(p, { recursive: true, mode });
    },
    remove: (p) => fs.rmSync(p, { recursive: true, force: true }),
    rmFile(p) {
      try {
        fs.unlinkSync(p);
      } catch {
        /* gone, or not a file: left alone */
      }
    },
    rmdir(p) {
      try {
        fs.rmdirSync(p);
        return true;
      } catch {
        return false;
      }
    },
    async exclusive(lock, fn) {
      for (let i = 0; ; i++) {
        try {
          fs.mkdirSync(lock, { mode: 0o700 });
          break;
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
          try {
            // Stale: renamed away first, so a fresh lock made meanwhile by another process is never the one removed.
            if (Date.now() - fs.statSync(lock).mtimeMs > 60_000) {
              const away = `${lock}.stale-${process.pid}`;
              fs.renameSync(lock, away);
              fs.rmdirSync(away);
            }
          } catch {
            /* gone meanwhile */
          }
          if (i >= 100) throw operatorError(`${lock} is held by another claude-share run`, `wait a minute and run it again (a lock older than a minute is taken over), or remove ${lock}`);
          await new Promise((r) => setTimeout(r, 100));
        }
      }
      try {
        return fn();
      } finally {
        try {
          fs.rmdirSync(lock);
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
        }
      }
    },
    randomHex: (n) => randomBytes(n).toString('hex'),
    listDir(p) {
      try {
        return fs.readdirSync(p);
      } catch {
        return [];
      }
    },
    run(program, args, o = {}) {
      return new Promise((resolve) => {
        const child = spawn(program, args, { stdio: ['pipe', 'pipe', 'pipe'], env: o.env ?? process.env });
        let stdout = '';
        let stderr = '';
        const timer = o.timeoutMs ? setTimeout(() => child.kill('SIGKILL'), o.timeoutMs) : undefined;
        // What the other side answers is bounded: past 1 MiB the program is stopped (a server cannot grow us).
        const cap = (add: (d: Buffer) => void) => (d: Buffer) => {
          if (stdout.length + stderr.length > 1 << 20) child.kill('SIGKILL');
          else add(d);
        };
        child.stdout!.on(
          'data',
          cap((d) => (stdout += d)),
        );
        child.stderr!.on(
          'data',
          cap((d) => (stderr += d)),
        );
        child.stdin!.on('error', () => {});
        child.stdin!.end(o.stdin ?? '');
        child.on('error', (e) => {
          clearTimeout(timer);
          resolve({ code: 127, stdout, stderr: stderr + e.message });
        });
        child.on('close', (code, sig) => {
          clearTimeout(timer);
          resolve({ code: code ?? 128 + (sig ? os.constants.signals[sig] : 0), stdout, stderr });
        });
      });
    },
    runInteractive(program, args, o = {}) {
      return new Promise((resolve) => {
        const child = spawn(program, args, { stdio: [o.stdinText === undefined ? 'inherit' : 'pipe', 'inherit', 'inherit'], cwd: o.cwd, env: o.env ?? process.env });
        if (o.stdinText !== undefined) {
          child.stdin!.on('error', () => {});
          child.stdin!.end(o.stdinText);
        }
        // The terminal's Ctrl-C belongs to the child (ssh or claude), not to us.
        const ignore = () => {};
        process.on('SIGINT', ignore);
        child.on('error', () => resolve(127));
        child.on('exit', (code, sig) => {
          process.off('SIGINT', ignore);
          resolve(code ?? 128 + (sig ? os.constants.signals[sig] : 0));
        });
      });
    },
    stdinIsTTY: !!process.stdin.isTTY,
    readStdin: readAllStdin,
    spawnDetached(program, args, log) {
      const fd = fs.openSync(log, 'a', 0o600);
      const child = spawn(program, args, { detached: true, stdio: ['ignore', fd, fd] });
      fs.closeSync(fd);
      child.unref();
      return child.pid ?? -1;
    },
    spawnProc(program, args, o = {}) {
      let fd: number | undefined;
      if (o.logTo) fd = fs.openSync(o.logTo, 'a', 0o600);
      const child = spawn(program, args, { stdio: o.stdio === 'inherit' ? 'inherit' : ['ignore', fd ?? 'ignore', fd ?? 'ignore'] });
      if (fd !== undefined) fs.closeSync(fd);
      return { pid: child.pid ?? -1, ended: endedOf(child, program.split('/').pop()!), stop: () => child.kill('SIGTERM') };
    },
    sftpChannel(ssh, sftpServer, root, log) {
      const sf = spawn(sftpServer, ['-d', root, '-e'], { stdio: ['pipe', 'pipe', 'pipe'], cwd: root });
      const ch = spawn(ssh.program, ssh.args, { stdio: ['pipe', 'pipe', 'pipe'] });
      const guard = new SftpGuard({ root, fs: { realpath: (p) => host.realpath(p) }, readOnly: ['.claude-share'], onRefuse: (what) => log(`refused: ${what}`) });
      // What the other side writes to stderr goes to the log, up to 1,000 lines a channel: a server cannot fill the
      // laptop's disk through it.
      let logged = 0;
      const lines = (prefix: string) => (d: Buffer) =>
        d
          .toString('utf8')
          .split('\n')
          .filter(Boolean)
          .forEach((l) => {
            if (++logged <= 1000) log(`${prefix}${l.slice(0, 500)}`);
            else if (logged === 1001) log(`${prefix}(more lines dropped)`);
          });
      sf.stderr!.on('data', lines('sftp-server: '));
      ch.stderr!.on('data', lines('remote: '));
      for (const s of [sf.stdin!, ch.stdin!]) s.on('error', () => {});
      // Backpressure both ways: a side that does not read is not written past its pipe's buffer. sshfs is not read
      // while sftp-server's stdin or sshfs's own stdin is full, or while the guard holds many requests; sftp-server
      // is not read while sshfs's stdin is full.
      const full = { toServer: false, toClient: false };
      const flow = () => {
        if (full.toServer || full.toClient || guard.held > 256) ch.stdout!.pause();
        else ch.stdout!.resume();
        if (full.toClient) sf.stdout!.pause();
        else sf.stdout!.resume();
      };
      sf.stdin!.on('drain', () => ((full.toServer = false), flow()));
      ch.stdin!.on('drain', () => ((full.toClient = false), flow()));
      const send = (o: { toServer: Uint8Array[]; toClient: Uint8Array[] }) => {
        for (const b of o.toServer) if (!sf.stdin!.write(b)) full.toServer = true;
        for (const b of o.toClient) if (!ch.stdin!.write(b)) full.toClient = true;
        flow();
      };
      const stop = () => {
        ch.kill('SIGTERM');
        sf.kill('SIGTERM');
      };
      const feed = (fn: () => { toServer: Uint8Array[]; toClient: Uint8Array[] }) => {
        try {
          send(fn());
        } catch (e) {
          log(e instanceof SftpProtocolError ? `closed: ${e.message}` : `closed: guard error ${(e as Error).message}`);
          stop();
        }
      };
      ch.stdout!.on('data', (d: Buffer) => feed(() => guard.fromClient(d)));
      sf.stdout!.on('data', (d: Buffer) => feed(() => guard.fromServer(d)));
      const ended = Promise.race([endedOf(ch, 'the mount channel'), endedOf(sf, 'sftp-server')]).then((why) => {
        stop();
        return why;
      });
      return { pid: ch.pid ?? -1, ended, stop };
    },
    serveCommands(socket, o) {
      // At most MAX_RUNNING named commands at once, a request line within 10 s, output not read faster than the
      // server takes it; when the server side goes away, the command's process group gets SIGTERM, then SIGKILL.
      const MAX_RUNNING = 4;
      const running = new Set<ChildProcess>();
      const killGroup = (child: ChildProcess) => {
        if (!child.pid) return;
        const pid = child.pid;
        try {
          process.kill(-pid, 'SIGTERM');
        } catch {
          return;
        }
        setTimeout(() => {
          try {
            process.kill(-pid, 'SIGKILL');
          } catch {
            /* gone */
          }
        }, 5000).unref();
      };
      const conns = new Set<net.Socket>();
      const server = net.createServer((conn) => {
        conns.add(conn);
        conn.on('close', () => conns.delete(conn));
        let line = '';
        let started = false;
        conn.on('error', () => {});
        conn.setTimeout(10_000, () => {
          if (!started) conn.destroy();
        });
        conn.on('data', (d) => {
          if (started) return;
          line += d.toString('utf8');
          if (line.length > MAX_REQUEST) {
            started = true;
            conn.end(frame(FRAME.refused, 'the request is too long'));
            return;
          }
          const nl = line.indexOf('\n');
          if (nl < 0) return;
          started = true;
          conn.setTimeout(0);
          const req = parseRunRequest(line.slice(0, nl), o.allowed);
          if (typeof req === 'string') {
            o.log(`refused: ${req}`);
            conn.end(frame(FRAME.refused, req));
            return;
          }
          if (running.size >= MAX_RUNNING) {
            o.log(`refused ${req.name}: ${MAX_RUNNING} commands already running`);
            conn.end(frame(FRAME.refused, `${MAX_RUNNING} named commands are already running on the member's machine; try again when one ends`));
            return;
          }
          o.log(`run ${req.name}: ${JSON.stringify(req.argv)}`);
          const child = spawn(req.argv[0], req.argv.slice(1), {
            cwd: o.dir,
            env: cleanEnv(process.env, o.session, o.published),
            stdio: ['ignore', 'pipe', 'pipe'],
            detached: true,
          });
          running.add(child);
          const pipeOut = (from: NodeJS.ReadableStream, type: number) =>
            from.on('data', (b: Buffer) => {
              if (!conn.write(frame(type, b))) {
                from.pause();
                conn.once('drain', () => from.resume());
              }
            });
          pipeOut(child.stdout!, FRAME.stdout);
          pipeOut(child.stderr!, FRAME.stderr);
          let reported = false;
          const report = (code: number | null, sig: string | null, error?: string) => {
            if (reported) return;
            reported = true;
            running.delete(child);
            o.log(`${req.name}: ${error ?? (sig ? `signal ${sig}` : `exit ${code}`)}`);
            conn.end(frame(FRAME.exit, JSON.stringify(error ? { code: 127, error } : { code: code ?? 128 + (sig ? os.constants.signals[sig as NodeJS.Signals] : 0), signal: sig })));
          };
          child.on('error', (e) => report(null, null, `${req.argv[0]}: ${e.message}`));
          child.on('close', (code, sig) => report(code, sig));
          // A daemon the command left behind may hold its output open for ever: the slot is free when the command
          // itself exits, and its exit code goes back at most 2 s later.
          child.on('exit', (code, sig) => {
            running.delete(child);
            setTimeout(() => report(code, sig), 2000).unref();
          });
          conn.on('close', () => {
            if (!reported) killGroup(child);
          });
        });
      });
      return new Promise((resolve, reject) => {
        fs.rmSync(socket, { force: true });
        server.once('error', reject);
        const mask = process.umask(0o077);
        server.listen(socket, () => {
          process.umask(mask);
          resolve({
            // Stopping: every command's group gets SIGTERM, then SIGKILL after 2 s (not left to a timer that the
            // exiting process would never run); open connections are cut, not waited for (a dead link never closes).
            close: async () => {
              const groups = [...running];
              for (const c of groups) killGroup(c);
              for (let i = 0; i < 20 && groups.some((c) => c.exitCode === null && c.signalCode === null); i++) await new Promise((r) => setTimeout(r, 100));
              for (const c of groups)
                if (c.pid && c.exitCode === null && c.signalCode === null)
                  try {
                    process.kill(-c.pid, 'SIGKILL');
                  } catch {
                    /* gone */
                  }
              for (const conn of conns) conn.destroy();
              server.close();
            },
          });
        });
      });
    },
    runViaSocket(socket, name) {
      return new Promise((resolve) => {
        const conn = net.connect(socket);
        const reader = new FrameReader();
        let code: number | null = null;
        const fail = (line: string, c: number) => {
          process.stderr.write(`claude-share: ${line}\n`);
          code = c;
        };
        conn.on('connect', () => conn.write(JSON.stringify({ v: 1, name }) + '\n'));
        conn.on('data', (d: Buffer) => {
          const frames = reader.push(d);
          if (typeof frames === 'string') return (fail(`${frames} from the member's machine`, 70), void conn.destroy());
          for (const { type, payload } of frames) {
            if (type === FRAME.stdout) process.stdout.write(payload);
            else if (type === FRAME.stderr) process.stderr.write(payload);
            else if (type === FRAME.refused) fail(`refused by the member's machine: ${payload.toString('utf8')}`, 77);
            else if (type === FRAME.exit) {
              try {
                const v = JSON.parse(payload.toString('utf8')) as { code: number; error?: string };
                if (v.error) process.stderr.write(`claude-share: on the member's machine: ${v.error}\n`);
                code = Number.isInteger(v.code) && v.code >= 0 && v.code <= 255 ? v.code : 70;
              } catch {
                fail("the member's machine answered something else than an exit code", 70);
              }
            }
          }
        });
        conn.on('error', (e) => fail(`the member's machine is not reachable (${(e as NodeJS.ErrnoException).code ?? e.message}): is the session live? (cs live on the laptop)`, 69));
        conn.on('close', () => resolve(code ?? 69));
        process.on('SIGINT', () => conn.destroy());
      });
    },
    alive(pid) {
      try {
        process.kill(pid, 0);
        return true;
      } catch (e) {
        return (e as NodeJS.ErrnoException).code === 'EPERM';
      }
    },
    cmdline(pid) {
      try {
        return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').slice(0, -1);
      } catch {
        return null;
      }
    },
    kill(pid, signal = 'SIGTERM') {
      try {
        process.kill(pid, signal);
      } catch {
        /* gone */
      }
    },
    mountinfo() {
      const text = fs.readFileSync('/proc/self/mountinfo', 'utf8');
      const unescape = (s: string) => s.replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8)));
      return text
        .split('\n')
        .filter(Boolean)
        .map((l) => {
          const f = l.split(' ');
          const dash = f.indexOf('-');
          return { mountPoint: unescape(f[4]), fsType: f[dash + 1] };
        });
    },
    sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
    onSignal(handler) {
      for (const s of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.on(s, () => handler(s));
    },
    // What the other side sent reaches this terminal only without control characters (no escape sequences).
    out: (line) => void process.stdout.write(terminalSafe(line) + '\n'),
    err: (line) => void process.stderr.write(terminalSafe(line) + '\n'),
  };
  return host;
}
