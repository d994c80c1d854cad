import { ProbeMemo } from '../engine/probe-memo.js';
import { dataError, unsafeError, usageError } from '../core/errors.js';
import { exitCode } from '../core/exit-code.js';
import { plan } from '../core/plan.js';
import { type StatusModel, driftProblems, prometheusFailureText, prometheusText, renderProblems, statusJson, statusText } from '../core/render.js';
import { shellQuote } from '../core/untrusted.js';
import { printable } from '../core/validate.js';
import { type Config, configPath, requireConfig } from '../engine/config.js';
import { syncDesired } from '../engine/converge.js';
import { cronReport } from '../engine/cron-report.js';
import type { Io } from '../engine/io.js';
import { probe } from '../engine/probe.js';
import { usageHealth } from '../engine/usage-store.js';
import type { System } from '../system/system.js';

export interface StatusOptions {
  json: boolean;
  quiet: boolean;
  cron?: boolean;
  /** Only this managed user: the same look, in time independent of how many members there are. */
  user?: string;
  prometheus?: string;
  config?: string;
}

export function statusModel(sys: System, c: Config, onlyUsers?: string[]): StatusModel {
  const desired = syncDesired(c, onlyUsers);
  const memo = ProbeMemo.forRun(sys, desired);
  const obs = probe(sys, desired, memo);
  memo.save(sys);
  const p = plan(desired, obs);
  // Usage telemetry (claude-share usage): every member, so not for a look at one.
  const usage = onlyUsers
    ? null
    : usageHealth(
        sys,
        c.managedUsers.map((n) => sys.getUser(n)).filter((u) => u !== null),
        obs.nowMs,
      );
  const problems = [...p.problems.filter((x) => x.severity === 'operator'), ...driftProblems(p.actions), ...p.problems.filter((x) => x.severity !== 'operator'), ...(usage?.problems ?? [])];
  const stateProblems = [...p.problems, ...(usage?.problems ?? [])];
  return {
    sharedDir: c.sharedDir,
    group: c.group,
    containers: c.containers,
    obs,
    plan: p,
    problems,
    stateProblems,
    usage: usage?.health ?? null,
    healthy: exitCode({ problems: stateProblems, remaining: p.actions, reportsState: true }) === 0,
  };
}

/** status: probe + plan + render; read-only. */
export function runStatus(sys: System, o: StatusOptions, io: Io): number {
  if (sys.euid() !== 0) throw unsafeError("status reads every member's home: it must run as root", 'run it with sudo');
  if (o.user !== undefined && (o.prometheus || o.cron))
    throw usageError(`--user goes with neither --prometheus nor --cron: metrics and cron's reports are about every member`, 'drop --user for those');
  if (o.prometheus) checkPrometheusPath(sys, o.prometheus);
  let m: StatusModel;
  try {
    const c = requireConfig(sys, configPath(o.config));
    if (o.user !== undefined && !c.managedUsers.includes(o.user)) throw dataError(`${printable(o.user)} is not a managed user`, `managed users: ${c.managedUsers.join(', ') || '(none)'}`);
    m = statusModel(sys, c, o.user === undefined ? undefined : [o.user]);
  } catch (e) {
    // Monitoring must see a failed run as a failure, never keep reading the last healthy file.
    if (o.prometheus) writePrometheus(sys, o.prometheus, prometheusFailureText);
    throw e;
  }
  if (o.prometheus) writePrometheus(sys, o.prometheus, () => prometheusText(m));
  if (o.json) io.out(JSON.stringify(statusJson(m), null, 2));
  else if (o.cron) cronReport(sys, 'status', m.problems, io.style, io.out);
  else if (o.quiet) renderProblems(m.problems, io.style, ['operator', 'drift']).forEach((l) => io.out(l));
  else statusText(m, io.style).forEach((l) => io.out(l));
  return exitCode({ problems: m.stateProblems ?? m.plan.problems, remaining: m.plan.actions, reportsState: true });
}

/** A usage error before anything runs, naming the fix: the README's path needs node-exporter's directory. */
function checkPrometheusPath(sys: System, path: string) {
  const dir = path.replace(/\/[^/]*$/, '') || '/';
  if (!path.startsWith('/') || path.endsWith('/'))
    throw usageError(`--prometheus ${printable(path)} is not an absolute file path`, 'pass the .prom file to write, e.g. /var/lib/prometheus/node-exporter/claude-share.prom');
  if (sys.lstat(dir)?.type !== 'dir') {
    throw usageError(
      `--prometheus: the directory ${printable(dir)} does not exist (is node-exporter's textfile collector installed?)`,
      `install prometheus-node-exporter, or create it: mkdir -p ${shellQuote(dir)}`,
    );
  }
}

/** The last success recorded in our own metrics file, so that a failed run keeps it (and alerts can age it). */
function writePrometheus(sys: System, path: string, text: (lastSuccess: number | undefined) => string) {
  const old = sys.readFileNoFollow(path, { owner: 0, maxBytes: 1 << 20 });
  const last = old.ok ? /^claude_share_last_success_timestamp_seconds (\d+)$/m.exec(old.bytes.toString('utf8'))?.[1] : undefined;
  sys.writeFileAtomic(path, text(last ? Number(last) : undefined), { mode: 0o644, uid: 0, gid: 0 });
}
