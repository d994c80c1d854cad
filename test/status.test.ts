import { beforeEach, describe, expect, it } from 'vitest';
import { runStatus, type StatusOptions } from '../src/commands/status.js';
import { captureIo, initializedMachine } from './helpers/fixtures.js';
import type { MemorySystem } from './helpers/memory-system.js';

// status --user: one member's links and group, plus the shared copies and the login everyone depends on.
const CFG = '/etc/claude-share/config';
let sys: MemorySystem;
const status = (o: Partial<StatusOptions> = {}) => {
  const io = captureIo();
  const code = runStatus(sys, { json: true, quiet: false, config: CFG, ...o }, io);
  return { code, doc: JSON.parse(io.lines.join('\n')) as { users: { name: string }[]; problems: { user?: string }[] } };
};

beforeEach(async () => {
  sys = await initializedMachine('alice:a\nbob:b\n');
  sys.unlink('/home/bob/.claude/settings.json');
});

describe('status --user', () => {
  it('looks at that member only: her state decides the exit code, another member drifting does not', () => {
    expect(status().code).toBe(1);
    const alice = status({ user: 'alice' });
    expect(alice.code).toBe(0);
    expect(alice.doc.users.map((u) => u.name)).toEqual(['alice']);
    const bob = status({ user: 'bob' });
    expect(bob.code).toBe(1);
    expect(bob.doc.problems.every((p) => p.user === undefined || p.user === 'bob')).toBe(true);
  });

  it('refuses a user it does not manage (65), and --prometheus or --cron with it (64), naming the fix', () => {
    expect(() => status({ user: 'zed' })).toThrow(expect.objectContaining({ exitCode: 65, hint: 'managed users: alice, bob' }));
    expect(() => status({ user: 'alice', prometheus: '/var/lib/prom/x.prom' })).toThrow(expect.objectContaining({ exitCode: 64 }));
    expect(() => status({ user: 'alice', cron: true })).toThrow(expect.objectContaining({ exitCode: 64 }));
  });
});
