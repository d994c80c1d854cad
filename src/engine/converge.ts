import { kindInfo } from '../core/action-kinds.js';
import { EXIT, operatorError, unsafeError } from '../core/errors.js';
import { exitCode } from '../core/exit-code.js';
import { itemsFor } from '../core/items.js';
import { usersOf, type Action, type Desired, type Observed, type Outcome, type Plan, type Problem } from '../core/model.js';
import { plan } from '../core/plan.js';
import { renderOutcomeLine, renderPlanText, renderProblems, renderSummary, runJson } from '../core/render.js';
import { applyPlan, backupRootFor } from './apply.js';
import { type Config, serializeConfig } from './config.js';
import { cronReport } from './cron-report.js';
import type { Io } from './io.js';
import { recordLoginSeen, recordPinnedAccount } from './login-life.js';
import { probe } from './probe.js';
import { ProbeMemo } from './probe-memo.js';
import type { System } from '../system/system.js';

export function preflight(sys: System) {
  if (sys.euid() !== 0) throw unsafeError("claude-share changes accounts and other users' homes: it must run as root", 'run it with sudo');
  if (sys.platform() !== 'linux') throw operatorError(`claude-share runs on Linux, not ${sys.platform()}`);
  const missing = sys.accountTools.commands.filter((c) => !sys.hasCommand(c));
  if (missing.length) throw operatorError(`missing commands: ${missing.join(', ')}`, sys.accountTools.install);
}

export function desiredFrom(c: Config, extra: Partial<Desired> = {}): Desired {
  return {
    sharedDir: c.sharedDir,
    group: c.group,
    sourceUser: c.sourceUser,
    users: c.managedUsers,
    items: itemsFor(c.shareSettingsLocal),
    createGroup: false,
    createUsers: [],
    seedFromSource: false,
    promoteFrom: [],
    keepSourceCopy: false,
    copyFullClaudeJson: false,
    backupKeepDays: c.backupKeepDays,
    containers: c.containers,
    ...extra,
  };
}

export function configAction(sys: System, path: string, c: Config): Action[] {
  const text = serializeConfig(c);
  const cur = sys.readFileNoFollow(path, { maxBytes: 1 << 20 });
  if (cur.ok && cur.bytes.toString('utf8') === text) return [];
  return [{ kind: 'write-config', code: 'config', target: path, before: cur.ok ? 'older config' : 'absent', after: text, reason: 'status, sync and add-user read it' }];
}

/** Mutating commands read the config and write under one lock, so two of them never act on a stale config. */
export async function underLock<T>(sys: System, dryRun: boolean, fn: () => Promise<T>): Promise<T> {
  if (dryRun) return fn();
  const release = await sys.lock();
  try {
    return await fn();
  } finally {
    release();
  }
}

/**
 * Group membership is read at login: whoever this run put into the group (init, add-user, or sync and the watcher
 * putting someone back) and has processes running now keeps the old groups there until they log in again.
 */
export function reloginNote(sys: System, outcomes: Outcome[], io: Io) {
  const joined = outcomes.filter((o) => o.action.kind === 'add-to-group' && o.result !== 'unchanged').flatMap((o) => usersOf(o.action));
  const running = joined.length ? sys.processUids() : new Set<number>();
  const busy = joined.filter((n) => {
    const u = sys.getUser(n);
    return u && running.has(u.uid);
  });
  if (busy.length) io.err(`warning: logged in right now: ${busy.join(', ')}. They must log out and back in before the new group applies to them.`);
}

/**
 * With many users (init from a big file): one line per phase (accounts, passwords, group, shared directory, homes)
 * with its counts and time, instead of one per action, and a live counter on a terminal. Failures, conflicts and
 * backups are always printed in full.
 */
class UserProgress {
  private readonly seen = new Set<string>();
  private phase: { name: string; changed: number; unchanged: number; users: Set<string>; t0: number } | null = null;
  private lastEnd = Date.now();
  private readonly compact: boolean;
  constructor(
    private readonly io: Io,
    private readonly users: Set<string>,
  ) {
    this.compact = users.size > 10;
  }
  take(o: Outcome): boolean {
    if (!this.compact || o.result === 'failed' || o.result === 'conflict' || o.backups.length) return false;
    const name = kindInfo(o.action.kind).phase ?? 'homes';
    if (this.phase?.name !== name) {
      this.endPhase();
      this.phase = { name, changed: 0, unchanged: 0, users: new Set(), t0: this.lastEnd };
    }
    if (o.result === 'unchanged') this.phase.unchanged++;
    else this.phase.changed++;
    for (const u of usersOf(o.action)) this.phase.users.add(u);
    const u = o.action.user;
    if (u) {
      this.seen.add(u);
      this.io.progress?.(`[${this.seen.size}/${this.users.size}] ${u}`);
    }
    return true;
  }
  private endPhase() {
    const p = this.phase;
    if (!p) return;
    this.io.progress?.('');
    const secs = ((Date.now() - p.t0) / 1000).toFixed(1);
    this.io.out(`${p.changed ? '✓' : '·'} ${p.name}: ${p.changed} changed, ${p.unchanged} unchanged${p.users.size ? `, ${p.users.size} user${p.users.size === 1 ? '' : 's'}` : ''} (${secs} s)`);
    this.phase = null;
    this.lastEnd = Date.now();
  }
  flush() {
    this.endPhase();
    this.io.progress?.('');
  }
}

export interface ConvergeSpec {
  desired: Desired;
  dryRun: boolean;
  json: boolean;
  command: string;
  passwords?: Map<string, string | null>;
  quiet?: boolean;
  extra?: () => Action[];
  notes?: (sys: System, p: Planned, outcomes: Outcome[], io: Io) => void;
  /** For cron: no line per heal (syslog has them), problems only when they change (cron-report.ts). */
  cron?: boolean;
  /** Skip the extra actions (config, archive) when a planned action failed: a half-removed user stays managed. */
  extraOnlyIfClean?: boolean;
  /** plan by default; remove-user and uninstall plan the way out instead. */
  planFn?: (d: Desired, obs: Observed) => Planned;
}

export type Planned = Pick<Plan, 'actions' | 'problems'>;

/** Done first, then the world is looked at again (core/action-kinds.ts). */
const isFirst = (a: Action) => !!kindInfo(a.kind).first;

/** probe → plan → (render | apply), shared by init, add-user and sync. */
/** What a converge did: the plan it acted on, what each step came to, what is still wrong after, and its exit code. */
export interface ConvergeResult {
  code: number;
  planned: Planned;
  outcomes: Outcome[];
  after: Planned;
}

export async function converge(sys: System, io: Io, s: ConvergeSpec): Promise<ConvergeResult> {
  const planFn = s.planFn ?? plan;
  // A dry run uses what earlier runs remembered but writes nothing, the memo included.
  const memo = ProbeMemo.forRun(sys, s.desired);
  const look = () => {
    const p = planFn(s.desired, probe(sys, s.desired, memo));
    const insecure = p.problems.find((x) => x.code === 'shared-dir-insecure');
    if (insecure) throw unsafeError(insecure.message, insecure.fix);
    return p;
  };
  if (s.dryRun) {
    const first = look();
    const firstActions = [...first.actions, ...(s.extra?.() ?? [])];
    if (s.json) io.out(JSON.stringify(runJson(s.command, { planned: firstActions }, first.problems), null, 2));
    else {
      renderPlanText(firstActions, io.style).forEach((l) => io.out(l));
      renderProblems(first.problems, io.style).forEach((l) => io.err(l));
    }
    return { code: exitCode({ problems: first.problems, remaining: firstActions, dryRun: true }), planned: first, outcomes: [], after: first };
  }
  const release = await sys.lock();
  // SIGINT/SIGTERM: the step under way finishes (a useradd is never cut in half), no further one starts, and the run
  // says what was done and what was not; a re-run finishes the job.
  const stop = { requested: false };
  const onSignal = () => {
    if (stop.requested) return;
    stop.requested = true;
    io.err('interrupted: finishing the step under way, then stopping');
  };
  const unsubscribe = sys.onSignal(['SIGINT', 'SIGTERM'], onSignal);
  try {
    // Look under the lock: another run may have changed things meanwhile.
    let current = look();
    const progress = new UserProgress(io, new Set(current.actions.flatMap((a) => (a.user ? [a.user] : []))));
    const ctx = {
      passwords: s.passwords ?? new Map(),
      backupRoot: backupRootFor(s.desired.sharedDir, sys.now()),
      stop,
      onOutcome: s.json || s.cron ? undefined : (o: Outcome) => (s.quiet && o.result === 'unchanged' ? undefined : progress.take(o) ? undefined : io.out(renderOutcomeLine(o, io.style))),
    };
    let outcomes: Outcome[] = [];
    if (current.actions.some(isFirst)) {
      outcomes = await applyPlan(sys, s.desired, current.actions.filter(isFirst), ctx);
      current = look();
    }
    outcomes.push(
      ...(await applyPlan(
        sys,
        s.desired,
        current.actions.filter((a) => !isFirst(a)),
        ctx,
      )),
    );
    const clean = !outcomes.some((o) => o.result === 'failed' || o.result === 'conflict');
    if (clean || !s.extraOnlyIfClean) outcomes.push(...(await applyPlan(sys, s.desired, s.extra?.() ?? [], ctx)));
    progress.flush();
    // Nothing changed: what was seen under the lock is still the truth, no need to look again.
    const after = outcomes.some((o) => o.result !== 'unchanged') ? planFn(s.desired, probe(sys, s.desired, memo)) : current;
    // Not after a removal: uninstall removes the memo itself, and must not write it back.
    if (!s.planFn) memo.save(sys);
    // What is still wrong, plus the warnings about what was just done (e.g. a forked login).
    const same = (p: Problem, q: Problem) => p.code === q.code && p.user === q.user && p.path === q.path;
    // An account this run deleted is missing afterwards by design, not a problem to report.
    const deleted = new Set(outcomes.filter((o) => o.action.kind === 'delete-account' && o.result === 'replaced').map((o) => o.action.user));
    const afterProblems = after.problems.filter((p) => !(p.code === 'user-missing' && deleted.has(p.user)));
    const problems = [...afterProblems, ...current.problems.filter((p) => p.severity === 'warning' && !after.problems.some((q) => same(p, q)))];
    if (s.json) {
      io.out(JSON.stringify(runJson(s.command, { outcomes, remaining: after.actions }, problems), null, 2));
    } else if (s.cron) {
      cronReport(sys, 'sync', problems, io.style, io.out);
    } else {
      if (!(s.quiet && !outcomes.some((o) => o.result !== 'unchanged'))) io.out(renderSummary(outcomes));
      renderProblems(problems, io.style, s.quiet ? ['operator', 'drift'] : undefined).forEach((l) => io.err(l));
    }
    s.notes?.(sys, current, outcomes, io);
    // When this login was first seen: the estimate of its end when the shared copy does not say (login-life.ts).
    if ('login' in current && 'login' in after) {
      const before = (current as Plan).login;
      const now = (after as Plan).login;
      recordLoginSeen(sys, before, now, now.account ?? '', sys.now().getTime());
      // The shared account: pinned at its first usable login, moved only by --accept-account (login-life.ts).
      if (now.state === 'valid' || now.state === 'expired-refreshable') recordPinnedAccount(sys, now.account ?? '', !!s.desired.acceptAccount);
    }
    if (stop.requested) {
      const left = after.actions.length + (s.extra?.().length ?? 0);
      io.err(
        `interrupted after ${outcomes.filter((o) => o.result !== 'unchanged').length} change${outcomes.length === 1 ? '' : 's'}; ${left} step${left === 1 ? '' : 's'} not done${after.actions.length ? ` (${summarizeKinds(after.actions)})` : ''}. Run the same command again to finish: nothing done is undone, and accounts already created get their passwords then.`,
      );
      return { code: EXIT.interrupted, planned: current, outcomes, after };
    }
    // What is still wrong decides (the warnings about what was just done are reported, not counted).
    return { code: exitCode({ problems: afterProblems, remaining: after.actions, outcomes }), planned: current, outcomes, after };
  } finally {
    unsubscribe();
    release();
  }
}

/** "3 create-user, 1 set-passwords": what a stopped run left, by kind. */
function summarizeKinds(actions: Action[]): string {
  const n = new Map<string, number>();
  for (const a of actions) n.set(a.kind, (n.get(a.kind) ?? 0) + 1);
  return [...n].map(([k, c]) => `${c} ${k}`).join(', ');
}

/** What sync (and status, and the watcher) converge to: every managed user, the freshest login of any promoted. */
export const syncDesired = (c: Config, onlyUsers?: string[]) => desiredFrom(c, { promoteFrom: 'all', onlyUsers });
