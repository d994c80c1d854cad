import { describe, expect, it } from 'vitest';
import { parseConfig, serializeConfig } from '../src/engine/config.js';
import { validateSharedDir } from '../src/core/validate.js';

const good = { sharedDir: '/shared/cs', group: 'team', sourceUser: 'root', managedUsers: ['alice', 'bob', 'agent1'], shareSettingsLocal: false, backupKeepDays: 7, containers: ['agent1'] };

describe('config', () => {
  it('round-trips', () => {
    expect(parseConfig(serializeConfig(good), 'c')).toEqual(good);
  });

  it.each([
    ['an unknown key', 'SHARED_DIR=/s\nGROUP=g\nFOO=1\n', /unknown key FOO/],
    ['a missing key', 'GROUP=g\n', /missing SHARED_DIR/],
    ['a retention that is not a number of days', 'SHARED_DIR=/s\nGROUP=g\nBACKUP_KEEP_DAYS=0\n', /BACKUP_KEEP_DAYS=0 is not a number of days/],
    ['root as a managed user', 'SHARED_DIR=/s\nGROUP=g\nMANAGED_USERS=alice,root\n', /"root" cannot be/],
    ['a shared dir inside /etc', 'SHARED_DIR=/etc/cs\nGROUP=g\n', /inside \/etc/],
    ['a relative shared dir', 'SHARED_DIR=cs\nGROUP=g\n', /not an absolute path/],
    ['a bad group name', 'SHARED_DIR=/s\nGROUP=Bad Group\n', /cannot be/],
  ])('refuses %s (65)', (_, text, msg) => {
    expect(() => parseConfig(text, 'c')).toThrow(msg);
    try {
      parseConfig(text, 'c');
    } catch (e) {
      expect((e as { exitCode: number }).exitCode).toBe(65);
    }
  });
});

describe('validateSharedDir', () => {
  it.each(['/', '//', '//etc/cs', '/etc', '/home/alice/cs', '/srv/../etc', 'rel', '/tmp/x', '/srv/./x'])('refuses %s', (d) => {
    expect(() => validateSharedDir(d)).toThrow();
  });
  it.each([
    ['/shared/claude-share', '/shared/claude-share'],
    ['/srv//cs/', '/srv/cs'],
  ])('accepts %s as %s', (d, n) => {
    expect(validateSharedDir(d)).toBe(n);
  });
});
