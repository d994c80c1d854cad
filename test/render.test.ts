import { beforeEach, describe, expect, it } from 'vitest';
import { statusModel } from '../src/commands/status.js';
import { ACTION_KINDS, type ActionKind } from '../src/core/action-kinds.js';
import type { Action, Outcome } from '../src/core/model.js';
import { actionJson, backupsJson, describeAction, driftProblems, prometheusFailureText, prometheusText, renderOutcomeLine, renderPlanText, statusText } from '../src/core/render.js';
import { loadConfig } from '../src/engine/config.js';
import { initializedMachine } from './helpers/fixtures.js';
import type { MemorySystem } from './helpers/memory-system.js';

// The renderers on their own: text, JSON and Prometheus from data, with no machine behind them but the model.
const CFG = '/etc/claude-share/config';
const ESC = /\x1b\[/;
const base = { code: 'missing', before: 'b', after: 'a', reason: 'r' } as const;
const link: Action = { ...base, kind: 'link', target: '/home/a/.claude.json', user: 'a', after: 'link to /s/.claude.json' };
const group: Action = { ...base, code: 'not-in-group', kind: 'add-to-group', target: 'claudeshare', members: ['a', 'b'] };
let sys: MemorySystem;

beforeEach(async () => {
  sys = await initializedMachine('alice:a\nbob:b\n');
});

describe('actions in words', () => {
  it.each(Object.keys(ACTION_KINDS) as ActionKind[])('%s: the dry run says "would", the report says it done, about the same target', (kind) => {
    const { dry, done } = ACTION_KINDS[kind];
    expect(dry).toMatch(/^would /);
    expect(done).not.toMatch(/^would /);
    const a = {
      ...base,
      kind,
      target: '/x/target',
      user: 'a',
      members: ['a'],
      mode: 0o600,
      rootGroup: false,
      removeHome: false,
      source: { path: '/x/src' },
      backupFrom: undefined,
    } as unknown as Action;
    expect(describeAction(a, false)).toContain(dry);
    expect(describeAction(a, true)).toContain(done);
    expect(describeAction(a, true).replace(done, '')).toBe(describeAction(a, false).replace(dry, ''));
  });

  it('a leaving login link without a copy is said as such, never "a private copy"', () => {
    const a: Action = { ...base, code: 'leaving', kind: 'privatize', target: '/home/a/.claude/.credentials.json', user: 'a', mode: 0o600 };
    expect(describeAction(a, false)).toBe('would remove the link, no private copy: /home/a/.claude/.credentials.json');
    expect(describeAction({ ...a, source: { path: '/s' } }, true)).toMatch(/^replaced the link with a private copy:/);
  });

  it('plan text: "nothing to do" when empty; colour only when asked', () => {
    expect(renderPlanText([], { color: true })).toEqual(['nothing to do']);
    expect(renderPlanText([link], { color: false })).toEqual(['→ would link /home/a/.claude.json → /s/.claude.json  (r)']);
    expect(renderPlanText([link], { color: true })[0]).toMatch(ESC);
  });

  it("an outcome's message, which may carry a member's bytes, reaches the terminal escaped", () => {
    const o: Outcome = { action: link, result: 'failed', message: 'bad \x1b]0;pwned\x07 name\n', backups: ['/b/1'] };
    const line = renderOutcomeLine(o, { color: false });
    expect(line).not.toMatch(/\x1b|\x07/);
    expect(line).toMatch(/^✗ failed: link \/home\/a\/\.claude\.json → \/s\/\.claude\.json: bad .*name/);
    expect(line).toMatch(/\n {4}backup: \/b\/1$/);
  });
});

describe('JSON', () => {
  it('an action names a group, accounts or a path, never two of them', () => {
    expect(actionJson(group)).toMatchObject({ group: 'claudeshare', users: ['a', 'b'] });
    expect(actionJson(group)).not.toHaveProperty('path');
    const user: Action = { ...base, kind: 'create-user', target: 'a', user: 'a' };
    expect(actionJson(user)).not.toHaveProperty('path');
    expect(actionJson(user)).not.toHaveProperty('group');
    expect(actionJson(link, 'planned')).toMatchObject({ path: '/home/a/.claude.json', user: 'a', result: 'planned' });
  });

  it('drift: one problem per member of a group action, each naming its member', () => {
    expect(driftProblems([group, link]).map((p) => [p.user, p.severity])).toEqual([
      ['a', 'drift'],
      ['b', 'drift'],
      ['a', 'drift'],
    ]);
  });

  it('backups list: schema 2, the original place as path', () => {
    const doc = backupsJson('/s/backups', 30, [
      { run: 'R', files: [{ file: 'R/shared/.claude.json', from: '/s/home/.claude/.claude.json', kind: 'shared', uid: null, gid: null, mode: null, size: 3 }] },
    ]);
    expect(doc).toEqual({
      schemaVersion: 2,
      command: 'backups list',
      directory: '/s/backups',
      keepDays: 30,
      runs: [{ run: 'R', files: [{ file: 'R/shared/.claude.json', path: '/s/home/.claude/.claude.json', kind: 'shared', user: undefined, uid: null, gid: null, mode: null, size: 3 }] }],
    });
  });
});

describe('Prometheus and status text', () => {
  it('every series has its HELP and TYPE first, one TYPE per name, and values are numbers', () => {
    const text = prometheusText(statusModel(sys, loadConfig(sys, CFG)!));
    expect(text.endsWith('\n')).toBe(true);
    const typed = new Set<string>();
    for (const line of text.trimEnd().split('\n')) {
      const t = /^# TYPE (\w+) (gauge|counter)$/.exec(line);
      if (t) {
        expect(typed.has(t[1]), `two TYPE lines for ${t[1]}`).toBe(false);
        typed.add(t[1]);
      } else if (!line.startsWith('# HELP ')) {
        const m = /^(\w+)(\{[^}]*\})? (-?\d+)$/.exec(line);
        expect(m, line).not.toBeNull();
        expect(typed.has(m![1]), `${m![1]} before its TYPE`).toBe(true);
      }
    }
    expect(text).toMatch(/^claude_share_healthy 1$/m);
    expect(text).toMatch(/^claude_share_managed_users 2$/m);
    expect(prometheusFailureText(123)).toMatch(/^claude_share_healthy 0\n[\s\S]*^claude_share_run_ok 0\n[\s\S]*^claude_share_last_success_timestamp_seconds 123$/m);
  });

  it('status text: no escape codes without colour, and a severed member shows up', () => {
    sys.unlink('/home/bob/.claude/settings.json');
    const lines = statusText(statusModel(sys, loadConfig(sys, CFG)!), { color: false });
    expect(lines.join('\n')).not.toMatch(ESC);
    expect(lines.join('\n')).toMatch(/bob/);
    expect(statusText(statusModel(sys, loadConfig(sys, CFG)!), { color: true }).join('\n')).toMatch(ESC);
  });
});
