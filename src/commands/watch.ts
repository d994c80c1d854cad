import { HOME_DIRS, WATCHED_NAMES } from '../core/items.js';
import { configPath, loadConfig, type Config } from '../engine/config.js';
import { operatorError } from '../core/errors.js';
import { healOnce } from './sync.js';
import { type Io } from '../engine/io.js';
import { HealScheduler, type HealOutcome, type Who } from '../core/heal-scheduler.js';
import type { System, UserEntry } from '../system/system.js';
import { safeText } from '../core/validate.js';

export interface WatchOptions {
  config?: string;
  debounceMs: number;
  sweepMinutes: number;
}

/** A directory to watch and whom an event in it concerns (null: the shared copies, not any one member). */
export interface WatchTarget {
  dir: string;
  user: string | null;
}

/**
 * Where Claude's writes show up: the shared dirs (in-place and one-hop writes), each home (.claude.json and the
 * .claude dir being replaced) and each ~/.claude (the rename that severs a link). Only real directories owned by
 * the expected user are watched, so a member's symlink never points the watcher elsewhere.
 */
export function watchTargets(sys: System, c: Config): WatchTarget[] {
  const t: WatchTarget[] = [];
  const realDir = (p: string, uid: number | null) => {
    const st = sys.lstat(p);
    return !!st && st.type === 'dir' && (uid === null || st.uid === uid);
  };
  for (const d of [`${c.sharedDir}/home`, `${c.sharedDir}/home/.claude`]) if (realDir(d, 0)) t.push({ dir: d, user: null });
  for (const name of c.managedUsers) {
    const u: UserEntry | null = sys.getUser(name);
    if (!u || !realDir(u.home, u.uid)) continue;
    t.push({ dir: u.home, user: name });
    for (const rel of HOME_DIRS.filter(Boolean)) if (realDir(`${u.home}/${rel}`, u.uid)) t.push({ dir: `${u.home}/${rel}`, user: name });
  }
  return t;
}

/** After a credentials rename in a member's ~/.claude: long enough for Claude's chmod that follows it. */
export const SEVER_SETTLE_MS = 25;

/** Claude's own temp files and our link temps come and go during a write; the final rename is what matters. */
export function isRelevant(file: string | null): boolean {
  if (!file) return true;
  return WATCHED_NAMES.has(file);
}

/** server watch: heal within about a second of Claude's write, sweep every N minutes for missed events. */
export async function runWatch(sys: System, o: WatchOptions, io: Io): Promise<number> {
  const cfgPath = configPath(o.config);
  let config = loadConfig(sys, cfgPath);
  if (!config) throw operatorError(`no configuration at ${cfgPath}`, 'run claude-share server init first');
  // Keyed by path, remembering the inode: a directory renamed away and recreated must be watched anew.
  const watchers = new Map<string, { w: { close(): void }; ino: number }>();
  // Members whose homes changed; everyone = a sweep or a new config. A shared-dir event alone checks only the
  // shared copies (modes after an in-place write), so the heal's own writes there do not re-scan every member.
  // Debounce, merging, one heal at a time and retries: heal-scheduler.ts.
  let stopping = false;

  // Every line goes through here: errors carry paths a member named (safeText).
  const say = (raw: string) => {
    const msg = safeText(raw);
    io.out(`${new Date().toISOString()} ${msg}`);
    sys.log(msg);
  };

  const watch = (dir: string, onChange: (file: string | null) => void, onError: () => void) => {
    const st = sys.lstat(dir);
    const have = watchers.get(dir);
    if (have && st?.ino === have.ino) return;
    have?.w.close();
    watchers.delete(dir);
    if (!st) return;
    try {
      const w = sys.watchDir(dir, onChange, () => {
        if (watchers.get(dir)?.w === w) watchers.delete(dir);
        onError();
      });
      watchers.set(dir, { w, ino: st.ino });
    } catch {
      /* vanished meanwhile: the next sweep or home event re-arms it */
    }
  };

  const rearm = () => {
    if (stopping) return;
    try {
      const want = new Map(watchTargets(sys, config!).map((t) => [t.dir, t]));
      const cfgDir = cfgPath.replace(/\/[^/]+$/, '');
      for (const [dir, { w }] of watchers) {
        if (!want.has(dir) && dir !== cfgDir) {
          w.close();
          watchers.delete(dir);
        }
      }
      for (const [dir, t] of want)
        watch(
          dir,
          (file) => onEvent(t, file),
          () => schedule(t.user),
        );
      // The config's directory: a new user added by add-user gets watched without a restart.
      watch(
        cfgDir,
        (f) => (f === cfgPath.slice(cfgDir.length + 1) ? reload('config changed') : undefined),
        () => undefined,
      );
    } catch (e) {
      say(`could not re-arm the watches: ${(e as Error).message}; the next sweep tries again`);
    }
  };

  const onEvent = (t: WatchTarget, file: string | null) => {
    if (stopping || !isRelevant(file)) return;
    // Claude severs a link by renaming a complete temp file over it: that event needs no 200 ms debounce, and every
    // millisecond saved shortens the window in which other members refresh with the now dead token. Not 0 either:
    // Claude chmods the path right after its rename, and a link put back in between would take that chmod to the
    // shared copy.
    schedule(t.user, t.user !== null && file === '.credentials.json' && t.dir.endsWith('/.claude'));
  };

  const heal = async (users: string[] | undefined, since: number): Promise<HealOutcome> => {
    if (stopping) return { retry: [], everyoneAgain: false };
    const lines: string[] = [];
    // The same log on a terminal as in the journal: plain lines, no live counter, no colour.
    const quietIo: Io = { out: (l) => lines.push(l), err: (l) => lines.push(l), style: { color: false }, interactive: false };
    try {
      const { code, outcomes } = await healOnce(sys, cfgPath, quietIo, users);
      // Whether anything happened is read from the outcomes, never from how they were rendered.
      if (outcomes.some((x) => x.result !== 'unchanged')) {
        say(`healed ${!users ? 'all members' : users.length ? users.join(',') : 'the shared copies'} in ${since ? Date.now() - since : 0} ms (exit ${code})`);
        lines.forEach((l) => io.out(`  ${l}`));
      }
      // The shared directory was put back under everyone's links: all of them are looked at again, now. So after a
      // new login was promoted while healing only some members: another member's copy judged against the old one (a
      // race loser's stub kept as evidence of a dead login, say) is judged again against the new one.
      const done = (kinds: string[]) => outcomes.some((x) => kinds.includes(x.action.kind) && x.result !== 'failed' && x.result !== 'conflict' && x.result !== 'unchanged');
      // A member racing the heal (a file swapped back each time) is tried again later (heal-scheduler.ts).
      const failed = outcomes.filter((x) => x.result === 'failed' || x.result === 'conflict');
      return { retry: [...new Set(failed.map((x) => x.action.user ?? null))], everyoneAgain: done(['set-aside', 'restore-dir', 'move-legacy']) || (!!users && done(['promote-shared'])) };
    } finally {
      rearm();
    }
  };
  const scheduler = new HealScheduler({ debounceMs: o.debounceMs, settleMs: SEVER_SETTLE_MS, maxWaitMs: Math.max(o.debounceMs, 1000) }, heal, (e) => say(`heal failed: ${e.message}`));
  const schedule = (who: Who, atOnce = false) => scheduler.schedule(who, atOnce);

  const reload = (why: string) => {
    if (stopping) return;
    try {
      const next = loadConfig(sys, cfgPath);
      if (next) config = next;
      say(`reloaded the config (${why}): ${config!.managedUsers.length} managed users`);
    } catch (e) {
      say(`kept the old config: ${(e as Error).message}`);
    }
    rearm();
    schedule('everyone');
  };

  let finished: (code: number) => void = () => {};
  const done = new Promise<number>((resolve) => (finished = resolve));
  let sweep: NodeJS.Timeout | undefined;
  const stop = async (sig: string) => {
    if (stopping) return;
    stopping = true;
    if (sweep) clearInterval(sweep);
    for (const { w } of watchers.values()) w.close();
    watchers.clear();
    await scheduler.stop();
    say(`stopped (${sig})`);
    finished(0);
  };
  // Before the line that says it is watching: a SIGTERM sent right after that line must stop it cleanly, not kill it.
  sys.onSignal(['SIGTERM', 'SIGINT', 'SIGHUP'], (sig) => (sig === 'SIGHUP' ? reload('SIGHUP') : void stop(sig)));

  rearm();
  say(`watching ${watchers.size} directories for ${config.managedUsers.length} managed users (debounce ${o.debounceMs} ms, sweep every ${o.sweepMinutes} min)`);
  schedule('everyone');
  sweep = setInterval(() => schedule('everyone'), o.sweepMinutes * 60_000);
  return done;
}
