import { describe, expect, it } from 'vitest';
import { inspectCredentials, pickFreshestCredentials, type Candidate } from '../src/core/credentials.js';
import { creds } from './helpers/fixtures.js';

const NOW = Date.parse('2026-11-23T12:00:00Z');
const cand = (from: string, json: string | null, claudeJsonAccount?: string): Candidate => ({ from, info: inspectCredentials(json === null ? null : Buffer.from(json), NOW), claudeJsonAccount });

describe('inspectCredentials', () => {
  it.each([
    [null, 'missing'],
    ['{not json', 'invalid-json'],
    ['[]', 'invalid-json'],
    ['{"mcpOAuth":{}}', 'invalid-json'],
    [creds(0, { refresh: '' }), 'logged-out'],
    [creds(NOW + 1000, { refresh: '' }), 'logged-out'],
    [JSON.stringify({ claudeAiOauth: { refreshToken: 'r', expiresAt: '123' } }), 'logged-out'],
    [creds(NOW - 1000), 'expired-refreshable'],
    [creds(NOW + 1000), 'valid'],
  ])('%s → %s', (json, state) => {
    expect(inspectCredentials(json === null ? null : Buffer.from(json), NOW).state).toBe(state);
  });

  it('keeps metadata but never a token', () => {
    const info = inspectCredentials(Buffer.from(creds(NOW + 5, { account: 'a1' })), NOW);
    expect(info).toEqual({ state: 'valid', expiresAt: NOW + 5, subscriptionType: 'max', accountUuid: 'a1' });
    expect(JSON.stringify(info)).not.toContain('sk-ant');
  });
});

describe('pickFreshestCredentials', () => {
  const shared = cand('shared', creds(NOW + 1000, { account: 'A' }));
  it.each<[string, Candidate, Candidate[], string | null, string[]]>([
    ['a newer severed copy wins', shared, [cand('alice', creds(NOW + 2000, { account: 'A' }))], 'alice', []],
    ['an older severed copy loses', shared, [cand('alice', creds(NOW + 500, { account: 'A' }))], 'shared', []],
    ['a tie keeps the shared copy', shared, [cand('alice', creds(NOW + 1000, { account: 'A' }))], 'shared', []],
    ['a stub never wins', shared, [cand('alice', creds(0, { refresh: '', account: 'A' }))], 'shared', ['alice:logged-out']],
    ['invalid JSON never wins', shared, [cand('alice', '{')], 'shared', ['alice:invalid']],
    ['another account never wins', shared, [cand('alice', creds(NOW + 9000, { account: 'B' }))], 'shared', ['alice:other-account']],
    ['the greatest expiresAt among several', shared, [cand('a', creds(NOW + 3000)), cand('b', creds(NOW + 7000)), cand('c', creds(NOW + 5000))], 'b', []],
    ['expired but refreshable still beats a stub shared copy', cand('shared', creds(0, { refresh: '' })), [cand('alice', creds(NOW - 5000))], 'alice', []],
    ['a missing shared copy: the severed one wins', cand('shared', null), [cand('alice', creds(NOW + 1))], 'alice', []],
    ['nothing usable anywhere', cand('shared', null), [cand('alice', creds(0, { refresh: '' }))], null, ['alice:logged-out']],
    ['older builds without accountUuid: decided by .claude.json', cand('shared', creds(NOW), 'A'), [cand('x', creds(NOW + 10), 'B'), cand('y', creds(NOW + 5), 'A')], 'y', ['x:other-account']],
    ['no account information at all: the same account is assumed', cand('shared', creds(NOW)), [cand('x', creds(NOW + 10))], 'x', []],
    [
      'shared copy gone, members on two accounts: none wins',
      cand('shared', null),
      [cand('a', creds(NOW + 3, { account: 'A' })), cand('b', creds(NOW + 5, { account: 'EVIL' }))],
      null,
      ['a:ambiguous-account', 'b:ambiguous-account'],
    ],
    ['shared copy gone, members on one account: the freshest wins', cand('shared', null), [cand('a', creds(NOW + 3, { account: 'A' })), cand('b', creds(NOW + 5, { account: 'A' }))], 'b', []],
    ['a member .claude.json with no account does not vouch for another', cand('shared', creds(NOW), 'A'), [cand('x', creds(NOW + 10))], 'x', []],
  ])('%s', (_, sh, severed, winner, rejected) => {
    const c = pickFreshestCredentials(sh, severed);
    expect(c.winner?.from ?? null).toBe(winner);
    expect(c.rejected.map((r) => `${r.candidate.from}:${r.reason}`)).toEqual(rejected);
  });
});
