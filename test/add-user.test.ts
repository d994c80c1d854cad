import { beforeEach, describe, expect, it } from 'vitest';
import { runAddUser, type AddUserOptions } from '../src/commands/add-user.js';
import { runStatus } from '../src/commands/status.js';
import { loadConfig } from '../src/engine/config.js';
import { HOUR, captureIo, creds, initializedMachine } from './helpers/fixtures.js';
import type { MemorySystem } from './helpers/memory-system.js';

// server add-user: one account created or adopted, linked, in the group and the config; every refusal changes nothing.
const CFG = '/etc/claude-share/config';
const SH = '/shared/claude-share/home/.claude';
let sys: MemorySystem;
const opts = (o: Partial<AddUserOptions> = {}): AddUserOptions => ({ name: 'dana', noPassword: false, allowSystemUser: false, dryRun: false, json: false, config: CFG, yes: true, ...o });
const managed = () => loadConfig(sys, CFG)!.managedUsers;

beforeEach(async () => {
  sys = await initializedMachine('alice:a\n');
});

describe('add-user', () => {
  it('creates the account with the password from a root-only file, links the four files, joins the group and the config', async () => {
    sys.addFile('/root/dana.pw', 'Secret-1\n', 0, 0, 0o600);
    const io = captureIo();
    expect(await runAddUser(sys, opts({ passwordFromFile: '/root/dana.pw' }), io)).toBe(0);
    expect(sys.passwords.get('dana')).toBe('Secret-1');
    expect(sys.groups.get('claudeshare')!.members).toContain('dana');
    expect(managed()).toEqual(['alice', 'dana']);
    for (const rel of ['.claude/.credentials.json', '.claude.json', '.claude/settings.json', '.claude/settings.local.json'])
      expect(sys.readlink(`/home/dana/${rel}`), rel).toBe(`${SH}/${rel.replace(/^.*\//, '')}`);
    expect([...io.lines, ...io.errors].join('\n')).not.toMatch(/Secret-1/);
    const status = captureIo();
    expect(runStatus(sys, { json: false, quiet: true, config: CFG }, status)).toBe(0);
  });

  it('adopts an existing account: its own Claude files are backed up, never promoted over the shared login', async () => {
    const dana = sys.addUser('dana');
    sys.addDir('/home/dana/.claude', dana.uid, dana.gid, 0o700);
    // A FRESHER login of another account in her home: adopting her must not make it everyone's.
    sys.addFile('/home/dana/.claude/.credentials.json', creds(sys.clock + 9 * HOUR, { account: 'acct-2', refresh: 'hers' }), dana.uid, dana.gid, 0o600);
    const shared = sys.content(`${SH}/.credentials.json`);
    expect(await runAddUser(sys, opts({ noPassword: true }), captureIo())).toBe(0);
    expect(sys.content(`${SH}/.credentials.json`)).toBe(shared);
    expect(sys.readlink('/home/dana/.claude/.credentials.json')).toBe(`${SH}/.credentials.json`);
    const backup = [...sys.files.keys()].find((p) => p.startsWith('/shared/claude-share/backups/') && p.endsWith('/dana/.claude/.credentials.json'));
    expect(backup && JSON.parse(sys.content(backup)!).claudeAiOauth.refreshToken).toBe('hers');
    expect(sys.passwords.has('dana'), 'an adopted account keeps its password').toBe(false);
  });

  it('--password works but warns that argv is visible to other processes', async () => {
    const io = captureIo();
    expect(await runAddUser(sys, opts({ password: 'Pw-on-argv' }), io)).toBe(0);
    expect(io.errors.join('\n')).toMatch(/visible to other processes/);
    expect(sys.passwords.get('dana')).toBe('Pw-on-argv');
  });

  it('the dry run changes nothing and lists what it would do', async () => {
    const before = sys.snapshot();
    const io = captureIo();
    // A dry run exits 0 unless something needs an operator (src/core/exit-code.ts).
    expect(await runAddUser(sys, opts({ noPassword: true, dryRun: true }), io)).toBe(0);
    expect(sys.snapshot()).toBe(before);
    expect(io.lines.join('\n')).toMatch(/would create user dana/);
  });

  it.each<[string, Partial<AddUserOptions>, number, RegExp]>([
    ['no password and no terminal', {}, 64, /no password for new user dana/],
    ['an invalid name', { name: 'Dana;rm', noPassword: true }, 65, /invalid user name/],
    ['root', { name: 'root', noPassword: true }, 65, /system account/],
    ['the group', { name: 'claudeshare', noPassword: true }, 65, /same name as the group/],
    ['a password file a member could read', { passwordFromFile: '/root/open.pw' }, 77, /mode 644, not 600/],
    ['a system account without --allow-system-user', { name: 'svc' }, 64, /svc is a system account \(uid 999\)/],
    ['no config', { noPassword: true, config: '/etc/claude-share/none' }, 2, /no configuration/],
  ])('refuses %s, and changes nothing', async (_what, o, code, message) => {
    sys.addFile('/root/open.pw', 'pw\n', 0, 0, 0o644);
    sys.addUser('svc', { uid: 999, home: '/var/lib/svc' });
    const before = sys.snapshot();
    await expect(runAddUser(sys, opts(o), captureIo())).rejects.toMatchObject({ exitCode: code, message: expect.stringMatching(message) });
    expect(sys.snapshot()).toBe(before);
  });
});
