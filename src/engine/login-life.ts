import type { LoginHealth } from '../core/model.js';
import { current, usable, type LoginSeen } from '../core/login-end.js';
import type { System } from '../system/system.js';
import { parseJsonBounded, saneEpochMs } from '../core/untrusted.js';

/**
 * A login lives about 30 days whatever the refreshes (shared/claude-code-facts.md): then someone must /login again.
 * Its end is `refreshTokenExpiresAt` when the shared copy has it (2.1.330 keeps it; versions up to 2.1.118 drop it at
 * every refresh they write), else estimated as 30 days after claude-share first saw this login. That first sighting
 * is root-only state written by the mutating commands (sync, the watcher, init); status only reads it.
 */
export const LOGIN_STATE = '/var/lib/claude-share/login-seen';
/**
 * The shared account, pinned when claude-share first sees a usable shared login (or init seeds one), and changed only
 * by `sync --accept-account`. Never re-derived from the shared .claude.json: a member's /login with another account
 * rewrites its oauthAccount through the link (claude-code-facts.md).
 */
export const ACCOUNT_STATE = '/var/lib/claude-share/account';

export function readPinnedAccount(sys: System): string | null {
  const r = sys.readFileNoFollow(ACCOUNT_STATE, { owner: 0, maxBytes: 4096 });
  if (!r.ok) return null;
  const doc = parseJsonBounded(r.bytes) as { account?: unknown } | undefined;
  return typeof doc?.account === 'string' && doc.account && doc.account.length <= 200 ? doc.account : null;
}

/** Pin the account after a run: when none is pinned yet, or on purpose (--accept-account). Never an unknown one. */
export function recordPinnedAccount(sys: System, account: string, force: boolean) {
  if (!account || (!force && readPinnedAccount(sys) !== null) || readPinnedAccount(sys) === account) return;
  if (sys.lstat('/var/lib/claude-share')?.type !== 'dir') sys.mkdir('/var/lib/claude-share', 0o700, 0, 0);
  sys.writeFileAtomic(ACCOUNT_STATE, JSON.stringify({ account }) + '\n', { mode: 0o600, uid: 0, gid: 0 });
}
export function readLoginSeen(sys: System): LoginSeen | null {
  const r = sys.readFileNoFollow(LOGIN_STATE, { owner: 0, maxBytes: 4096 });
  if (!r.ok) return null;
  const doc = parseJsonBounded(r.bytes) as { account?: unknown; firstSeenMs?: unknown } | undefined;
  const first = saneEpochMs(doc?.firstSeenMs);
  return doc && typeof doc.account === 'string' && first !== undefined ? { account: doc.account, firstSeenMs: first } : null;
}

/**
 * After a mutating run: remember when this login was first seen. A new sighting when there was none, when the account
 * changed, when the old one is older than a login lives, or when the shared copy was not usable before this run (a
 * /login after a logout or an expired login is a new one). A run that ends without a usable login forgets it.
 */
export function recordLoginSeen(sys: System, before: LoginHealth, after: LoginHealth, account: string, nowMs: number) {
  // No usable login (logged out everywhere, none yet): the sighting ends with it, so the next login starts afresh
  // even if it reaches the shared copy without this tool (a client writing through the link).
  if (!usable(after)) {
    if (sys.lstat(LOGIN_STATE)) sys.unlink(LOGIN_STATE);
    return;
  }
  const seen = readLoginSeen(sys);
  if (current(seen, account, nowMs) && usable(before)) return;
  recordNewLogin(sys, account, nowMs);
}

/** claude-share login shared a new sign-in: it lives about 30 days from now, whatever the last sighting said. */
export function recordNewLogin(sys: System, account: string, nowMs: number) {
  if (sys.lstat('/var/lib/claude-share')?.type !== 'dir') sys.mkdir('/var/lib/claude-share', 0o700, 0, 0);
  sys.writeFileAtomic(LOGIN_STATE, JSON.stringify({ account, firstSeenMs: nowMs }) + '\n', { mode: 0o600, uid: 0, gid: 0 });
}
