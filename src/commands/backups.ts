import { MANIFEST, rootsOwn, runTime, writeBackup, type ApplyContext, type ManifestEntry } from '../engine/apply.js';
import { backupRootFor } from '../engine/apply.js';
import { configPath, requireConfig, type Config } from '../engine/config.js';
import { inspectCredentials, isUsable } from '../core/credentials.js';
import { dataError, EXIT, operatorError, unsafeError, usageError } from '../core/errors.js';
import { itemsFor, sharedPath, SHARED_ITEMS } from '../core/items.js';
import type { Io } from '../engine/io.js';
import { SHARED_FILE_MODE } from '../core/plan.js';
import type { System } from '../system/system.js';
import { parseJsonBounded } from '../core/untrusted.js';
import { printable } from '../core/validate.js';
import { backupsJson } from '../core/render.js';

/**
 * `backups list` and `backups restore`: what root keeps in <shared>/backups (tokens among them: root-only, 0700/0600),
 * found and put back through the same pinned paths as every other write. Runs written before manifests existed are
 * described from their layout (shared/REL, USER/REL, set-aside/NAME), with owner and mode unknown.
 */

export interface BackupRun {
  run: string;
  files: ManifestEntry[];
}

const MAX_FILES_LISTED = 10_000;
const MANIFEST_MAX = 4 * 1024 * 1024;

export function listRuns(sys: System, c: Config): BackupRun[] {
  const root = `${c.sharedDir}/backups`;
  if (sys.lstat(root)?.type !== 'dir') return [];
  const runs = sys
    .readdir(root)
    .filter((r) => !Number.isNaN(runTime(r)) && rootsOwn(sys.lstat(`${root}/${r}`)) && sys.lstat(`${root}/${r}`)?.type === 'dir')
    .sort()
    .reverse();
  return runs.map((run) => ({ run, files: runFiles(sys, c, `${root}/${run}`) }));
}

function runFiles(sys: System, c: Config, dir: string): ManifestEntry[] {
  const present: { file: string; size: number }[] = [];
  const walk = (d: string, rel: string, depth: number) => {
    for (const n of sys.readdir(d)) {
      if (present.length >= MAX_FILES_LISTED) return;
      const st = sys.lstat(`${d}/${n}`);
      const r = rel ? `${rel}/${n}` : n;
      if (!rootsOwn(st)) continue; // not root's: not a backup (apply.ts, rootsOwn)
      if (st.type === 'dir' && depth < 5) walk(`${d}/${n}`, r, depth + 1);
      else if (!(depth === 0 && n === MANIFEST)) present.push({ file: r, size: st.size });
    }
  };
  walk(dir, '', 0);
  const m = sys.readFileNoFollow(`${dir}/${MANIFEST}`, { owner: 0, maxBytes: MANIFEST_MAX });
  const doc = m.ok ? (parseJsonBounded(m.bytes) as { files?: ManifestEntry[] } | undefined) : undefined;
  const known = new Map((Array.isArray(doc?.files) ? doc!.files : []).filter((e) => e && typeof e.file === 'string').map((e) => [e.file, e]));
  // What is there is the truth (retention may have pruned some); the manifest adds where each came from.
  return present.map((p) => known.get(p.file) ?? inferEntry(sys, c, p.file, p.size));
}

/** A run from before manifests: shared/REL, set-aside/NAME.INO, or USER/REL. */
function inferEntry(sys: System, c: Config, file: string, size: number): ManifestEntry {
  const [who, ...rest] = file.split('/');
  const rel = rest.join('/').replace(/\.\d+$/, '');
  if (who === 'shared') {
    const item = SHARED_ITEMS.find((i) => i.rel === rel);
    return { file, from: item ? sharedPath(c.sharedDir, item) : `${c.sharedDir}/home/${rel}`, kind: 'shared', uid: null, gid: null, mode: null, size };
  }
  if (who === 'set-aside') return { file, from: `${c.sharedDir}/home/.claude`, kind: 'set-aside', uid: null, gid: null, mode: null, size };
  const home = sys.getUser(who)?.home ?? (who === 'root' ? '/root' : `~${who}`);
  return { file, from: `${home}/${rel}`, kind: 'member', user: who, uid: null, gid: null, mode: null, size };
}

const human = (n: number) => (n < 1024 ? `${n} B` : n < 1024 * 1024 ? `${(n / 1024).toFixed(1)} KiB` : `${(n / 1024 / 1024).toFixed(1)} MiB`);
const ownerText = (sys: System, e: ManifestEntry) => {
  if (e.uid === null) return 'owner and mode not recorded';
  const name = e.user && sys.getUser(e.user)?.uid === e.uid ? e.user : e.uid === 0 ? 'root' : `uid ${e.uid}`;
  return `${name}, mode ${(e.mode ?? 0).toString(8).padStart(4, '0')}`;
};
/** Paths here are root's (homes from the account database, names root chose), still shown printable, never cut. */
const safe = (s: string) => s.replace(/[^\x20-\x7e]/g, (ch) => `\\u{${ch.codePointAt(0)!.toString(16)}}`);

export interface BackupsListOptions {
  json: boolean;
  config?: string;
}

export function runBackupsList(sys: System, o: BackupsListOptions, io: Io): number {
  if (sys.euid() !== 0) throw unsafeError('the backups hold logins and are root-only', 'run it with sudo');
  const c = requireConfig(sys, configPath(o.config));
  const runs = listRuns(sys, c);
  if (o.json) {
    io.out(JSON.stringify(backupsJson(`${c.sharedDir}/backups`, c.backupKeepDays, runs), null, 2));
    return EXIT.ok;
  }
  io.out(
    `${c.sharedDir}/backups: ${runs.length} run${runs.length === 1 ? '' : 's'}, kept ${c.backupKeepDays} days (BACKUP_KEEP_DAYS; anyone's newest login is never pruned). They hold logins: root-only.`,
  );
  for (const r of runs) {
    io.out(`${r.run}  ${r.files.length} file${r.files.length === 1 ? '' : 's'}, ${human(r.files.reduce((n, f) => n + f.size, 0))}`);
    for (const f of r.files) io.out(`  ${safe(`${r.run}/${f.file}`)}  ← ${safe(String(f.from))} (${f.kind}, ${ownerText(sys, f)}, ${human(f.size)})`);
  }
  if (runs.length) io.out('restore one: sudo claude-share backups restore RUN/FILE [--dry-run]');
  return EXIT.ok;
}

export interface BackupsRestoreOptions {
  what: string;
  asShared: boolean;
  force: boolean;
  dryRun: boolean;
  config?: string;
}

/**
 * Puts one backed-up file back. A shared copy goes back into the shared directory (the current one is backed up
 * first, and a live login is never replaced without --force); a member's file goes back into their home, theirs,
 * with the recorded mode, unless they are managed (their file there is the link to the shared copy: --as-shared
 * puts it back as the shared copy instead). What a member put in place of the shared directory is not restored.
 */
export async function runBackupsRestore(sys: System, o: BackupsRestoreOptions, io: Io): Promise<number> {
  if (sys.euid() !== 0) throw unsafeError('the backups hold logins and are root-only', 'run it with sudo');
  const release = await sys.lock();
  try {
    const c = requireConfig(sys, configPath(o.config));
    // RUN/FILE as `backups list` prints it, or the backup's full path.
    const what = o.what.replace(new RegExp(`^${escapeRe(c.sharedDir)}/backups/`), '').replace(/^\/+|\/+$/g, '');
    const slash = what.indexOf('/');
    if (slash < 0) throw usageError(`${printable(o.what)} names no file in a run`, 'pass RUN/FILE as `claude-share backups list` prints it');
    const run = what.slice(0, slash);
    const file = what.slice(slash + 1);
    const entry = listRuns(sys, c)
      .find((r) => r.run === run)
      ?.files.find((f) => f.file === file);
    if (!entry) throw dataError(`no backup ${printable(o.what)}`, 'see: sudo claude-share backups list');
    if (entry.kind === 'set-aside')
      throw dataError(`${printable(o.what)} is what was put in place of the shared directory: kept as evidence, not restored`, `look at it as root: ${c.sharedDir}/backups/${run}/${file}`);
    const src = sys.readFileNoFollow(`${c.sharedDir}/backups/${run}/${file}`, { owner: 0, maxBytes: 16 * 1024 * 1024 });
    if (!src.ok) throw operatorError(`${printable(o.what)} cannot be read (${src.reason})`, 'look at it as root');
    const rel = file
      .split('/')
      .slice(1)
      .join('/')
      .replace(/\.\d+$/, '');
    const item = itemsFor(c.shareSettingsLocal).find((i) => i.rel === rel);
    const ctx: ApplyContext = { passwords: new Map(), backupRoot: backupRootFor(c.sharedDir, sys.now()) };
    if (entry.kind === 'shared' || o.asShared) {
      if (!item) throw dataError(`${printable(rel)} is not one of the shared files`, 'restore it to its home instead (without --as-shared)');
      const dest = sharedPath(c.sharedDir, item);
      // What is there now is backed up first; what cannot be read (hard-linked, over the size cap, not a file) cannot
      // be, and might be a live login: only --force replaces it, and says so.
      const cur = sys.readFileNoFollow(dest, { maxBytes: 16 * 1024 * 1024 });
      if (!cur.ok && sys.lstat(dest) && !o.force)
        throw operatorError(
          `${dest} cannot be read (${cur.reason}), so it cannot be backed up first`,
          'run claude-share sync (it repairs the shared copies), or pass --force to replace it without a backup',
        );
      if (item.id === 'credentials' && !o.force) {
        const now = sys.readFileNoFollow(dest, { maxBytes: 1 << 20 });
        const live = inspectCredentials(now.ok ? now.bytes : null, sys.now().getTime());
        if (isUsable(live))
          throw operatorError(
            `the shared login in ${dest} is live (expires ${new Date(live.expiresAt!).toISOString()}); restoring an older one over it would drop its single-use refresh token`,
            'pass --force if that is what you want (the live one goes to the backups first)',
          );
      }
      if (o.dryRun)
        return said(
          io,
          `would restore ${dest} from ${run}/${file} (${cur.ok ? 'the current one backed up first' : sys.lstat(dest) ? 'the current one replaced WITHOUT a backup (--force)' : 'there is none now'})`,
        );
      if (cur.ok) io.out(`  backup: ${writeBackup(sys, ctx, 'shared', item.rel, cur.bytes, dest)}`);
      else if (sys.lstat(dest)) io.err(`warning: ${dest} could not be read (${cur.reason}): replaced without a backup (--force)`);
      const g = sys.getGroup(c.group);
      if (!g) throw operatorError(`group ${c.group} does not exist`, 'run: claude-share server init');
      sys.writeFileAtomic(dest, src.bytes, { mode: SHARED_FILE_MODE, uid: 0, gid: g.gid });
      sys.log(`restored ${dest} from backup ${run}/${file}`);
      return said(io, `✓ restored ${dest} from ${run}/${file}; every member sees it now`);
    }
    const user = entry.user ? sys.getUser(entry.user) : null;
    if (!user) throw dataError(`${printable(entry.user ?? '?')} no longer exists: nowhere to put ${printable(file)}`, `copy it by hand from ${c.sharedDir}/backups/${run}/${file}`);
    // The name may belong to someone else now (an account deleted, its name reused): her tokens are not his.
    if (entry.uid !== null && entry.uid !== user.uid)
      throw dataError(
        `${user.name} is uid ${user.uid} now, the backup was of uid ${entry.uid}: another account with the same name`,
        `copy it by hand from ${c.sharedDir}/backups/${run}/${file} if it really is theirs`,
      );
    if (item && c.managedUsers.includes(user.name)) {
      throw dataError(
        `${user.name} is managed: ${entry.from} is the link to the shared copy, and sync would replace a private file there again`,
        `restore it as the shared copy (add --as-shared), or first: claude-share server remove-user ${user.name}`,
      );
    }
    const dest = entry.from;
    if (!dest.startsWith(user.home.replace(/\/+$/, '') + '/')) throw dataError(`${printable(dest)} is not in ${user.name}'s home`, 'copy it by hand');
    const st = sys.lstat(dest);
    if (st && st.type !== 'file' && st.type !== 'symlink') throw operatorError(`${dest} is a ${st.type}`, `move it away as ${user.name}, then restore again`);
    if (o.dryRun) return said(io, `would restore ${dest} (${user.name}'s, mode ${((entry.mode ?? 0o600) & 0o777).toString(8)}) from ${run}/${file}`);
    if (st?.type === 'file') {
      const cur = sys.readFileNoFollow(dest, { owner: user.uid, maxBytes: 1024 * 1024 });
      if (!cur.ok) throw operatorError(`${dest}: ${cur.reason}; not replaced without a backup`, `move it away as ${user.name}, then restore again`);
      io.out(`  backup: ${writeBackup(sys, ctx, user.name, rel || file, cur.bytes, dest)}`);
    }
    sys.replaceFile(dest, src.bytes, { mode: (entry.mode ?? 0o600) & 0o777, uid: user.uid, gid: user.gid });
    sys.log(`restored ${dest} from backup ${run}/${file}`);
    return said(io, `✓ restored ${dest} (${user.name}'s) from ${run}/${file}`);
  } finally {
    release();
  }
}

function said(io: Io, line: string): number {
  io.out(line);
  return EXIT.ok;
}

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
