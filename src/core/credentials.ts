import { printable } from './validate.js';
import { isoOf, parseJsonBounded, saneEpochMs } from './untrusted.js';

/**
 * Reading Claude's OAuth credentials without ever exposing a token, and choosing which copy is the live one.
 * Refresh tokens are single-use: the copy with the greatest expiresAt of the shared account holds the only live one.
 */
/** Far above any login Claude writes (about 500 bytes, plus MCP servers' tokens). */
export const MAX_CREDENTIALS_BYTES = 64 * 1024;

export type CredState = 'missing' | 'invalid-json' | 'logged-out' | 'expired-refreshable' | 'valid';

export interface CredInfo {
  state: CredState;
  expiresAt?: number;
  refreshTokenExpiresAt?: number;
  subscriptionType?: string;
  accountUuid?: string;
}

export function inspectCredentials(bytes: Buffer | null, nowMs: number): CredInfo {
  if (bytes === null) return { state: 'missing' };
  // A real login is under 2 KiB: a bigger file is not one, so it never wins and its promotions cannot grow backups.
  if (bytes.length > MAX_CREDENTIALS_BYTES) return { state: 'invalid-json' };
  const doc = parseJsonBounded(bytes);
  const o = isObject(doc) && isObject(doc.claudeAiOauth) ? doc.claudeAiOauth : null;
  if (!o) return { state: 'invalid-json' };
  const info: CredInfo = { state: 'valid' };
  // Dates outside 1970-2100 are not believed: a copy claiming expiresAt 1e300 is not a login and never wins.
  const expiresAt = saneEpochMs(o.expiresAt);
  if (expiresAt !== undefined) info.expiresAt = expiresAt;
  const refreshEnd = saneEpochMs(o.refreshTokenExpiresAt);
  if (refreshEnd !== undefined) info.refreshTokenExpiresAt = refreshEnd;
  // Shown to root and exported to monitoring: printable and short whatever a member wrote.
  if (typeof o.subscriptionType === 'string') info.subscriptionType = printable(o.subscriptionType.slice(0, 32));
  if (typeof o.accountUuid === 'string' && o.accountUuid) info.accountUuid = o.accountUuid;
  const hasRefresh = typeof o.refreshToken === 'string' && o.refreshToken.length > 0;
  if (!hasRefresh || !(expiresAt !== undefined && expiresAt > 0)) info.state = 'logged-out';
  else if (expiresAt <= nowMs) info.state = 'expired-refreshable';
  return info;
}

/** Usable as the shared login: a refresh token and a real expiry (an expired access token is refreshed by Claude). */
export const isUsable = (c: CredInfo) => c.state === 'valid' || c.state === 'expired-refreshable';

/** oauthAccount.accountUuid from a .claude.json, if it parses. */
export function accountOfClaudeJson(bytes: Buffer | null): string | undefined {
  if (!bytes) return undefined;
  const doc = parseJsonBounded(bytes);
  if (isObject(doc) && isObject(doc.oauthAccount) && typeof doc.oauthAccount.accountUuid === 'string') {
    return doc.oauthAccount.accountUuid || undefined;
  }
  return undefined;
}

export interface Candidate {
  /** 'shared' or the user whose severed copy this is. */
  from: string;
  info: CredInfo;
  /** oauthAccount.accountUuid of the .claude.json that goes with this copy. */
  claudeJsonAccount?: string;
}

export type RejectReason = 'logged-out' | 'invalid' | 'other-account' | 'ambiguous-account';

export interface Choice {
  winner: Candidate | null;
  rejected: { candidate: Candidate; reason: RejectReason }[];
}

export function sameAccount(shared: Candidate, c: Candidate): boolean {
  if (shared.info.accountUuid && c.info.accountUuid) return shared.info.accountUuid === c.info.accountUuid;
  if (shared.claudeJsonAccount && c.claudeJsonAccount) return shared.claudeJsonAccount === c.claudeJsonAccount;
  return true;
}

/**
 * The winner is the usable same-account candidate with the greatest expiresAt; on a tie the shared copy stays.
 * Stubs, unreadable copies and logins of another account never win.
 */
export function pickFreshestCredentials(shared: Candidate, severed: Candidate[]): Choice {
  const rejected: Choice['rejected'] = [];
  let winner: Candidate | null = isUsable(shared.info) ? shared : null;
  // With no account known for the shared copy, copies of different accounts cannot be told apart: none wins.
  const sharedKnown = !!(shared.info.accountUuid || shared.claudeJsonAccount);
  const accounts = new Set(severed.filter((c) => isUsable(c.info) && c.info.accountUuid).map((c) => c.info.accountUuid));
  const ambiguous = !sharedKnown && accounts.size > 1;
  for (const c of severed) {
    if (c.info.state === 'missing' || c.info.state === 'invalid-json') {
      rejected.push({ candidate: c, reason: 'invalid' });
    } else if (!isUsable(c.info)) {
      rejected.push({ candidate: c, reason: 'logged-out' });
    } else if (ambiguous) {
      rejected.push({ candidate: c, reason: 'ambiguous-account' });
    } else if (!sameAccount(shared, c)) {
      rejected.push({ candidate: c, reason: 'other-account' });
    } else if (!winner || c.info.expiresAt! > winner.info.expiresAt!) {
      winner = c;
    }
  }
  return { winner, rejected };
}

export function describeExpiry(ms: number | undefined, nowMs: number): string {
  if (ms === undefined) return 'unknown';
  const iso = isoOf(ms);
  const d = ms - nowMs;
  const abs = Math.abs(d);
  const rel = abs < 3600_000 ? `${Math.round(abs / 60_000)} min` : abs < 172_800_000 ? `${(abs / 3600_000).toFixed(1)} h` : `${Math.round(abs / 86_400_000)} days`;
  return `${iso} (${d >= 0 ? 'in ' + rel : rel + ' ago'})`;
}

function isObject(v: unknown): v is Record<string, any> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
