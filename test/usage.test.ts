import { readFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { runUsage, type UsageOptions } from '../src/commands/usage.js';
import {
  aggregate,
  dropInPort,
  monthFilesSince,
  parseProcNetTcp,
  parseSince,
  peerUid,
  RateLimit,
  rowsFromOtlp,
  USAGE_DIR,
  USAGE_DROPIN,
  USAGE_LIMITS,
  USAGE_STATE,
  usageDropIn,
  type UsageRow,
} from '../src/core/usage.js';
import { runStatus, statusModel } from '../src/commands/status.js';
import { runUninstall } from '../src/commands/uninstall.js';
import { prometheusText } from '../src/core/render.js';
import { loadConfig } from '../src/engine/config.js';
import { lastSessionStart } from '../src/engine/usage-store.js';
import { captureIo, initializedMachine } from './helpers/fixtures.js';
import { MemorySystem } from './helpers/memory-system.js';

// Issue 18: usage from Claude Code's own telemetry, attributed by the kernel. The fixtures are what the real clients
// 2.1.112 and 2.1.330 sent (captured by the real-client suite's set-up, fake API, `claude -p hi`, with
// OTEL_RESOURCE_ATTRIBUTES=user.name=csbob set by the member who ran them).
const fixture = (name: string) => JSON.parse(readFileSync(new URL(`./fixtures/otlp/${name}.json`, import.meta.url), 'utf8')) as unknown;
const T = Date.parse('2026-11-23T12:00:00Z');
const alice = { uid: 1001, user: 'alice' };

describe('what a client sends, read as rows', () => {
  it.each(['2.1.112', '2.1.330'])('%s: one api_request row with the fake API token counts and cost, and one session', (v) => {
    const req = rowsFromOtlp('/v1/logs', fixture(`${v}-logs`), alice, T);
    expect(req).toHaveLength(1);
    expect(req[0]).toMatchObject({ kind: 'request', uid: 1001, user: 'alice', model: 'claude-sonnet-4-5', input: 1, output: 1, cacheRead: 0, cacheCreation: 0, t: T });
    expect(req[0].costUsd).toBeGreaterThan(0);
    expect(req[0].session).toMatch(/^[0-9a-f-]{36}$/);
    const ses = rowsFromOtlp('/v1/metrics', fixture(`${v}-metrics`), alice, T);
    expect(ses).toEqual([expect.objectContaining({ kind: 'session', sessions: 1, session: req[0].session })]);
  });

  it('the label the member set (user.name=csbob) is kept as a claim beside the user the kernel named, never instead of it', () => {
    const [r] = rowsFromOtlp('/v1/logs', fixture('2.1.330-logs'), alice, T);
    expect(r).toMatchObject({ user: 'alice', uid: 1001, claimed: 'csbob' });
    // The same claim by the user it names is no claim.
    expect(rowsFromOtlp('/v1/logs', fixture('2.1.330-logs'), { uid: 1002, user: 'csbob' }, T)[0].claimed).toBeUndefined();
  });

  it('hostile bodies give no rows and no exception; hostile values are cut, and numbers that are not counts are 0', () => {
    for (const b of [null, 42, 'x', [], { resourceLogs: 'no' }, { resourceLogs: [{ scopeLogs: [{ logRecords: [null, 1, { attributes: 'x' }] }] }] }])
      expect(rowsFromOtlp('/v1/logs', b, alice, T)).toEqual([]);
    const rec = (attrs: [string, unknown][]) => ({
      resourceLogs: [{ scopeLogs: [{ logRecords: [{ attributes: attrs.map(([key, value]) => ({ key, value })) }] }] }],
    });
    const [r] = rowsFromOtlp(
      '/v1/logs',
      rec([
        ['event.name', { stringValue: 'api_request' }],
        ['input_tokens', { intValue: '-5' }],
        ['output_tokens', { doubleValue: Infinity }],
        ['cache_read_tokens', { stringValue: '1e300' }],
        ['cost_usd', { stringValue: 'NaN' }],
        ['model', { stringValue: '\x1b[31mred' + 'x'.repeat(500) }],
        ['session.id', { intValue: 7 }],
      ]),
      alice,
      T,
    );
    expect(r).toMatchObject({ input: 0, output: 0, cacheRead: 0, costUsd: 0, session: '7' });
    expect(r.model).toBe('?[31mred' + 'x'.repeat(56));
    // Another path, or a metric that is not session.count, is nothing.
    expect(rowsFromOtlp('/v1/traces', fixture('2.1.330-logs'), alice, T)).toEqual([]);
    expect(rowsFromOtlp('/v1/metrics', fixture('2.1.330-logs'), alice, T)).toEqual([]);
  });
});

describe('the drop-in', () => {
  it('pins the general and per-signal endpoints to the receiver, JSON over HTTP, deltas, and never asks for prompt text', () => {
    const env = (JSON.parse(usageDropIn(14318)) as { env: Record<string, string> }).env;
    expect(env).toMatchObject({
      CLAUDE_CODE_ENABLE_TELEMETRY: '1',
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:14318',
      OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: 'http://127.0.0.1:14318/v1/metrics',
      OTEL_EXPORTER_OTLP_LOGS_ENDPOINT: 'http://127.0.0.1:14318/v1/logs',
    });
    expect(Object.keys(env)).not.toContain('OTEL_LOG_USER_PROMPTS');
    expect(dropInPort(usageDropIn(20000))).toBe(20000);
    expect(dropInPort('{"env":{"OTEL_EXPORTER_OTLP_ENDPOINT":"http://evil:1"}}')).toBeNull();
  });
});

describe('who is calling: the kernel, not the body', () => {
  const tcp = `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:37EE 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 100 1 0
   1: 0100007F:C4F2 0100007F:37EE 01 00000000:00000000 00:00000000 00000000  1001        0 101 1 0
   2: 0100007F:37EE 0100007F:C4F2 01 00000000:00000000 00:00000000 00000000     0        0 102 1 0
   3: 0A000001:C4F3 0A000002:37EE 01 00000000:00000000 00:00000000 00000000  1002        0 103 1 0
   4: 0100007F:C4F4 0100007F:37EE 06 00000000:00000000 03:00000F5A 00000000     0        0 0 3 0
`;
  it('the uid of the client end of the connection (its local port is the peer port, its remote port ours), on loopback only', () => {
    const s = parseProcNetTcp(tcp);
    expect(s).toHaveLength(5);
    expect(peerUid(s, 0xc4f2, 0x37ee)).toBe(1001);
    // The server's own end is root's: never taken for the client's.
    expect(peerUid(s, 0x37ee, 0xc4f2)).toBe(0);
    expect(peerUid(s, 0xc4f3, 0x37ee)).toBeNull();
    // A client that closed at once left a TIME_WAIT socket, whose uid column reads 0: never root, refused.
    expect(peerUid(s, 0xc4f4, 0x37ee)).toBeNull();
    // Two matches (cannot happen on one kernel): no guess.
    expect(peerUid([...s, { ...s[1], uid: 1003 }], 0xc4f2, 0x37ee)).toBeNull();
    expect(peerUid(s, 1, 2)).toBeNull();
  });
});

describe('time and limits', () => {
  it('--since takes hours, days, weeks or a date, and nothing else', () => {
    expect(parseSince('30d', T)).toBe(T - 30 * 86_400_000);
    expect(parseSince('12h', T)).toBe(T - 12 * 3_600_000);
    expect(parseSince('2w', T)).toBe(T - 14 * 86_400_000);
    expect(parseSince('2026-11-01', T)).toBe(Date.parse('2026-11-01T00:00:00Z'));
    for (const bad of ['0d', '-1d', '30', 'd', '2027-01-01', '2026-13-45', '1e3d']) expect(parseSince(bad, T)).toBeNull();
    expect(monthFilesSince(Date.parse('2025-12-15T00:00:00Z'), T)).toEqual(['2025-12.jsonl', ...Array.from({ length: 11 }, (_, i) => `2026-${String(i + 1).padStart(2, '0')}.jsonl`)]);
  });
  it('a member gets a burst, then one request a second; another member is not slowed by her', () => {
    const l = new RateLimit(3, 1);
    expect([1, 2, 3, 4].map(() => l.take(1, T))).toEqual([true, true, true, false]);
    expect(l.take(2, T)).toBe(true);
    expect(l.take(1, T + 999)).toBe(false);
    expect(l.take(1, T + 2000)).toBe(true);
  });
  it('totals by user, day and model add the same rows', () => {
    const rows: UsageRow[] = [
      { t: T, kind: 'request', uid: 1, user: 'a', session: 's', model: 'm1', input: 1, output: 2, cacheRead: 3, cacheCreation: 4, costUsd: 0.5 },
      { t: T + 1, kind: 'request', uid: 2, user: 'b', session: 't', model: 'm2', input: 10, output: 20, cacheRead: 0, cacheCreation: 0, costUsd: 1, claimed: 'a' },
      { t: T + 2, kind: 'session', uid: 1, user: 'a', session: 's', sessions: 1 },
      { t: T - 10, kind: 'request', uid: 9, user: null, session: 'old', model: 'm1', input: 100 },
    ];
    expect(aggregate(rows, 'user', T).map((g) => [g.key, g.requests, g.sessions, g.input, g.relabelled])).toEqual([
      ['a', 1, 1, 1, 0],
      ['b', 1, 0, 10, 1],
    ]);
    expect(aggregate(rows, 'user', 0).map((g) => g.key)).toContain('uid:9');
    expect(aggregate(rows, 'model', T).map((g) => g.key)).toEqual(['(sessions)', 'm1', 'm2']);
    expect(aggregate(rows, 'day', T).map((g) => [g.key, g.requests])).toEqual([['2026-11-23', 2]]);
  });
});

describe('the receiver, on the in-memory system', () => {
  let sys: MemorySystem;
  let stopped: Promise<number>;
  const CLIENT = 0xc4f2;
  const PORT = 931;
  const logsOf = (v = '2.1.330') => Buffer.from(JSON.stringify(fixture(`${v}-logs`)));
  // A connection from uid: its socket in /proc/net/tcp, then accept().
  const connect = (uid: number, port = CLIENT) => {
    sys.sockets.push({ localAddr: '0100007F', localPort: port, remoteAddr: '0100007F', remotePort: PORT, uid, state: '01', inode: 5000 + port });
    return sys.http!.h.accept({ id: port, remotePort: port, localPort: PORT });
  };
  const post = (body: Buffer | null, o: { path?: string; type?: string; port?: number } = {}) =>
    sys.http!.h.request({ method: 'POST', path: o.path ?? '/v1/logs', contentType: o.type ?? 'application/json', body, connection: o.port ?? CLIENT, remotePort: o.port ?? CLIENT, localPort: PORT });
  const stored = () =>
    (sys.files.get(`${USAGE_DIR}/2026-11.jsonl`)?.content?.toString() ?? '')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as UsageRow);
  const state = () => JSON.parse(sys.files.get(USAGE_STATE)!.content!.toString()) as { totals: Record<string, { requests: number }>; dropped: Record<string, { count: number }> };
  const io = captureIo();
  const advance = (ms: number) => {
    sys.clock += ms;
    vi.advanceTimersByTime(ms);
  };

  beforeEach(async () => {
    vi.useFakeTimers();
    io.errors.length = 0;
    io.lines.length = 0;
    sys = new MemorySystem();
    sys.addUser('alice', { uid: 1001 });
    sys.addUser('bob', { uid: 1002 });
    stopped = runUsage(sys, { action: 'receive' } as UsageOptions, io);
    await vi.waitFor(() => expect(sys.http).not.toBeNull());
  });
  afterEach(async () => {
    sys.signal('SIGTERM');
    expect(await stopped).toBe(0);
    vi.useRealTimers();
  });

  it('listens on 127.0.0.1 only, and stores each row under the uid that owns the calling socket, whatever the body claims', () => {
    expect(sys.http).toMatchObject({ host: '127.0.0.1', port: 931 });
    expect(connect(1001)).toBe(true);
    expect(post(logsOf())).toMatchObject({ status: 200 });
    expect(stored()).toEqual([expect.objectContaining({ kind: 'request', uid: 1001, user: 'alice', claimed: 'csbob', input: 1 })]);
    const f = sys.files.get(`${USAGE_DIR}/2026-11.jsonl`)!;
    expect([f.uid, f.mode]).toEqual([0, 0o600]);
    expect(sys.files.get(USAGE_DIR)!.mode).toBe(0o700);
    advance(1500);
    expect(state().totals.alice.requests).toBe(1);
  });

  it("a client port reused by another member after a close is that member's: the uid belongs to the connection, not the port", () => {
    expect(connect(1001)).toBe(true);
    expect(post(logsOf())).toMatchObject({ status: 200 });
    sys.http!.h.closed({ id: CLIENT, remotePort: CLIENT, localPort: PORT });
    sys.sockets = [];
    // bob's new connection happens to get the same client port: a new connection id.
    sys.sockets.push({ localAddr: '0100007F', localPort: CLIENT, remoteAddr: '0100007F', remotePort: PORT, uid: 1002, state: '01', inode: 7777 });
    expect(sys.http!.h.accept({ id: 99, remotePort: CLIENT, localPort: PORT })).toBe(true);
    expect(sys.http!.h.request({ method: 'POST', path: '/v1/logs', contentType: 'application/json', body: logsOf(), connection: 99, remotePort: CLIENT, localPort: PORT })).toMatchObject({
      status: 200,
    });
    // A request on a connection that was never accepted has no owner.
    expect(post(logsOf(), { port: 4343 })).toMatchObject({ status: 403 });
    expect(stored().map((r) => r.user)).toEqual(['alice', 'bob']);
  });

  it('a uid with no account (a subuid a member maps) is refused: a flood cannot be spread over 65,536 uids', () => {
    expect(connect(231072)).toBe(false);
    expect(post(logsOf())).toMatchObject({ status: 403 });
    expect(stored()).toEqual([]);
  });

  it("one member's share of the month's file is bounded, whatever the rate", () => {
    connect(1001);
    const row = JSON.stringify(rowsFromOtlp('/v1/logs', fixture('2.1.330-logs'), alice, T)[0]).length + 1;
    const fits = Math.floor(USAGE_LIMITS.memberMonthBytes / row);
    sys.signal('SIGTERM');
    return stopped.then(async () => {
      // Past days' rows, as a restart finds them in state.json.
      sys.writeFileAtomic(
        USAGE_STATE,
        JSON.stringify({ pid: 1, port: 931, startedAt: 0, updatedAt: 0, totals: {}, dropped: {}, month: { month: '2026-11.jsonl', bytes: { alice: (fits - 1) * row } } }),
        { mode: 0o600, uid: 0, gid: 0 },
      );
      stopped = runUsage(sys, { action: 'receive' } as UsageOptions, io);
      await vi.waitFor(() => expect(sys.http!.closed).toBe(false));
      connect(1001, 0xc500);
      expect(post(logsOf(), { port: 0xc500 })).toMatchObject({ status: 200 });
      post(logsOf(), { port: 0xc500 });
      expect(stored()).toHaveLength(1);
      advance(1500);
      expect(state().dropped.alice.count).toBe(1);
    });
  });

  it("the month's file never grows past its cap: a batch that would cross it is dropped and counted, so the report can always read it", () => {
    connect(1001);
    const real = sys.lstat.bind(sys);
    const spy = vi.spyOn(sys, 'lstat').mockImplementation((p: string) => {
      const st = real(p);
      return st && p === `${USAGE_DIR}/2026-11.jsonl` ? { ...st, size: USAGE_LIMITS.monthBytes - 10 } : st;
    });
    sys.appendRootOnly(`${USAGE_DIR}/2026-11.jsonl`, '');
    expect(post(logsOf())).toMatchObject({ status: 200 });
    expect(stored()).toEqual([]);
    advance(1500);
    expect(state().dropped.alice.count).toBe(1);
    spy.mockRestore();
  });

  it('a connection whose owner the kernel does not show is refused, and nothing is stored', () => {
    expect(sys.http!.h.accept({ id: 4242, remotePort: 4242, localPort: PORT })).toBe(false);
    expect(post(logsOf(), { port: 4242 })).toMatchObject({ status: 403 });
    expect(stored()).toEqual([]);
  });

  it('protobuf gets 415 with a line that names the fix; not-JSON 400; other paths 404; nothing stored', () => {
    connect(1001);
    expect(post(Buffer.from([0x0a, 0x01]), { type: 'application/x-protobuf' })).toMatchObject({ status: 415 });
    expect(io.errors.join('\n')).toMatch(/only OTLP\/HTTP JSON.*OTEL_EXPORTER_OTLP_PROTOCOL=http\/json/);
    expect(post(Buffer.from('{nope'))).toMatchObject({ status: 400 });
    expect(post(logsOf(), { path: '/v1/traces' })).toMatchObject({ status: 404 });
    expect(stored()).toEqual([]);
  });

  it("one member's flood is bounded (rate, size, connections) and counted; another member still gets through", () => {
    connect(1001);
    const codes = Array.from({ length: USAGE_LIMITS.burst + 20 }, () => post(logsOf()).status);
    expect(codes.filter((c) => c === 200)).toHaveLength(USAGE_LIMITS.burst);
    expect(codes.filter((c) => c === 429)).toHaveLength(20);
    advance(1000);
    expect(post(null)).toMatchObject({ status: 413 });
    for (let i = 0; i < 15; i++) connect(1001, 50000 + i);
    expect(connect(1001, 51000)).toBe(false);
    connect(1002, 0xc4f3);
    expect(post(logsOf(), { port: 0xc4f3 })).toMatchObject({ status: 200 });
    advance(1500);
    expect(state().dropped.alice.count).toBe(22);
    expect(stored().filter((r) => r.user === 'bob')).toHaveLength(1);
    // Logged once a minute, not once per request.
    expect(io.errors.filter((l) => l.includes('dropped') && l.includes('alice')).length).toBeLessThanOrEqual(2);
  });
});

describe('usage enable, disable and the report', () => {
  it('enable writes the drop-in root 0644 and the store root 0700, and says it applies to every user; disable removes it and keeps the rows', async () => {
    const sys = new MemorySystem();
    const io = captureIo();
    expect(await runUsage(sys, { action: 'enable' }, io)).toBe(0);
    const d = sys.files.get(USAGE_DROPIN)!;
    expect([d.uid, d.mode]).toEqual([0, 0o644]);
    expect(dropInPort(d.content!.toString())).toBe(931);
    expect(io.lines.join('\n')).toMatch(/every user of this machine/);
    sys.appendRootOnly(
      `${USAGE_DIR}/2026-11.jsonl`,
      JSON.stringify({ t: T - 1000, kind: 'request', uid: 1001, user: 'alice', session: 's', model: 'm', input: 7, output: 3, cacheRead: 0, cacheCreation: 0, costUsd: 0.25 }) + '\n',
    );
    const rep = captureIo();
    expect(await runUsage(sys, { action: 'report', json: true }, rep)).toBe(0);
    expect(JSON.parse(rep.lines.join(''))).toMatchObject({
      command: 'usage',
      by: 'user',
      enabled: true,
      receiverUp: false,
      rows: [{ user: 'alice', requests: 1, inputTokens: 7, outputTokens: 3, costUsd: 0.25 }],
    });
    expect(await runUsage(sys, { action: 'disable' }, captureIo())).toBe(0);
    expect(sys.files.has(USAGE_DROPIN)).toBe(false);
    expect(sys.files.has(`${USAGE_DIR}/2026-11.jsonl`)).toBe(true);
  });

  it('bad flags change nothing and name the fix; a member cannot run it', async () => {
    const sys = new MemorySystem();
    await expect(runUsage(sys, { action: 'enable', port: '70000' }, captureIo())).rejects.toMatchObject({ exitCode: 64 });
    await expect(runUsage(sys, { action: 'report', since: 'yesterday' }, captureIo())).rejects.toMatchObject({ exitCode: 64, message: expect.stringMatching(/12h, 30d, 2w/) });
    await expect(runUsage(sys, { action: 'report' }, captureIo())).rejects.toMatchObject({ exitCode: 65, hint: expect.stringMatching(/usage enable/) });
    expect(sys.files.has(USAGE_DROPIN)).toBe(false);
    sys.addDir('/etc/claude-code', 1001, 1001, 0o755);
    await expect(runUsage(sys, { action: 'enable' }, captureIo())).rejects.toMatchObject({ exitCode: 77 });
    expect(sys.files.has(USAGE_DROPIN)).toBe(false);
  });
});

describe('status and Prometheus see the usage telemetry', () => {
  const CFG = '/etc/claude-share/config';
  const status = (sys: MemorySystem) => {
    const out = captureIo();
    const code = runStatus(sys, { json: true, quiet: false, config: CFG }, out);
    return { code, doc: JSON.parse(out.lines.join('\n')) as { usage: { receiverUp: boolean; reportedLast7Days: string[]; silent: string[] } | null; problems: { code: string; user?: string }[] } };
  };
  const writeState = (sys: MemorySystem, o: { updatedAt: number; pid: number; lastSeen: Record<string, number>; dropped?: Record<string, { count: number; last: number }> }) =>
    sys.writeFileAtomic(
      USAGE_STATE,
      JSON.stringify({
        pid: o.pid,
        port: 14318,
        startedAt: 0,
        updatedAt: o.updatedAt,
        totals: Object.fromEntries(
          Object.entries(o.lastSeen).map(([k, t]) => [k, { key: k, sessions: 2, requests: 5, input: 10, output: 20, cacheRead: 30, cacheCreation: 40, costUsd: 1.5, relabelled: 0, lastSeen: t }]),
        ),
        dropped: o.dropped ?? {},
      }),
      { mode: 0o600, uid: 0, gid: 0 },
    );

  it('never enabled: no usage block, no problem, status unchanged', async () => {
    const sys = await initializedMachine();
    const s = status(sys);
    expect(s.doc.usage).toBeNull();
    expect(s.code).toBe(0);
  });

  it('up, who reported, who is silent (sessions started after their last report), the counters per member; down is exit 1 with the fix', async () => {
    const sys = await initializedMachine();
    await runUsage(sys, { action: 'enable' }, captureIo());
    const now = sys.clock;
    sys.addDir('/proc', 0, 0, 0o555);
    sys.addDir('/proc/4242', 0, 0, 0o555);
    writeState(sys, { pid: 4242, updatedAt: now - 10_000, lastSeen: { alice: now - 3_600_000 * 30 }, dropped: { bob: { count: 7, last: now - 1000 } } });
    // bob started a session 2 hours ago and never reported; alice's last session is older than her report.
    // (The in-memory ctime is a change counter: set to the time the kernel would have.)
    for (const [u, uid, ago] of [
      ['bob', sys.getUser('bob')!.uid, 2],
      ['alice', sys.getUser('alice')!.uid, 31],
    ] as const) {
      sys.addDir(`/home/${u}/.claude/projects`, uid, uid, 0o700);
      sys.addDir(`/home/${u}/.claude/projects/-home-${u}-proj`, uid, uid, 0o700);
      sys.files.get(`/home/${u}/.claude/projects/-home-${u}-proj`)!.changes = now - ago * 3_600_000;
    }
    let s = status(sys);
    expect(s.doc.usage).toEqual({ enabled: true, receiverUp: true, reportedLast7Days: ['alice'], silent: ['bob'] });
    expect(s.doc.problems.filter((p) => p.code.startsWith('usage-')).map((p) => [p.code, p.user])).toEqual([
      ['usage-silent', 'bob'],
      ['usage-dropped', 'bob'],
    ]);
    expect(s.code).toBe(0);
    const m = statusModel(sys, loadConfig(sys, CFG)!);
    const prom = prometheusText(m);
    expect(prom).toContain('claude_share_usage_receiver_up 1');
    expect(prom).toContain('claude_share_usage_requests_total{user="alice"} 5');
    expect(prom).toContain('claude_share_usage_tokens_total{user="alice",type="cache_creation"} 40');
    expect(prom).toContain('claude_share_usage_dropped_total{user="bob"} 7');
    // The receiver's process is gone: down, exit 1, and the line names the fix.
    sys.files.delete('/proc/4242');
    s = status(sys);
    expect(s.doc.usage!.receiverUp).toBe(false);
    expect(s.code).toBe(1);
    expect(s.doc.problems.map((p) => p.code)).toContain('usage-receiver-down');
    const text = captureIo();
    runStatus(sys, { json: false, quiet: false, config: CFG }, text);
    expect(text.lines.join('\n')).toMatch(/usage: telemetry enabled, receiver DOWN, 1 of 2 members reported in the last 7 days; silent: bob/);
  });

  it("a member's ~/.claude that is a link is not followed: no session start is read through it", async () => {
    const sys = await initializedMachine();
    await runUsage(sys, { action: 'enable' }, captureIo());
    const bob = sys.getUser('bob')!;
    for (const d of ['/srv', '/srv/elsewhere', '/srv/elsewhere/projects', '/srv/elsewhere/projects/x']) sys.addDir(d, bob.uid, bob.uid, 0o755);
    sys.files.get('/srv/elsewhere/projects/x')!.changes = sys.clock - 1000;
    sys.files.delete('/home/bob/.claude');
    sys.addLink('/home/bob/.claude', '/srv/elsewhere');
    expect(lastSessionStart(sys, bob)).toBeNull();
  });
});

describe('uninstall', () => {
  it('removes the drop-in (every client would go on sending to a receiver that is gone) and keeps the rows; --dry-run only says so', async () => {
    const sys = await initializedMachine();
    await runUsage(sys, { action: 'enable' }, captureIo());
    sys.appendRootOnly(`${USAGE_DIR}/2026-11.jsonl`, '{}\n');
    const dry = captureIo();
    await runUninstall(sys, { yes: true, dryRun: true, json: false, purge: false, config: '/etc/claude-share/config' }, dry);
    expect(dry.errors.join('\n')).toMatch(/would remove .*claude-share-usage.json/);
    expect(sys.files.has(USAGE_DROPIN)).toBe(true);
    expect(await runUninstall(sys, { yes: true, dryRun: false, json: false, purge: false, config: '/etc/claude-share/config' }, captureIo())).toBe(0);
    expect(sys.files.has(USAGE_DROPIN)).toBe(false);
    expect(sys.files.has(`${USAGE_DIR}/2026-11.jsonl`)).toBe(true);
  });
});
