import { describe, expect, it } from 'vitest';
import { exitCode } from '../src/core/exit-code.js';
import type { Action, Outcome, Problem } from '../src/core/model.js';

// The one exit rule, as a table: every command that reports on the shared login goes through it.
const problem = (code: Problem['code'], severity: Problem['severity']): Problem => ({ code, severity, message: '', fix: '' });
const action: Action = { kind: 'link', code: 'missing', user: 'a', target: '/home/a/.claude.json', before: 'absent', after: 'link', reason: '' };
const outcome = (result: Outcome['result']): Outcome => ({ action, result, backups: [] });

describe('exitCode', () => {
  it.each<[string, Parameters<typeof exitCode>[0], number]>([
    ['nothing at all', { problems: [] }, 0],
    ['status: drift left', { problems: [], remaining: [action], reportsState: true }, 1],
    ['status: the login ends within 7 days', { problems: [problem('login-ending', 'warning')], reportsState: true }, 1],
    ['status: a warning nobody must act on soon', { problems: [problem('leftover-temp', 'warning')], reportsState: true }, 0],
    ['status: an operator is needed, drift too', { problems: [problem('no-login', 'operator')], remaining: [action], reportsState: true }, 2],
    ['doctor: a session without the group', { problems: [problem('session-without-group', 'warning')], reportsState: true }, 1],
    ['doctor: a member logged out', { problems: [problem('member-logged-out', 'operator')], reportsState: true }, 2],
    ['sync: all done, the login ends within 7 days (no sync can clear it)', { problems: [problem('login-ending', 'warning')], outcomes: [outcome('replaced')] }, 0],
    ['sync: a conflict a re-run resolves', { problems: [], outcomes: [outcome('replaced'), outcome('conflict')] }, 1],
    ['sync: something left to do', { problems: [], outcomes: [outcome('replaced')], remaining: [action] }, 1],
    ['sync: an action failed', { problems: [], outcomes: [outcome('failed'), outcome('conflict')] }, 2],
    ['dry run: it would change things (its plan is its output)', { problems: [], remaining: [action], dryRun: true }, 0],
    ['dry run: an operator is needed', { problems: [problem('group-missing', 'operator')], remaining: [action], dryRun: true }, 2],
  ])('%s → %i', (_what, input, code) => {
    expect(exitCode(input)).toBe(code);
  });
});

describe("problem(): the severity is the registry's", () => {
  it('fills it from the code, and keeps an override given at the call', async () => {
    const { problem } = await import('../src/core/problem-codes.js');
    expect(problem({ code: 'no-login', message: '', fix: '' }).severity).toBe('operator');
    expect(problem({ code: 'missing', message: '', fix: '' }).severity).toBe('drift');
    expect(problem({ code: 'leftover-temp', message: '', fix: '' }).severity).toBe('warning');
    expect(problem({ code: 'no-login', severity: 'warning', message: '', fix: '' }).severity).toBe('warning');
  });
});
