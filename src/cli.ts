#!/usr/bin/env node
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { realRun, type Run } from './cli/table.js';
import { VERSION } from './cli/version.js';
import { EXIT } from './core/errors.js';

/** commander wiring only: every command file parses its flags into a typed object and hands it to run() (the command table, src/cli/table.ts). */
export async function buildProgram(run: Run, done: (code: number) => void): Promise<Command> {
  const [{ Command }, { registerInit }, { registerAddUser }, { registerStatus }, { registerSync }, { registerVersion }, { registerWatch }] = await Promise.all([
    import('commander'),
    import('./cli/flags/init.js'),
    import('./cli/flags/add-user.js'),
    import('./cli/flags/status.js'),
    import('./cli/flags/sync.js'),
    import('./cli/flags/version.js'),
    import('./cli/flags/watch.js'),
  ]);
  const [{ registerRemove }, { registerCompletion }, { registerBackups }, { registerDoctor }, { registerLogin }, { registerToken }, { registerContainer }, { registerUsage }] = await Promise.all([
    import('./cli/flags/remove.js'),
    import('./cli/flags/completion.js'),
    import('./cli/flags/backups.js'),
    import('./cli/flags/doctor.js'),
    import('./cli/flags/login.js'),
    import('./cli/flags/token.js'),
    import('./cli/flags/container.js'),
    import('./cli/flags/usage.js'),
  ]);
  const { registerClient, registerCs, registerTunnel } = await import('./cli/flags/workspace.js');
  const program = new Command('claude-share')
    .description('share one Claude Code login between the users of one Linux server')
    .version(`claude-share ${VERSION}`, '-V, --version')
    .showHelpAfterError('(run claude-share --help for usage)')
    .exitOverride();
  const server = program
    .command('server')
    .description('provisioning and healing: init, add-user, status, sync, watch, install-service, install-cron, remove-user, uninstall, token, add-container, container-args, remove-container');
  registerWatch(server, run, done);
  registerRemove(server, run, done);
  registerToken(server, run, done);
  registerContainer(server, run, done);
  registerCompletion(program, run, done);
  registerBackups(program, run, done);
  registerDoctor(program, run, done);
  registerLogin(program, run, done);
  registerUsage(program, run, done);
  registerClient(program, run, done);
  registerCs(program, run, done);
  registerTunnel(program, run, done);
  for (const parent of [server, program]) {
    registerInit(parent, run, done);
    registerAddUser(parent, run, done);
    registerStatus(parent, run, done);
    registerSync(parent, run, done);
  }
  registerVersion(program, run, done);
  for (const c of allCommands(program)) {
    const group = c.parent?.name() ?? '';
    if (WORKSPACE_GROUPS.includes(group)) {
      if (WORKSPACE_EXAMPLES[`${group} ${c.name()}`]) c.addHelpText('after', workspaceFooter(`${group} ${c.name()}`));
    } else if (EXAMPLES[c.name()]) c.addHelpText('after', helpFooter(c.name()));
  }
  return program;
}

const allCommands = (c: Command): Command[] => c.commands.flatMap((s) => [s, ...allCommands(s)]);

/** One example per command; every command that acts runs as root and shares the exit codes of the README. */
const EXAMPLES: Record<string, string> = {
  init: 'sudo claude-share server init --yes --users-from-file /root/users.txt',
  'add-user': 'sudo claude-share server add-user dana --password-from-file /root/dana.pw',
  status: 'sudo claude-share status --quiet --prometheus /var/lib/prometheus/node-exporter/claude-share.prom',
  sync: 'sudo claude-share sync --dry-run',
  watch: 'sudo claude-share server install-service   # runs: claude-share server watch',
  'install-service': 'sudo claude-share server install-service',
  'install-cron': 'sudo claude-share server install-cron --heal',
  'remove-user': 'sudo claude-share server remove-user dana --delete-account',
  uninstall: 'sudo claude-share server uninstall --dry-run',
  list: 'sudo claude-share backups list',
  restore: 'sudo claude-share backups restore 2026-11-23T10-00-00.000Z/shared/.claude/settings.json --dry-run',
  doctor: 'sudo claude-share doctor --all',
  login: 'sudo claude-share login --as alice --run',
  set: 'sudo claude-share server token set --from-file /root/setup-token   # what claude setup-token printed, root 0600',
  show: 'sudo claude-share server token show --json',
  remove: 'sudo claude-share server token remove',
  'add-container': 'sudo claude-share server add-container agent1',
  'container-args': 'sudo claude-share server container-args agent1 --format compose',
  'remove-container': 'sudo claude-share server remove-container agent1',
  usage: 'sudo claude-share usage --since 7d --by user',
  report: 'sudo claude-share usage report --since 2026-11-01 --by model --json',
  enable: 'sudo claude-share usage enable',
  disable: 'sudo claude-share usage disable',
  receive: 'sudo claude-share usage receive   # what claude-share-usage.service runs',
};

/** Workspace mode's commands run as the member, on their machine (client, cs) or on the server (cs run, tunnel run). */
const WORKSPACE_GROUPS = ['client', 'cs', 'tunnel'];
const WORKSPACE_EXAMPLES: Record<string, string> = {
  'client init': 'claude-share client init alice@server.example.org',
  'client status': 'claude-share client status --json',
  'client uninstall': 'claude-share client uninstall',
  'cs live': 'cd ~/src/myproject && cs live',
  'cs add': 'cs add ~/src/shared-lib',
  'cs list': 'cs list',
  'cs remove': 'cs remove ~/src/shared-lib',
  'cs where': 'cs where',
  'cs status': 'cs status --json',
  'cs stop': 'cs stop',
  'cs run': 'cs run test   # on the server, inside ~/.claude-share/mounts/<session>',
  'tunnel serve': 'claude-share tunnel serve --session myproject-20261205-101500   # what cs live starts',
  'tunnel mount': 'cd ~/src/myproject && claude-share tunnel mount',
  'tunnel status': 'claude-share tunnel status --json',
  'tunnel umount': 'claude-share tunnel umount myproject-20261205-101500',
  'tunnel run': 'claude-share tunnel run test',
};

function workspaceFooter(key: string): string {
  return `
Runs as you, never as root${key.endsWith(' run') ? ' (on the server)' : ' (on your own machine)'}. Example:
  ${WORKSPACE_EXAMPLES[key]}

Exit codes: 0 ok, 2 a problem on one side that the message names (sshfs or FUSE missing, the server unreachable),
64 usage (no profile: claude-share client init first), 65 bad input data, 69 the member's machine is not reachable
(cs run), 77 refused (a key's forced command, a command off the list), 70 internal error; cs run exits with the
named command's own code.
`;
}

function helpFooter(name: string): string {
  return `
Runs as root. Example:
  ${EXAMPLES[name]}

Exit codes: 0 ok/healthy, 1 drift that sync repairs (or a conflict a re-run resolves), 2 a problem that needs an
operator, 64 usage, 65 bad input data, 70 internal error (please report it), 77 permission or safety refusal,
130 stopped by Ctrl-C or SIGTERM between two steps (run it again to finish).
`;
}

/**
 * `status | head` closes the pipe early: the rest of the output is dropped instead of an EPIPE stack trace, and the
 * command itself runs to its end (a sync must not stop half-way because its reader went away).
 */
function surviveClosedOutput() {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code !== 'EPIPE') throw e;
      stream.write = (() => true) as typeof stream.write;
    });
  }
}

export async function main(argv: string[]): Promise<number> {
  surviveClosedOutput();

  if (argv.length === 3 && (argv[2] === '--version' || argv[2] === '-V' || argv[2] === 'version')) {
    // --version, -V and version print the same line.
    process.stdout.write(`claude-share ${VERSION}\n`);
    return EXIT.ok;
  }
  let code: number = EXIT.ok;
  try {
    const program = await buildProgram(realRun, (c) => (code = c));
    await program.parseAsync(argv);
    return code;
  } catch (e) {
    return await reportError(e, argv.includes('--json') ? argv : undefined);
  }
}

/** With --json, a refusal is one JSON object on stdout too (scripts parse stdout); the human line stays on stderr. */
async function reportError(e: unknown, jsonArgv?: string[]): Promise<number> {
  // Loaded here, not at the top: --version and --help stay fast.
  const { safeText } = await import('./core/validate.js');
  const err = e as { name?: string; code?: string; exitCode?: number; message?: string; hint?: string };
  if (err?.name === 'CliError') {
    process.stderr.write(`claude-share: ${safeText(err.message ?? '')}\n${err.hint ? `  fix: ${safeText(err.hint)}\n` : ''}`);
    if (jsonArgv) {
      // Loaded only here: --version and --help stay fast.
      const { errorJson } = await import('./core/render.js');
      const words = jsonArgv.slice(2).filter((a) => !a.startsWith('-'));
      const command = words[0] === 'server' ? words[1] : words[0] === 'backups' ? words.slice(0, 2).join(' ') : words[0];
      process.stdout.write(JSON.stringify(errorJson(command, { code: err.code ?? 'error', exitCode: err.exitCode, message: err.message ?? '', hint: err.hint })) + '\n');
    }
    return err.exitCode ?? EXIT.internal;
  }
  if (typeof err?.code === 'string' && err.code.startsWith('commander.')) {
    if (['commander.helpDisplayed', 'commander.version', 'commander.help'].includes(err.code)) return EXIT.ok;
    return EXIT.usage;
  }
  if (err?.name === 'ExitPromptError') {
    process.stderr.write('claude-share: cancelled; nothing was changed after the prompts\n');
    return EXIT.usage;
  }
  // The message may name a path a member chose (ENOENT: … '/proc/self/fd/43/<her bytes>'): never raw to a terminal.
  process.stderr.write(`claude-share: internal error: ${safeText(err?.message ?? String(e))}\n  please report it with the command you ran\n`);
  if (process.env.CLAUDE_SHARE_DEBUG) console.error(e);
  return EXIT.internal;
}

function invokedDirectly(): boolean {
  try {
    return !!process.argv[1] && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url);
  } catch {
    return false;
  }
}

if (invokedDirectly()) {
  main(process.argv).then((code) => {
    process.exitCode = code;
  });
}
