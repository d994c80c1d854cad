import { problem } from '../core/problem-codes.js';
import { describeClient, parseClientVersion, type ClientVersion } from '../core/client-versions.js';
import { configPath, requireConfig, type Config } from '../engine/config.js';
import { dataError, unsafeError, usageError } from '../core/errors.js';
import type { Problem } from '../core/model.js';
import { statusModel } from '../commands/status.js';
import { type Io } from '../engine/io.js';
import { exitCode } from '../core/exit-code.js';
import { doctorJson, doctorText } from '../core/render.js';
import type { System, UserEntry } from '../system/system.js';
import { parseJsonBounded } from '../core/untrusted.js';
import { printable } from '../core/validate.js';

export interface DoctorOptions {
  user?: string;
  all: boolean;
  json: boolean;
  config?: string;
  /** The claude to run as the members (default: the one only root could have installed on root's PATH). */
  claude?: string;
}

/** What doctor learnt about one member. */
export interface DoctorCheck {
  user: string;
  uid: number;
  /** What the member's own client says (claude auth status as them); null: not checked or no answer. */
  loggedIn: boolean | null;
  authMethod: string | null;
  processes: number;
  /** pids of the member's processes without the shared group, and with a umask that takes group access away. */
  withoutGroup: number[];
  umaskBlocksGroup: { pid: number; umask: number }[];
}

export interface DoctorReport {
  group: string;
  claude: (ClientVersion & { path: string }) | { path: string; version: null } | null;
  checks: DoctorCheck[];
  problems: Problem[];
  exitCode: number;
}

const CLIENT_ENV = { DISABLE_AUTOUPDATER: '1', DISABLE_TELEMETRY: '1', DISABLE_ERROR_REPORTING: '1', CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1' };
const AUTH_TIMEOUT_MS = 30_000;
const MAX_OUTPUT = 64 * 1024;

/**
 * doctor: what status sees, plus what only the members' side shows: whether the installed claude, run as each member,
 * is logged in; whether their running sessions have the group and a umask that keeps group access; which client
 * version is installed and how it writes the login. Read-only: it never changes a file (the member's client may
 * rewrite their own .claude.json, as at every start).
 */
export async function runDoctor(sys: System, o: DoctorOptions, io: Io): Promise<number> {
  if (sys.euid() !== 0) throw unsafeError("doctor runs the client as each member and reads every member's home: it must run as root", 'run it with sudo');
  if (!o.user === !o.all) throw usageError(o.all ? 'name a member or pass --all, not both' : 'name the member to check, or pass --all', 'claude-share doctor alice, or claude-share doctor --all');
  const c = requireConfig(sys, configPath(o.config));
  if (o.user && !c.managedUsers.includes(o.user)) throw dataError(`${printable(o.user)} is not a managed user`, `managed users: ${c.managedUsers.join(', ') || '(none)'}`);
  let claudePath: string | null = null;
  if (o.claude !== undefined) {
    claudePath = sys.trustedExecutable(o.claude);
    if (!claudePath)
      throw unsafeError(
        `--claude ${printable(o.claude)} is not an executable that only root could have put there`,
        'give the absolute path of a root-owned executable whose directories are root-owned and not writable by group or others',
      );
  } else claudePath = sys.trustedExecutable('claude');

  const report = await doctor(sys, o.user ? [o.user] : c.managedUsers, c, claudePath);
  if (o.json) io.out(JSON.stringify(doctorJson(report), null, 2));
  else doctorText(report, io.style).forEach((l) => io.out(l));
  return report.exitCode;
}

async function doctor(sys: System, users: string[], c: Config, claudePath: string | null): Promise<DoctorReport> {
  const m = statusModel(sys, c);
  const problems: Problem[] = m.problems.filter((p) => !p.user || users.includes(p.user));
  const group = sys.getGroup(c.group);
  const entries = users.map((n) => sys.getUser(n)).filter((u): u is UserEntry => !!u);
  let claude: DoctorReport['claude'] = null;
  if (!claudePath) {
    problems.push(
      problem({
        code: 'claude-not-found',
        message: "no claude that only root could have installed is on root's PATH: whether members are really logged in was not checked",
        fix: 'install it system-wide (npm install -g @anthropic-ai/claude-code), or pass --claude PATH',
      }),
    );
  } else {
    // The version from the package it was installed with (root-owned, like the client: no member can fake it), else
    // asked as a member (root never runs the client: the files it reads are the members').
    let v = packageVersion(sys, claudePath);
    if (!v && entries.length) {
      const r = await sys.runAsMember(entries[0], [claudePath, '--version'], { timeoutMs: AUTH_TIMEOUT_MS, maxBytes: 4096, env: CLIENT_ENV });
      v = r.code === 0 ? parseClientVersion(r.stdout) : null;
      if (!v)
        problems.push(
          problem({
            code: 'claude-check-failed',
            user: entries[0].name,
            message: `${claudePath} --version, run as ${entries[0].name}, ${answerOf(r)}`,
            fix: `run it by hand: runuser --pty -u ${entries[0].name} -- ${claudePath} --version`,
          }),
        );
    }
    claude = v ? { ...describeClient(v), path: claudePath } : { path: claudePath, version: null };
  }
  const byUid = sys.processesByUid();
  // The clients are asked a few at a time (each takes about a second); the report keeps the members' order.
  const results = await inBatches(entries, 4, async (u) => {
    const mine: Problem[] = [];
    const procs = byUid.get(u.uid) ?? [];
    const withoutGroup = group && u.gid !== group.gid ? procs.filter((p) => !p.groups.includes(group.gid)).map((p) => p.pid) : [];
    const umaskBlocksGroup = procs.filter((p) => p.umask !== null && (p.umask & 0o060) !== 0).map((p) => ({ pid: p.pid, umask: p.umask! }));
    const check: DoctorCheck = { user: u.name, uid: u.uid, loggedIn: null, authMethod: null, processes: procs.length, withoutGroup, umaskBlocksGroup };
    if (withoutGroup.length) {
      mine.push(
        problem({
          code: 'session-without-group',
          user: u.name,
          message: `${withoutGroup.length} of ${procs.length} processes of ${u.name} run without group ${c.group} (pid ${pidList(withoutGroup)}): started before ${u.name} joined it, Claude there looks logged out`,
          fix: `${u.name} logs out and back in, every session (tmux and screen too); never /login there`,
        }),
      );
    }
    if (umaskBlocksGroup.length) {
      const first = umaskBlocksGroup[0].umask.toString(8).padStart(4, '0');
      mine.push(
        problem({
          code: 'session-umask',
          user: u.name,
          message: `${umaskBlocksGroup.length} of ${procs.length} processes of ${u.name} run with umask ${first} (pid ${pidList(umaskBlocksGroup.map((p) => p.pid))}): what Claude writes there into the shared copies loses group access until the next heal`,
          fix: `${u.name} logs in again (the umask block in ~/.bashrc and ~/.profile applies then); if it stays, something after that block sets another umask`,
        }),
      );
    }
    if (claudePath) {
      const r = await sys.runAsMember(u, [claudePath, 'auth', 'status'], { timeoutMs: AUTH_TIMEOUT_MS, maxBytes: MAX_OUTPUT, env: CLIENT_ENV });
      const said = authStatusOf(r.stdout);
      // Exit 0 logged in, 1 not (claude-code-facts.md); the JSON, when it parses, must agree.
      const loggedIn = r.timedOut || (r.code !== 0 && r.code !== 1) ? null : said.loggedIn === null ? r.code === 0 : said.loggedIn && r.code === 0;
      check.loggedIn = loggedIn;
      check.authMethod = said.authMethod;
      if (loggedIn === null)
        mine.push(
          problem({
            code: 'claude-check-failed',
            user: u.name,
            message: `claude auth status, run as ${u.name}, ${answerOf(r)}`,
            fix: `run it by hand: runuser --pty -u ${u.name} -- ${claudePath} auth status`,
          }),
        );
      else if (!loggedIn) {
        const usable = m.plan.login.state === 'valid' || m.plan.login.state === 'expired-refreshable';
        mine.push(
          problem({
            code: 'member-logged-out',
            user: u.name,
            message: `claude auth status, run as ${u.name}, says not logged in${usable ? ' although the shared login is usable' : ` (the shared login is ${m.plan.login.state})`}`,
            fix: usable ? `run claude-share sync, then claude-share doctor ${u.name} again; a session without the group is the usual cause` : 'renew the login: claude-share login',
          }),
        );
      }
    }
    return { check, mine };
  });
  const checks = results.map((r) => r.check);
  problems.push(...results.flatMap((r) => r.mine));
  return { group: c.group, claude, checks, problems, exitCode: exitCode({ problems, reportsState: true }) };
}

/**
 * The version in the package.json of the npm package the client came from: next to cli.js (2.1.112 and before), or
 * the platform package of the native builds. Read through the pinned walk, root-owned only.
 */
function packageVersion(sys: System, path: string): string | null {
  let dir = path.replace(/\/[^/]+$/, '');
  for (let i = 0; i < 3 && dir; i++, dir = dir.replace(/\/[^/]+$/, '')) {
    const r = sys.readFileNoFollow(`${dir}/package.json`, { owner: 0, maxBytes: 256 * 1024 });
    if (!r.ok) continue;
    const doc = parseJsonBounded(r.bytes) as { name?: unknown; version?: unknown } | undefined;
    if (typeof doc?.name === 'string' && /^@anthropic-ai\/claude-code(-[a-z0-9-]+)?$/.test(doc.name) && typeof doc.version === 'string') return parseClientVersion(doc.version);
  }
  return null;
}

async function inBatches<T, R>(items: T[], size: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = [];
  for (let i = 0; i < items.length; i += size) out.push(...(await Promise.all(items.slice(i, i + size).map(fn))));
  return out;
}

const pidList = (pids: number[]) => pids.slice(0, 5).join(', ') + (pids.length > 5 ? ', …' : '');

function answerOf(r: { code: number | null; timedOut: boolean; error?: string }): string {
  if (r.error) return `could not start (${printable(r.error.slice(0, 200))})`;
  if (r.timedOut) return `did not answer within ${AUTH_TIMEOUT_MS / 1000} s`;
  return r.code === null ? 'was killed by a signal' : `exited ${r.code} without the expected answer`;
}

/** The few fields doctor takes from the member's client output (member-controlled: shape-checked, nothing else). */
function authStatusOf(stdout: string): { loggedIn: boolean | null; authMethod: string | null } {
  const start = stdout.indexOf('{');
  const doc = start >= 0 ? (parseJsonBounded(Buffer.from(stdout.slice(start))) as Record<string, unknown> | undefined) : undefined;
  const loggedIn = typeof doc?.loggedIn === 'boolean' ? doc.loggedIn : null;
  const method = typeof doc?.authMethod === 'string' && /^[A-Za-z0-9_.-]{1,40}$/.test(doc.authMethod) ? doc.authMethod : null;
  return { loggedIn, authMethod: method };
}
