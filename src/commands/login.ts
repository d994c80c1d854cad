import { createHash } from 'node:crypto';
import { describeExpiry } from '../core/credentials.js';
import { configPath, requireConfig, type Config } from '../engine/config.js';
import { EXIT, dataError, operatorError, unsafeError, usageError } from '../core/errors.js';
import { SHARED_ITEMS, sharedPath } from '../core/items.js';
import { readPinnedAccount, recordNewLogin } from '../engine/login-life.js';
import { runSync } from '../commands/sync.js';
import { statusModel } from '../commands/status.js';
import { type Io } from '../engine/io.js';
import type { System } from '../system/system.js';
import { parseJsonBounded } from '../core/untrusted.js';
import { printable } from '../core/validate.js';

export interface LoginOptions {
  /** The managed member who signs in. */
  as?: string;
  /** Run the real sign-in (claude auth login) as that member on this terminal, then sync. */
  run: boolean;
  /** The new login may be of another account: it becomes the shared one (sync --accept-account). */
  acceptAccount: boolean;
  config?: string;
  claude?: string;
}

const credentialsItem = SHARED_ITEMS.find((i) => i.id === 'credentials')!;
const claudeJsonItem = SHARED_ITEMS.find((i) => i.id === 'claude-json')!;

/**
 * login: renewing the shared login without knowing how the links work. It says how the login stands, which account
 * must sign in and how; with --run it starts the real sign-in (claude auth login) as the member named by --as on a
 * terminal of its own, and shares the new login at once (sync). A login lives about 30 days: this is the monthly chore.
 */
export async function runLogin(sys: System, o: LoginOptions, io: Io): Promise<number> {
  if (sys.euid() !== 0) throw unsafeError('login runs the sign-in as a member and shares the result: it must run as root', 'run it with sudo');
  const cfg = configPath(o.config);
  const c = requireConfig(sys, cfg);
  if (o.as !== undefined && !c.managedUsers.includes(o.as)) throw dataError(`${printable(o.as)} is not a managed user`, `managed users: ${c.managedUsers.join(', ') || '(none)'}`);
  const m = statusModel(sys, c);
  const l = m.plan.login;
  const pinned = readPinnedAccount(sys);
  const email = sharedEmail(sys, c, pinned);
  const who = email ? `${email}${pinned ? ` (account ${printable(pinned)})` : ''}` : pinned ? `account ${printable(pinned)}` : null;
  const usable = l.state === 'valid' || l.state === 'expired-refreshable';
  io.out(
    usable
      ? `The shared login works${l.endsAt ? `; it ends ${describeExpiry(l.endsAt, m.obs.nowMs)}${l.endsAtEstimated ? ' (estimated: 30 days after claude-share first saw it)' : ''}` : ''}.`
      : `There is no working shared login (${l.state}).`,
  );
  io.out(who ? `It belongs to ${who}: sign in with that account.` : 'No account is recorded yet: the first login becomes the shared one.');

  if (!o.run) {
    const member = o.as ?? c.managedUsers[0] ?? 'MEMBER';
    const hint = email ? ` --email ${email}` : '';
    io.out('');
    io.out('To renew it (any day before it ends; nobody loses their session):');
    io.out(`  1. As one member, never root: run claude, type /login${email ? ` and sign in as ${email}` : ''}`);
    io.out(`     (or without the menu: claude auth login${hint})`);
    io.out('  2. sudo claude-share sync   (the watcher does it by itself within a second when it runs)');
    io.out(`Or both at once, on this terminal: sudo claude-share login --as ${member} --run`);
    io.out('Never /logout or claude auth logout: that ends the login for every member at once.');
    return EXIT.ok;
  }

  if (o.as === undefined) throw usageError('--run needs the member who signs in', `pass --as NAME (one of: ${c.managedUsers.join(', ') || 'no managed users'})`);
  const user = sys.getUser(o.as);
  if (!user) throw operatorError(`user ${o.as} does not exist`, `re-create it: claude-share server add-user ${o.as}`);
  if (!io.interactive)
    throw usageError(
      '--run needs a terminal: the sign-in shows a link to open in a browser and asks for the code it gives back',
      'run it on a terminal, or follow the two steps claude-share login prints without --run',
    );
  const claude = sys.trustedExecutable(o.claude ?? 'claude');
  if (!claude) {
    throw o.claude !== undefined
      ? unsafeError(
          `--claude ${printable(o.claude)} is not an executable that only root could have put there`,
          'give the absolute path of a root-owned executable whose directories are root-owned and not writable by group or others',
        )
      : operatorError(
          "no claude that only root could have installed is on root's PATH",
          'install it system-wide (npm install -g @anthropic-ai/claude-code), pass --claude PATH, or sign in by hand as the member (claude, then /login) and run sync',
        );
  }

  const before = refreshFingerprint(sys, c);
  io.out('');
  io.out(
    `Signing in as ${user.name} (claude auth login, on a terminal of its own): open the link it shows in a browser${email ? `, sign in as ${email}` : ''}, and paste the code it gives back here.`,
  );
  const code = await sys.runAsMemberOnTerminal(user, [claude, 'auth', 'login', ...(email ? ['--email', email] : [])], { DISABLE_AUTOUPDATER: '1' });
  if (code !== 0)
    throw operatorError(
      `the sign-in as ${user.name} ended with exit ${code}; nothing was shared`,
      `run claude-share login --as ${user.name} --run again, or sign in by hand as ${user.name} (claude, then /login) and run sync`,
    );

  // Another account than the shared one: never shared silently. Said before any sync, which would back it up and put
  // the shared login back in the member's home.
  const seen = statusModel(sys, c);
  if (seen.plan.login.otherAccount?.includes(user.name) && !o.acceptAccount) {
    io.err(`${user.name} signed in to another account than the shared one${who ? ` (${who})` : ''}: nothing was shared.`);
    io.err(`  fix: to make it the shared account: sudo claude-share sync --accept-account; to put the shared login back in ${user.name}'s home instead: sudo claude-share sync`);
    return EXIT.operator;
  }
  io.out('');
  // Only this member's new login may become the shared one: with --accept-account, a login another member planted
  // (of any account, far in the future) must not win instead.
  const synced = await runSync(sys, { dryRun: false, json: false, quiet: true, acceptAccount: o.acceptAccount, promoteOnlyFrom: user.name, config: o.config }, io);
  const after = refreshFingerprint(sys, c);
  const now = statusModel(sys, c);
  const nl = now.plan.login;
  if (!after || after === before || !(nl.state === 'valid' || nl.state === 'expired-refreshable')) {
    io.err(
      `the shared login did not change (${nl.state}): the sign-in as ${user.name} left no new login that could be shared (a running watcher backs up a login of another account at once: backups list shows it)`,
    );
    io.err(`  fix: run claude-share status; sign in again as ${user.name} if the login is still old`);
    return EXIT.operator;
  }
  // A new login lives about 30 days from now, whatever the old one's sighting said (login-life.ts).
  recordNewLogin(sys, nl.account ?? '', sys.now().getTime());
  const fresh = statusModel(sys, c).plan.login;
  io.out(`✓ ${user.name}'s new login is the shared one${fresh.endsAt ? `; it ends ${describeExpiry(fresh.endsAt, sys.now().getTime())}${fresh.endsAtEstimated ? ' (estimated)' : ''}` : ''}.`);
  if (synced !== EXIT.ok) io.err(`note: the sync that shared it reported other problems (exit ${synced}): see above, or run claude-share status`);
  return synced;
}

/** The shared refresh token, hashed (never shown): a changed one means a new login was shared. */
function refreshFingerprint(sys: System, c: Config): string | null {
  const r = sys.readFileNoFollow(sharedPath(c.sharedDir, credentialsItem), { maxBytes: 64 * 1024 });
  if (!r.ok) return null;
  const doc = parseJsonBounded(r.bytes) as { claudeAiOauth?: { refreshToken?: unknown } } | undefined;
  const t = doc?.claudeAiOauth?.refreshToken;
  return typeof t === 'string' && t ? createHash('sha256').update(t).digest('hex') : null;
}

/**
 * The shared account's email, for the sign-in page: from the shared .claude.json (member-writable) only when it names
 * the pinned account, and only when it looks like an address. A hint on a login page, never trusted for anything else.
 */
function sharedEmail(sys: System, c: Config, pinned: string | null): string | null {
  if (!pinned) return null;
  const r = sys.readFileNoFollow(sharedPath(c.sharedDir, claudeJsonItem), { maxBytes: 1 << 20 });
  if (!r.ok) return null;
  const doc = parseJsonBounded(r.bytes) as { oauthAccount?: { accountUuid?: unknown; emailAddress?: unknown } } | undefined;
  const a = doc?.oauthAccount;
  if (a?.accountUuid !== pinned || typeof a.emailAddress !== 'string') return null;
  return /^[A-Za-z0-9._%+][A-Za-z0-9._%+-]{0,63}@[A-Za-z0-9.-]{1,190}\.[A-Za-z]{2,24}$/.test(a.emailAddress) ? a.emailAddress : null;
}
