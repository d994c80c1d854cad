import { dataError, EXIT, operatorError, unsafeError, usageError } from '../core/errors.js';
import {
  addRow,
  label,
  aggregate,
  dropInPort,
  emptyTotals,
  monthFile,
  parseSince,
  peerUid,
  RateLimit,
  rowsFromOtlp,
  USAGE_DEFAULT_PORT,
  USAGE_DIR,
  USAGE_DROPIN,
  USAGE_DROPIN_DIR,
  USAGE_HOST,
  USAGE_LIMITS,
  USAGE_UNIT_NAME,
  USAGE_UNIT_PATH,
  usageDropIn,
  usageUnit,
  type UsageBy,
  type UsageRow,
  type UsageTotals,
} from '../core/usage.js';
import { usageJson, usageText } from '../core/render.js';
import type { Io } from '../engine/io.js';
import { appendRows, ensureUsageDir, HEARTBEAT_MS, loadUsageState, monthBytes, readRows, receiverUp, saveUsageState, type UsageState } from '../engine/usage-store.js';
import type { HttpRequest, System } from '../system/system.js';

/** claude-share usage [report] | enable | disable | receive (core/usage.ts). */
export interface UsageOptions {
  action: 'report' | 'enable' | 'disable' | 'receive';
  since?: string;
  by?: string;
  json?: boolean;
  port?: string;
}

export async function runUsage(sys: System, o: UsageOptions, io: Io): Promise<number> {
  if (sys.euid() !== 0) throw unsafeError('usage is root-only: the store is, and enable writes /etc/claude-code', 'run it with sudo');
  if (o.action === 'enable') return enable(sys, o, io);
  if (o.action === 'disable') return disableUsage(sys, io);
  if (o.action === 'receive') return receive(sys, o, io);
  return report(sys, o, io);
}

function portOf(o: UsageOptions): number | null {
  if (o.port === undefined) return null;
  if (!/^[0-9]{1,5}$/.test(o.port) || Number(o.port) < 1 || Number(o.port) > 65535)
    throw usageError(`--port ${o.port}: a port from 1 to 65535 (below 1024 keeps members from taking it while the receiver restarts)`);
  return Number(o.port);
}

function currentPort(sys: System): number | null {
  const r = sys.readFileNoFollow(USAGE_DROPIN, { owner: 0, maxBytes: 64 << 10 });
  return r.ok ? dropInPort(r.bytes.toString('utf8')) : null;
}

async function enable(sys: System, o: UsageOptions, io: Io): Promise<number> {
  const port = portOf(o) ?? currentPort(sys) ?? USAGE_DEFAULT_PORT;
  for (const d of ['/etc/claude-code', USAGE_DROPIN_DIR]) {
    const st = sys.lstat(d);
    if (st && (st.type !== 'dir' || st.uid !== 0 || (st.mode & 0o022) !== 0))
      throw unsafeError(`${d} is not a root-owned directory that only root can write: Claude Code takes managed settings from it`, `fix it: chown root:root ${d} && chmod 0755 ${d}`);
    if (!st) sys.mkdir(d, 0o755, 0, 0);
  }
  ensureUsageDir(sys);
  sys.writeFileAtomic(USAGE_DROPIN, usageDropIn(port), { mode: 0o644, uid: 0, gid: 0 });
  io.out(`wrote ${USAGE_DROPIN}: Claude Code, for every user of this machine, sends its usage to ${USAGE_HOST}:${port} (no prompt text)`);
  const m = sys.services;
  if (!sys.lstat(m.runningMarker)) {
    io.err(`${m.name} is not running here: start the receiver yourself and keep it running (as root): ${sys.selfPath()} usage receive`);
    return EXIT.ok;
  }
  sys.writeFileAtomic(USAGE_UNIT_PATH, usageUnit(sys.selfPath()), { mode: 0o644, uid: 0, gid: 0 });
  for (const argv of [
    ['systemctl', 'daemon-reload'],
    ['systemctl', 'enable', '--now', USAGE_UNIT_NAME],
    ['systemctl', 'restart', USAGE_UNIT_NAME],
  ])
    if ((await sys.runTool({ argv })) !== 0) throw operatorError(`${argv.join(' ')} failed: the receiver is not running`, `see: systemctl status ${USAGE_UNIT_NAME}`);
  io.out(`enabled and started ${USAGE_UNIT_NAME}`);
  return EXIT.ok;
}

/** Removes the drop-in and the receiver's unit (the receiver stopped first); the rows stay. uninstall calls it too. */
export async function disableUsage(sys: System, io: Io): Promise<number> {
  if (sys.lstat(USAGE_DROPIN)) {
    sys.unlink(USAGE_DROPIN);
    io.out(`removed ${USAGE_DROPIN}: Claude Code sends no usage any more (sessions started before keep sending until they end)`);
  } else io.out(`${USAGE_DROPIN} was not there`);
  if (sys.lstat(USAGE_UNIT_PATH)) {
    if (sys.lstat(sys.services.runningMarker)) await sys.runTool({ argv: ['systemctl', 'disable', '--now', USAGE_UNIT_NAME] });
    sys.unlink(USAGE_UNIT_PATH);
    if (sys.lstat(sys.services.runningMarker)) await sys.runTool({ argv: ['systemctl', 'daemon-reload'] });
    io.out(`removed ${USAGE_UNIT_PATH}`);
  }
  io.out(`the rows stay in ${USAGE_DIR} (root-only); remove them with: rm -r ${USAGE_DIR}`);
  return EXIT.ok;
}

const MAX_CONNECTIONS_PER_UID = 16;
const LOG_EVERY_MS = 60_000;

/**
 * The receiver: OTLP/HTTP JSON on 127.0.0.1, every request attributed to the uid that owns the other end of its
 * connection. Runs until SIGTERM or SIGINT.
 */
async function receive(sys: System, o: UsageOptions, io: Io): Promise<number> {
  const port = portOf(o) ?? currentPort(sys) ?? USAGE_DEFAULT_PORT;
  ensureUsageDir(sys);
  const now = () => sys.now().getTime();
  const old = loadUsageState(sys);
  const state: UsageState = {
    pid: process.pid,
    port,
    startedAt: now(),
    updatedAt: now(),
    totals: old?.totals ?? {},
    dropped: old?.dropped ?? {},
    month: old?.month ?? { month: '', bytes: {} },
  };
  const limiter = new RateLimit();
  const conns = new Map<number, { uid: number; name: string }>(); // connection id -> its owner, resolved at accept
  const open = new Map<number, number>(); // uid -> open connections
  const perDay = new Map<number, { day: string; rows: number }>();
  const lastLog = new Map<string, number>();
  // Names: only accounts are counted. A uid with none (a subuid a member maps, an unknown container) is refused, so a
  // member cannot spread a flood over 65,536 uids; names not in /etc/passwd cost a getent run, so they are rationed
  // and remembered.
  const names = new Map<number, string>(); // accounts only: as many as the machine has
  const unknown = new Set<number>(); // uids with no account, at most 10,000 remembered
  const lookups = new RateLimit(USAGE_LIMITS.lookupBurst, USAGE_LIMITS.lookupPerSecond);
  const nameOf = (uid: number): string | null | undefined => {
    if (names.has(uid)) return names.get(uid);
    if (unknown.has(uid)) return null;
    if (!lookups.take(-1, now())) return undefined;
    const n = sys.userNameOf(uid);
    if (n) names.set(uid, n);
    else {
      if (unknown.size >= 10_000) unknown.clear();
      unknown.add(uid);
    }
    return n;
  };
  const keyOf = (uid: number, name?: string) => name ?? names.get(uid) ?? `uid:${uid}`;

  /** One log line per kind and member per minute: a flood must not flood the journal too. */
  const say = (kind: string, uid: number, text: string) => {
    const k = `${kind}:${uid}`;
    if (now() - (lastLog.get(k) ?? 0) < LOG_EVERY_MS) return;
    lastLog.set(k, now());
    io.err(`${new Date(now()).toISOString()} ${text}`);
  };
  const drop = (uid: number, n: number, why: string) => {
    const k = keyOf(uid);
    const d = (state.dropped[k] ??= { count: 0, last: 0 });
    d.count += n;
    d.last = now();
    dirty = true;
    say('drop', uid, `dropped ${n} from ${k} (${why}); dropped from ${k} so far: ${d.count}`);
  };

  let dirty = false;
  const flush = () => {
    state.updatedAt = now();
    try {
      saveUsageState(sys, state);
      dirty = false;
    } catch (e) {
      // A full disk: the rows are refused meanwhile (500), the heartbeat goes stale and status says so.
      say('state', 0, `cannot write ${USAGE_DIR}/state.json: ${(e as Error).message}`);
    }
  };

  const handle = (r: HttpRequest): { status: number; body: string } => {
    const owner = conns.get(r.connection);
    if (!owner) return { status: 403, body: '{"error":"the calling process is not known"}' };
    const { uid, name } = owner;
    if (r.method !== 'POST') return { status: 405, body: '{"error":"POST only"}' };
    if (r.path !== '/v1/logs' && r.path !== '/v1/metrics') return { status: 404, body: '{}' };
    if (!limiter.take(uid, now())) {
      drop(uid, 1, 'more than the rate limit allows');
      return { status: 429, body: '{"error":"too many requests"}' };
    }
    if (r.body === null) {
      drop(uid, 1, `a body over ${USAGE_LIMITS.maxBodyBytes} bytes`);
      return { status: 413, body: '{"error":"too large"}' };
    }
    if (!/^application\/json\b/i.test(r.contentType)) {
      say(
        'proto',
        uid,
        `refused a ${label(r.contentType) || 'typeless'} body from ${keyOf(uid)}: only OTLP/HTTP JSON is read here (OTEL_EXPORTER_OTLP_PROTOCOL=http/json, which ${USAGE_DROPIN} sets)`,
      );
      return { status: 415, body: '{"error":"only application/json (OTLP/HTTP JSON)"}' };
    }
    let body: unknown;
    try {
      body = JSON.parse(r.body.toString('utf8'));
    } catch {
      return { status: 400, body: '{"error":"not JSON"}' };
    }
    const t = now();
    let rows: UsageRow[] = rowsFromOtlp(r.path, body, { uid, user: name }, t);
    if (!rows.length) return { status: 200, body: '{}' };
    const day = new Date(t).toISOString().slice(0, 10);
    const used = perDay.get(uid)?.day === day ? perDay.get(uid)! : { day, rows: 0 };
    const room = Math.max(0, USAGE_LIMITS.rowsPerDay - used.rows);
    if (rows.length > room) {
      drop(uid, rows.length - room, `more than ${USAGE_LIMITS.rowsPerDay} rows today`);
      rows = rows.slice(0, room);
    }
    const file = monthFile(t);
    const bytes = rows.reduce((n, row) => n + JSON.stringify(row).length + 1, 0);
    // The file never grows past its cap (the report reads it whole, and refuses a larger one).
    if (rows.length && monthBytes(sys, file) + bytes > USAGE_LIMITS.monthBytes) {
      drop(uid, rows.length, `${USAGE_DIR}/${file} is full (${USAGE_LIMITS.monthBytes} bytes)`);
      rows = [];
    }
    // One member's share of the month's file: a flood of long rows cannot fill it for the others.
    if (state.month.month !== file) state.month = { month: file, bytes: {} };
    const k = keyOf(uid, name);
    if (rows.length && (state.month.bytes[k] ?? 0) + bytes > USAGE_LIMITS.memberMonthBytes) {
      drop(uid, rows.length, `more than ${USAGE_LIMITS.memberMonthBytes} bytes this month`);
      rows = [];
    }
    state.month.bytes[k] = (state.month.bytes[k] ?? 0) + (rows.length ? bytes : 0);
    used.rows += rows.length;
    perDay.set(uid, used);
    appendRows(sys, file, rows);
    for (const row of rows) {
      addRow((state.totals[k] ??= emptyTotals(k)), row);
      if (row.claimed !== undefined) say('claim', uid, `${k} sent telemetry labelled ${row.claimed}: counted as ${k}, flagged`);
    }
    dirty = true;
    return { status: 200, body: '{}' };
  };

  let server: { close(): void };
  try {
    server = await sys.serveHttp(
      { host: USAGE_HOST, port, maxBodyBytes: USAGE_LIMITS.maxBodyBytes },
      {
        accept: (c) => {
          const uid = peerUid(sys.tcpSockets(), c.remotePort, c.localPort);
          if (uid === null) return false;
          const name = nameOf(uid);
          if (!name) {
            if (name === null) say('noaccount', -1, `refused connections from uids with no account (uid ${uid} among them): only accounts are counted`);
            return false;
          }
          if ((open.get(uid) ?? 0) >= MAX_CONNECTIONS_PER_UID) {
            drop(uid, 1, `more than ${MAX_CONNECTIONS_PER_UID} connections at once`);
            return false;
          }
          open.set(uid, (open.get(uid) ?? 0) + 1);
          conns.set(c.id, { uid, name });
          return true;
        },
        request: handle,
        closed: (c) => {
          const owner = conns.get(c.id);
          conns.delete(c.id);
          if (owner) open.set(owner.uid, Math.max(0, (open.get(owner.uid) ?? 1) - 1));
        },
      },
    );
  } catch (e) {
    throw operatorError(`cannot listen on ${USAGE_HOST}:${port}: ${(e as Error).message}`, `another program uses the port: pick another one with claude-share usage enable --port N`);
  }
  flush();
  io.err(`receiving Claude Code usage on ${USAGE_HOST}:${port}, stored in ${USAGE_DIR}`);
  return await new Promise<number>((resolve) => {
    const tick = setInterval(() => flush(), HEARTBEAT_MS);
    const soon = setInterval(() => dirty && flush(), 1000);
    const stop = sys.onSignal(['SIGTERM', 'SIGINT'], () => {
      stop();
      clearInterval(tick);
      clearInterval(soon);
      server.close();
      flush();
      io.err('stopped');
      resolve(EXIT.ok);
    });
  });
}

function report(sys: System, o: UsageOptions, io: Io): number {
  const now = sys.now().getTime();
  const since = parseSince(o.since ?? '30d', now);
  if (since === null) throw usageError(`--since ${o.since}: a number of hours, days or weeks (12h, 30d, 2w) or a date (2026-11-01)`);
  const by = (o.by ?? 'user') as UsageBy;
  if (!['user', 'day', 'model'].includes(by)) throw usageError(`--by ${o.by}: user, day or model`);
  const enabled = !!sys.lstat(USAGE_DROPIN);
  const state = loadUsageState(sys);
  const up = receiverUp(sys, state, now);
  if (!enabled && !state && !sys.lstat(USAGE_DIR)) throw dataError('usage is not enabled here: nothing was ever recorded', 'run: claude-share usage enable');
  const totals: UsageTotals[] = aggregate(readRows(sys, since, now), by, since);
  const view = { since, by, enabled, receiverUp: up, totals, dropped: state?.dropped ?? {} };
  if (o.json) io.out(JSON.stringify(usageJson(view)));
  else for (const l of usageText(view, io.style)) io.out(l);
  return EXIT.ok;
}
