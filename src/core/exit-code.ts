import { EXIT } from './errors.js';
import type { Action, Outcome, Problem } from './model.js';
import { EXIT_1_WARNINGS } from './problem-codes.js';

/**
 * The one exit rule (README "Exit codes") of every command that reports on the shared login: status, doctor, and
 * init, add-user, sync, remove-user, uninstall after they acted.
 *   2  a problem that needs an operator, or an action that failed;
 *   1  something left that sync repairs (drift, a conflict a re-run resolves); for the commands whose exit code is the
 *      state (status, doctor: `reportsState`), also a warning someone must act on soon (EXIT_1_WARNINGS: the login
 *      ends within 7 days, a session without the group, ...), which no sync can clear, so it never fails a sync;
 *   0  nothing.
 * A dry run reports its plan, not the state: what it would do is its output, not a failure, so it exits 0 unless an
 * operator is needed (as `apt-get -s` and `ansible --check` do); status is the command whose exit code is the state.
 */
export function exitCode(r: { problems: Problem[]; remaining?: Action[]; outcomes?: Outcome[]; dryRun?: boolean; reportsState?: boolean }): number {
  if (r.outcomes?.some((o) => o.result === 'failed') || r.problems.some((p) => p.severity === 'operator')) return EXIT.operator;
  if (r.dryRun) return EXIT.ok;
  const actNow = r.reportsState && r.problems.some((p) => p.severity === 'drift' || EXIT_1_WARNINGS.includes(p.code));
  if (r.outcomes?.some((o) => o.result === 'conflict') || r.remaining?.length || actNow) return EXIT.drift;
  return EXIT.ok;
}
