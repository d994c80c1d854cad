import { applyPlan, backupRootFor } from './apply.js';
import { CRON_STATE_DIR, cronReport } from './cron-report.js';
import { configPath, DEFAULT_BACKUP_KEEP_DAYS, loadConfig, requireConfig, serializeConfig, type Config } from './config.js';
import { CliError, EXIT, dataError, operatorError, unsafeError, usageError } from './errors.js';
import { itemsFor, SHARED_ITEMS } from './items.js';
import type { Action, Desired, Observed, Outcome, Plan, Problem } from './model.js';
import { planRemoval } from './plan-removal.js';
import { plan } from './plan.js';
import { exitCode } from './exit-code.js';
import { findInsecureParent, probe, readJournal } from './probe.js';
import {
  driftProblems,
  prometheusFailureText,
  prometheusText,
  renderOutcomeLine,
  renderPlanText,
  renderProblems,
  renderSummary,
  runJson,
  statusJson,
  statusText,
  type StatusModel,
  type Style,
} from './render.js';
import type { System } from './system.js';
import { shellQuote } from './untrusted.js';
import { assertPassword, MAX_PASSWORD, parseUsersFile, passwordProblem, readSecretFile, type UserSpec } from './users-file.js';
import { assertValidName, isReserved, printable, validateSharedDir } from './validate.js';
import { recordLoginSeen, recordPinnedAccount } from './login-life.js';

export interface Io {
  out(line: string): void;
  err(line: string): void;
  style: Style;
  /** Prompts are allowed (a TTY and no --yes). */
  interactive: boolean;
  prompt?: Prompter;
  /** A live one-line status on a terminal; '' clears it. */
  progress?(text: string): void;
}

export interface Prompter {
  input(message: string, def?: string): Promise<string>;
  password(message: string): Promise<string>;
}

export interface InitOptions {
  sharedDir?: string;
  group?: string;
  sourceUser?: string;
  usersFromFile?: string;
  user: string[];
  noPassword: boolean;
  /** Share settings.local.json: true/false from --settings-local/--no-settings-local, undefined keeps the config's. */
  settingsLocal?: boolean;
  copyFullClaudeJson: boolean;
  keepSourceCopy: boolean;
  /** Accept an existing group with members this run does not manage (never a system group). */
  adoptGroup?: boolean;
  dryRun: boolean;
  json: boolean;
  config?: string;
  yes: boolean;
}

export const DEFAULTS = { sharedDir: '/shared/claude-share', group: 'claudeshare', sourceUser: 'root', count: 2 };
const REQUIRED_COMMANDS = ['useradd', 'groupadd', 'chpasswd', 'gpasswd'];

function preflight(sys: System) {
  if (sys.euid() !== 0) throw unsafeError("claude-share changes accounts and other users' homes: it must run as root", 'run it with sudo');
  if (sys.platform() !== 'linux') throw operatorError(`claude-share runs on Linux, not ${sys.platform()}`);
  const missing = REQUIRED_COMMANDS.filter((c) => !sys.hasCommand(c));
  if (missing.length) throw operatorError(`missing commands: ${missing.join(', ')}`, 'install the shadow utilities (Debian/Ubuntu: apt-get install passwd)');
}

function desiredFrom(c: Config, extra: Partial<Desired> = {}): Desired {
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
    ...extra,
  };
}

function configAction(sys: System, path: string, c: Config): Action[] {
  const text = serializeConfig(c);
  const cur = sys.readFileNoFollow(path, { maxBytes: 1 << 20 });
  if (cur.ok && cur.bytes.toString('utf8') === text) return [];
  return [{ kind: 'write-config', code: 'config', target: path, before: cur.ok ? 'older config' : 'absent', after: text, reason: 'status, sync and add-user read it' }];
}

function splitUserArg(arg: string, io: Io): UserSpec {
  const colon = arg.indexOf(':');
  if (colon < 0) return { name: arg, password: null };
  io.err('warning: a password on the command line is visible to other processes (ps, /proc); prefer --users-from-file or the prompt');
  return { name: arg.slice(0, colon), password: arg.slice(colon + 1) };
}

async function promptInit(sys: System, o: InitOptions, io: Io): Promise<{ o: InitOptions; users: UserSpec[] }> {
  const p = io.prompt!;
  const sharedDir = o.sharedDir ?? (await p.input('Shared directory', DEFAULTS.sharedDir));
  const group = o.group ?? (await p.input('Group', DEFAULTS.group));
  const sourceUser = o.sourceUser ?? (await p.input('Source user (whose Claude login seeds the shared copy)', DEFAULTS.sourceUser));
  const users: UserSpec[] = [];
  if (!o.usersFromFile && !o.user.length) {
    const countText = await p.input('How many users to create now', String(DEFAULTS.count));
    const count = Number.parseInt(countText, 10);
    if (!Number.isInteger(count) || count < 0 || count > 1000) throw usageError(`"${printable(countText)}" is not a number from 0 to 1000`);
    for (let i = 1; i <= count; i++) {
      const name = (await p.input(`Name of user ${i}`)).trim();
      assertValidName(name);
      if (sys.getUser(name)) {
        // An existing account keeps its password: init only links its Claude files and adds it to the group.
        io.err(`${name} already exists: its password is not changed`);
        users.push({ name, password: null });
      } else users.push({ name, password: o.noPassword ? null : await askPassword(p, name, io.err) });
    }
  }
  return { o: { ...o, sharedDir, group, sourceUser }, users };
}

/** Asks twice; says why before asking again (empty, against the password rule, or the two did not match). */
async function askPassword(p: Prompter, name: string, say: (line: string) => void): Promise<string> {
  for (let tries = 0; tries < 3; tries++) {
    const a = await p.password(`Password for ${name}`);
    const bad = passwordProblem(a);
    if (bad) {
      say(`${bad}; try again`);
      continue;
    }
    const b = await p.password(`Repeat the password for ${name}`);
    if (a === b) return a;
    say('the two passwords differ; try again');
  }
  throw dataError(`no acceptable password for ${name} after three tries`, `run the command again; a password is one line of printable text, at most ${MAX_PASSWORD} characters`);
}

/** Mutating commands read the config and write under one lock, so two of them never act on a stale config. */
async function underLock<T>(sys: System, dryRun: boolean, fn: () => Promise<T>): Promise<T> {
  if (dryRun) return fn();
  const release = await sys.lock();
  try {
    return await fn();
  } finally {
    release();
  }
}

/** server init: group, shared directory, users, links, config. Idempotent. */
export async function runInit(sys: System, opts: InitOptions, io: Io): Promise<number> {
  preflight(sys);
  let o = opts;
  const given: UserSpec[] = [];
  if (o.usersFromFile) given.push(...parseUsersFile(readSecretFile(sys, o.usersFromFile), o.usersFromFile));
  for (const u of o.user) given.push(splitUserArg(u, io));
  if (io.interactive) {
    const r = await promptInit(sys, o, io);
    o = r.o;
    given.push(...r.users);
  }
  // Asked before the lock is taken: a person at a prompt must not hold off the watcher.
  if (io.interactive && !o.noPassword) {
    for (const u of given) if (u.password === null && !sys.getUser(u.name)) u.password = await askPassword(io.prompt!, u.name, io.err);
  }
  const cfgPath = configPath(o.config);
  // On a terminal, nothing changes right after the last answer: the plan first, then one question.
  if (io.interactive && !o.dryRun && !o.json) {
    await initLocked(sys, { ...o, dryRun: true }, io, given, cfgPath);
    const answer = (await io.prompt!.input('Proceed? [y/N]', 'N')).trim().toLowerCase();
    if (answer !== 'y' && answer !== 'yes') {
      io.err('nothing was changed');
      return EXIT.ok;
    }
  }
  return underLock(sys, o.dryRun, () => initLocked(sys, o, io, given, cfgPath));
}

async function initLocked(sys: System, o: InitOptions, io: Io, given: UserSpec[], cfgPath: string): Promise<number> {
  const existing = loadConfig(sys, cfgPath);
  const sharedDir = validateSharedDir(o.sharedDir ?? existing?.sharedDir ?? DEFAULTS.sharedDir);
  const group = o.group ?? existing?.group ?? DEFAULTS.group;
  const sourceUser = o.sourceUser ?? existing?.sourceUser ?? DEFAULTS.sourceUser;
  assertValidName(group, 'group name');
  assertValidName(sourceUser, 'source user');
  const seen = new Set<string>();
  for (const u of given) {
    assertValidName(u.name);
    if (seen.has(u.name)) throw dataError(`user ${u.name} is given twice`, 'name each user once');
    seen.add(u.name);
    if (u.name === 'root' || isReserved(u.name)) throw dataError(`${u.name} is a system account and cannot be a managed user`, 'choose another name');
    if (u.name === group) throw dataError(`user ${u.name} has the same name as the group`, 'choose another user name or pass --group');
    assertPassword(u.password, `the password of ${u.name}`);
  }
  if (!given.length && !existing?.managedUsers.length) throw usageError('no users to manage', 'pass --users-from-file FILE or --user NAME (repeatable), or run init on a terminal to be asked');
  if (!sys.getUser(sourceUser)) throw dataError(`source user ${sourceUser} does not exist`, 'pass --source-user with an existing account (default root)');
  const toCreate = given.filter((u) => !sys.getUser(u.name));
  const noPw = toCreate.filter((u) => u.password === null && !o.noPassword);
  if (noPw.length) throw usageError(`no password for new user(s): ${noPw.map((u) => u.name).join(', ')}`, 'give NAME:PASSWORD in --users-from-file, or pass --no-password for SSH-key-only accounts');
  for (const u of given) {
    const e = sys.getUser(u.name);
    if (e && e.uid < 1000) throw dataError(`${u.name} is a system account (uid ${e.uid})`, 'choose another name');
  }
  const members = [...new Set([...(existing?.managedUsers ?? []), ...given.map((u) => u.name), ...(sourceUser !== 'root' ? [sourceUser] : [])])];
  const inHome = members.map((n) => sys.getUser(n)).find((u) => u && (sharedDir + '/').startsWith(u.home.replace(/\/+$/, '') + '/'));
  if (inHome) throw dataError(`shared directory ${sharedDir} is inside ${inHome.name}'s home`, 'choose a root-owned place such as /shared/claude-share');
  const insecure = findInsecureParent(sys, sharedDir);
  if (insecure) throw unsafeError(`the shared directory is not safe: ${insecure}`, 'make every parent of the shared directory root-owned and not writable by group or others');
  if (existing && (existing.sharedDir !== sharedDir || existing.group !== group)) {
    throw usageError(
      `${cfgPath} already manages ${existing.sharedDir} with group ${existing.group}; init does not move a live setup (the login would stay behind)`,
      'run init without --shared-dir/--group, or claude-share server uninstall first',
    );
  }
  if (!existing) refuseForeignGroup(sys, group, members, !!o.adoptGroup);
  const config: Config = {
    sharedDir,
    group,
    sourceUser,
    managedUsers: members,
    shareSettingsLocal: o.settingsLocal ?? existing?.shareSettingsLocal ?? true,
    backupKeepDays: existing?.backupKeepDays ?? DEFAULT_BACKUP_KEEP_DAYS,
  };
  if (o.keepSourceCopy) io.err('warning: --keep-source-copy leaves a second copy of a single-use refresh token with the source user: the first refresh on either side logs the other out');
  // An earlier init that was interrupted between useradd and chpasswd: those accounts exist, locked, and get the
  // password this run was given for them; any not given one now is named.
  const journal = readJournal(sys).filter((n) => sys.getUser(n));
  const pendingPasswords = journal.filter((n) => given.some((u) => u.name === n));
  const orphans = journal.filter((n) => !pendingPasswords.includes(n));
  if (orphans.length)
    io.err(
      `warning: ${orphans.join(', ')} ${orphans.length === 1 ? 'was' : 'were'} created by an interrupted init and still ${orphans.length === 1 ? 'has' : 'have'} no password (locked): give ${orphans.length === 1 ? 'it' : 'them'} in --users-from-file, or run passwd NAME`,
    );
  const desired = desiredFrom(config, {
    createGroup: true,
    createUsers: toCreate.map((u) => u.name),
    pendingPasswords,
    seedFromSource: true,
    promoteFrom: existing?.managedUsers ?? [],
    keepSourceCopy: o.keepSourceCopy,
    copyFullClaudeJson: o.copyFullClaudeJson,
  });
  const passwords = new Map(given.map((u) => [u.name, u.password] as const));
  // Sharing settings.local.json switched off on a live setup: every link to the shared copy becomes a private copy
  // (the shared one stays, for a switch back). Switched on, the plan above links them like any shared item.
  const unshare = (): Action[] => {
    if (!existing?.shareSettingsLocal || config.shareSettingsLocal) return [];
    const local = SHARED_ITEMS.filter((i) => i.id === 'settings-local');
    const d = { ...desired, items: local, users: members };
    return planRemoval(d, probe(sys, d), { deleteAccount: false, removeHome: false }).actions.filter((a) => a.kind === 'privatize');
  };
  return converge(sys, io, { desired, dryRun: o.dryRun, json: o.json, command: 'init', passwords, extra: () => [...unshare(), ...configAction(sys, cfgPath, config)], notes: initNotes });
}

/**
 * Every member of the group gets the shared login, and every managed user gets the group: `--group sudo` would make
 * every member a sudoer. A group init did not create is refused when it is a system group (gid < 1000), always, and
 * when it has members init does not manage, unless --adopt-group names that risk.
 */
function refuseForeignGroup(sys: System, group: string, members: string[], adopt: boolean) {
  const g = sys.getGroup(group);
  if (!g) return;
  if (g.gid < 1000)
    throw unsafeError(`group ${group} is a system group (gid ${g.gid}): every managed user would get its rights`, 'pass --group with a new name (init creates it), e.g. --group claudeshare');
  const strangers = g.members.filter((m) => !members.includes(m));
  if (strangers.length && !adopt) {
    throw unsafeError(
      `group ${group} already exists with members init does not manage (${strangers.slice(0, 5).join(', ')}${strangers.length > 5 ? ', …' : ''}): they would all get the shared Claude login`,
      'pass --group with a new name, or --adopt-group if that is what you want',
    );
  }
}

function initNotes(sys: System, p: Planned, outcomes: Outcome[], io: Io) {
  if (outcomes.some((o) => o.action.kind === 'retire-source' && o.result === 'backed-up')) {
    io.err("note: root's own Claude login was moved into the shared store. root is never linked (members can write the shared files), so root's own `claude` now needs its own /login.");
  }
  if (p.problems.some((x) => x.code === 'no-login'))
    io.err('note: the source user has no Claude login yet. The links point at a shared login that does not exist yet; after the first member logs in, run: claude-share sync');
  reloginNote(sys, outcomes, io);
}

/**
 * Group membership is read at login: whoever this run put into the group (init, add-user, or sync and the watcher
 * putting someone back) and has processes running now keeps the old groups there until they log in again.
 */
function reloginNote(sys: System, outcomes: Outcome[], io: Io) {
  const joined = outcomes.filter((o) => o.action.kind === 'add-to-group' && o.result !== 'unchanged').flatMap((o) => o.action.members ?? []);
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
const PHASES: Partial<Record<Action['kind'], string>> = {
  'create-user': 'accounts',
  'set-passwords': 'passwords',
  'add-to-group': 'group membership',
  'make-dir': 'shared directory',
  'seed-shared': 'shared copies',
  'promote-shared': 'shared copies',
  'fix-shared': 'shared copies',
  'retire-source': 'shared copies',
  'write-config': 'config',
};
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
    const name = PHASES[o.action.kind] ?? 'homes';
    if (this.phase?.name !== name) {
      this.endPhase();
      this.phase = { name, changed: 0, unchanged: 0, users: new Set(), t0: this.lastEnd };
    }
    if (o.result === 'unchanged') this.phase.unchanged++;
    else this.phase.changed++;
    for (const u of o.action.members ?? (o.action.user ? [o.action.user] : [])) this.phase.users.add(u);
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

interface ConvergeSpec {
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

type Planned = Pick<Plan, 'actions' | 'problems'>;

/** Done first, then the world is looked at again: homes exist only after useradd, the shared tree only once put back. */
const FIRST_KINDS = new Set<Action['kind']>(['create-group', 'create-user', 'set-passwords', 'make-dir', 'set-aside', 'restore-dir', 'move-legacy']);

/** probe → plan → (render | apply), shared by init, add-user and sync. */
async function converge(sys: System, io: Io, s: ConvergeSpec): Promise<number> {
  const planFn = s.planFn ?? plan;
  const look = () => {
    const p = planFn(s.desired, probe(sys, s.desired));
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
    return exitCode({ problems: first.problems, remaining: firstActions, dryRun: true });
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
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
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
    if (current.actions.some((a) => FIRST_KINDS.has(a.kind))) {
      outcomes = await applyPlan(
        sys,
        s.desired,
        current.actions.filter((a) => FIRST_KINDS.has(a.kind)),
        ctx,
      );
      current = look();
    }
    outcomes.push(
      ...(await applyPlan(
        sys,
        s.desired,
        current.actions.filter((a) => !FIRST_KINDS.has(a.kind)),
        ctx,
      )),
    );
    const clean = !outcomes.some((o) => o.result === 'failed' || o.result === 'conflict');
    if (clean || !s.extraOnlyIfClean) outcomes.push(...(await applyPlan(sys, s.desired, s.extra?.() ?? [], ctx)));
    progress.flush();
    // Nothing changed: what was seen under the lock is still the truth, no need to look again.
    const after = outcomes.some((o) => o.result !== 'unchanged') ? planFn(s.desired, probe(sys, s.desired)) : current;
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
      return EXIT.interrupted;
    }
    // What is still wrong decides (the warnings about what was just done are reported, not counted).
    return exitCode({ problems: afterProblems, remaining: after.actions, outcomes });
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    release();
  }
}

/** "3 create-user, 1 set-passwords": what a stopped run left, by kind. */
function summarizeKinds(actions: Action[]): string {
  const n = new Map<string, number>();
  for (const a of actions) n.set(a.kind, (n.get(a.kind) ?? 0) + 1);
  return [...n].map(([k, c]) => `${c} ${k}`).join(', ');
}

export interface AddUserOptions {
  name: string;
  password?: string;
  passwordFromFile?: string;
  noPassword: boolean;
  allowSystemUser: boolean;
  dryRun: boolean;
  json: boolean;
  config?: string;
  yes: boolean;
}

/** server add-user: create or adopt one account. An adopted user's private files are backed up, never promoted. */
export async function runAddUser(sys: System, o: AddUserOptions, io: Io): Promise<number> {
  preflight(sys);
  assertValidName(o.name);
  const cfgPath = configPath(o.config);
  // Validated and password read without the lock (a prompt must not hold it); the config is read again under it.
  const pre = requireConfig(sys, cfgPath);
  if (o.name === 'root' || isReserved(o.name)) throw dataError(`${o.name} is a system account and cannot be a managed user`, 'choose another name');
  if (o.name === pre.group) throw dataError(`user ${o.name} has the same name as the group`, 'choose another user name');
  const existing = sys.getUser(o.name);
  if (existing && existing.uid < 1000 && !o.allowSystemUser) throw usageError(`${o.name} is a system account (uid ${existing.uid})`, 'pass --allow-system-user if you really mean it');
  let password: string | null = null;
  if (!existing) {
    if (o.password !== undefined) {
      io.err('warning: --password puts the password on the command line, visible to other processes; prefer --password-from-file or the prompt');
      password = o.password;
    } else if (o.passwordFromFile) password = readSecretFile(sys, o.passwordFromFile).replace(/\r?\n$/, '');
    else if (!o.noPassword) {
      if (!io.interactive) throw usageError(`no password for new user ${o.name}`, 'pass --password-from-file FILE, or --no-password for an SSH-key-only account');
      password = await askPassword(io.prompt!, o.name, io.err);
    }
    assertPassword(password, `the password of ${o.name}`);
  }
  return underLock(sys, o.dryRun, async () => {
    const c = requireConfig(sys, cfgPath);
    const config: Config = { ...c, managedUsers: [...new Set([...c.managedUsers, o.name])] };
    const desired = desiredFrom(config, { createUsers: sys.getUser(o.name) ? [] : [o.name], onlyUsers: [o.name], promoteFrom: c.managedUsers.includes(o.name) ? [o.name] : [] });
    return converge(sys, io, {
      desired,
      dryRun: o.dryRun,
      json: o.json,
      command: 'add-user',
      passwords: new Map([[o.name, password]]),
      extra: () => configAction(sys, cfgPath, config),
      notes: (s, _p, outcomes, out) => reloginNote(s, outcomes, out),
    });
  });
}

export interface StatusOptions {
  json: boolean;
  quiet: boolean;
  cron?: boolean;
  prometheus?: string;
  config?: string;
}

export function statusModel(sys: System, c: Config): StatusModel {
  const desired = syncDesired(c);
  const obs = probe(sys, desired);
  const p = plan(desired, obs);
  const problems = [...p.problems.filter((x) => x.severity === 'operator'), ...driftProblems(p.actions), ...p.problems.filter((x) => x.severity !== 'operator')];
  return { sharedDir: c.sharedDir, group: c.group, obs, plan: p, problems, healthy: exitCode({ problems: p.problems, remaining: p.actions, reportsState: true }) === 0 };
}

/** status: probe + plan + render; read-only. */
export function runStatus(sys: System, o: StatusOptions, io: Io): number {
  if (sys.euid() !== 0) throw unsafeError("status reads every member's home: it must run as root", 'run it with sudo');
  if (o.prometheus) checkPrometheusPath(sys, o.prometheus);
  let m: StatusModel;
  try {
    m = statusModel(sys, requireConfig(sys, configPath(o.config)));
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
  return exitCode({ problems: m.plan.problems, remaining: m.plan.actions, reportsState: true });
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

export interface SyncOptions {
  dryRun: boolean;
  json: boolean;
  quiet: boolean;
  cron?: boolean;
  user?: string;
  config?: string;
  /** Make the freshest usable login the shared one whatever its account, and pin that account. */
  acceptAccount?: boolean;
  /** Internal (login --run): only this member's severed login may be promoted, never another member's. */
  promoteOnlyFrom?: string;
}

/** sync: repair every drift; the freshest valid login of the shared account becomes the shared copy. */
export async function runSync(sys: System, o: SyncOptions, io: Io): Promise<number> {
  preflight(sys);
  return underLock(sys, o.dryRun, async () => {
    const c = requireConfig(sys, configPath(o.config));
    if (o.user && !c.managedUsers.includes(o.user)) throw dataError(`${printable(o.user)} is not a managed user`, `managed users: ${c.managedUsers.join(', ') || '(none)'}`);
    const desired = { ...syncDesired(c, o.user ? [o.user] : undefined), acceptAccount: !!o.acceptAccount, ...(o.promoteOnlyFrom ? { promoteFrom: [o.promoteOnlyFrom] } : {}) };
    return converge(sys, io, { desired, dryRun: o.dryRun, json: o.json, quiet: o.quiet, command: 'sync', cron: o.cron, notes: (s, _p, outcomes, out) => reloginNote(s, outcomes, out) });
  });
}

export const syncDesired = (c: Config, onlyUsers?: string[]) => desiredFrom(c, { promoteFrom: 'all', onlyUsers });

/** One quiet sync pass for the watcher: the same converge as `sync`, its lines going to io. */
export function healOnce(sys: System, cfgPath: string, io: Io, onlyUsers?: string[], onOutcomes?: (outcomes: Outcome[]) => void): Promise<number> {
  return underLock(sys, false, async () => {
    const c = requireConfig(sys, cfgPath);
    const users = onlyUsers?.filter((u) => c.managedUsers.includes(u));
    return converge(sys, io, {
      desired: syncDesired(c, users),
      dryRun: false,
      json: false,
      quiet: true,
      command: 'watch',
      notes: (s, _p, outcomes, out) => (reloginNote(s, outcomes, out), onOutcomes?.(outcomes)),
    });
  });
}

export interface RemoveUserOptions {
  name: string;
  deleteAccount: boolean;
  removeHome: boolean;
  dryRun: boolean;
  json: boolean;
  config?: string;
}

/** server remove-user: the user gets private copies, leaves the group and MANAGED_USERS; backups are kept. */
export async function runRemoveUser(sys: System, o: RemoveUserOptions, io: Io): Promise<number> {
  preflight(sys);
  if (o.removeHome && !o.deleteAccount) throw usageError('--remove-home only goes with --delete-account');
  const cfgPath = configPath(o.config);
  return underLock(sys, o.dryRun, async () => {
    const c = requireConfig(sys, cfgPath);
    // Already not managed (removed before, or never): the state asked for holds, so a second run changes nothing and
    // succeeds, as the first run's re-run must (scripts, Ansible); the line names who is managed, for a typo.
    if (!c.managedUsers.includes(o.name)) {
      io.err(`${printable(o.name)} is not a managed user: nothing to do (managed users: ${c.managedUsers.join(', ') || 'none'})`);
      if (o.json) io.out(JSON.stringify(runJson('remove-user', o.dryRun ? { planned: [] } : { outcomes: [], remaining: [] }, []), null, 2));
      return EXIT.ok;
    }
    const config: Config = { ...c, managedUsers: c.managedUsers.filter((u) => u !== o.name) };
    const desired = { ...desiredFrom(c), users: [o.name] };
    const spec = { deleteAccount: o.deleteAccount, removeHome: o.removeHome };
    return converge(sys, io, {
      desired,
      dryRun: o.dryRun,
      json: o.json,
      command: 'remove-user',
      extra: () => configAction(sys, cfgPath, config),
      extraOnlyIfClean: true,
      planFn: (d, obs) => planRemoval(d, obs, spec),
    });
  });
}

export interface UninstallOptions {
  purge: boolean;
  dryRun: boolean;
  json: boolean;
  config?: string;
  /** The one member who keeps the live shared login (everyone else logs in with their own account). */
  keepLogin?: string;
  /** Where the shared directory is when the config is already gone (uninstall --purge after uninstall). */
  sharedDir?: string;
  /** Skip the confirmation asked on a terminal. */
  yes?: boolean;
}

/** server uninstall: every member gets private copies; service, cron file and config go; the shared dir stays or is archived. */
export async function runUninstall(sys: System, o: UninstallOptions, io: Io, files: { unit: string; cron: string; beforeApply?: () => Promise<void> }): Promise<number> {
  preflight(sys);
  const cfgPath = configPath(o.config);
  return underLock(sys, o.dryRun, () => uninstallLocked(sys, o, io, files, cfgPath));
}

async function uninstallLocked(sys: System, o: UninstallOptions, io: Io, files: { unit: string; cron: string; beforeApply?: () => Promise<void> }, cfgPath: string): Promise<number> {
  const c = loadConfig(sys, cfgPath);
  if (!c) return afterUninstall(sys, o, io, cfgPath);
  if (o.keepLogin !== undefined && !c.managedUsers.includes(o.keepLogin))
    throw dataError(`--keep-login ${printable(o.keepLogin)} is not a managed user`, `managed users: ${c.managedUsers.join(', ') || '(none)'}`);
  const desired = desiredFrom(c);
  if (!o.dryRun && !o.json && io.interactive) {
    const planned = planRemoval(desired, probe(sys, desired), { deleteAccount: false, removeHome: false, keepLogin: o.keepLogin });
    renderPlanText(planned.actions, io.style).forEach((l) => io.out(l));
    io.out(
      `This rewrites the Claude files in ${c.managedUsers.length} home${c.managedUsers.length === 1 ? '' : 's'}${o.keepLogin ? `; only ${o.keepLogin} keeps the shared login` : '; nobody keeps the shared login (--keep-login USER gives it to one member)'}${o.purge ? `, and archives ${c.sharedDir}` : ''}.`,
    );
    const answer = (await io.prompt!.input('Proceed? [y/N]', 'N')).trim().toLowerCase();
    if (answer !== 'y' && answer !== 'yes') {
      io.err('nothing was changed');
      return EXIT.ok;
    }
  }
  const extra = (): Action[] => {
    const out: Action[] = [];
    for (const f of [files.unit, files.cron, `${CRON_STATE_DIR}/cron-report.sync`, `${CRON_STATE_DIR}/cron-report.status`, cfgPath]) {
      if (sys.lstat(f)) out.push({ kind: 'remove-file', code: 'uninstall', target: f, before: 'present', after: 'absent', reason: f === cfgPath ? 'status and sync stop acting' : 'no more healing' });
    }
    if (o.purge && sys.lstat(c.sharedDir)) {
      const archive = `${c.sharedDir}.archive-${sys.now().toISOString().replace(/:/g, '-')}`;
      out.push({ kind: 'archive-shared', code: 'uninstall', target: c.sharedDir, before: 'in place', after: archive, reason: '--purge: kept root-only, backups included' });
    }
    return out;
  };
  if (!o.dryRun) await files.beforeApply?.();
  const code = await converge(sys, io, {
    desired,
    dryRun: o.dryRun,
    json: o.json,
    command: 'uninstall',
    extra,
    extraOnlyIfClean: true,
    planFn: (d, obs) => planRemoval(d, obs, { deleteAccount: false, removeHome: false, keepLogin: o.keepLogin }),
  });
  if (!o.dryRun && !o.json)
    io.err(
      o.purge
        ? 'the shared directory was archived root-only; the group was kept (groupdel it when no longer needed)'
        : `the shared directory ${c.sharedDir} and its backups were left in place; the group ${c.group} was kept`,
    );
  return code;
}

/**
 * uninstall with the config already gone (a plain uninstall ran first, as the README orders them): nothing is
 * managed any more, so only --purge has something left to do, the shared directory (found at --shared-dir or the
 * default). Said plainly either way, never "run init first".
 */
function afterUninstall(sys: System, o: UninstallOptions, io: Io, cfgPath: string): number {
  const dir = validateSharedDir(o.sharedDir ?? DEFAULTS.sharedDir);
  const there = sys.lstat(dir);
  if (!o.purge) {
    io.err(`claude-share is already uninstalled here (no config at ${cfgPath}).${there ? ` ${dir} and its backups are still there: uninstall --purge archives them.` : ''}`);
    return EXIT.ok;
  }
  if (!there) {
    io.err(`nothing to purge: no config at ${cfgPath} and no shared directory at ${dir}${o.sharedDir ? '' : ' (pass --shared-dir DIR if it was elsewhere)'}`);
    return EXIT.ok;
  }
  const insecure = there.type !== 'dir' || there.uid !== 0 ? `${dir} is not a root-owned directory` : findInsecureParent(sys, dir);
  if (insecure) throw unsafeError(`${insecure}; not archived`, 'look at it by hand');
  // Only what claude-share made is archived: --shared-dir /usr must never move /usr.
  const looksOurs = sys.lstat(`${dir}/backups`)?.type === 'dir' && sys.lstat(`${dir}/backups`)?.uid === 0 && sys.lstat(`${dir}/home`)?.type === 'dir';
  if (!looksOurs) throw dataError(`${dir} is not a claude-share shared directory (no home/ and backups/ in it); not archived`, 'pass the SHARED_DIR the config named, or look at it by hand');
  const archive = `${dir}.archive-${sys.now().toISOString().replace(/:/g, '-')}`;
  if (o.dryRun) {
    io.out(`would archive ${dir} → ${archive} (root-only, backups included)`);
    return EXIT.ok;
  }
  sys.rename(dir, archive);
  sys.mkdir(archive, 0o700, 0, 0);
  sys.log(`archived ${dir} to ${archive} (uninstall --purge)`);
  io.out(`✓ archived ${dir} → ${archive} (root-only, backups included)`);
  return EXIT.ok;
}

export { CliError };
