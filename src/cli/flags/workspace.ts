import type { Register } from './types.js';

/** Workspace mode, the laptop's side: `claude-share client init|status|uninstall`. */
export const registerClient: Register = (parent, run, done) => {
  const client = parent.command('client').description('workspace mode, on your own machine: init (connect it to a claude-share server), status, uninstall');
  client
    .command('init')
    .description(
      "connect this machine to a server: a key of its own (made or reused), installed on the server restricted to claude-share's tunnel; checks sshfs and FUSE there and sftp-server here; saves the profile",
    )
    .argument('<user@host>', 'your account on the server, e.g. alice@server.example.org (alice@host:2222 for another port)')
    .option('--port <port>', 'the SSH port (default 22)')
    .option('--json', 'print one JSON object')
    .action(async (t: string, o) => {
      const port = o.port === undefined ? undefined : Number(o.port);
      if (port !== undefined && !(/^\d{1,5}$/.test(o.port) && port >= 1 && port <= 65535)) {
        const { usageError } = await import('../../core/errors.js');
        throw usageError(`--port ${String(o.port).slice(0, 16)}: a number from 1 to 65535`);
      }
      done(await run('client', { action: 'init', target: t, port, json: !!o.json }));
    });
  client
    .command('status')
    .description("the saved profile: server, key, the server's sshfs and FUSE, claude")
    .option('--json', 'print one JSON object')
    .action(async (o) => done(await run('client', { action: 'client-status', json: !!o.json })));
  client
    .command('uninstall')
    .description('stop the live session, remove every key this machine installed on the server, then the local profile and keys')
    .action(async () => done(await run('client', { action: 'uninstall' })));
};

/** `cs …` (also `claude-share cs …`): sessions, from a project directory on your own machine. */
export const registerCs: Register = (parent, run, done) => {
  const cs = parent.command('cs').description('workspace sessions (the cs command): live, add, list, remove, where, status, stop, run');
  cs.command('live')
    .description('publish this directory to the server, mount it there (~/.claude-share/mounts/<session>) and start claude in it; named commands run back here')
    .option('--no-claude', 'mount only; do not start claude')
    .argument('[claude-args...]', 'passed to the remote claude, after --')
    .action(async (args: string[], o) => done(await run('client', { action: 'live', noClaude: o.claude === false, args })));
  cs.command('add')
    .description('attach another directory to the next sessions (mounted under ~/.claude-share/extras/<session>/N-name)')
    .argument('<dir>', 'a directory of this machine')
    .action(async (dir: string) => done(await run('client', { action: 'add', dir })));
  cs.command('list')
    .description('the attached directories')
    .action(async () => done(await run('client', { action: 'list' })));
  cs.command('remove')
    .description('detach a directory from the next sessions')
    .argument('<dir>', 'as cs list shows it')
    .action(async (dir: string) => done(await run('client', { action: 'remove', dir })));
  cs.command('where')
    .description("the live session's paths on the server")
    .action(async () => done(await run('client', { action: 'where' })));
  cs.command('status')
    .description('the profile, the live session (phase, reconnects, mounts), the attached directories')
    .option('--json', 'print one JSON object')
    .action(async (o) => done(await run('client', { action: 'status', json: !!o.json })));
  cs.command('stop')
    .description('end the session: unmount on the server, remove its key, stop its processes here')
    .action(async () => done(await run('client', { action: 'stop' })));
  cs.command('run')
    .description("ON THE SERVER, inside a session: run a named command on the member's machine (.claude-share/commands there); output and exit code come back")
    .argument('<name>', 'a name from the list, e.g. test')
    .action(async (name: string) => done(await run('tunnel', { action: 'run', name })));
};

/** The low-level steps, for debugging, and what the laptop's keys run on the server (ssh-command). */
export const registerTunnel: Register = (parent, run, done) => {
  const tunnel = parent.command('tunnel').description('workspace mode, the low-level steps: serve, mount, status, umount (and what the keys run on the server)');
  tunnel
    .command('serve')
    .description('the session supervisor, in the foreground (what cs live starts): the connection, the mounts, the command runner; reconnects')
    .requiredOption('--session <name>', 'a session cs live prepared')
    .action(async (o) => done(await run('client', { action: 'serve', session: o.session })));
  tunnel
    .command('mount')
    .description('publish this directory and mount it on the server, without starting claude (cs live --no-claude)')
    .action(async () => done(await run('client', { action: 'tunnel-mount' })));
  tunnel
    .command('status')
    .description('ask the server which sessions of yours are mounted there')
    .option('--json', 'print one JSON object')
    .action(async (o) => done(await run('client', { action: 'tunnel-status', json: !!o.json })));
  tunnel
    .command('umount')
    .description('unmount a session on the server and remove its key (what cs stop does when the supervisor is gone)')
    .argument('<session>', 'as tunnel status prints it')
    .action(async (session: string) => done(await run('client', { action: 'tunnel-umount', session })));
  tunnel
    .command('ssh-command', { hidden: true })
    .description("the forced command of a laptop's key on the server (reads SSH_ORIGINAL_COMMAND)")
    .requiredOption('--key <kind>', 'init or session')
    .option('--tag <tag>')
    .option('--session <name>')
    .action(async (o) => done(await run('tunnel', { action: 'ssh-command', key: o.key === 'session' ? 'session' : 'init', tag: o.tag, session: o.session })));
  tunnel
    .command('authorize', { hidden: true })
    .description("client init's first step on the server: install the laptop's key (stdin), restricted")
    .requiredOption('--tag <tag>')
    .action(async (o) => done(await run('tunnel', { action: 'authorize', tag: o.tag })));
  tunnel
    .command('run')
    .description("on the server: run a named command on the member's machine (the same as cs run)")
    .argument('<name>')
    .action(async (name: string) => done(await run('tunnel', { action: 'run', name })));
};
