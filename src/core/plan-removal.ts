import { problem } from './problem-codes.js';
import { sharedPath } from './items.js';
import type { Action, Desired, Observed, Problem } from './model.js';

export interface RemovalSpec {
  deleteAccount: boolean;
  removeHome: boolean;
  /** uninstall --keep-login USER: the one leaving user who gets the live shared login. */
  keepLogin?: string;
}

/**
 * Pure: the actions that let users leave the shared login and keep working on their own.
 * Each link to the shared copy becomes a private copy of the current shared file; private files stay as they are.
 * Except the login: a refresh token is single-use, so a copy given to a leaving user would, at its first refresh,
 * log out everyone still holding the other copy (or revoke the whole login). Leaving users get no copy and log in
 * with their own account; only uninstall --keep-login USER hands the live login to that one user.
 */
export function planRemoval(d: Desired, obs: Observed, spec: RemovalSpec): { actions: Action[]; problems: Problem[] } {
  const actions: Action[] = [];
  const problems: Problem[] = [];
  for (const u of obs.users) {
    if (!u.entry) {
      // Leaving, an account that is gone already is no obstacle: said, not an error.
      problems.push({ code: 'user-missing', severity: 'warning', user: u.name, message: `user ${u.name} does not exist; it is only removed from the config`, fix: 'nothing to do' });
      continue;
    }
    for (const it of u.items) {
      const shared = obs.shared.find((s) => s.item.id === it.item.id);
      if (it.state === 'ok' || it.state === 'broken') {
        // A shared copy a member made unreadable (over the size cap, a FIFO) must not stop the removal half-way:
        // the link then simply goes, and the leaving user starts that file afresh.
        const hasCopy = shared?.stat?.type === 'file' && shared.read?.ok === true;
        // The link goes, replaced by a private 0600 copy (source) or by nothing.
        const leave = (after: string, reason: string, source?: { path: string }) =>
          actions.push({ kind: 'privatize', code: 'leaving', target: it.path, user: u.name, mode: 0o600, before: `link to ${sharedPath(d.sharedDir, it.item)}`, after, reason, source });
        if (it.item.id === 'credentials' && spec.keepLogin !== u.name) {
          if (it.state === 'ok') leave('no login (their own /login next)', 'a copy of the single-use refresh token would log the others out at its first refresh');
          continue;
        }
        if (shared?.stat && !hasCopy) {
          problems.push({
            code: 'unsafe-path',
            // The user leaves all the same; what could not be copied is named.
            severity: 'warning',
            user: u.name,
            path: shared.path,
            message: `${shared.path} cannot be copied (${shared.read && !shared.read.ok ? shared.read.reason : `a ${shared.stat.type}`}); ${u.name}'s link to it is removed without a private copy`,
            fix: 'nothing to do for the removal; look at the shared copy',
          });
        }
        leave(hasCopy ? 'private copy, 0600' : 'no file (the shared copy does not exist)', 'the user keeps working, on their own', hasCopy ? { path: shared!.path } : undefined);
      } else if (it.state === 'unsafe') {
        problems.push(problem({ code: 'unsafe-path', user: u.name, path: it.path, message: `${it.path}: ${it.detail}; left alone`, fix: 'inspect it by hand' }));
      }
    }
    if (u.inGroup) actions.push({ kind: 'leave-group', code: 'leaving', target: d.group, user: u.name, before: 'member', after: 'not a member', reason: 'no access to the shared files any more' });
    if (spec.deleteAccount) {
      actions.push({
        kind: 'delete-account',
        code: 'leaving',
        target: u.name,
        user: u.name,
        removeHome: spec.removeHome,
        before: 'account exists',
        after: spec.removeHome ? 'account deleted, home removed' : 'account deleted, home kept',
        reason: '--delete-account',
      });
    }
  }
  const relogin = [...new Set(actions.filter((a) => a.kind === 'privatize' && a.target.endsWith('/.credentials.json') && !a.source).map((a) => a.user!))];
  if (relogin.length) {
    problems.push(
      problem({
        code: 'login-not-copied',
        user: relogin.length === 1 ? relogin[0] : undefined,
        message: `${relogin.join(', ')} ${relogin.length === 1 ? 'leaves' : 'leave'} without the shared login (a refresh token works for one holder only: a copy would log the others out at its first refresh)${spec.keepLogin ? `; ${spec.keepLogin} keeps it` : ''}`,
        fix: `each of them runs claude, then /login with their own account`,
      }),
    );
  }
  return { actions, problems };
}
