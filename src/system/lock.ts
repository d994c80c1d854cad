import * as fs from 'node:fs';
import { CliError, EXIT } from '../core/errors.js';

/** In a root-only directory: in world-writable /run/lock a member could plant a lock and switch healing off. */
export const DEFAULT_LOCK_PATH = '/run/claude-share/lock';

/**
 * One mutating command at a time. The lock file names its holder by pid AND the process's start time (field 22 of
 * /proc/PID/stat): a holder counts only while a root-owned process with that pid and that start time runs. A member
 * who forks until she owns the pid of a killed holder therefore cannot keep the lock (issue: one member must never
 * stop the healing of the others). Returns a release function.
 */
export async function acquireLock(path = DEFAULT_LOCK_PATH, waitMs = 30_000): Promise<() => void> {
  const deadline = Date.now() + waitMs;
  const dir = path.replace(/\/[^/]+$/, '');
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const st = fs.lstatSync(dir);
  if (!st.isDirectory() || st.uid !== 0 || (st.mode & 0o022) !== 0) {
    throw new CliError('unsafe', EXIT.unsafe, `refusing the lock directory ${dir}: it must be a root-owned directory that only root can write`, `run: rm -rf ${dir} (it is recreated)`);
  }
  const me = `${process.pid} ${startTime(process.pid)}\n`;
  for (;;) {
    try {
      const fd = fs.openSync(path, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW, 0o600);
      fs.writeSync(fd, me);
      fs.closeSync(fd);
      return () => {
        try {
          if (fs.readFileSync(path, 'utf8') === me) fs.unlinkSync(path);
        } catch {
          /* already gone */
        }
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    const holder = readHolder(path);
    if (!holder || !holds(holder)) {
      // Stale (or garbage): its process is gone. Rename first so two waiters cannot both break it and both win.
      const stale = `${path}.stale.${process.pid}`;
      try {
        fs.renameSync(path, stale);
        const again = readHolder(stale);
        if (!again || !holds(again)) fs.unlinkSync(stale);
        else fs.renameSync(stale, path);
      } catch {
        /* someone else broke it first */
      }
      continue;
    }
    if (Date.now() >= deadline) {
      throw new CliError(
        'locked',
        EXIT.operator,
        `another claude-share command (pid ${holder.pid}) holds ${path}; waited ${Math.round(waitMs / 1000)} s`,
        'wait for it to finish, then run this again',
      );
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

interface Holder {
  pid: number;
  start: string;
}

function readHolder(path: string): Holder | null {
  try {
    const [pid, start] = fs.readFileSync(path, 'utf8').trim().split(' ');
    const n = Number.parseInt(pid, 10);
    return Number.isInteger(n) && n > 0 && /^\d+$/.test(start ?? '') ? { pid: n, start } : null;
  } catch {
    return null;
  }
}

/** A live process of root's with the recorded start time: not a recycled pid, not a member's process. */
function holds(h: Holder): boolean {
  const st = fs.statSync(`/proc/${h.pid}`, { throwIfNoEntry: false });
  return !!st && st.uid === 0 && startTime(h.pid) === h.start;
}

/** Field 22 of /proc/PID/stat, read after the last ')' because the command name may hold spaces and parentheses. */
export function startTime(pid: number): string {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? '';
  } catch {
    return '';
  }
}
