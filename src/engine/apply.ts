import { MAX_READ_BYTES, SHARED_ITEMS, sharedPath, UMASK_BEGIN, UMASK_BLOCK, UMASK_END } from '../core/items.js';
import type { Action, BackupFrom, ContentSource, Desired, Expect, Outcome } from '../core/model.js';
import { JOURNAL, readJournal } from './probe.js';
import { SAFE_MINIMAL, SHARED_FILE_MODE } from '../core/plan.js';
import { inspectCredentials, isUsable, MAX_CREDENTIALS_BYTES } from '../core/credentials.js';
import type { FileStat, System, UserEntry } from '../system/system.js';
import { DEFAULT_BACKUP_KEEP_DAYS } from './config.js';
import { printable } from '../core/validate.js';

export interface ApplyContext {
  /** Passwords of the users this run creates; never part of the plan, so never rendered. */
  passwords: Map<string, string | null>;
  /** The backup area of this run: <shared dir>/backups/<UTC timestamp>. */
  backupRoot: string;
  onOutcome?: (o: Outcome) => void;
  /** Per member: what root copied of their files in the last hour (filled on first use). */
  budgets?: Map<string, { bytes: number; files: { path: string; rel: string; size: number }[] }>;
  recentRuns?: string[];
  /** What this run put into its backup directory, written to MANIFEST.json there after each entry. */
  manifest?: ManifestEntry[];
  /** Set by SIGINT/SIGTERM: the step under way finishes, no further one starts. */
  stop?: { requested: boolean };
}

function writeJournal(sys: System, names: string[]) {
  if (!names.length) {
    if (sys.lstat(JOURNAL)) sys.unlink(JOURNAL);
    return;
  }
  const dir = JOURNAL.slice(0, JOURNAL.lastIndexOf('/'));
  if (sys.lstat(dir)?.type !== 'dir') sys.mkdir(dir, 0o700, 0, 0);
  sys.writeFileAtomic(JOURNAL, names.join('\n') + '\n', { mode: 0o600, uid: 0, gid: 0 });
}

/** One file in a backup run: where it came from, and its owner and mode there (for `backups restore`). */
export interface ManifestEntry {
  /** Path inside the run directory. */
  file: string;
  /** Where it was (a home, the shared directory). */
  from: string;
  kind: 'shared' | 'member' | 'set-aside';
  user?: string;
  uid: number | null;
  gid: number | null;
  mode: number | null;
  size: number;
}
export const MANIFEST = 'MANIFEST.json';

class Conflict extends Error {}

export function backupRootFor(sharedDir: string, now: Date): string {
  return `${sharedDir}/backups/${now.toISOString().replace(/:/g, '-')}`;
}

/** Performs the actions in order; one failure does not stop the rest. Each action re-checks what it expects first. */
export async function applyPlan(sys: System, d: Desired, actions: Action[], ctx: ApplyContext): Promise<Outcome[]> {
  const outcomes: Outcome[] = [];
  const notDone = new Set<string>();
  for (const action of actions) {
    if (ctx.stop?.requested) break;
    const backups: string[] = [];
    let o: Outcome;
    try {
      if (action.needs && notDone.has(action.needs)) throw new Conflict(`skipped: ${action.needs} was not updated first`);
      const result = await applyOne(sys, d, action, ctx, backups);
      o = { action, result, backups };
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      o = { action, result: e instanceof Conflict ? 'conflict' : 'failed', message, backups };
    }
    if (o.result === 'failed' || o.result === 'conflict') notDone.add(action.target);
    sys.log(`${o.result} ${action.kind}${action.user ? ` user=${action.user}` : ''} path=${action.target}${backups.length ? ` backup=${backups.join(',')}` : ''}${o.message ? ` (${o.message})` : ''}`);
    outcomes.push(o);
    ctx.onOutcome?.(o);
  }
  if (outcomes.some((o) => o.backups.length)) pruneBackups(sys, d.sharedDir, ctx, d.backupKeepDays ?? DEFAULT_BACKUP_KEEP_DAYS);
  return outcomes;
}

/** All backups together stay under this; past it the oldest go, settings and .claude.json before any login. */
export const BACKUP_LIMITS = { totalBytes: 256 * 1024 * 1024 };

/** The time a backup run directory is named after (UTC, colons as dashes), or NaN. */
export const runTime = (run: string) => Date.parse(run.replace(/T(\d\d)-(\d\d)-(\d\d)/, 'T$1:$2:$3'));

/**
 * Retention and the total cap on root's backups (the per-member budget bounds the rate, these the age and size):
 * runs older than BACKUP_KEEP_DAYS go, then past the cap the oldest files, non-credential files before credentials;
 * never the newest credentials backup of anyone (it may be the only copy of a login) nor this run's.
 */
function pruneBackups(sys: System, sharedDir: string, ctx: ApplyContext, keepDays: number) {
  const root = `${sharedDir}/backups`;
  const files: { path: string; size: number; run: string; cred: boolean; who: string }[] = [];
  const walk = (dir: string, run: string, who: string, depth: number) => {
    for (const n of sys.readdir(dir)) {
      const st = sys.lstat(`${dir}/${n}`);
      // Only what root wrote counts (see rootsOwn): anything else is neither walked, sized nor pruned.
      if (!rootsOwn(st)) continue;
      if (st.type === 'dir' && depth < 5) walk(`${dir}/${n}`, run, who || n, depth + 1);
      else if (st.type === 'file' && !(depth === 0 && n === MANIFEST)) files.push({ path: `${dir}/${n}`, size: st.size, run, cred: n.startsWith('.credentials.json'), who });
    }
  };
  const runs = sys
    .readdir(root)
    .sort()
    .filter((run) => rootsOwn(sys.lstat(`${root}/${run}`)) && sys.lstat(`${root}/${run}`)?.type === 'dir');
  // One file that cannot go (it went meanwhile, a directory turned read-only) is logged; the rest is still pruned.
  const drop = (path: string) => {
    try {
      sys.unlink(path);
      return true;
    } catch (e) {
      sys.log(`could not prune backup ${printable(path)}: ${printable((e as Error).message)}`);
      return false;
    }
  };
  for (const run of runs) walk(`${root}/${run}`, run, '', 0);
  const current = ctx.backupRoot.split('/').pop();
  const newestCred = new Map<string, string>();
  for (const f of files) if (f.cred) newestCred.set(f.who, f.path); // runs sorted oldest first: the last one wins
  const keep = new Set(newestCred.values());
  const cutoff = sys.now().getTime() - keepDays * 86400_000;
  const expired = new Set(runs.filter((run) => run !== current && runTime(run) < cutoff));
  for (const f of files) {
    if (!expired.has(f.run) || keep.has(f.path)) continue;
    if (drop(f.path)) f.size = -1;
  }
  for (const run of expired) {
    try {
      removeIfEmpty(sys, `${root}/${run}`, 0);
    } catch (e) {
      sys.log(`could not remove the empty backup run ${run}: ${printable((e as Error).message)}`);
    }
  }
  if (expired.size) sys.log(`pruned backup runs older than ${keepDays} days (BACKUP_KEEP_DAYS), newest logins kept`);
  const left = files.filter((f) => f.size >= 0);
  let total = left.reduce((n, f) => n + f.size, 0);
  if (total <= BACKUP_LIMITS.totalBytes) return;
  for (const phase of [false, true]) {
    for (const f of left) {
      if (total <= BACKUP_LIMITS.totalBytes) return;
      if (f.cred !== phase || f.run === current || keep.has(f.path)) continue;
      if (!drop(f.path)) continue;
      total -= f.size;
      sys.log(`pruned backup ${f.path} (${f.size} bytes): backups over ${BACKUP_LIMITS.totalBytes} bytes`);
    }
  }
}

async function applyOne(sys: System, d: Desired, a: Action, ctx: ApplyContext, backups: string[]): Promise<Outcome['result']> {
  const gid = () => {
    const g = sys.getGroup(d.group);
    if (!g) throw new Error(`group ${d.group} does not exist`);
    return g.gid;
  };
  switch (a.kind) {
    case 'create-group':
      if (sys.getGroup(a.target)) return 'unchanged';
      await sys.groupAdd(a.target);
      return 'created';
    case 'create-user':
      if (sys.getUser(a.target)) return 'unchanged';
      // Named in the journal first: if the run stops before chpasswd, the next init knows it still needs one.
      writeJournal(sys, [...new Set([...readJournal(sys), a.target])]);
      await sys.userAdd(a.target, a.container ? 'none' : 'login');
      return 'created';
    case 'set-passwords': {
      // Only accounts that exist: a failed useradd must not turn into a failed chpasswd for everyone.
      const names = a.members.filter((name) => sys.getUser(name));
      if (!names.length) throw new Error('no account to set a password for');
      await sys.setPasswords(names.map((name) => ({ name, password: ctx.passwords.get(name) ?? null })));
      const left = readJournal(sys).filter((n) => !names.includes(n));
      writeJournal(sys, left);
      return 'created';
    }
    case 'add-to-group': {
      const have = sys.getGroup(d.group)?.members ?? [];
      const add = a.members.filter((m) => !have.includes(m));
      if (!add.length) return 'unchanged';
      await sys.addGroupMembers(d.group, add);
      return 'replaced';
    }
    case 'make-dir': {
      const existed = sys.lstat(a.target);
      if (!existed) ensureParents(sys, a.target);
      sys.mkdir(a.target, a.mode, 0, a.rootGroup ? 0 : gid());
      return existed ? 'replaced' : 'created';
    }
    case 'seed-shared': {
      if (sys.lstat(a.target)) throw new Conflict(`${a.target} appeared meanwhile; left alone`);
      const bytes = contentOf(sys, a.source, a.target);
      writeShared(sys, a.target, a.source.filter === 'claude-json-min' ? minimalClaudeJson(bytes) : bytes, gid());
      return 'created';
    }
    case 'promote-shared': {
      const bytes = contentOf(sys, a.source, a.target);
      const now = sys.lstat(a.target);
      // Claude may have written the shared copy since the plan looked: never overwrite what was not examined.
      if (a.backupShared ? !now || !same(now, a.backupShared.expect) : now) throw new Conflict(`${a.target} changed since it was examined; run sync again`);
      if (a.backupShared) {
        const old = sys.readFileNoFollow(a.target, { maxBytes: MAX_READ_BYTES });
        if (!old.ok) throw new Conflict(`${a.target}: ${old.reason}; not replaced without a backup`);
        backups.push(writeBackup(sys, ctx, 'shared', a.backupShared.rel, old.bytes, a.target));
      }
      writeShared(sys, a.target, bytes, gid());
      return 'replaced';
    }
    case 'fix-shared': {
      const st = sys.lstat(a.target);
      if (!st || st.type !== 'file' || st.nlink > 1) throw new Conflict(`${a.target} is no longer a single regular file`);
      sys.setGroupMode(a.target, gid(), a.mode);
      return 'replaced';
    }
    case 'set-aside': {
      const b = a.backupFrom;
      const st = sys.lstat(a.target);
      // The same entry (inode), whatever happened inside it since: it is moved, never read, and a member who keeps
      // changing it must not keep it in place (the healing waits for this step).
      if (!st || st.ino !== b.expect.ino) throw new Conflict(`${a.target} was replaced since it was examined; run sync again`);
      // rename(2) moves the entry itself, whatever it is: a symlink there is never followed. Never into the backups:
      // a member who still has it open (her shell's cwd in a directory, a descriptor on a file) keeps writing to it
      // wherever it goes, and among root's backups her bytes would count against the cap and decide what gets pruned.
      // It goes to <shared>/set-aside/RUN (root-only 0700), stays hers (her quota), and nothing walks or prunes it.
      const dir = `${d.sharedDir}/set-aside/${ctx.backupRoot.split('/').pop()}`;
      sys.mkdir(`${d.sharedDir}/set-aside`, 0o700, 0, 0);
      sys.mkdir(dir, 0o700, 0, 0);
      const to = `${dir}/${b.rel.split('/').pop()}.${st.ino}`;
      sys.rename(a.target, to);
      backups.push(to);
      return 'backed-up';
    }
    case 'restore-dir': {
      if (sys.lstat(a.target)) throw new Conflict(`${a.target} exists again; left alone`);
      const st = sys.lstat(a.source.path);
      if (st?.type !== 'dir' || st.uid !== 0) throw new Conflict(`${a.source.path} is no longer a root-owned directory`);
      sys.rename(a.source.path, a.target);
      return 'replaced';
    }
    case 'move-legacy': {
      if (sys.lstat(a.target)) throw new Conflict(`${a.target} exists meanwhile; left alone`);
      const st = sys.lstat(a.source.path);
      if (!st || st.type !== 'file' || !same(st, a.source.expect)) throw new Conflict(`${a.source.path} changed since it was examined; run sync again`);
      sys.rename(a.source.path, a.target);
      return 'replaced';
    }
    case 'retire-source': {
      const b = a.backupFrom;
      const bytes = readExpected(sys, b.path, b.owner, b.expect);
      backups.push(writeBackup(sys, ctx, a.user, b.rel, bytes, b.path));
      sys.unlink(b.path);
      return 'backed-up';
    }
    case 'make-claude-dir': {
      const user = userOf(sys, a.user);
      const st = sys.lstat(a.target);
      if (st) {
        if (st.type === 'dir' && st.uid === user.uid) return 'unchanged';
        throw new Conflict(`${a.target} is now a ${st.type}; refusing`);
      }
      sys.mkdir(a.target, 0o700, user.uid, user.gid);
      return 'created';
    }
    case 'link': {
      const user = userOf(sys, a.user);
      const item = d.items.find((i) => a.target.endsWith('/' + i.rel))!;
      const target = sharedPath(d.sharedDir, item);
      let expect: Expect | undefined;
      let keptInHome = false;
      if (a.backupFrom) {
        const b = a.backupFrom;
        if (a.guardToken) guardLiveToken(sys, a.target, target, user.uid, b.expect);
        const kept = keepPrivateCopy(sys, d, ctx, user, a.target, b);
        backups.push(kept.path);
        keptInHome = kept.inHome;
        expect = b.expect;
      }
      if (keptInHome) {
        // Moved aside just now: anything at the path again is a new write of the member's, never replaced unseen.
        if (sys.lstat(a.target)) throw new Conflict(`${a.target} was written again meanwhile; left for the next pass`);
        sys.symlinkReplace(target, a.target);
        return 'replaced';
      }
      const st = sys.lstat(a.target);
      if (st?.type === 'symlink' && sys.readlink(a.target) === target) return 'unchanged';
      if (expect) {
        if (!st || !same(st, expect)) throw new Conflict(`${a.target} changed while it was being backed up; run sync again`);
        // The member's Claude may rename a newer login over the path right now: never replaced unseen (real-system.ts).
        const why = sys.symlinkOverExpected(target, a.target, expect);
        if (why) throw new Conflict(why);
        return 'replaced';
      } else if (st && st.type !== 'symlink') {
        throw new Conflict(`${a.target} became a ${st.type} meanwhile; left alone`);
      }
      sys.symlinkReplace(target, a.target);
      return st ? 'replaced' : 'created';
    }
    case 'umask-block': {
      const user = userOf(sys, a.user);
      const r = sys.readFileNoFollow(a.target, { owner: user.uid, maxBytes: MAX_READ_BYTES });
      if (!r.ok && r.reason !== 'missing') throw new Conflict(`${a.target}: ${r.reason}; not written`);
      const text = r.ok ? r.bytes.toString('utf8') : '';
      if (text.includes(UMASK_BLOCK)) return 'unchanged';
      sys.replaceFile(a.target, withUmaskBlock(text), { mode: 0o644, uid: user.uid, gid: user.gid });
      return r.ok ? 'replaced' : 'created';
    }
    case 'privatize': {
      const user = userOf(sys, a.user);
      const src = a.source?.path ? sys.readFileNoFollow(a.source.path, { maxBytes: MAX_READ_BYTES }) : null;
      if (src && !src.ok) throw new Conflict(`${a.source?.path}: ${src.reason}; not copied`);
      const st = sys.lstat(a.target);
      if (st?.type !== 'symlink') throw new Conflict(`${a.target} is no longer a link; left alone`);
      if (src?.ok) sys.replaceFile(a.target, src.bytes, { mode: a.mode, uid: user.uid, gid: user.gid });
      else sys.unlink(a.target);
      return 'replaced';
    }
    case 'leave-group':
      if (!sys.getGroup(d.group)?.members.includes(a.user)) return 'unchanged';
      await sys.removeGroupMember(d.group, a.user);
      return 'replaced';
    case 'delete-account':
      if (!sys.getUser(a.user)) return 'unchanged';
      await sys.userDel(a.user, a.removeHome);
      return 'replaced';
    case 'remove-file':
      if (!sys.lstat(a.target)) return 'unchanged';
      sys.unlink(a.target);
      return 'replaced';
    case 'archive-shared':
      if (!sys.lstat(a.target)) return 'unchanged';
      sys.rename(a.target, a.after);
      sys.mkdir(a.after, 0o700, 0, 0);
      return 'replaced';
    case 'write-config':
      // Only a missing directory is created: an existing one (say /tmp with --config) keeps its owner and mode.
      if (!sys.lstat(a.target.replace(/\/[^/]+$/, ''))) ensureParents(sys, a.target);
      sys.writeFileAtomic(a.target, a.after, { mode: 0o644, uid: 0, gid: 0 });
      return 'replaced';
  }
}

/**
 * The backups hold only what root wrote: 0700 directories and 0600 files owned by root. Anything else found there
 * (a member's directory set aside by 0.2.0, which she could still write through an open descriptor) is never walked,
 * sized, pruned or listed: its size is hers to choose, and its names could be swapped under a walk.
 */
export const rootsOwn = (st: FileStat | null): st is FileStat => st !== null && st.uid === 0;

/** A backup run (or a directory in it) whose files were all pruned goes too, its manifest with it. */
function removeIfEmpty(sys: System, dir: string, depth: number): boolean {
  let empty = true;
  for (const n of sys.readdir(dir)) {
    const st = sys.lstat(`${dir}/${n}`);
    if (rootsOwn(st) && st.type === 'dir' && depth < 5 && removeIfEmpty(sys, `${dir}/${n}`, depth + 1)) continue;
    if (!(depth === 0 && n === MANIFEST)) empty = false;
  }
  if (!empty) return false;
  if (sys.lstat(`${dir}/${MANIFEST}`)) sys.unlink(`${dir}/${MANIFEST}`);
  sys.removeEmptyDir(dir);
  return true;
}

/** Missing parents are created root-owned 0755; existing ones are left as they are (the shared dir's were vetted). */
function ensureParents(sys: System, path: string) {
  const parts = path.split('/').filter(Boolean);
  for (let i = 1; i < parts.length; i++) {
    const p = '/' + parts.slice(0, i).join('/');
    if (!sys.lstat(p)) sys.mkdir(p, 0o755, 0, 0);
  }
}

const safeMinimal = (target: string) => SAFE_MINIMAL[SHARED_ITEMS.find((i) => target.endsWith('/' + i.rel))?.id ?? ''] ?? '{}';

function userOf(sys: System, name: string): UserEntry {
  const u = sys.getUser(name);
  if (!u) throw new Error(`user ${name} does not exist`);
  return u;
}

const same = (st: FileStat, e: Expect) => st.ino === e.ino && st.size === e.size && st.mtimeMs === e.mtimeMs;

/** Reads a file found in a home only when it is still the very file the plan saw (owner, one link, same inode). */
/** The new content of a shared copy: the examined file, or the made-up minimal one. */
function contentOf(sys: System, s: ContentSource, target: string): Buffer {
  if ('owner' in s) return readExpected(sys, s.path, s.owner, s.expect);
  return Buffer.from(s.filter === 'empty-object' ? '{}\n' : safeMinimal(target) + '\n');
}

function readExpected(sys: System, path: string, owner: number, expect?: Expect): Buffer {
  const r = sys.readFileNoFollow(path, { owner, maxBytes: MAX_READ_BYTES });
  if (!r.ok) throw new Conflict(`${path}: ${r.reason}; refusing to read it`);
  if (expect && !same(r.stat, expect)) throw new Conflict(`${path} changed since it was examined; run sync again`);
  return r.bytes;
}

function writeShared(sys: System, path: string, bytes: Buffer, gid: number) {
  sys.writeFileAtomic(path, bytes, { mode: SHARED_FILE_MODE, uid: 0, gid });
}

/**
 * The last line of defence for the single-use refresh token: a private login that is usable and fresher than the
 * shared copy as it is NOW (not as the plan saw it: a member may have swapped the shared directory meanwhile) is
 * never relinked away. It waits for the next pass, which promotes it.
 */
function guardLiveToken(sys: System, path: string, sharedTarget: string, uid: number, expect: Expect) {
  const mine = sys.readFileNoFollow(path, { owner: uid, maxBytes: MAX_CREDENTIALS_BYTES });
  if (!mine.ok || !same(mine.stat, expect)) return; // changed or gone: the later checks make it a conflict
  const now = Date.now();
  const info = inspectCredentials(mine.bytes, now);
  if (!isUsable(info)) return;
  const shared = sys.readFileNoFollow(sharedTarget, { maxBytes: MAX_CREDENTIALS_BYTES });
  const sharedInfo = inspectCredentials(shared.ok ? shared.bytes : null, now);
  if (info.accountUuid && sharedInfo.accountUuid && info.accountUuid !== sharedInfo.accountUuid) return; // another account: never promoted
  if (!isUsable(sharedInfo) || info.expiresAt! > sharedInfo.expiresAt!) {
    throw new Conflict(`${path} holds a newer login than the shared copy has now; it is promoted first, on the next pass`);
  }
}

/** A private file bigger than this is never copied into root's backups: it is kept in its owner's home instead. */
export const BACKUP_FILE_MAX = 1024 * 1024;
/** Bytes of one member's files root copies into its backups per hour; past it, files are kept in the home. */
export const BACKUP_BUDGET_BYTES = 8 * 1024 * 1024;
const BUDGET_WINDOW_MS = 3600_000;

/**
 * Nothing a member had is deleted without a copy, yet a member cannot fill root's disk (and stop everyone's heals)
 * by replacing links with big files in a loop: her files go to the root-only backups while she is within her budget
 * (identical content within the window is not stored again), else they are renamed aside in her own home, on her
 * own quota, and the heal goes on. The live token is never lost: a credentials file that could be it is far below
 * the per-file limit, and the budget is counted in bytes actually written.
 */
function keepPrivateCopy(sys: System, d: Desired, ctx: ApplyContext, user: UserEntry, path: string, b: BackupFrom): { path: string; inHome: boolean } {
  const window = recentBackups(sys, d.sharedDir, ctx, user.name);
  if (b.expect.size <= BACKUP_FILE_MAX && window.bytes + b.expect.size <= BACKUP_BUDGET_BYTES) {
    const bytes = readExpected(sys, path, user.uid, b.expect);
    const twin = window.files.find((f) => f.rel === b.rel && f.size === bytes.length && sameBytes(sys, f.path, bytes));
    if (twin) return { path: twin.path, inHome: false };
    const saved = writeBackup(sys, ctx, user.name, b.rel, bytes, path);
    window.bytes += bytes.length;
    window.files.push({ path: saved, rel: b.rel, size: bytes.length });
    return { path: saved, inHome: false };
  }
  const st = sys.lstat(path);
  if (!st || !same(st, b.expect)) throw new Conflict(`${path} changed while it was being kept; run sync again`);
  let aside = `${path}.claude-share-kept.${ctx.backupRoot.split('/').pop()}`;
  for (let n = 1; sys.lstat(aside); n++) aside = `${path}.claude-share-kept.${ctx.backupRoot.split('/').pop()}.${n}`;
  // A rename within the member's own directory: the file stays hers, on her quota; root writes no byte of it.
  sys.rename(path, aside);
  return { path: aside, inHome: true };
}

interface BackupWindow {
  bytes: number;
  files: { path: string; rel: string; size: number }[];
}

/** What root copied of one member's files in the last hour, from the backups themselves (state that survives runs). */
function recentBackups(sys: System, sharedDir: string, ctx: ApplyContext, name: string): BackupWindow {
  ctx.budgets ??= new Map();
  const have = ctx.budgets.get(name);
  if (have) return have;
  const w: BackupWindow = { bytes: 0, files: [] };
  const root = `${sharedDir}/backups`;
  const since = sys.now().getTime() - BUDGET_WINDOW_MS;
  const walk = (dir: string, rel: string, depth: number) => {
    for (const n of sys.readdir(dir)) {
      const st = sys.lstat(`${dir}/${n}`);
      if (!rootsOwn(st)) continue;
      if (st.type === 'dir' && depth < 4) walk(`${dir}/${n}`, rel ? `${rel}/${n}` : n, depth + 1);
      else if (st.type === 'file') {
        w.bytes += st.size;
        w.files.push({ path: `${dir}/${n}`, rel: (rel ? `${rel}/${n}` : n).replace(/\.\d+$/, ''), size: st.size });
      }
    }
  };
  // The runs of the last hour, listed once per apply however many members need their budget.
  ctx.recentRuns ??= sys.lstat(root)?.type === 'dir' ? sys.readdir(root).filter((run) => Date.parse(run.replace(/T(\d\d)-(\d\d)-(\d\d)/, 'T$1:$2:$3')) >= since) : [];
  for (const run of ctx.recentRuns) {
    const st = sys.lstat(`${root}/${run}/${name}`);
    if (rootsOwn(st) && st.type === 'dir') walk(`${root}/${run}/${name}`, '', 0);
  }
  ctx.budgets.set(name, w);
  return w;
}

function sameBytes(sys: System, path: string, bytes: Buffer): boolean {
  const r = sys.readFileNoFollow(path, { owner: 0, maxBytes: BACKUP_FILE_MAX });
  return r.ok && r.bytes.equals(bytes);
}

/** The root-only (0700) directory of this run's backups that holds rel, created as needed. */
function backupDir(sys: System, ctx: ApplyContext, rel: string): string {
  let dir = ctx.backupRoot;
  sys.mkdir(dir.replace(/\/[^/]+$/, ''), 0o700, 0, 0);
  sys.mkdir(dir, 0o700, 0, 0);
  for (const part of rel.split('/').slice(0, -1)) {
    dir = `${dir}/${part}`;
    sys.mkdir(dir, 0o700, 0, 0);
  }
  return dir;
}

/** Backups are root-only: 0700 directories, 0600 files, never overwritten; each one is listed in the run's manifest. */
export function writeBackup(sys: System, ctx: ApplyContext, who: string, rel: string, bytes: Buffer, from?: string): string {
  const parts = `${who}/${rel}`.split('/');
  const dir = backupDir(sys, ctx, `${who}/${rel}`);
  let path = `${dir}/${parts[parts.length - 1]}`;
  for (let n = 1; sys.lstat(path); n++) path = `${dir}/${parts[parts.length - 1]}.${n}`;
  const st = from ? sys.lstat(from) : null;
  sys.writeFileAtomic(path, bytes, { mode: 0o600, uid: 0, gid: 0 });
  if (from) recordBackup(sys, ctx, path, from, st, who === 'shared' ? 'shared' : 'member', who === 'shared' ? undefined : who, bytes.length);
  return path;
}

function recordBackup(sys: System, ctx: ApplyContext, path: string, from: string, st: FileStat | null, kind: ManifestEntry['kind'], user: string | undefined, size: number) {
  ctx.manifest ??= [];
  ctx.manifest.push({ file: path.slice(ctx.backupRoot.length + 1), from, kind, user, uid: st?.uid ?? null, gid: st?.gid ?? null, mode: st ? st.mode & 0o7777 : null, size });
  sys.writeFileAtomic(`${ctx.backupRoot}/${MANIFEST}`, JSON.stringify({ schemaVersion: 1, files: ctx.manifest }, null, 1) + '\n', { mode: 0o600, uid: 0, gid: 0 });
}

export function withUmaskBlock(text: string): string {
  const start = text.indexOf(UMASK_BEGIN);
  const end = text.indexOf(UMASK_END);
  let rest = text;
  if (start >= 0 && end > start) rest = text.slice(0, start) + text.slice(end + UMASK_END.length).replace(/^\n/, '');
  if (rest && !rest.endsWith('\n')) rest += '\n';
  return rest + UMASK_BLOCK;
}

const CLAUDE_JSON_KEEP = ['oauthAccount', 'hasCompletedOnboarding', 'lastOnboardingVersion', 'userID', 'hasAvailableSubscription', 'subscriptionNoticeCount', 'hasOpusPlanDefault'];

/** Only what other members need from the source's .claude.json: its projects and mcpServers hold paths and secrets. */
export function minimalClaudeJson(bytes: Buffer): Buffer {
  let doc: Record<string, unknown>;
  try {
    doc = JSON.parse(bytes.toString('utf8'));
  } catch {
    return Buffer.from('{}\n');
  }
  const out: Record<string, unknown> = {};
  for (const k of CLAUDE_JSON_KEEP) if (doc && k in doc) out[k] = doc[k];
  return Buffer.from(JSON.stringify(out, null, 2) + '\n');
}
