import type { LoginHealth } from './model.js';

/**
 * When the shared login ends, as pure arithmetic (the state it is computed from is read and written in login-life.ts).
 * A login lives about 30 days whatever the refreshes (shared/claude-code-facts.md).
 */
export const LOGIN_LIFETIME_MS = 30 * 86400_000;
/** status warns (exit 1) from this long before the end. */
export const LOGIN_WARN_MS = 7 * 86400_000;

export interface LoginSeen {
  /** The account it belongs to ('' when the shared copy names none). */
  account: string;
  firstSeenMs: number;
}

export const usable = (l: LoginHealth) => l.state === 'valid' || l.state === 'expired-refreshable';

/** When the shared login ends, and whether that is an estimate; undefined when there is no usable login. */
export function loginEnd(l: LoginHealth, seen: LoginSeen | null, account: string, nowMs: number): { endsAt: number; estimated: boolean } | undefined {
  if (!usable(l)) return undefined;
  if (l.refreshTokenExpiresAt) return { endsAt: l.refreshTokenExpiresAt, estimated: false };
  const first = current(seen, account, nowMs)?.firstSeenMs;
  return first === undefined ? undefined : { endsAt: first + LOGIN_LIFETIME_MS, estimated: true };
}

/** The sighting still describes this login: same account, and not older than a login can live (else it is a new one). */
export function current(seen: LoginSeen | null, account: string, nowMs: number): LoginSeen | null {
  return seen && seen.account === account && nowMs - seen.firstSeenMs < LOGIN_LIFETIME_MS ? seen : null;
}
