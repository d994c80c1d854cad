import type { Observed, Problem, TokenHealth } from './model.js';
import { problem } from './problem-codes.js';

/**
 * The long-lived token mode: `claude setup-token` prints a one-year, inference-only OAuth token that Claude Code
 * takes from CLAUDE_CODE_OAUTH_TOKEN instead of a credentials file. It never refreshes, so many concurrent agents
 * (containers, CI, a dozen claude -p at once) share it without racing on a single-use refresh token; it cannot do
 * what needs the full login (Remote Control, claude.ai connectors), which the linked credentials keep. Pure: shape,
 * mask and age; the files are the engine's (commands/token.ts).
 */

/** Root and the group read it (members get it in their shells); nobody else. */
export const TOKEN_PATH = '/etc/claude-share/oauth-token';
export const TOKEN_MODE = 0o640;
/** Exports it into every login shell that can read it: members of the group (the file's mode decides). */
export const TOKEN_PROFILE = '/etc/profile.d/claude-share-token.sh';
/** The same for `docker run --env-file` and compose's env_file: root-only, read by the engine's CLI as root. */
export const TOKEN_ENV_FILE = '/etc/claude-share/oauth-token.env';
/** setup-token says one year. */
export const TOKEN_LIFE_DAYS = 365;
/** status warns this many days before the year is over. */
export const TOKEN_WARN_DAYS = 30;

const PREFIX = 'sk-ant-oat01-';
const BODY = /^[A-Za-z0-9_-]{20,1000}$/;

/** Why this text is not a setup-token, naming what it looks like instead; null when it is one. */
export function tokenProblem(text: string): string | null {
  const t = text.trim();
  if (!t) return 'no token given (empty input)';
  if (/\s/.test(t)) return 'the token is one line without spaces: more than one word was given';
  if (t.startsWith('sk-ant-api')) return 'that is an API key, not a setup-token: an API key switches off the claude.ai features of every member';
  if (t.startsWith('sk-ant-ort')) return 'that is a refresh token (from a credentials file), not a setup-token: it is single-use and would be spent at the first refresh';
  if (!t.startsWith(PREFIX)) return `a setup-token starts with ${PREFIX}`;
  if (!BODY.test(t.slice(PREFIX.length))) return `after ${PREFIX} a setup-token has 20 to 1,000 letters, digits, '-' or '_'`;
  return null;
}

/** What status and `token show` print: the prefix and the last four characters, never the rest. */
export function maskToken(t: string): string {
  const s = t.trim();
  return s.length <= PREFIX.length + 8 ? `${PREFIX}…` : `${s.slice(0, PREFIX.length)}…${s.slice(-4)}`;
}

const DAY_MS = 86_400_000;
/** Days left of the token's year, counted from when it was set (the token file's mtime, which only root can set): 365 on the day it is set, 0 on its last day. */
export const tokenDaysLeft = (setAtMs: number, nowMs: number) => Math.max(0, Math.ceil(TOKEN_LIFE_DAYS - (nowMs - setAtMs) / DAY_MS));
/** Past its year. */
export const tokenExpired = (setAtMs: number, nowMs: number) => nowMs - setAtMs > TOKEN_LIFE_DAYS * DAY_MS;

/** The profile.d script: a shell that cannot read the token file (not in the group) skips it silently. */
export const tokenProfileScript = () => `# Written by claude-share server token set; removed by claude-share server token remove.
# The long-lived Claude token for members of the claude-share group: the token file's mode (root:<group> 0640) keeps
# everyone else out, and their shells skip this; root's too (su without '-' would pass it on). An interactive member who wants the full login instead (Remote
# Control, connectors) runs: unset CLAUDE_CODE_OAUTH_TOKEN
if [ "$(id -u)" != 0 ] && [ -r ${TOKEN_PATH} ]; then
  CLAUDE_CODE_OAUTH_TOKEN=$(cat ${TOKEN_PATH})
  export CLAUDE_CODE_OAUTH_TOKEN
fi
`;

/** status's view of the token: its health (masked), and what is wrong with it. */
export function planToken(obs: Pick<Observed, 'token' | 'group' | 'nowMs'>): { health: TokenHealth | null; problems: Problem[] } {
  const r = obs.token;
  if (!r || (!r.ok && r.reason === 'missing')) return { health: null, problems: [] };
  const fix = 'make a new one (claude setup-token), then: claude-share server token set';
  const invalid = (why: string) => ({ health: null, problems: [problem({ code: 'token-invalid', path: TOKEN_PATH, message: `${TOKEN_PATH} ${why}`, fix })] });
  if (!r.ok) return invalid(`cannot be used: ${r.reason}`);
  const gid = obs.group?.gid;
  if (r.stat.uid !== 0 || (r.stat.mode & 0o7777) !== TOKEN_MODE || (gid !== undefined && r.stat.gid !== gid))
    return invalid(`is not root:<group> 0640 (uid ${r.stat.uid} gid ${r.stat.gid} mode 0${(r.stat.mode & 0o7777).toString(8)})`);
  const text = r.bytes.toString('utf8');
  const bad = tokenProblem(text);
  if (bad) return invalid(`holds no setup-token: ${bad}`);
  const health: TokenHealth = { masked: maskToken(text), setAtMs: r.stat.mtimeMs, daysLeft: tokenDaysLeft(r.stat.mtimeMs, obs.nowMs), ok: true };
  if (tokenExpired(r.stat.mtimeMs, obs.nowMs)) {
    health.ok = false;
    return { health, problems: [problem({ code: 'token-expired', path: TOKEN_PATH, message: `the long-lived token ${health.masked} was set more than a year ago`, fix })] };
  }
  if (health.daysLeft <= TOKEN_WARN_DAYS)
    return { health, problems: [problem({ code: 'token-ending', path: TOKEN_PATH, message: `the long-lived token ${health.masked} ends in about ${health.daysLeft} days`, fix })] };
  return { health, problems: [] };
}
