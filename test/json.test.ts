import { beforeEach, describe, expect, it } from 'vitest';
import { runBackupsList } from '../src/commands/backups.js';
import { runAddUser } from '../src/commands/add-user.js';
import { runInit } from '../src/commands/init.js';
import { runRemoveUser } from '../src/commands/remove-user.js';
import { runStatus } from '../src/commands/status.js';
import { runSync } from '../src/commands/sync.js';
import { runUninstall } from '../src/commands/uninstall.js';
import { runDoctor } from '../src/commands/doctor.js';
import { captureIo, creds, HOUR, initOpts, machineWithRootLogin } from './helpers/fixtures.js';
import type { MemorySystem } from './helpers/memory-system.js';

// One vocabulary across every --json (README "JSON output"): a file is `path`, an account `user`/`users`, a group
// `group` by name; what a command did or would do is `actions` (each with a `result`), what is left `remaining`.
const NOW = Date.parse('2026-11-23T12:00:00Z');
const CFG = '/etc/claude-share/config';
let sys: MemorySystem;

const json = async (run: (io: ReturnType<typeof captureIo>) => number | Promise<number>) => {
  const io = captureIo();
  await run(io);
  return JSON.parse(io.lines.join('\n')) as Record<string, unknown>;
};

/** Every key anywhere in a document, with the values it has. */
function keysOf(doc: unknown, out = new Map<string, unknown[]>()): Map<string, unknown[]> {
  if (Array.isArray(doc)) doc.forEach((d) => keysOf(d, out));
  else if (doc && typeof doc === 'object')
    for (const [k, v] of Object.entries(doc)) {
      out.set(k, [...(out.get(k) ?? []), v]);
      keysOf(v, out);
    }
  return out;
}

function expectVocabulary(doc: Record<string, unknown>, command: string) {
  expect(doc.schemaVersion).toBe(2);
  expect(doc.command).toBe(command);
  const keys = keysOf(doc);
  // The words schema 1 used for the same things.
  for (const old of ['target', 'outcomes', 'members', 'from']) expect(keys.has(old), `key ${old}`).toBe(false);
  for (const g of keys.get('group') ?? []) expect(g === null || typeof g === 'string', `group ${JSON.stringify(g)}`).toBe(true);
  for (const o of keys.get('owner') ?? []) expect(o === null || typeof o === 'string', `owner ${JSON.stringify(o)}`).toBe(true);
  for (const list of [doc.actions, doc.remaining].filter(Array.isArray) as Record<string, unknown>[][])
    for (const a of list) {
      const about = ['path', 'group', 'user', 'users'].filter((k) => a[k] !== undefined);
      expect(about.length, `${a.kind} names what it is about`).toBeGreaterThan(0);
      if (a.path !== undefined) expect(a.path).toMatch(/^\//);
    }
  for (const a of (doc.actions ?? []) as Record<string, unknown>[]) expect(a.result).toMatch(/^(planned|created|replaced|backed-up|unchanged|failed|conflict)$/);
}

beforeEach(async () => {
  sys = machineWithRootLogin(NOW + 2 * HOUR);
  sys.addFile('/root/users', 'alice:a\nbob:b\n', 0, 0, 0o600);
});

describe('--json: one vocabulary (schema 2)', () => {
  it('init --dry-run and init: the same keys, actions with a result, counts', async () => {
    const dry = await json((io) => runInit(sys, initOpts({ usersFromFile: '/root/users', dryRun: true, json: true }), io));
    expectVocabulary(dry, 'init');
    expect(dry.dryRun).toBe(true);
    const planned = dry.actions as { kind: string; result: string; group?: string; users?: string[] }[];
    expect(planned.every((a) => a.result === 'planned')).toBe(true);
    expect(planned.find((a) => a.kind === 'add-to-group')).toMatchObject({ group: 'claudeshare', users: ['alice', 'bob'] });
    expect(dry.counts).toMatchObject({ planned: planned.length, changed: 0 });
    expect(dry.remaining).toHaveLength(planned.length);

    const done = await json((io) => runInit(sys, initOpts({ usersFromFile: '/root/users', json: true }), io));
    expectVocabulary(done, 'init');
    expect(Object.keys(done).sort()).toEqual(Object.keys(dry).sort());
    expect((done.counts as { changed: number }).changed).toBeGreaterThan(0);
    expect(done.remaining).toEqual([]);
  });

  it('status, sync --dry-run and sync on the same drift: the status lists what sync would do, sync does it', async () => {
    await runInit(sys, initOpts({ usersFromFile: '/root/users' }), captureIo());
    sys.groups.get('claudeshare')!.members = ['alice'];
    const bobCreds = '/home/bob/.claude/.credentials.json';
    sys.addFile(bobCreds, creds(NOW + 8 * HOUR, { account: 'acct-1', refresh: 'r-new' }), sys.getUser('bob')!.uid, sys.getUser('bob')!.uid, 0o600).mtimeMs = sys.clock++;

    const st = await json((io) => runStatus(sys, { json: true, quiet: false, config: CFG }, io));
    expectVocabulary(st, 'status');
    const shared = st.shared as { owner: string; group: string; uid: number; gid: number }[];
    expect(shared[0]).toMatchObject({ owner: 'root', group: 'claudeshare', uid: 0, gid: sys.getGroup('claudeshare')!.gid });
    const kinds = (st.remaining as { kind: string }[]).map((a) => a.kind).sort();

    const dry = await json((io) => runSync(sys, { dryRun: true, json: true, quiet: false, config: CFG }, io));
    expectVocabulary(dry, 'sync');
    expect((dry.actions as { kind: string }[]).map((a) => a.kind).sort()).toEqual(kinds);

    const done = await json((io) => runSync(sys, { dryRun: false, json: true, quiet: false, config: CFG }, io));
    expectVocabulary(done, 'sync');
    expect((done.actions as { kind: string }[]).filter((a) => kinds.includes(a.kind)).length).toBeGreaterThanOrEqual(kinds.length);
    expect((done.actions as { path?: string; backups: string[] }[]).find((a) => a.path === bobCreds)?.backups.length).toBe(1);
  });

  it('add-user, remove-user, uninstall --dry-run and backups list speak it too', async () => {
    await runInit(sys, initOpts({ usersFromFile: '/root/users' }), captureIo());
    sys.addUser('dave');
    expectVocabulary(await json((io) => runAddUser(sys, { name: 'dave', noPassword: true, allowSystemUser: false, dryRun: false, json: true, config: CFG, yes: true }, io)), 'add-user');
    const rm = await json((io) => runRemoveUser(sys, { name: 'bob', deleteAccount: false, removeHome: false, dryRun: false, json: true, config: CFG }, io));
    expectVocabulary(rm, 'remove-user');
    expect((rm.actions as { kind: string; group?: string; user?: string }[]).find((a) => a.kind === 'leave-group')).toMatchObject({ group: 'claudeshare', user: 'bob' });
    expectVocabulary(await json((io) => runUninstall(sys, { purge: false, dryRun: true, json: true, config: CFG }, io)), 'uninstall');
    const list = await json((io) => runBackupsList(sys, { json: true, config: CFG }, io));
    expectVocabulary(list, 'backups list');
    expect((list.runs as { files: { path: string }[] }[])[0].files[0].path).toMatch(/^\//);
    sys.trusted.add('/usr/bin/claude');
    const doc = await json((io) => runDoctor(sys, { all: true, json: true, config: CFG }, io));
    expectVocabulary(doc, 'doctor');
    expect((doc.checks as { user: string }[]).map((c) => c.user)).toEqual(['alice', 'dave']);
  });
});
