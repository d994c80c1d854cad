import type { Problem } from '../core/model.js';
import { problem } from '../core/problem-codes.js';
import type { UsageHealth } from '../core/render.js';
import { emptyTotals, monthFilesSince, parseRow, USAGE_DIR, USAGE_DROPIN, USAGE_LIMITS, USAGE_STATE, type UsageRow, type UsageTotals } from '../core/usage.js';
import type { System, UserEntry } from '../system/system.js';

/**
 * The usage store: root-only /var/lib/claude-share/usage, one JSON line per row in a file per month (append-only, so
 * an interrupted write loses at most its own line), and state.json: the receiver's heartbeat, its running totals
 * per member (Prometheus counters that survive restarts) and what it dropped.
 */
export interface UsageState {
  pid: number;
  port: number;
  startedAt: number;
  /** The receiver writes it at least every 30 s: status calls it down after 2 minutes of silence. */
  updatedAt: number;
  totals: Record<string, UsageTotals>;
  /** What was refused or not stored, per member: flood (rate, size, rows per day) or a full month. */
  dropped: Record<string, { count: number; last: number }>;
  /** Bytes each member added to this month's file (USAGE_LIMITS.memberMonthBytes). */
  month: { month: string; bytes: Record<string, number> };
}

export const HEARTBEAT_MS = 30_000;
export const DOWN_AFTER_MS = 120_000;

export function ensureUsageDir(sys: System): void {
  if (!sys.lstat('/var/lib/claude-share')) sys.mkdir('/var/lib/claude-share', 0o700, 0, 0);
  sys.mkdir(USAGE_DIR, 0o700, 0, 0);
}

/** Appends rows to their month files. */
export function appendRows(sys: System, file: string, rows: UsageRow[]): void {
  if (rows.length) sys.appendRootOnly(`${USAGE_DIR}/${file}`, rows.map((r) => JSON.stringify(r) + '\n').join(''));
}

export function monthBytes(sys: System, file: string): number {
  return sys.lstat(`${USAGE_DIR}/${file}`)?.size ?? 0;
}

/** Every row since `since` (month files read whole: the receiver never lets one pass USAGE_LIMITS.monthBytes; root's and root-only; a line that is not a row is skipped). */
export function readRows(sys: System, since: number, now: number): UsageRow[] {
  const rows: UsageRow[] = [];
  for (const f of monthFilesSince(since, now)) {
    const r = sys.readFileNoFollow(`${USAGE_DIR}/${f}`, { owner: 0, maxBytes: USAGE_LIMITS.monthBytes });
    if (!r.ok) continue;
    for (const line of r.bytes.toString('utf8').split('\n')) {
      const row = line ? parseRow(line) : null;
      if (row && row.t >= since) rows.push(row);
    }
  }
  return rows;
}

export function loadUsageState(sys: System): UsageState | null {
  const r = sys.readFileNoFollow(USAGE_STATE, { owner: 0, maxBytes: 16 << 20 });
  if (!r.ok) return null;
  try {
    const s = JSON.parse(r.bytes.toString('utf8')) as Partial<UsageState>;
    if (typeof s.updatedAt !== 'number' || typeof s.pid !== 'number') return null;
    const totals: Record<string, UsageTotals> = {};
    for (const [k, v] of Object.entries(s.totals ?? {})) totals[k] = { ...emptyTotals(k), ...v, key: k };
    return { pid: s.pid, port: s.port ?? 0, startedAt: s.startedAt ?? 0, updatedAt: s.updatedAt, totals, dropped: s.dropped ?? {}, month: s.month ?? { month: '', bytes: {} } };
  } catch {
    return null;
  }
}

export function saveUsageState(sys: System, s: UsageState): void {
  sys.writeFileAtomic(USAGE_STATE, JSON.stringify(s) + '\n', { mode: 0o600, uid: 0, gid: 0 });
}

/** Is the receiver that wrote this state alive: its process exists and its heartbeat is recent. */
export function receiverUp(sys: System, s: UsageState | null, now: number): boolean {
  return !!s && now - s.updatedAt < DOWN_AFTER_MS && !!sys.lstat(`/proc/${s.pid}`);
}

const WEEK_MS = 7 * 86_400_000;
/** A session's telemetry reaches the receiver within seconds of its end, but a long session reports later. */
const SILENT_GRACE_MS = 3_600_000;
const MAX_PROJECTS = 2000;
/** About 20,000 names on ext4: a projects directory larger than this is not listed. */
const MAX_PROJECTS_DIR_BYTES = 1 << 20;

/**
 * When the member last started a Claude session: the newest ctime of the project directories under
 * ~/.claude/projects (a new session adds its transcript there, which moves the directory's ctime; nobody can set a
 * ctime back). Reached through the pinned walk and listed through that descriptor, never through a link a member
 * swapped in; ~/.claude and projects must be the member's own directories, and a huge one is not listed.
 */
export function lastSessionStart(sys: System, u: UserEntry): number | null {
  const own = (p: string) => {
    const st = sys.lstat(p);
    return st && st.type === 'dir' && st.uid === u.uid ? st : null;
  };
  const projects = `${u.home}/.claude/projects`;
  const dir = own(projects);
  // A directory of millions of names (a member's doing) is not listed: status stays quick for everyone.
  if (!own(`${u.home}/.claude`) || !dir || dir.size > MAX_PROJECTS_DIR_BYTES) return null;
  const entries = sys.listDirPinned(projects, MAX_PROJECTS);
  if (!entries) return null;
  let newest: number | null = null;
  for (const e of entries) if (e.stat.type === 'dir') newest = Math.max(newest ?? 0, e.stat.ctimeMs);
  return newest;
}

/** How the usage telemetry stands (status): null when it was never enabled here. */
export function usageHealth(sys: System, members: UserEntry[], now: number): { health: UsageHealth; problems: Problem[] } | null {
  const enabled = !!sys.lstat(USAGE_DROPIN);
  const state = loadUsageState(sys);
  if (!enabled && !state) return null;
  const up = receiverUp(sys, state, now);
  const totals = Object.values(state?.totals ?? {});
  const seen = new Map(totals.map((t) => [t.key, t.lastSeen]));
  const reported = members.filter((u) => (seen.get(u.name) ?? 0) >= now - WEEK_MS).map((u) => u.name);
  const silent = enabled
    ? members
        .filter((u) => {
          const started = lastSessionStart(sys, u);
          return started !== null && started >= now - WEEK_MS && started < now - 60_000 && started > (seen.get(u.name) ?? 0) + SILENT_GRACE_MS;
        })
        .map((u) => u.name)
    : [];
  const problems: Problem[] = [];
  if (enabled && !up)
    problems.push(
      problem({
        code: 'usage-receiver-down',
        path: USAGE_STATE,
        message: `the usage receiver is not running${state ? ` (last heartbeat ${new Date(state.updatedAt).toISOString()})` : ''}: usage is not recorded`,
        fix: 'systemctl restart claude-share-usage (or, without systemd: claude-share usage receive, as root)',
      }),
    );
  for (const name of silent)
    problems.push(problem({ code: 'usage-silent', user: name, message: `${name} started Claude sessions in the last 7 days that sent no usage`, fix: `ask ${name}; see the README, "Who used what"` }));
  for (const [name, d] of Object.entries(state?.dropped ?? {}))
    if (d.last >= now - WEEK_MS)
      problems.push(
        problem({
          code: 'usage-dropped',
          message: `the receiver dropped ${d.count} requests or rows of ${name} (flood limits)`,
          fix: 'claude-share usage shows the counts; a flood from one member never reaches the disk or the others',
          ...(name.startsWith('uid:') ? {} : { user: name }),
        }),
      );
  return {
    health: { enabled, receiverUp: up, reported, silent, totals, dropped: Object.fromEntries(Object.entries(state?.dropped ?? {}).map(([k, d]) => [k, d.count])) },
    problems,
  };
}
