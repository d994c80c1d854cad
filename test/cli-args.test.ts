import { describe, expect, it } from 'vitest';
import { buildProgram } from '../src/cli.js';
import type { Run } from '../src/cli/table.js';

async function parse(argv: string[]) {
  const calls: [string, unknown][] = [];
  // The test stub of the command table: it records what the flags parsed (completion: its shell only).
  const run: Run = async (id, o) => (calls.push([id, id === 'completion' ? { shell: (o as { shell: string }).shell } : o]), 0);
  const program = await buildProgram(run, () => {});
  program.configureOutput({ writeErr: () => {}, writeOut: () => {} });
  await program.parseAsync(['node', 'claude-share', ...argv]);
  return calls;
}

describe('argv → options', () => {
  it.each<[string[], string, Record<string, unknown>]>([
    [['server', 'init', '--yes', '--users-from-file', '/root/u'], 'init', { yes: true, usersFromFile: '/root/u', noPassword: false, settingsLocal: undefined, dryRun: false }],
    [['init', '--user', 'a', '--user', 'b:pw', '--no-password'], 'init', { user: ['a', 'b:pw'], noPassword: true }],
    [
      [
        'init',
        '--shared-dir',
        '/srv/cs',
        '--group',
        'g',
        '--source-user',
        'carol',
        '--no-settings-local',
        '--copy-full-claude-json',
        '--keep-source-copy',
        '--dry-run',
        '--json',
        '--config',
        '/tmp/c',
      ],
      'init',
      { sharedDir: '/srv/cs', group: 'g', sourceUser: 'carol', settingsLocal: false, copyFullClaudeJson: true, keepSourceCopy: true, dryRun: true, json: true, config: '/tmp/c' },
    ],
    [['server', 'add-user', 'dave', '--password-from-file', '/root/p'], 'addUser', { name: 'dave', passwordFromFile: '/root/p', noPassword: false, password: undefined }],
    [['add-user', 'dave', '--password', 'x', '--allow-system-user', '--dry-run'], 'addUser', { name: 'dave', password: 'x', allowSystemUser: true, dryRun: true }],
    [['add-user', 'dave', '--no-password'], 'addUser', { noPassword: true, password: undefined }],
    [['status', '--json'], 'status', { json: true, quiet: false }],
    [['server', 'status', '-q'], 'status', { quiet: true, json: false }],
    [['status', '--user', 'alice'], 'status', { user: 'alice', json: false }],
    [['server', 'token', 'set'], 'token', { action: 'set', fromFile: undefined }],
    [['server', 'token', 'set', '--from-file', '/root/t'], 'token', { action: 'set', fromFile: '/root/t' }],
    [['server', 'token', 'show', '--json'], 'token', { action: 'show', json: true }],
    [['server', 'token', 'remove'], 'token', { action: 'remove' }],
    [['server', 'add-container', 'agent1', '--dry-run'], 'addContainer', { name: 'agent1', dryRun: true, json: false }],
    [['server', 'container-args', 'agent1'], 'containerArgs', { name: 'agent1', format: 'docker' }],
    [['server', 'container-args', 'agent1', '--format', 'compose'], 'containerArgs', { name: 'agent1', format: 'compose' }],
    [['server', 'remove-container', 'agent1', '--json'], 'removeContainer', { name: 'agent1', json: true, dryRun: false }],
    [['sync', '--dry-run', '--user', 'alice'], 'sync', { dryRun: true, user: 'alice', json: false }],
    [['server', 'sync', '--quiet', '--json'], 'sync', { quiet: true, json: true }],
    [['version'], 'version', {}],
    [['server', 'watch'], 'watch', { debounceMs: 200, sweepMinutes: 5 }],
    [['server', 'watch', '--debounce', '50', '--sweep', '1'], 'watch', { debounceMs: 50, sweepMinutes: 1 }],
    [['server', 'install-service', '--uninstall'], 'installService', { uninstall: true }],
    [['server', 'install-cron', '--heal'], 'installCron', { heal: true, uninstall: false }],
    [['backups', 'list', '--json'], 'backupsList', { json: true }],
    [
      ['backups', 'restore', 'R/shared/.claude/settings.json', '--as-shared', '--force', '--dry-run'],
      'backupsRestore',
      { what: 'R/shared/.claude/settings.json', asShared: true, force: true, dryRun: true },
    ],
    [['server', 'remove-user', 'bob', '--delete-account', '--remove-home'], 'removeUser', { name: 'bob', deleteAccount: true, removeHome: true, dryRun: false }],
    [['server', 'uninstall', '--purge', '--dry-run'], 'uninstall', { purge: true, dryRun: true }],
    [['status', '--prometheus', '/var/lib/node_exporter/cs.prom'], 'status', { prometheus: '/var/lib/node_exporter/cs.prom' }],
    [['completion', 'bash'], 'completion', { shell: 'bash' }],
    [['doctor', 'alice'], 'doctor', { user: 'alice', all: false, json: false, claude: undefined }],
    [['doctor', '--all', '--json', '--claude', '/opt/claude/bin/claude'], 'doctor', { user: undefined, all: true, json: true, claude: '/opt/claude/bin/claude' }],
    [['login'], 'login', { as: undefined, run: false, acceptAccount: false }],
    [['login', '--as', 'alice', '--run', '--accept-account'], 'login', { as: 'alice', run: true, acceptAccount: true }],
    [['client', 'init', 'alice@server.example.org', '--port', '2222'], 'client', { action: 'init', target: 'alice@server.example.org', port: 2222, json: false }],
    [['client', 'status', '--json'], 'client', { action: 'client-status', json: true }],
    [['client', 'uninstall'], 'client', { action: 'uninstall' }],
    [['cs', 'live'], 'client', { action: 'live', noClaude: false, args: [] }],
    [['cs', 'live', '--no-claude'], 'client', { action: 'live', noClaude: true }],
    [['cs', 'live', '--', '-p', 'hi there'], 'client', { action: 'live', noClaude: false, args: ['-p', 'hi there'] }],
    [['cs', 'add', '../lib'], 'client', { action: 'add', dir: '../lib' }],
    [['cs', 'remove', '../lib'], 'client', { action: 'remove', dir: '../lib' }],
    [['cs', 'list'], 'client', { action: 'list' }],
    [['cs', 'where'], 'client', { action: 'where' }],
    [['cs', 'status', '--json'], 'client', { action: 'status', json: true }],
    [['cs', 'stop'], 'client', { action: 'stop' }],
    [['cs', 'run', 'test'], 'tunnel', { action: 'run', name: 'test' }],
    [['tunnel', 'serve', '--session', 'p-20261205-101500'], 'client', { action: 'serve', session: 'p-20261205-101500' }],
    [['tunnel', 'mount'], 'client', { action: 'tunnel-mount' }],
    [['tunnel', 'status', '--json'], 'client', { action: 'tunnel-status', json: true }],
    [['tunnel', 'umount', 'p-20261205-101500'], 'client', { action: 'tunnel-umount', session: 'p-20261205-101500' }],
    [['tunnel', 'ssh-command', '--key', 'session', '--session', 'p-20261205-101500', '--tag', 't'], 'tunnel', { action: 'ssh-command', key: 'session', session: 'p-20261205-101500' }],
    [['tunnel', 'authorize', '--tag', 't'], 'tunnel', { action: 'authorize', tag: 't' }],
  ])('%j', async (argv, name, expected) => {
    const calls = await parse(argv);
    expect(calls).toHaveLength(1);
    expect(calls[0][0]).toBe(name);
    if (Object.keys(expected).length) expect(calls[0][1]).toMatchObject(expected);
  });

  it('client init --port out of range is a usage error (64)', async () => {
    await expect(parse(['client', 'init', 'a@b', '--port', '70000'])).rejects.toMatchObject({ exitCode: 64 });
  });

  it('a non-numeric --debounce is a usage error (64)', async () => {
    await expect(parse(['server', 'watch', '--debounce', 'x'])).rejects.toMatchObject({ exitCode: 64 });
  });

  it.each([[['init', '--bogus']], [['add-user']], [['nosuch']]])('%j is a usage error', async (argv) => {
    await expect(parse(argv)).rejects.toMatchObject({ code: expect.stringMatching(/^commander\./) });
  });
});

describe('help', () => {
  it('every command that acts says it runs as root, gives one example and lists the exit codes; the summary names them all', async () => {
    const program = await buildProgram((async () => 0) as Run, () => {});
    const all = (c: typeof program): (typeof program)[] => c.commands.flatMap((s) => [s, ...all(s)]);
    const workspace = ['client', 'cs', 'tunnel'];
    const acting = all(program).filter((c) => !['completion', 'version', 'help', 'server', 'backups', 'token', ...workspace].includes(c.name()) && !workspace.includes(c.parent?.name() ?? ''));
    expect(acting.map((c) => c.name()).sort()).toEqual([
      'add-container',
      'add-user',
      'add-user',
      'container-args',
      'disable',
      'doctor',
      'enable',
      'init',
      'init',
      'install-cron',
      'install-service',
      'list',
      'login',
      'receive',
      'remove',
      'remove-container',
      'remove-user',
      'report',
      'restore',
      'set',
      'show',
      'status',
      'status',
      'sync',
      'sync',
      'uninstall',
      'usage',
      'watch',
    ]);
    for (const c of acting) {
      let text = '';
      c.configureOutput({ writeOut: (s) => (text += s) });
      c.outputHelp();
      expect(text, c.name()).toContain('Runs as root. Example:\n  sudo claude-share ');
      expect(text, c.name()).toContain('Exit codes: 0 ok/healthy');
    }
    const server = program.commands.find((c) => c.name() === 'server')!;
    for (const name of server.commands.map((c) => c.name())) expect(server.description()).toContain(name);
  });

  it('workspace commands (client, cs, tunnel) say they run as the member, never root, with an example and the exit codes', async () => {
    const program = await buildProgram((async () => 0) as Run, () => {});
    const groups = ['client', 'cs', 'tunnel'].map((g) => program.commands.find((c) => c.name() === g)!);
    const visible = groups.flatMap((g) => g.commands.filter((c) => !(c as unknown as { _hidden: boolean })._hidden).map((c) => [g.name(), c] as const));
    expect(visible.map(([g, c]) => `${g} ${c.name()}`).sort()).toEqual(
      [
        'client init',
        'client status',
        'client uninstall',
        'cs add',
        'cs list',
        'cs live',
        'cs remove',
        'cs run',
        'cs status',
        'cs stop',
        'cs where',
        'tunnel mount',
        'tunnel run',
        'tunnel serve',
        'tunnel status',
        'tunnel umount',
      ].sort(),
    );
    for (const [g, c] of visible) {
      let text = '';
      c.configureOutput({ writeOut: (s) => (text += s) });
      c.outputHelp();
      expect(text, `${g} ${c.name()}`).toContain('Runs as you, never as root');
      expect(text, `${g} ${c.name()}`).not.toContain('sudo');
      expect(text, `${g} ${c.name()}`).toContain('Exit codes: 0 ok');
    }
    for (const g of groups) for (const c of g.commands.filter((c) => !(c as unknown as { _hidden: boolean })._hidden)) expect(g.description()).toContain(c.name());
  });
});
