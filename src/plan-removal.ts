import { sharedPath } from './items.js';
import type { Action, Desired, Observed, Problem } from './model.js';

export interface RemovalSpec {
  deleteAccount: boolean;
  removeHome: boolean;
}

/**
 * Pure: the actions that let users leave the shared login and keep working on their own.
 * Each link to the shared copy becomes a private copy of the current shared file; private files stay as they are.
 */
export function planRemoval(d: Desired, obs: Observed, spec: RemovalSpec): { actions: Action[]; problems: Problem[] } {
  const actions: Action[] = [];
  const problems: Problem[] = [];
  for (const u of obs.users) {
    if (!u.entry) {
      problems.push({ code: 'user-missing', severity: 'warning', user: u.name, message: `user ${u.name} does not exist; it is only removed from the config`, fix: 'nothing to do' });
      continue;
    }
    for (const it of u.items) {
      const shared = obs.shared.find((s) => s.item.id === it.item.id);
      if (it.state === 'ok' || it.state === 'broken') {
        // A shared copy a member made unreadable (over the size cap, a FIFO) must not stop the removal half-way:
        // the link then simply goes, and the leaving user starts that file afresh.
        const hasCopy = shared?.stat?.type === 'file' && shared.read?.ok === true;
        if (shared?.stat && !hasCopy) {
          problems.push({ code: 'unsafe-path', severity: 'warning', user: u.name, path: shared.path, message: `${shared.path} cannot be copied (${shared.read && !shared.read.ok ? shared.read.reason : `a ${shared.stat.type}`}); ${u.name}'s link to it is removed without a private copy`, fix: 'nothing to do for the removal; look at the shared copy' });
        }
        actions.push({
          kind: 'privatize',
          code: 'leaving',
          target: it.path,
          user: u.name,
          mode: 0o600,
          before: `link to ${sharedPath(d.sharedDir, it.item)}`,
          after: hasCopy ? 'private copy, 0600' : 'no file (the shared copy does not exist)',
          reason: 'the user keeps working, on their own',
          source: hasCopy ? { path: shared!.path } : undefined,
        });
      } else if (it.state === 'unsafe') {
        problems.push({ code: 'unsafe-path', severity: 'operator', user: u.name, path: it.path, message: `${it.path}: ${it.detail}; left alone`, fix: 'inspect it by hand' });
      }
    }
    if (u.inGroup) actions.push({ kind: 'leave-group', code: 'leaving', target: d.group, user: u.name, before: 'member', after: 'not a member', reason: 'no access to the shared files any more' });
    if (spec.deleteAccount) {
      actions.push({ kind: 'delete-account', code: 'leaving', target: u.name, user: u.name, removeHome: spec.removeHome, before: 'account exists', after: spec.removeHome ? 'account deleted, home removed' : 'account deleted, home kept', reason: '--delete-account' });
    }
  }
  if (actions.some((a) => a.kind === 'privatize' && a.target.endsWith('/.credentials.json') && a.source)) {
    problems.push({ code: 'forked-login', severity: 'warning', message: 'the private copies of the login share the refresh token with the shared copy: the first refresh on either side logs the other out', fix: 'have each leaving user run claude and /login with their own account' });
  }
  return { actions, problems };
}
