import { MAX_READ_BYTES } from './items.js';
import type { FileStat, UserEntry } from '../system/system.js';

/**
 * THE THREAT MODEL, and the rules that follow from it. Every byte a member writes is hostile input, and one member
 * must never stop the healing of the others.
 *
 * - Members own their homes and can write the shared copies: any name below a directory they can write may be
 *   swapped at any moment for a symlink, a hard link to someone else's file, a FIFO, a device, a huge file, or
 *   another directory. Root therefore never follows a path a member controls: every file root touches is reached by
 *   a pinned walk from / (src/system/real-system.ts, in the style of systemd's chase()): each component opened
 *   O_NOFOLLOW relative to the last, the last name opened O_NOFOLLOW|O_NONBLOCK and checked with fstat on that very
 *   descriptor, owner and mode set with fchown/fchmod on it, new files created O_EXCL under a random name.
 * - Root never changes its own identity. Programs that must run as a member (doctor, login --run) are started by
 *   setpriv(1) in the child, with the member's uid, gid and groups, no new privileges, a clean environment, no
 *   terminal of root's (src/system/member-exec.ts); only executables only root could have put there are run.
 * - What was examined is what is replaced: every write compares what is there now with what the plan saw (inode,
 *   size, mtime), replaces atomically, never over something newer (src/engine/apply.ts: guardLiveToken,
 *   symlinkOverExpected), and backs up what it replaces first.
 * - A member can fill only her own quota, never root's: her oversized or repeated files are set aside in her home or
 *   under a byte budget (apply.ts, keepPrivateCopy), and a file over MAX_READ_BYTES is never read.
 * - What a member's client sends over the network is hers too: the usage receiver (commands/usage.ts, core/usage.ts)
 *   listens on loopback only, names the sender by the uid the kernel gives for the connection (/proc/net/tcp), never
 *   by the body, and bounds each member (body size, rate, connections, rows a day, a month's bytes) so that a flood
 *   neither fills root's disk nor crowds out the others. It runs apart from the watcher, which has no network.
 * - Workspace mode never runs as root: on the server it is the member's own account (the forced command of a key the
 *   member's laptop installed), on the laptop the member's own. There the SERVER is the hostile side: whatever runs
 *   as the member on the server (Claude itself) reaches the laptop only through the SFTP guard (core/sftp-guard.ts:
 *   every request confined to the published directory, its allow-list read-only) and the command runner (only names
 *   from an allow-list read once at start; a fixed argv, a clean environment, never a shell string). Other members
 *   see neither: the mount is FUSE without allow_other and the socket is in the member's 0700 home.
 *
 * The rules below decide, from what lstat/fstat said, whether root may act on something at all. They are pure:
 * the probe, the apply and the pinned walk all ask them.
 */

/** Owned by root and writable by nobody else: no member can rename, replace or fill it. */
export const rootOnly = (st: Pick<FileStat, 'uid' | 'mode'>) => st.uid === 0 && (st.mode & 0o022) === 0;

/** A file found in a home is only ever read or backed up when it is the user's own, single-linked, and small. */
export function refuseReason(st: FileStat, uid: number): string | undefined {
  if (st.uid !== uid) return `owned by uid ${st.uid}, not the user`;
  if (st.nlink > 1) return `has ${st.nlink} hard links`;
  if (st.size > MAX_READ_BYTES) return `is ${st.size} bytes, over the ${MAX_READ_BYTES}-byte cap`;
  return undefined;
}

/** A home is acted in only when it is a real directory of its own user's (not a symlink, not someone else's). */
export function homeUnsafe(entry: UserEntry, st: FileStat | null): string | undefined {
  if (!st) return `home ${entry.home} does not exist`;
  if (st.type !== 'dir') return `home ${entry.home} is a ${st.type}, not a directory`;
  if (st.uid !== entry.uid) return `home ${entry.home} is owned by uid ${st.uid}, not ${entry.name}`;
  return undefined;
}

/** Why a directory above the shared directory would let someone other than root move it away, or null. */
export function ancestorUnsafe(path: string, st: FileStat): string | null {
  if (st.type === 'symlink') return `${path} is a symlink`;
  if (st.uid !== 0) return `${path} is owned by uid ${st.uid}, not root`;
  if (st.mode & 0o022) return `${path} is writable by group or others (mode ${(st.mode & 0o7777).toString(8)})`;
  return null;
}
