import * as fs from 'node:fs';
import { CliError, EXIT } from './errors.js';

/** In a root-only directory: in world-writable /run/lock a member could plant a lock and switch healing off. */
export const DEFAULT_LOCK_PATH = '/run/claude-share/lock';

/**
 * One mutating command at a time. The lock file holds the owner's pid; a lock whose process is gone is broken.
 * Returns a release function.
 */
export async function acquireLock(path = process.env.CLAUDE_SHARE_LOCK || DEFAULT_LOCK_PATH, waitMs = 30_000): Promise<() => void> {
  const deadline = Date.now() + waitMs;
  const dir = path.replace(/\/[^/]+$/, '');
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const st = fs.lstatSync(dir);
  if (!st.isDirectory() || st.uid !== 0 || (st.mode & 0o022) !== 0) {
    throw new CliError('unsafe', EXIT.unsafe, `refusing the lock directory ${dir}: it must be a root-owned directory that only root can write`, `run: rm -rf ${dir} (it is recreated)`);
  }
  for (;;) {
    try {
      const fd = fs.openSync(path, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW, 0o644);
      fs.writeSync(fd, `${process.pid}\n`);
      fs.closeSync(fd);
      return () => {
        try {
          if (fs.readFileSync(path, 'utf8').trim() === String(process.pid)) fs.unlinkSync(path);
        } catch {
          /* already gone */
        }
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    const holder = lockHolder(path);
    if (holder !== null && !alive(holder)) {
      // Stale: its process was killed. Rename first so two waiters cannot both break it and both win.
      const stale = `${path}.stale.${process.pid}`;
      try {
        fs.renameSync(path, stale);
        if (lockHolder(stale) === holder) fs.unlinkSync(stale);
        else fs.renameSync(stale, path);
      } catch {
        /* someone else broke it first */
      }
      continue;
    }
    if (Date.now() >= deadline) {
      throw new CliError('locked', EXIT.operator, `another claude-share command (pid ${holder ?? 'unknown'}) holds ${path}; waited ${Math.round(waitMs / 1000)} s`, 'wait for it to finish, then run this again');
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

function lockHolder(path: string): number | null {
  try {
    const pid = Number.parseInt(fs.readFileSync(path, 'utf8'), 10);
    return Number.isFinite(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
