import type { BackupRun } from '../commands/backups.js';
import { kindInfo } from './action-kinds.js';
import { describeExpiry } from './credentials.js';
import type { Action, Observed, Outcome, Plan, Problem, TokenHealth } from './model.js';
import type { DoctorReport } from '../commands/doctor.js';
import { oct } from './plan.js';
import { isoOf } from './untrusted.js';
import { DOCTOR_CODES, INTERNAL_CODES, PROBLEM_CODES, severityOf, type ProblemCode } from './problem-codes.js';
import { safeText } from './validate.js';
import type { UsageBy, UsageTotals } from './usage.js';

/**
 * --json, schema 2: one vocabulary for every command. A file is `path`, an account `user` (several: `users`), a group
 * `group` by name (numbers only as `uid`/`gid`, next to the names); every command lists what it did or would do as
 * `actions`, each with its `result` (`planned` in a dry run), and what is still to be done as `remaining`; `counts`
 * say it in numbers; every problem names its `user` when it has one. Built here only, never inline in a command.
 */
export const SCHEMA_VERSION = 2;

export interface Style {
  color: boolean;
}

const paint = (s: Style, code: number, text: string) => (s.color ? `\x1b[${code}m${text}\x1b[0m` : text);

export function describeAction(a: Action, done: boolean): string {
  // A leaving user's login link goes without a copy (plan-removal.ts): say so, never "a private copy".
  const verb = a.kind === 'privatize' && !a.source ? (done ? 'removed the link, no private copy:' : 'would remove the link, no private copy:') : kindInfo(a.kind)[done ? 'done' : 'dry'];
  const object = a.kind === 'add-to-group' ? `${a.target}: ${a.members!.join(', ')}` : a.kind === 'set-passwords' ? a.members!.join(', ') : a.target;
  const extra =
    a.kind === 'link'
      ? ` → ${a.after.replace(/^link to /, '')}`
      : a.kind === 'promote-shared'
        ? ` (from ${a.user ?? a.after})`
        : a.kind === 'leave-group'
          ? ` (${a.user})`
          : a.kind === 'archive-shared'
            ? ` ${a.after}`
            : '';
  return `${verb} ${object}${extra}`;
}

export function renderPlanText(actions: Action[], s: Style): string[] {
  if (!actions.length) return ['nothing to do'];
  return actions.map((a) => `${paint(s, 36, '→')} ${describeAction(a, false)}  ${paint(s, 2, `(${a.reason})`)}`);
}

export function renderOutcomeLine(o: Outcome, s: Style): string {
  const sym = o.result === 'unchanged' ? paint(s, 2, '·') : o.result === 'failed' || o.result === 'conflict' ? paint(s, 31, '✗') : paint(s, 32, '✓');
  const text =
    o.result === 'unchanged'
      ? `unchanged: ${o.action.target}`
      : o.result === 'failed' || o.result === 'conflict'
        ? `${o.result}: ${describeAction(o.action, false).replace(/^would /, '')}: ${safeText(o.message ?? '')}`
        : describeAction(o.action, true);
  return `${sym} ${text}${o.backups.map((b) => `\n    backup: ${b}`).join('')}`;
}

export function renderSummary(outcomes: Outcome[]): string {
  if (!outcomes.length) return 'nothing to do: everything is already in place';
  const c = outcomeCounts(outcomes);
  return `${c.changed} changed, ${c.unchanged} unchanged, ${c.failed + c.conflicts} failed${c.backedUp ? `, ${c.backedUp} backed up` : ''}`;
}

export function renderProblems(problems: Problem[], s: Style, severities: Problem['severity'][] = ['operator', 'drift', 'warning']): string[] {
  return problems
    .filter((p) => severities.includes(p.severity))
    .map((p) => {
      const tag = p.severity === 'operator' ? paint(s, 31, 'error') : p.severity === 'warning' ? paint(s, 33, 'warning') : paint(s, 33, 'drift');
      return `${tag} [${p.code}] ${p.message}\n    fix: ${p.fix}`;
    });
}

export function actionJson(a: Action, result?: Outcome['result'] | 'planned') {
  // What the target names: a group by name, accounts by name (users), else a file.
  const kind = kindInfo(a.kind).about;
  const about = kind === 'group' ? { group: a.target } : kind === 'account' ? {} : { path: a.target };
  return { kind: a.kind, code: a.code, ...about, user: a.user, users: 'members' in a ? a.members : undefined, before: a.before, after: a.after, reason: a.reason, result };
}

export function outcomeJson(o: Outcome) {
  return { ...actionJson(o.action, o.result), message: o.message, backups: o.backups };
}

/** A mutating command's --json, dry run or not: the same keys either way. */
export function runJson(command: string, run: { planned: Action[] } | { outcomes: Outcome[]; remaining: Action[] }, problems: Problem[]) {
  const dryRun = 'planned' in run;
  return {
    schemaVersion: SCHEMA_VERSION,
    command,
    dryRun,
    counts: dryRun ? { ...outcomeCounts([]), planned: run.planned.length } : { ...outcomeCounts(run.outcomes), planned: 0 },
    actions: dryRun ? run.planned.map((a) => actionJson(a, 'planned')) : run.outcomes.map(outcomeJson),
    problems,
    // A dry run did nothing: everything it would do is still to be done.
    remaining: (dryRun ? run.planned : run.remaining).map((a) => actionJson(a)),
  };
}

/** A refusal (bad input, unsafe path, lock held) as the one object a --json caller reads. */
export function errorJson(command: string | undefined, e: { code: string; exitCode?: number; message: string; hint?: string }) {
  return { schemaVersion: SCHEMA_VERSION, command: command ?? null, error: { code: e.code, exitCode: e.exitCode ?? 70, message: e.message, fix: e.hint ?? null } };
}

/** Drift as status reports it: every action sync would take is a repairable problem. */
export function driftProblems(actions: Action[]): Problem[] {
  // An action for several members (add-to-group) is one problem per member: every problem names its user.
  return actions.flatMap((a) =>
    (a.kind === 'add-to-group' ? a.members : [a.user]).map((user) => ({
      code: a.code,
      severity: 'drift' as const,
      user,
      path: a.target,
      message: a.kind === 'add-to-group' ? `${user} is not in group ${a.target} (${a.reason})` : `${a.target}: ${a.before} (${a.reason})`,
      fix: 'run: claude-share sync',
    })),
  );
}

/** The counts every mutating command's JSON carries, as its last text line says them. */
export function outcomeCounts(outcomes: Outcome[]) {
  const n = (r: Outcome['result'][]) => outcomes.filter((o) => r.includes(o.result)).length;
  return {
    changed: n(['created', 'replaced', 'backed-up']),
    unchanged: n(['unchanged']),
    failed: n(['failed']),
    conflicts: n(['conflict']),
    backedUp: outcomes.reduce((k, o) => k + o.backups.length, 0),
  };
}

export interface StatusModel {
  sharedDir: string;
  group: string;
  obs: Observed;
  plan: Plan;
  problems: Problem[];
  healthy: boolean;
  /** The managed users that are containers (server add-container). */
  containers?: string[];
  /** The problems the exit code is decided on: the plan's and usage's (problems adds the drift of the plan's actions). */
  stateProblems?: Problem[];
  /** Usage telemetry (claude-share usage): null when it was never enabled here. */
  usage?: UsageHealth | null;
}

/** How the usage telemetry stands, for status. */
export interface UsageHealth {
  enabled: boolean;
  receiverUp: boolean;
  /** Members whose client reported in the last 7 days. */
  reported: string[];
  /** Members who started sessions in the last 7 days after their last report. */
  silent: string[];
  /** The receiver's running totals per member (Prometheus counters). */
  totals: UsageTotals[];
  /** What was dropped per member, all time (counters). */
  dropped: Record<string, number>;
}

export function statusJson(m: StatusModel) {
  const { obs, plan } = m;
  return {
    schemaVersion: SCHEMA_VERSION,
    command: 'status',
    healthy: m.healthy,
    sharedDir: m.sharedDir,
    group: m.group,
    login: {
      state: plan.login.state,
      expiresAt: plan.login.expiresAt ? isoOf(plan.login.expiresAt) : null,
      refreshTokenExpiresAt: plan.login.refreshTokenExpiresAt ? isoOf(plan.login.refreshTokenExpiresAt) : null,
      subscriptionType: plan.login.subscriptionType ?? null,
      // The login itself (about 30 days): refreshTokenExpiresAt, or estimated from its first sighting.
      endsAt: plan.login.endsAt ? isoOf(plan.login.endsAt) : null,
      endsAtEstimated: plan.login.endsAt ? !!plan.login.endsAtEstimated : null,
      daysLeft: plan.login.endsAt ? Math.max(0, Math.floor((plan.login.endsAt - obs.nowMs) / 86400_000)) : null,
      newerSevered: plan.login.newerSevered,
      freshest: plan.login.freshest ?? null,
    },
    // The long-lived token mode (server token set): null when it is not used here. Never the token itself.
    token: tokenJson(plan.token ?? null),
    users: obs.users.map((u) => ({
      name: u.name,
      container: !!m.containers?.includes(u.name),
      exists: !!u.entry,
      inGroup: u.inGroup,
      items: u.items.map((i) => ({ path: i.path, state: i.state, detail: i.detail })),
    })),
    shared: obs.shared.map((s) => ({
      path: s.path,
      mode: s.stat ? oct(s.stat.mode) : null,
      owner: s.stat ? nameOfUid(obs, s.stat.uid) : null,
      group: s.stat ? nameOfGid(obs, s.stat.gid) : null,
      uid: s.stat?.uid ?? null,
      gid: s.stat?.gid ?? null,
      state: sharedState(m, s.path),
    })),
    // Usage telemetry (claude-share usage): null when never enabled here.
    usage: m.usage ? { enabled: m.usage.enabled, receiverUp: m.usage.receiverUp, reportedLast7Days: m.usage.reported, silent: m.usage.silent } : null,
    problems: m.problems,
    // What `sync` would do about it (status is the same plan, not applied).
    remaining: plan.actions.map((a) => actionJson(a)),
  };
}

/** Names for the ids status saw: root, the managed users, the shared group; any other id has no name here (null). */
const nameOfUid = (obs: Observed, uid: number): string | null => (uid === 0 ? 'root' : (obs.users.find((u) => u.entry?.uid === uid)?.name ?? null));
const nameOfGid = (obs: Observed, gid: number): string | null => (gid === 0 ? 'root' : obs.group?.gid === gid ? obs.group.name : null);

/** node_exporter textfile-collector format. */
export function prometheusText(m: StatusModel): string {
  const l = m.plan.login;
  const counts = new Map<string, number>();
  for (const p of m.problems) counts.set(p.code, (counts.get(p.code) ?? 0) + 1);
  const severed = m.obs.users.reduce((n, u) => n + u.items.filter((i) => i.state === 'severed').length, 0);
  const lines = [
    '# HELP claude_share_healthy 1 when claude-share status is healthy.',
    '# TYPE claude_share_healthy gauge',
    `claude_share_healthy ${m.healthy ? 1 : 0}`,
    '# HELP claude_share_problems Problems that status reports, by code (0 when absent: series never vanish).',
    '# TYPE claude_share_problems gauge',
    ...(Object.keys(PROBLEM_CODES) as ProblemCode[])
      .filter((code) => !INTERNAL_CODES.includes(code) && !DOCTOR_CODES.includes(code))
      .sort()
      .map((code) => `claude_share_problems{code="${code}",severity="${severityOf(code)}"} ${counts.get(code) ?? 0}`),
    // No login at all: no expiry series (a 0 would read as "expires now").
    ...(l.expiresAt
      ? [
          '# HELP claude_share_login_expiry_seconds Seconds until the shared access token expires (negative: expired).',
          '# TYPE claude_share_login_expiry_seconds gauge',
          `claude_share_login_expiry_seconds ${Math.round((l.expiresAt - m.obs.nowMs) / 1000)}`,
        ]
      : []),
    ...(l.endsAt
      ? [
          '# HELP claude_share_login_ends_in_seconds Seconds until the shared login itself ends and someone must /login again (estimated="true": 30 days after claude-share first saw it).',
          '# TYPE claude_share_login_ends_in_seconds gauge',
          `claude_share_login_ends_in_seconds{estimated="${l.endsAtEstimated ? 'true' : 'false'}"} ${Math.round((l.endsAt - m.obs.nowMs) / 1000)}`,
        ]
      : []),
    // Token mode only: the days left of the long-lived token's year.
    ...(m.plan.token
      ? [
          '# HELP claude_share_token_days_left Days left of the long-lived token (server token set), one year from when it was set.',
          '# TYPE claude_share_token_days_left gauge',
          `claude_share_token_days_left ${m.plan.token.daysLeft}`,
        ]
      : []),
    '# HELP claude_share_severed_copies Private files where a link to the shared copy should be.',
    '# TYPE claude_share_severed_copies gauge',
    `claude_share_severed_copies ${severed}`,
    '# HELP claude_share_managed_users Users in MANAGED_USERS.',
    '# TYPE claude_share_managed_users gauge',
    `claude_share_managed_users ${m.obs.users.length}`,
    ...(m.usage ? usageMetrics(m.usage) : []),
    ...runLines(true, Math.floor(m.obs.nowMs / 1000)),
  ];
  return lines.join('\n') + '\n';
}

const promLabel = (v: string) => v.replace(/[\\"\n]/g, (c) => (c === '\n' ? '\\n' : `\\${c}`));

/** Per-member counters from the receiver's totals (they survive its restarts), and whether it is up. */
function usageMetrics(u: UsageHealth): string[] {
  const per = (name: string, help: string, value: (t: UsageTotals) => number, extra = '') => [
    `# HELP claude_share_usage_${name} ${help}`,
    `# TYPE claude_share_usage_${name} counter`,
    ...u.totals.map((t) => `claude_share_usage_${name}{user="${promLabel(t.key)}"${extra}} ${value(t)}`),
  ];
  const tokens: [string, (t: UsageTotals) => number][] = [
    ['input', (t) => t.input],
    ['output', (t) => t.output],
    ['cache_read', (t) => t.cacheRead],
    ['cache_creation', (t) => t.cacheCreation],
  ];
  return [
    '# HELP claude_share_usage_receiver_up 1 when the usage receiver wrote its heartbeat in the last 2 minutes.',
    '# TYPE claude_share_usage_receiver_up gauge',
    `claude_share_usage_receiver_up ${u.receiverUp ? 1 : 0}`,
    ...per('sessions_total', "Claude Code sessions per member (the client's session.count).", (t) => t.sessions),
    ...per('requests_total', 'API requests per member (api_request events).', (t) => t.requests),
    '# HELP claude_share_usage_tokens_total Tokens per member and type.',
    '# TYPE claude_share_usage_tokens_total counter',
    ...u.totals.flatMap((t) => tokens.map(([type, f]) => `claude_share_usage_tokens_total{user="${promLabel(t.key)}",type="${type}"} ${f(t)}`)),
    ...per('cost_usd_total', "Estimated USD per member (the client's own estimate at API prices).", (t) => t.costUsd),
    '# HELP claude_share_usage_dropped_total Telemetry requests or rows of a member refused or not stored (flood limits).',
    '# TYPE claude_share_usage_dropped_total counter',
    ...Object.entries(u.dropped).map(([k, n]) => `claude_share_usage_dropped_total{user="${promLabel(k)}"} ${n}`),
  ];
}

const runLines = (ok: boolean, lastSuccess: number | undefined) => [
  '# HELP claude_share_run_ok 1 when the last status run finished, 0 when it failed (see its stderr or the journal).',
  '# TYPE claude_share_run_ok gauge',
  `claude_share_run_ok ${ok ? 1 : 0}`,
  ...(lastSuccess === undefined
    ? []
    : [
        '# HELP claude_share_last_success_timestamp_seconds When a status run last finished.',
        '# TYPE claude_share_last_success_timestamp_seconds gauge',
        `claude_share_last_success_timestamp_seconds ${lastSuccess}`,
      ]),
];

/** What a run that failed leaves for node_exporter: unhealthy, failed, and when it last worked. */
export function prometheusFailureText(lastSuccess: number | undefined): string {
  return ['# HELP claude_share_healthy 1 when claude-share status is healthy.', '# TYPE claude_share_healthy gauge', 'claude_share_healthy 0', ...runLines(false, lastSuccess)].join('\n') + '\n';
}

function sharedState(m: StatusModel, path: string): string {
  const p = m.problems.find((x) => x.path === path && x.severity !== 'warning');
  if (p) return p.code;
  return m.obs.shared.find((s) => s.path === path)?.stat ? 'ok' : 'missing';
}

export function statusText(m: StatusModel, s: Style): string[] {
  const { obs, plan } = m;
  const out: string[] = [];
  out.push(`claude-share status: ${m.healthy ? paint(s, 32, 'healthy') : paint(s, 31, 'needs attention')}  (shared dir ${m.sharedDir}, group ${m.group})`);
  const l = plan.login;
  out.push(
    `login: ${l.state}${l.expiresAt ? `, access token expires ${describeExpiry(l.expiresAt, obs.nowMs)}` : ''}${l.endsAt ? `, login ends ${describeExpiry(l.endsAt, obs.nowMs)}${l.endsAtEstimated ? ' (estimated)' : ''}` : ''}${l.subscriptionType ? `, subscription ${l.subscriptionType}` : ''}`,
  );
  if (l.newerSevered) out.push(`       ${l.newerSevered} severed cop${l.newerSevered === 1 ? 'y holds' : 'ies hold'} a newer token than the shared copy`);
  if (plan.token)
    out.push(`token: ${plan.token.masked}, set ${isoOf(plan.token.setAtMs).slice(0, 10)}, ${!plan.token.ok ? 'expired' : `${plan.token.daysLeft} days left`} (long-lived token for agents)`);
  if (m.usage)
    out.push(
      `usage: telemetry ${m.usage.enabled ? 'enabled' : 'NOT enabled'}, receiver ${m.usage.receiverUp ? 'up' : 'DOWN'}, ${m.usage.reported.length} of ${obs.users.length} member${obs.users.length === 1 ? '' : 's'} reported in the last 7 days${m.usage.silent.length ? `; silent: ${m.usage.silent.join(', ')}` : ''} (claude-share usage)`,
    );
  const heads = ['USER', 'GROUP', ...(obs.users[0]?.items.map((i) => i.item.rel.replace(/^\.claude\//, '')) ?? [])];
  const rows = obs.users.map((u) => [m.containers?.includes(u.name) ? `${u.name} (container)` : u.name, u.entry ? (u.inGroup ? 'yes' : 'NO') : '-', ...u.items.map((i) => i.state)]);
  const widths = heads.map((h, c) => Math.max(h.length, ...rows.map((r) => (r[c] ?? '').length)));
  const fmt = (r: string[]) =>
    r
      .map((x, c) => x.padEnd(widths[c]))
      .join('  ')
      .trimEnd();
  out.push('', fmt(heads), ...rows.map(fmt), '', 'shared copies:');
  for (const sh of obs.shared) out.push(`  ${sh.path}  ${sh.stat ? `uid ${sh.stat.uid} gid ${sh.stat.gid} ${oct(sh.stat.mode)}` : 'absent'}  ${sharedState(m, sh.path)}`);
  if (m.problems.length) out.push('', ...renderProblems(m.problems, s));
  return out;
}

/** doctor: one block per member, then the problems (status's for those members, and what only doctor sees). */
export function doctorText(r: DoctorReport, s: Style): string[] {
  const ok = paint(s, 32, '✓');
  const bad = paint(s, 31, '✗');
  const warn = paint(s, 33, '!');
  const dot = paint(s, 2, '·');
  const out: string[] = [];
  const verdict = r.exitCode !== 0 ? paint(s, 31, 'needs attention') : r.claude ? paint(s, 32, 'healthy') : `${paint(s, 32, 'healthy')} as far as status sees (the members' client was not asked)`;
  out.push(`claude-share doctor: ${verdict}  (${r.checks.length} member${r.checks.length === 1 ? '' : 's'}, group ${r.group})`);
  if (!r.claude) out.push(`${warn} no claude installed system-wide: the members' own client was not asked`);
  else if (r.claude.version === null) out.push(`${warn} claude at ${r.claude.path}: its version could not be read`);
  else out.push(`claude ${r.claude.version} at ${r.claude.path}: ${'summary' in r.claude ? r.claude.summary : ''}`);
  for (const c of r.checks) {
    out.push('', c.user);
    if (r.claude) {
      if (c.loggedIn === null) out.push(`  ${warn} claude auth status as ${c.user}: no answer`);
      else out.push(`  ${c.loggedIn ? ok : bad} claude auth status as ${c.user}: ${c.loggedIn ? `logged in${c.authMethod ? ` (${c.authMethod})` : ''}` : 'not logged in'}`);
    }
    if (!c.processes) out.push(`  ${dot} no processes running (checked again at the next login)`);
    else {
      out.push(
        `  ${c.withoutGroup.length ? warn : ok} ${c.processes} process${c.processes === 1 ? '' : 'es'}: ${c.withoutGroup.length ? `${c.withoutGroup.length} without group ${r.group}` : `all with group ${r.group}`}`,
      );
      out.push(
        `  ${c.umaskBlocksGroup.length ? warn : ok} umask: ${c.umaskBlocksGroup.length ? `${c.umaskBlocksGroup.length} with group access taken away (${c.umaskBlocksGroup[0].umask.toString(8).padStart(4, '0')})` : 'group read and write kept'}`,
      );
    }
  }
  if (r.problems.length) out.push('', ...renderProblems(r.problems, s));
  return out;
}

export function doctorJson(r: DoctorReport) {
  return {
    schemaVersion: SCHEMA_VERSION,
    command: 'doctor',
    healthy: r.exitCode === 0,
    group: r.group,
    claude: r.claude ? { path: r.claude.path, version: r.claude.version, writeMode: 'writeMode' in r.claude ? r.claude.writeMode : null } : null,
    checks: r.checks.map((c) => ({
      user: c.user,
      uid: c.uid,
      loggedIn: c.loggedIn,
      authMethod: c.authMethod,
      processes: c.processes,
      withoutGroup: c.withoutGroup,
      umaskBlocksGroup: c.umaskBlocksGroup.map((p) => ({ pid: p.pid, umask: p.umask.toString(8).padStart(4, '0') })),
    })),
    problems: r.problems,
    exitCode: r.exitCode,
  };
}

/** backups list --json, in schema 2's vocabulary: the original place is `path`, owner and group by number as `uid`/`gid`. */
export function backupsJson(directory: string, keepDays: number, runs: BackupRun[]) {
  return {
    schemaVersion: SCHEMA_VERSION,
    command: 'backups list',
    directory,
    keepDays,
    runs: runs.map((r) => ({ run: r.run, files: r.files.map((f) => ({ file: f.file, path: f.from, kind: f.kind, user: f.user, uid: f.uid, gid: f.gid, mode: f.mode, size: f.size })) })),
  };
}

/** The long-lived token in JSON: masked, never the token. */
const tokenJson = (t: TokenHealth | null) => (t ? { masked: t.masked, setAt: isoOf(t.setAtMs), daysLeft: t.daysLeft, ok: t.ok } : null);

export function tokenShowJson(t: TokenHealth | null, problems: Problem[]) {
  return { schemaVersion: SCHEMA_VERSION, command: 'token show', token: tokenJson(t), problems };
}

/** What `usage` shows: totals per user, day or model since a time, and how the telemetry stands. */
export interface UsageView {
  since: number;
  by: UsageBy;
  enabled: boolean;
  receiverUp: boolean;
  totals: UsageTotals[];
  dropped: Record<string, { count: number; last: number }>;
}

const usd = (n: number) => `$${n.toFixed(n >= 100 ? 0 : 2)}`;

export function usageText(v: UsageView, s: Style): string[] {
  const head = `usage since ${isoOf(v.since)} by ${v.by}; telemetry ${v.enabled ? 'enabled' : paint(s, 33, 'NOT enabled (claude-share usage enable)')}, receiver ${v.receiverUp ? 'up' : paint(s, 33, 'down')}`;
  if (!v.totals.length) return [head, 'nothing recorded in that time'];
  const cols = [v.by.toUpperCase(), 'SESSIONS', 'REQUESTS', 'INPUT', 'OUTPUT', 'CACHE-READ', 'CACHE-WRITE', 'EST-USD', 'LAST-SEEN', 'RELABELLED'];
  const rows = v.totals.map((t) => [
    safeText(t.key),
    String(t.sessions),
    String(t.requests),
    String(t.input),
    String(t.output),
    String(t.cacheRead),
    String(t.cacheCreation),
    usd(t.costUsd),
    t.lastSeen ? isoOf(t.lastSeen).slice(0, 16).replace('T', ' ') : '-',
    t.relabelled ? String(t.relabelled) : '',
  ]);
  const width = cols.map((c, i) => Math.max(c.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]) =>
    r
      .map((c, i) => (i === 0 ? c.padEnd(width[i]) : c.padStart(width[i])))
      .join('  ')
      .trimEnd();
  const dropped = Object.entries(v.dropped).filter(([, d]) => d.last >= v.since);
  return [
    head,
    line(cols),
    ...rows.map(line),
    ...dropped.map(([k, d]) => paint(s, 33, `dropped from ${safeText(k)}: ${d.count} (flood limits; last ${isoOf(d.last)})`)),
    "EST-USD is the client's own estimate at API prices; RELABELLED counts rows whose client claimed another name (counted as the user the kernel named).",
  ];
}

export function usageJson(v: UsageView) {
  return {
    schemaVersion: SCHEMA_VERSION,
    command: 'usage',
    since: isoOf(v.since),
    by: v.by,
    enabled: v.enabled,
    receiverUp: v.receiverUp,
    rows: v.totals.map((t) => ({
      [v.by]: t.key,
      sessions: t.sessions,
      requests: t.requests,
      inputTokens: t.input,
      outputTokens: t.output,
      cacheReadTokens: t.cacheRead,
      cacheCreationTokens: t.cacheCreation,
      costUsd: t.costUsd,
      lastSeen: t.lastSeen ? isoOf(t.lastSeen) : null,
      relabelled: t.relabelled,
    })),
    dropped: Object.entries(v.dropped).map(([user, d]) => ({ user, count: d.count, last: isoOf(d.last) })),
  };
}
