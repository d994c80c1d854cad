import { beforeEach, describe, expect, it } from 'vitest';
import { runAddUser } from '../src/commands/add-user.js';
import { runInit } from '../src/commands/init.js';
import { runRemoveUser } from '../src/commands/remove-user.js';
import { runStatus } from '../src/commands/status.js';
import { runSync } from '../src/commands/sync.js';
import { runUninstall } from '../src/commands/uninstall.js';
import { captureIo, creds, HOUR, initOpts, machineWithRootLogin } from './helpers/fixtures.js';
import type { MemorySystem } from './helpers/memory-system.js';

// Every mutating command as a specification in three steps, the test Ansible's modules pass: a dry run changes
// nothing and says what it would do; the run does it; the same run again changes nothing; and afterwards status
// finds nothing left to do. One helper, so a new command gets the same four checks by adding one case.
const CFG = '/etc/claude-share/config';
const FILES = { unit: '/etc/systemd/system/claude-share-watch.service', cron: '/etc/cron.d/claude-share' };
let sys: MemorySystem;

type Run = (o: { dryRun: boolean; json: boolean }, io: ReturnType<typeof captureIo>) => Promise<number>;

async function threeStep(run: Run, after: 'healthy' | 'unmanaged' = 'healthy') {
  const json = async (dryRun: boolean) => {
    const io = captureIo();
    const code = await run({ dryRun, json: true }, io);
    return { code, doc: JSON.parse(io.lines.join('\n')) as { counts: { planned: number; changed: number }; actions: { result: string }[] } };
  };
  const before = sys.snapshot();
  const dry = await json(true);
  expect(sys.snapshot(), 'the dry run changed something').toBe(before);
  expect(dry.doc.counts.planned, 'the dry run plans nothing').toBeGreaterThan(0);

  const first = await json(false);
  expect(first.code, 'the run failed').toBe(0);
  expect(first.doc.counts.changed, 'the run changed nothing').toBeGreaterThan(0);

  const again = await json(false);
  expect(again.code).toBe(0);
  expect(again.doc.counts.changed, 'the second run changed something').toBe(0);
  expect(again.doc.actions.every((a) => a.result === 'unchanged')).toBe(true);

  if (after === 'healthy') {
    const io = captureIo();
    expect(runStatus(sys, { json: true, quiet: false, config: CFG }, io), 'status after the run').toBe(0);
    expect(JSON.parse(io.lines.join('\n')).remaining).toEqual([]);
  }
}

beforeEach(() => {
  sys = machineWithRootLogin(Date.parse('2026-11-23T12:00:00Z') + 2 * HOUR);
  sys.addFile('/root/users', 'alice:a\nbob:b\n', 0, 0, 0o600);
});
const init = () => runInit(sys, initOpts({ usersFromFile: '/root/users' }), captureIo());

describe('three steps: dry run → run → run again → nothing left', () => {
  it('init', async () => {
    await threeStep((o, io) => runInit(sys, initOpts({ usersFromFile: '/root/users', ...o }), io));
  });

  it('add-user (an existing account adopted)', async () => {
    await init();
    sys.addUser('dave');
    await threeStep((o, io) => runAddUser(sys, { name: 'dave', noPassword: true, allowSystemUser: false, config: CFG, yes: true, ...o }, io));
  });

  it('sync, on a refresh that severed a link, a member out of the group and a deleted link', async () => {
    await init();
    const bob = sys.getUser('bob')!;
    sys.addFile('/home/bob/.claude/.credentials.json', creds(sys.clock + 8 * HOUR, { account: 'acct-1', refresh: 'r-new' }), bob.uid, bob.uid, 0o600).mtimeMs = sys.clock + 1;
    sys.groups.get('claudeshare')!.members = ['bob'];
    sys.unlink('/home/alice/.claude/settings.json');
    await threeStep((o, io) => runSync(sys, { quiet: false, config: CFG, ...o }, io));
    expect(JSON.parse(sys.content('/shared/claude-share/home/.claude/.credentials.json')!).claudeAiOauth.refreshToken).toBe('r-new');
  });

  it('remove-user', async () => {
    await init();
    await threeStep((o, io) => runRemoveUser(sys, { name: 'bob', deleteAccount: false, removeHome: false, config: CFG, ...o }, io), 'unmanaged');
    expect(sys.lstat('/home/bob/.claude/settings.json')?.type).toBe('file');
  });

  it('uninstall', async () => {
    await init();
    sys.addFile(FILES.cron, '* * * * * root claude-share sync --cron\n');
    const dry = captureIo();
    const before = sys.snapshot();
    expect(await runUninstall(sys, { purge: false, dryRun: true, json: true, config: CFG }, dry)).toBe(0);
    expect(sys.snapshot()).toBe(before);
    expect(await runUninstall(sys, { purge: false, dryRun: false, json: false, config: CFG }, captureIo())).toBe(0);
    const after = sys.snapshot();
    // Run again: the config is gone, so there is nothing to do, and nothing is done.
    expect(await runUninstall(sys, { purge: false, dryRun: false, json: false, config: CFG }, captureIo())).toBe(0);
    expect(sys.snapshot()).toBe(after);
    expect(sys.lstat(FILES.cron)).toBeNull();
  });
});
