import { EXIT, dataError, unsafeError, usageError } from '../core/errors.js';
import { SHARED_ITEMS } from '../core/items.js';
import type { Action, Outcome } from '../core/model.js';
import { planRemoval } from '../core/plan-removal.js';
import { assertValidName, isReserved, printable, validateSharedDir } from '../core/validate.js';
import { type Config, DEFAULTS, DEFAULT_BACKUP_KEEP_DAYS, configPath, loadConfig } from '../engine/config.js';
import { type Planned, configAction, converge, desiredFrom, preflight, reloginNote, underLock } from '../engine/converge.js';
import { type Io, askPassword } from '../engine/io.js';
import { findInsecureParent, probe, readJournal } from '../engine/probe.js';
import { type UserSpec, assertPassword, parseUsersFile, readSecretFile } from '../engine/users-file.js';
import type { System } from '../system/system.js';

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
    containers: existing?.containers ?? [],
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
  return (await converge(sys, io, { desired, dryRun: o.dryRun, json: o.json, command: 'init', passwords, extra: () => [...unshare(), ...configAction(sys, cfgPath, config)], notes: initNotes })).code;
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
