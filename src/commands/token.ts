import { dataError, EXIT, operatorError, unsafeError, usageError } from '../core/errors.js';
import { maskToken, planToken, TOKEN_ENV_FILE, TOKEN_MODE, TOKEN_PATH, TOKEN_PROFILE, tokenDaysLeft, tokenProblem, tokenProfileScript } from '../core/token.js';
import { isoOf } from '../core/untrusted.js';
import { tokenShowJson } from '../core/render.js';
import { configPath, requireConfig } from '../engine/config.js';
import { underLock } from '../engine/converge.js';
import type { Io } from '../engine/io.js';
import { readSecretFile } from '../engine/users-file.js';
import type { System } from '../system/system.js';

/** server token set|show|remove: the long-lived token mode (core/token.ts). */
export interface TokenOptions {
  action: 'set' | 'show' | 'remove';
  /** set: a root-owned 0600 file instead of stdin. */
  fromFile?: string;
  json?: boolean;
  config?: string;
}

const FIX = 'run claude setup-token (as any user, on any machine), then: claude-share server token set, and paste it (or: < FILE, or --from-file FILE)';
const MAX_INPUT = 4096;
const STATE_DIR = '/var/lib/claude-share';

export async function runToken(sys: System, o: TokenOptions, io: Io): Promise<number> {
  if (sys.euid() !== 0) throw unsafeError('the token is readable by root and the group only: run it as root', 'run it with sudo');
  if (o.fromFile && o.action !== 'set') throw usageError('--from-file goes with token set only');
  // remove needs no config: a token left behind after the config went can still be removed.
  if (o.action === 'remove') return underLock(sys, false, async () => removeToken(sys, io));
  const c = requireConfig(sys, configPath(o.config));
  if (o.action === 'show') return show(sys, c.group, o, io);
  const group = sys.getGroup(c.group);
  if (!group) throw operatorError(`the group ${c.group} does not exist`, 'run claude-share server init');

  let text: string;
  if (o.fromFile) text = readSecretFile(sys, o.fromFile);
  else {
    if (!io.readSecret) throw usageError('no way to read the token here', FIX);
    try {
      text = await io.readSecret('Token from claude setup-token', MAX_INPUT);
    } catch (e) {
      throw dataError(`the token could not be read: ${(e as Error).message}`, FIX);
    }
  }
  const bad = tokenProblem(text);
  if (bad) throw dataError(bad, FIX);
  const token = text.trim();
  return underLock(sys, false, async () => {
    // A config given with --config elsewhere: the token's own directory may not exist yet.
    for (const dir of ['/etc/claude-share', '/etc/profile.d']) if (sys.lstat(dir)?.type !== 'dir') sys.mkdir(dir, 0o755, 0, 0);
    // The token it replaces is kept root-only first; the new one's set time starts now (the file's mtime).
    if (sys.lstat(TOKEN_PATH)) keepCopy(sys, io);
    sys.writeFileAtomic(TOKEN_PATH, token + '\n', { mode: TOKEN_MODE, uid: 0, gid: group.gid });
    sys.writeFileAtomic(TOKEN_PROFILE, tokenProfileScript(), { mode: 0o644, uid: 0, gid: 0 });
    // For containers (container-args adds it): read by docker's CLI, as root.
    sys.writeFileAtomic(TOKEN_ENV_FILE, `CLAUDE_CODE_OAUTH_TOKEN=${token}\n`, { mode: 0o600, uid: 0, gid: 0 });
    sys.log(`long-lived token ${maskToken(token)} set`);
    io.out(`✓ stored ${maskToken(token)} in ${TOKEN_PATH} (root:${c.group} 0640), valid about ${tokenDaysLeft(sys.now().getTime(), sys.now().getTime())} days`);
    io.out(`✓ wrote ${TOKEN_PROFILE}: members' login shells get CLAUDE_CODE_OAUTH_TOKEN (from their next login)`);
    io.err('note: the token is inference-only and never refreshes; the linked login stays for what needs it (Remote Control, claude.ai connectors)');
    return EXIT.ok;
  });
}

function show(sys: System, groupName: string, o: TokenOptions, io: Io): number {
  const read = sys.lstat(TOKEN_PATH) ? sys.readFileNoFollow(TOKEN_PATH, { owner: 0, maxBytes: MAX_INPUT }) : null;
  const { health, problems } = planToken({ token: read, group: sys.getGroup(groupName), nowMs: sys.now().getTime() });
  if (o.json) {
    io.out(JSON.stringify(tokenShowJson(health, problems), null, 2));
  } else if (health) io.out(`${health.masked}  set ${isoOf(health.setAtMs)}  ${!health.ok ? 'expired' : `${health.daysLeft} days left`}  (${TOKEN_PATH})`);
  else if (!problems.length) io.out(`no long-lived token is set (claude-share server token set stores one)`);
  for (const p of problems) io.err(`${p.severity === 'operator' ? 'error' : 'warning'} [${p.code}] ${p.message}\n    fix: ${p.fix}`);
  return problems.some((p) => p.severity === 'operator') ? EXIT.operator : problems.length ? EXIT.drift : EXIT.ok;
}

/** A root-only copy of the token file, or a refusal when it cannot be read (nothing is deleted without a copy). */
function keepCopy(sys: System, io: Io) {
  const r = sys.readFileNoFollow(TOKEN_PATH, { owner: 0, maxBytes: MAX_INPUT });
  if (!r.ok) throw unsafeError(`${TOKEN_PATH} cannot be kept (${r.reason}): not replaced or removed`, `look at it by hand (ls -l ${TOKEN_PATH}), move it away, then run this again`);
  const kept = `${STATE_DIR}/oauth-token.removed-${sys.now().toISOString().replace(/:/g, '-')}`;
  if (sys.lstat(STATE_DIR)?.type !== 'dir') sys.mkdir(STATE_DIR, 0o700, 0, 0);
  sys.writeFileAtomic(kept, r.bytes, { mode: 0o600, uid: 0, gid: 0 });
  io.out(`backup: ${kept} (root-only)`);
}

/** The token is kept root-only first, then it and its two exports go (token remove, uninstall). */
export function removeToken(sys: System, io: Io): number {
  const had = sys.lstat(TOKEN_PATH);
  if (had) {
    keepCopy(sys, io);
    sys.unlink(TOKEN_PATH);
  }
  for (const f of [TOKEN_PROFILE, TOKEN_ENV_FILE]) if (sys.lstat(f)) sys.unlink(f);
  io.out(had ? `✓ removed the long-lived token and ${TOKEN_PROFILE}: new login shells no longer get it` : 'no long-lived token was set: nothing to do');
  if (had) sys.log('long-lived token removed');
  return EXIT.ok;
}
