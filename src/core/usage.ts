import { SYSTEMD_SANDBOXING } from './platform.js';

/**
 * Who used the shared subscription, from Claude Code's own telemetry (OpenTelemetry, OTLP/HTTP with JSON bodies).
 * Pure: the managed-settings drop-in that turns it on, reading what a client sent, attributing it, adding it up.
 * The receiver (commands/usage.ts) and the store are the engine's.
 *
 * Trust. With one shared login every member looks the same in the telemetry (one user.id, one email, one account),
 * and every byte of it is the member's: a label (OTEL_RESOURCE_ATTRIBUTES=user.name=bob) is only a claim. The truth
 * is the uid that owns the other end of the loopback TCP connection, which the kernel gives (/proc/net/tcp) and no
 * member can forge; a row's user is that, a differing claim is kept beside it as `claimed` and flagged. Times are the
 * receiver's own clock at arrival, never the client's (a member could backdate rows out of a month). Numbers are
 * checked (finite, not negative, bounded), strings cut and kept printable. This is honest-client accounting: a member
 * can run Claude Code with telemetry switched off in ways the drop-in cannot stop (README, "Who used what").
 */

/** Claude Code reads every *.json here; `env` there wins over the member's shell and settings (managed settings). */
export const USAGE_DROPIN_DIR = '/etc/claude-code/managed-settings.d';
export const USAGE_DROPIN = `${USAGE_DROPIN_DIR}/claude-share-usage.json`;
/** Root-only: the rows (one JSON line each, a file per month) and the receiver's state. */
export const USAGE_DIR = '/var/lib/claude-share/usage';
export const USAGE_STATE = `${USAGE_DIR}/state.json`;
/**
 * Below 1024, so that no member can bind it while the receiver restarts and read the others' telemetry (or keep the
 * receiver from starting); not OTLP's 4318, where a collector the admin runs keeps its port. Unassigned by IANA.
 */
export const USAGE_DEFAULT_PORT = 931;
export const USAGE_HOST = '127.0.0.1';

/** Limits that keep one member's flood from filling the disk or starving the receiver. */
export const USAGE_LIMITS = {
  /** A request body larger than this is refused (413) before it is read to the end. Claude's batches are ~20 KB. */
  maxBodyBytes: 1 << 20,
  /** Requests per member: a bucket of this many, refilled at perSecond. Beyond it: 429, counted as dropped. */
  burst: 60,
  perSecond: 1,
  /** Rows stored per member per day; the rest are counted as dropped. */
  rowsPerDay: 20_000,
  /** What one member may add to a month's file: one member alone can never fill it for the others. */
  memberMonthBytes: 32 << 20,
  /** A month's file stops growing at this size (every member's rows are then dropped and counted). */
  monthBytes: 256 << 20,
  /** Names looked up for uids not in /etc/passwd (getent, synchronous): a burst, then per second. */
  lookupBurst: 20,
  lookupPerSecond: 2,
};

/** The drop-in: telemetry on, JSON over HTTP, every signal pinned to the receiver, deltas, no prompt text. */
export function usageDropIn(port: number): string {
  const base = `http://${USAGE_HOST}:${port}`;
  const env = {
    CLAUDE_CODE_ENABLE_TELEMETRY: '1',
    OTEL_METRICS_EXPORTER: 'otlp',
    OTEL_LOGS_EXPORTER: 'otlp',
    // 2.1.112 has no default protocol; http/json works on every version the suite runs.
    OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
    OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: 'http/json',
    OTEL_EXPORTER_OTLP_LOGS_PROTOCOL: 'http/json',
    OTEL_EXPORTER_OTLP_ENDPOINT: base,
    // Pinned per signal too: 2.1.112 obeys a member's per-signal override unless the managed file sets it as well.
    OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: `${base}/v1/metrics`,
    OTEL_EXPORTER_OTLP_LOGS_ENDPOINT: `${base}/v1/logs`,
    OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE: 'delta',
    // OTEL_LOG_USER_PROMPTS is left unset: the client then sends <REDACTED> instead of the prompt.
  };
  return JSON.stringify({ env }, null, 2) + '\n';
}

/** One thing a member's client reported: an API request, or sessions started. */
export interface UsageRow {
  /** Receiver's clock, ms. */
  t: number;
  kind: 'request' | 'session';
  uid: number;
  /** The account of uid (null: no account has that uid here). */
  user: string | null;
  session: string;
  model?: string;
  input?: number;
  output?: number;
  cacheRead?: number;
  cacheCreation?: number;
  costUsd?: number;
  /** session rows: how many sessions (session.count's delta). */
  sessions?: number;
  /** A name the client claimed (user.name, enduser.id, claude_share.user) that is not `user`. */
  claimed?: string;
}

/** Resource or record attributes a member may set to name someone: a claim, compared with the uid. */
export const CLAIM_KEYS = ['claude_share.user', 'user.name', 'enduser.id'];

type Attr = { key?: unknown; value?: Record<string, unknown> };
const MAX_COUNT = 1e12;
const MAX_USD = 1e6;

function attrValue(v: Record<string, unknown> | undefined): string | number | undefined {
  if (!v || typeof v !== 'object') return undefined;
  if (typeof v.stringValue === 'string') return v.stringValue;
  if (typeof v.intValue === 'number' || typeof v.intValue === 'string') return Number(v.intValue);
  if (typeof v.doubleValue === 'number') return v.doubleValue;
  return undefined;
}

function attrs(list: unknown): Map<string, string | number> {
  const m = new Map<string, string | number>();
  if (!Array.isArray(list)) return m;
  for (const a of list.slice(0, 256) as Attr[]) {
    if (a && typeof a.key === 'string') {
      const v = attrValue(a.value);
      if (v !== undefined) m.set(a.key, v);
    }
  }
  return m;
}

/** A count or an amount: a number or a numeric string, finite, 0..max; anything else is 0. */
function amount(v: string | number | undefined, max: number): number {
  const n = typeof v === 'number' ? v : typeof v === 'string' && /^\s*[0-9.eE+-]+\s*$/.test(v) ? Number(v) : NaN;
  return Number.isFinite(n) && n >= 0 && n <= max ? n : 0;
}

/**
 * A label for the store and the terminal: printable ASCII without quote or backslash (JSON would double them), at
 * most 64 characters (a session id is 36, a model name about 30).
 */
export function label(v: string | number | undefined): string {
  return String(v ?? '')
    .replace(/[^\x20-\x7e]|["\\]/g, '?')
    .slice(0, 64);
}

const arr = (x: unknown): unknown[] => (Array.isArray(x) ? x : []);
const obj = (x: unknown): Record<string, unknown> => (x && typeof x === 'object' && !Array.isArray(x) ? (x as Record<string, unknown>) : {});

function claimOf(...maps: Map<string, string | number>[]): string | undefined {
  for (const m of maps) for (const k of CLAIM_KEYS) if (m.has(k)) return label(m.get(k));
  return undefined;
}

/**
 * The rows in one OTLP/HTTP JSON request (path /v1/logs or /v1/metrics), attributed to who (the connection's uid).
 * Hostile input gives fewer rows, never an exception: only api_request log records and session.count points count.
 */
export function rowsFromOtlp(path: string, body: unknown, who: { uid: number; user: string | null }, now: number): UsageRow[] {
  const rows: UsageRow[] = [];
  const base = (session: string | number | undefined, claimed: string | undefined) => ({
    t: now,
    uid: who.uid,
    user: who.user,
    session: label(session),
    ...(claimed !== undefined && claimed !== who.user ? { claimed } : {}),
  });
  if (path === '/v1/logs') {
    for (const rl of arr(obj(body).resourceLogs)) {
      const res = attrs(obj(obj(rl).resource).attributes);
      for (const sl of arr(obj(rl).scopeLogs))
        for (const r of arr(obj(sl).logRecords)) {
          const a = attrs(obj(r).attributes);
          const name = a.get('event.name') ?? obj(obj(r).body).stringValue;
          if (name !== 'api_request' && name !== 'claude_code.api_request') continue;
          rows.push({
            ...base(a.get('session.id'), claimOf(a, res)),
            kind: 'request',
            model: label(a.get('model')),
            input: amount(a.get('input_tokens'), MAX_COUNT),
            output: amount(a.get('output_tokens'), MAX_COUNT),
            cacheRead: amount(a.get('cache_read_tokens'), MAX_COUNT),
            cacheCreation: amount(a.get('cache_creation_tokens'), MAX_COUNT),
            costUsd: amount(a.get('cost_usd'), MAX_USD),
          });
        }
    }
  } else if (path === '/v1/metrics') {
    for (const rm of arr(obj(body).resourceMetrics)) {
      const res = attrs(obj(obj(rm).resource).attributes);
      for (const sm of arr(obj(rm).scopeMetrics))
        for (const m of arr(obj(sm).metrics)) {
          if (obj(m).name !== 'claude_code.session.count') continue;
          for (const p of arr(obj(obj(m).sum).dataPoints)) {
            const a = attrs(obj(p).attributes);
            const n = amount((obj(p).asInt ?? obj(p).asDouble) as string | number | undefined, MAX_COUNT);
            if (n > 0) rows.push({ ...base(a.get('session.id'), claimOf(a, res)), kind: 'session', sessions: n });
          }
        }
    }
  }
  return rows;
}

/** A line of a month file back into a row; null for anything that is not one (the store is root's, but be strict). */
export function parseRow(line: string): UsageRow | null {
  let r: unknown;
  try {
    r = JSON.parse(line);
  } catch {
    return null;
  }
  const o = obj(r);
  if ((o.kind !== 'request' && o.kind !== 'session') || typeof o.t !== 'number' || typeof o.uid !== 'number') return null;
  return o as unknown as UsageRow;
}

/** The month file a time belongs to: YYYY-MM.jsonl (UTC). */
export const monthFile = (t: number) => `${new Date(t).toISOString().slice(0, 7)}.jsonl`;

/** The month files that can hold rows since `since` up to `now`, oldest first. */
export function monthFilesSince(since: number, now: number): string[] {
  const out: string[] = [];
  const d = new Date(since);
  let y = d.getUTCFullYear();
  let m = d.getUTCMonth();
  const end = new Date(now);
  while (y < end.getUTCFullYear() || (y === end.getUTCFullYear() && m <= end.getUTCMonth())) {
    out.push(`${y}-${String(m + 1).padStart(2, '0')}.jsonl`);
    if (++m === 12) ((m = 0), y++);
  }
  return out;
}

/** --since: 30d, 12h, 2w, or a date (YYYY-MM-DD, UTC); the time in ms, or null when it is none of these. */
export function parseSince(s: string, now: number): number | null {
  const rel = /^([1-9][0-9]{0,4})([hdw])$/.exec(s);
  if (rel) return now - Number(rel[1]) * { h: 3_600_000, d: 86_400_000, w: 604_800_000 }[rel[2] as 'h' | 'd' | 'w'];
  if (/^\d{4}-\d{2}-\d{2}$/.test(s)) {
    const t = Date.parse(`${s}T00:00:00Z`);
    return Number.isFinite(t) && t <= now ? t : null;
  }
  return null;
}

export type UsageBy = 'user' | 'day' | 'model';

export interface UsageTotals {
  key: string;
  sessions: number;
  requests: number;
  input: number;
  output: number;
  cacheRead: number;
  cacheCreation: number;
  costUsd: number;
  /** Rows whose client claimed another name. */
  relabelled: number;
  lastSeen: number;
}

const emptyTotals = (key: string): UsageTotals => ({ key, sessions: 0, requests: 0, input: 0, output: 0, cacheRead: 0, cacheCreation: 0, costUsd: 0, relabelled: 0, lastSeen: 0 });

/** The key a row is counted under. A uid with no account is shown as uid:N. */
export function rowKey(r: UsageRow, by: UsageBy): string {
  if (by === 'day') return new Date(r.t).toISOString().slice(0, 10);
  if (by === 'model') return r.kind === 'request' ? r.model || '(none)' : '(sessions)';
  return r.user ?? `uid:${r.uid}`;
}

/** Adds one row into totals (the receiver's running totals and the report use the same sum). */
export function addRow(t: UsageTotals, r: UsageRow): void {
  if (r.kind === 'session') t.sessions += r.sessions ?? 0;
  else {
    t.requests += 1;
    t.input += r.input ?? 0;
    t.output += r.output ?? 0;
    t.cacheRead += r.cacheRead ?? 0;
    t.cacheCreation += r.cacheCreation ?? 0;
    t.costUsd += r.costUsd ?? 0;
  }
  if (r.claimed !== undefined) t.relabelled += 1;
  t.lastSeen = Math.max(t.lastSeen, r.t);
}

/** Rows since `since`, grouped by user, day or model; sorted by key. */
export function aggregate(rows: Iterable<UsageRow>, by: UsageBy, since: number): UsageTotals[] {
  const groups = new Map<string, UsageTotals>();
  for (const r of rows) {
    if (r.t < since) continue;
    const k = rowKey(r, by);
    let g = groups.get(k);
    if (!g) groups.set(k, (g = emptyTotals(k)));
    addRow(g, r);
  }
  return [...groups.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}
export { emptyTotals };

/**
 * A token bucket per member: `take(uid, now)` says whether one more request of that member is let in.
 * Pure state, the clock is given.
 */
export class RateLimit {
  private buckets = new Map<number, { tokens: number; at: number }>();
  constructor(
    private burst = USAGE_LIMITS.burst,
    private perSecond = USAGE_LIMITS.perSecond,
  ) {}
  take(uid: number, now: number): boolean {
    const b = this.buckets.get(uid) ?? { tokens: this.burst, at: now };
    b.tokens = Math.min(this.burst, b.tokens + ((now - b.at) / 1000) * this.perSecond);
    b.at = now;
    this.buckets.set(uid, b);
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }
}

/** One socket of /proc/net/tcp or tcp6: local and remote port on loopback, its state, its owner and its inode. */
export interface TcpSocket {
  localAddr: string;
  localPort: number;
  remoteAddr: string;
  remotePort: number;
  uid: number;
  /** The kernel's state, hex: 01 ESTABLISHED, 06 TIME_WAIT, 0A LISTEN, ... */
  state?: string;
  /** 0 for a socket no process holds any more (TIME_WAIT, orphans): its uid column then says 0, not the owner's. */
  inode?: number;
}

/** 127.0.0.1 as /proc/net/tcp writes it, and as tcp6 writes it (v4-mapped). The receiver listens there only. */
const LOOPBACK = new Set(['0100007F', '0000000000000000FFFF00000100007F']);

/** Parses /proc/net/tcp or /proc/net/tcp6 (the kernel's text: hex address:port, uid in the 8th column). */
export function parseProcNetTcp(text: string): TcpSocket[] {
  const out: TcpSocket[] = [];
  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 8) continue;
    const [la, lp] = f[1].split(':');
    const [ra, rp] = f[2].split(':');
    const uid = Number(f[7]);
    if (!la || !lp || !ra || !rp || !Number.isInteger(uid)) continue;
    out.push({ localAddr: la, localPort: parseInt(lp, 16), remoteAddr: ra, remotePort: parseInt(rp, 16), uid, state: f[3], inode: Number(f[9] ?? 0) });
  }
  return out;
}

/**
 * The uid of the client end of a connection the receiver accepted: the socket whose local port is the client's port
 * and whose remote port is ours, on loopback, ESTABLISHED and held by a process (inode not 0). A client that already
 * closed its end has left a TIME_WAIT socket whose uid column reads 0: never taken for root, the connection is
 * refused. null when there is not exactly one such socket.
 */
export function peerUid(sockets: TcpSocket[], clientPort: number, serverPort: number): number | null {
  const found = sockets.filter((x) => x.localPort === clientPort && x.remotePort === serverPort && LOOPBACK.has(x.remoteAddr) && LOOPBACK.has(x.localAddr) && x.state === '01' && !!x.inode);
  return found.length === 1 ? found[0].uid : null;
}

export const USAGE_UNIT_NAME = 'claude-share-usage.service';
export const USAGE_UNIT_PATH = `/etc/systemd/system/${USAGE_UNIT_NAME}`;

/**
 * The receiver's own unit, apart from the watcher's: the watcher has no network at all (PrivateNetwork), and a
 * member's flood of telemetry must never slow a heal. The receiver needs the host's loopback (and its /proc/net/tcp,
 * to know who is calling), reads /etc/passwd, and writes only its store.
 */
export function usageUnit(bin: string): string {
  return `# Written by claude-share usage enable. Remove with: claude-share usage disable
[Unit]
Description=claude-share: receive Claude Code's usage telemetry on 127.0.0.1, attributed by the kernel's peer uid
After=network.target

[Service]
Type=simple
ExecStart=${bin} usage receive
Restart=on-failure
RestartSec=2s
NoNewPrivileges=yes
ProtectSystem=strict
ReadWritePaths=${USAGE_DIR}
ProtectHome=yes
${SYSTEMD_SANDBOXING}
RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX
CapabilityBoundingSet=
MemoryMax=256M

[Install]
WantedBy=multi-user.target
`;
}

/** The port a drop-in written by usageDropIn sends to; null when the text is not one. */
export function dropInPort(text: string): number | null {
  try {
    const e = (JSON.parse(text) as { env?: Record<string, unknown> }).env?.OTEL_EXPORTER_OTLP_ENDPOINT;
    const m = typeof e === 'string' ? /^http:\/\/127\.0\.0\.1:(\d{2,5})$/.exec(e) : null;
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}
