import { TOKEN_PATH } from '../core/token.js';
import { ancestorUnsafe, homeUnsafe, refuseReason } from '../core/trust.js';
import { homePath, legacySharedClaudeJson, MAX_READ_BYTES, RC_FILES, sharedDirs, sharedPath, sharedStore, UMASK_BLOCK, type SharedItem } from '../core/items.js';
import type { Desired, ObservedItem, ObservedRc, ObservedSource, ObservedUser, Observed, Sample } from '../core/model.js';
import type { FileStat, System, UserEntry } from '../system/system.js';
import { printable } from '../core/validate.js';
import { parseJsonBounded } from '../core/untrusted.js';
import { readLoginSeen, readPinnedAccount } from './login-life.js';
import { ProbeMemo } from './probe-memo.js';

/**
 * Accounts this tool created whose password is not set yet (useradd runs for every new account, then one chpasswd
 * for all): an interrupted init leaves their names here, never a password, and the next init sets them.
 */
export const JOURNAL = '/var/lib/claude-share/pending-passwords';

export function readJournal(sys: System): string[] {
  const r = sys.readFileNoFollow(JOURNAL, { owner: 0, maxBytes: 1 << 20 });
  return r.ok
    ? r.bytes
        .toString('utf8')
        .split('\n')
        .filter((n) => /^[a-z_][a-z0-9_-]*\$?$/i.test(n))
    : [];
}

/** Read-only look at everything a plan needs. Never follows a link found in a home. */
export function probe(sys: System, d: Desired, memo: ProbeMemo = ProbeMemo.empty()): Observed {
  const group = sys.getGroup(d.group);
  const names = d.onlyUsers ? d.users.filter((u) => d.onlyUsers!.includes(u)) : d.users;
  const dirs = sharedDirs(d.sharedDir).map((x) => ({ ...x, stat: sys.lstat(x.path) }));
  // Shared copies are only looked at through directories that are really there (not a member's symlink).
  const realDir = (p: string) => dirs.find((x) => x.path === p)?.stat?.type === 'dir';
  const shared = d.items.map((item) => {
    const path = sharedPath(d.sharedDir, item);
    const stat = realDir(path.slice(0, path.lastIndexOf('/'))) ? sys.lstat(path) : null;
    const read = stat?.type === 'file' ? sys.readFileNoFollow(path, { maxBytes: MAX_READ_BYTES }) : undefined;
    const broken = item.id !== 'credentials' && read?.ok && parseJsonBounded(read.bytes) === undefined;
    return { item, path, stat, read, lastGood: broken ? lastGoodBackup(sys, d.sharedDir, item.rel) : undefined };
  });
  const sharedExists = new Set(shared.filter((s) => s.stat).map((s) => s.item.id));
  // A Set: the group of 5,000 members is looked up 5,000 times (a list made that O(n²), 50 ms at 5,000).
  const inGroup = new Set(group?.members ?? []);
  const users = names.map((name) => probeUserSafely(sys, d, name, inGroup.has(name), sharedExists, memo));
  const claudeDir = dirs.find((x) => x.path === sharedStore(d.sharedDir))!.stat;
  return {
    nowMs: sys.now().getTime(),
    group,
    dirs,
    insecureParent: findInsecureParent(sys, d.sharedDir),
    shared,
    tempFiles: [`${d.sharedDir}/home`, `${d.sharedDir}/home/.claude`].map((dir) => ({ dir, ...sample(safeReaddir(sys, dir), (f) => /\.tmp\./.test(f)) })).filter((t) => t.count > 0),
    users,
    source: d.seedFromSource ? probeSource(sys, d) : null,
    intruder: claudeDir && claudeDir.type !== 'dir' && realDir(`${d.sharedDir}/home`) ? probeIntruder(sys, d, claudeDir, users) : undefined,
    legacy: realDir(`${d.sharedDir}/home`) ? legacyOf(sys, d.sharedDir) : undefined,
    journal: d.pendingPasswords?.length ? readJournal(sys) : [],
    loginSeen: readLoginSeen(sys),
    pinnedAccount: readPinnedAccount(sys),
    token: sys.lstat(TOKEN_PATH) ? sys.readFileNoFollow(TOKEN_PATH, { owner: 0, maxBytes: 4096 }) : null,
  };
}

/** The shared .claude.json where layouts before 0.2 kept it (in <shared>/home itself). */
function legacyOf(sys: System, sharedDir: string) {
  const path = legacySharedClaudeJson(sharedDir);
  const stat = sys.lstat(path);
  return stat ? { path, stat } : undefined;
}

/** Entries of <shared>/home looked at for the moved original: a member can make many, so the look is bounded. */
const ORIGINALS_SCAN = 1000;

function probeIntruder(sys: System, d: Desired, stat: FileStat, users: ObservedUser[]) {
  const home = `${d.sharedDir}/home`;
  // Named among all managed users, not only those this run looks at (the watcher's shared-dir heals look at none).
  const owner = users.find((u) => u.entry?.uid === stat.uid)?.name ?? d.users.find((n) => sys.getUser(n)?.uid === stat.uid) ?? `uid ${stat.uid}`;
  // Only root creates root-owned directories: one of these is the real .claude, renamed by a member.
  const originals = sys
    .readdir(home)
    .slice(0, ORIGINALS_SCAN)
    .filter((n) => n !== '.claude' && !/\.tmp\./.test(n))
    .map((n) => `${home}/${n}`)
    .filter((p) => {
      const st = sys.lstat(p);
      return st?.type === 'dir' && st.uid === 0;
    });
  return { stat, owner, originals };
}

/** Backup runs looked at for a last good copy, newest first: bounded whatever the backups hold. */
const LAST_GOOD_SCAN = 20;

/** The newest copy of a shared file in the root-only backups that is valid JSON. */
function lastGoodBackup(sys: System, sharedDir: string, rel: string) {
  const root = `${sharedDir}/backups`;
  if (sys.lstat(root)?.type !== 'dir') return undefined;
  const runs = sys
    .readdir(root)
    .filter((n) => /^\d{4}-\d\d-\d\dT/.test(n))
    .sort()
    .reverse()
    .slice(0, LAST_GOOD_SCAN);
  for (const run of runs) {
    const path = `${root}/${run}/shared/${rel}`;
    const r = sys.readFileNoFollow(path, { owner: 0, maxBytes: MAX_READ_BYTES });
    if (r.ok && r.bytes.length && parseJsonBounded(r.bytes) !== undefined) return { path, expect: { ino: r.stat.ino, size: r.stat.size, mtimeMs: r.stat.mtimeMs } };
  }
  return undefined;
}

/** Refuses a shared dir whose existing parents someone other than root could rename or replace. */
export function findInsecureParent(sys: System, dir: string): string | null {
  if (sys.lstat(dir)?.type === 'symlink') return `${dir} is a symlink`;
  const parts = dir.split('/').filter(Boolean);
  for (let i = parts.length - 1; i >= 0; i--) {
    const p = '/' + parts.slice(0, i).join('/');
    const st = sys.lstat(p);
    if (!st) continue;
    const why = ancestorUnsafe(p, st);
    if (why) return why;
  }
  return null;
}

/** One pass, O(n): how many names match, and the first SAMPLE_NAMES of them made printable. */
export const SAMPLE_NAMES = 3;
function sample(names: string[], match: (name: string) => boolean): Sample {
  const s: Sample = { count: 0, names: [] };
  for (const n of names) {
    if (!match(n)) continue;
    if (s.count++ < SAMPLE_NAMES) s.names.push(printable(n));
  }
  return s;
}

function safeReaddir(sys: System, dir: string): string[] {
  const st = sys.lstat(dir);
  return st?.type === 'dir' ? sys.readdir(dir) : [];
}

/** One home that cannot be examined (whatever its owner put there) is one problem on that member, not a failed run. */
function probeUserSafely(sys: System, d: Desired, name: string, inGroup: boolean, sharedExists: Set<string>, memo: ProbeMemo): ObservedUser {
  try {
    return probeUser(sys, d, name, inGroup, sharedExists, memo);
  } catch (e) {
    const entry = sys.getUser(name);
    const why = `could not be examined: ${printable((e as Error).message ?? String(e))}`;
    const items = d.items.map((item) => ({ item, path: entry ? homePath(entry.home, item) : `~${name}/${item.rel}`, stat: null, state: 'unsafe' as const, detail: why }));
    return { name, entry, inGroup, homeStat: null, claudeDir: null, items, rc: [], corrupted: { count: 0, names: [] }, unsafe: `home of ${name} ${why}`, failed: true };
  }
}

function probeUser(sys: System, d: Desired, name: string, inGroup: boolean, sharedExists: Set<string>, memo: ProbeMemo): ObservedUser {
  const entry = sys.getUser(name);
  const u: ObservedUser = { name, entry, inGroup, homeStat: null, claudeDir: null, items: [], rc: [], corrupted: { count: 0, names: [] } };
  if (!entry) {
    u.items = d.items.map((item) => ({ item, path: `~${name}/${item.rel}`, stat: null, state: 'missing', detail: 'no such user yet' }));
    return u;
  }
  u.homeStat = sys.lstat(entry.home);
  u.unsafe = homeUnsafe(entry, u.homeStat);
  const claudePath = `${entry.home}/.claude`;
  if (!u.unsafe) {
    u.claudeDir = sys.lstat(claudePath);
    const cd = u.claudeDir;
    const claudeUnsafe = !cd
      ? undefined
      : cd.type !== 'dir'
        ? `${claudePath} is a ${cd.type}, not a directory`
        : cd.uid !== entry.uid
          ? `${claudePath} is owned by uid ${cd.uid}, not ${name}`
          : undefined;
    u.items = d.items.map((item) => probeItem(sys, d, entry, item, item.rel.startsWith('.claude/') ? claudeUnsafe : undefined, sharedExists.has(item.id), memo));
    u.rc = RC_FILES.map((f) => probeRc(sys, entry, `${entry.home}/${f}`, memo));
    // Listed again only when the home's entries changed since a listing found no leftovers (probe-memo.ts).
    if (!memo.homeClean(entry.home, u.homeStat!)) {
      u.corrupted = sample(sys.readdir(entry.home), (f) => f.startsWith('.claude.json.corrupted.'));
      memo.setHomeClean(entry.home, u.homeStat!, u.corrupted.count === 0);
    }
  } else {
    u.items = d.items.map((item) => ({ item, path: homePath(entry.home, item), stat: null, state: 'unsafe', detail: u.unsafe! }));
  }
  return u;
}

function probeItem(sys: System, d: Desired, entry: UserEntry, item: SharedItem, claudeUnsafe: string | undefined, sharedExists: boolean, memo: ProbeMemo): ObservedItem {
  const path = homePath(entry.home, item);
  if (claudeUnsafe) return { item, path, stat: null, state: 'unsafe', detail: claudeUnsafe };
  const stat = sys.lstat(path);
  const want = sharedPath(d.sharedDir, item);
  const o: ObservedItem = { item, path, stat, state: 'ok', detail: '' };
  if (!stat) return { ...o, state: 'missing', detail: 'no link' };
  if (stat.type === 'symlink') {
    o.target = memo.linkTarget(path, stat) ?? sys.readlink(path) ?? '';
    memo.setLink(path, stat, o.target);
    if (o.target !== want) return { ...o, state: 'wrong-target', detail: `points to ${printable(o.target)}` };
    if (item.id !== 'credentials' && !sharedExists) return { ...o, state: 'broken', detail: `${want} does not exist` };
    return { ...o, detail: `→ ${want}` };
  }
  if (stat.type !== 'file') return { ...o, state: 'not-a-file', detail: `a ${stat.type} is in the way` };
  const refuse = refuseReason(stat, entry.uid);
  if (refuse) return { ...o, state: 'unsafe', detail: refuse };
  o.state = 'severed';
  o.detail = 'a private file replaced the link';
  o.read = sys.readFileNoFollow(path, { owner: entry.uid, maxBytes: MAX_READ_BYTES });
  return o;
}

function probeRc(sys: System, entry: UserEntry, path: string, memo: ProbeMemo): ObservedRc {
  const stat = sys.lstat(path);
  if (!stat) return { path, stat, hasBlock: false };
  if (stat.type !== 'file') return { path, stat, hasBlock: false, problem: `${path} is a ${stat.type}` };
  const refuse = refuseReason(stat, entry.uid);
  if (refuse) return { path, stat, hasBlock: false, problem: `${path} ${refuse}` };
  const known = memo.rcHasBlock(path, stat);
  if (known !== undefined) return { path, stat, hasBlock: known };
  const r = sys.readFileNoFollow(path, { owner: entry.uid, maxBytes: MAX_READ_BYTES });
  if (!r.ok) return { path, stat, hasBlock: false, problem: `${path}: ${r.reason}` };
  const hasBlock = r.bytes.toString('utf8').includes(UMASK_BLOCK);
  // Remembered under the stat of what was read (the descriptor's), never of what lstat saw before it.
  memo.setRc(path, r.stat, hasBlock);
  return { path, stat, hasBlock };
}

function probeSource(sys: System, d: Desired): ObservedSource {
  const entry = sys.getUser(d.sourceUser);
  const src: ObservedSource = { name: d.sourceUser, entry, files: {} };
  if (!entry) return src;
  const home = sys.lstat(entry.home);
  if (!home || home.type !== 'dir' || home.uid !== entry.uid) return src;
  for (const item of d.items) {
    const path = homePath(entry.home, item);
    src.files[item.id] = { path, read: sys.readFileNoFollow(path, { owner: entry.uid, maxBytes: MAX_READ_BYTES }) };
  }
  return src;
}
