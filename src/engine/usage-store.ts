import { emptyTotals, monthFilesSince, parseRow, USAGE_DIR, USAGE_LIMITS, USAGE_STATE, type UsageRow, type UsageTotals } from '../core/usage.js';
import type { System } from '../system/system.js';

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

/** Every row since `since` (month files read whole, root's and root-only; a line that is not a row is skipped). */
export function readRows(sys: System, since: number, now: number): UsageRow[] {
  const rows: UsageRow[] = [];
  for (const f of monthFilesSince(since, now)) {
    const r = sys.readFileNoFollow(`${USAGE_DIR}/${f}`, { owner: 0, maxBytes: USAGE_LIMITS.monthBytes + USAGE_LIMITS.maxBodyBytes * 4 });
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
    return { pid: s.pid, port: s.port ?? 0, startedAt: s.startedAt ?? 0, updatedAt: s.updatedAt, totals, dropped: s.dropped ?? {} };
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
