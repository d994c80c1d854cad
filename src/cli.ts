#!/usr/bin/env node
import { readFileSync, realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import type { Runner } from '../commands/types.js';

/** package.json is two levels up from dist/src/cli.js, one level up from src/cli.ts (tests). */
function readVersion(): string {
  for (const rel of ['../../package.json', '../package.json']) {
    try {
      return JSON.parse(readFileSync(new URL(rel, import.meta.url), 'utf8')).version;
    } catch {
      /* try the next layout */
    }
  }
  return 'unknown';
}

export const VERSION = readVersion();

/** commander wiring only: every command file parses its flags into a typed object and hands it to the runner. */
export async function buildProgram(runner: Runner, done: (code: number) => void): Promise<Command> {
  const [{ Command }, { registerInit }, { registerAddUser }, { registerStatus }, { registerSync }, { registerVersion }, { registerWatch }] = await Promise.all([
    import('commander'),
    import('../commands/init.js'),
    import('../commands/add-user.js'),
    import('../commands/status.js'),
    import('../commands/sync.js'),
    import('../commands/version.js'),
    import('../commands/watch.js'),
  ]);
  const [{ registerRemove }, { registerCompletion }, { registerBackups }, { registerDoctor }, { registerLogin }] = await Promise.all([
    import('../commands/remove.js'),
    import('../commands/completion.js'),
    import('../commands/backups.js'),
    import('../commands/doctor.js'),
    import('../commands/login.js'),
  ]);
  const program = new Command('claude-share')
    .description('share one Claude Code login between the users of one Linux server')
    .version(`claude-share ${VERSION}`, '-V, --version')
    .showHelpAfterError('(run claude-share --help for usage)')
    .exitOverride();
  const server = program.command('server').description('provisioning and healing: init, add-user, status, sync, watch, install-service, install-cron, remove-user, uninstall');
  registerWatch(server, runner, done);
  registerRemove(server, runner, done);
  registerCompletion(program, runner, done);
  registerBackups(program, runner, done);
  registerDoctor(program, runner, done);
  registerLogin(program, runner, done);
  for (const parent of [server, program]) {
    registerInit(parent, runner, done);
    registerAddUser(parent, runner, done);
    registerStatus(parent, runner, done);
    registerSync(parent, runner, done);
  }
  registerVersion(program, runner, done);
  for (const c of allCommands(program)) if (EXAMPLES[c.name()]) c.addHelpText('after', helpFooter(c.name()));
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
};

function helpFooter(name: string): string {
  return `
Runs as root. Example:
  ${EXAMPLES[name]}

Exit codes: 0 ok/healthy, 1 drift that sync repairs (or a conflict a re-run resolves), 2 a problem that needs an
operator, 64 usage, 65 bad input data, 70 internal error (please report it), 77 permission or safety refusal,
130 stopped by Ctrl-C or SIGTERM between two steps (run it again to finish).
`;
}

async function realRunner(): Promise<Runner> {
  const io = async (yes = true) => {
    const { consoleIo } = await import('./console-io.js');
    return consoleIo(yes);
  };
  const core = async () => {
    const [ops, { RealSystem }] = await Promise.all([import('./operations.js'), import('./real-system.js')]);
    return { ops, sys: new RealSystem() };
  };
  return {
    init: async (o) => {
      const { ops, sys } = await core();
      return ops.runInit(sys, o, await io(o.yes));
    },
    addUser: async (o) => {
      const { ops, sys } = await core();
      return ops.runAddUser(sys, o, await io(o.yes));
    },
    status: async (o) => {
      const { ops, sys } = await core();
      return ops.runStatus(sys, o, await io());
    },
    sync: async (o) => {
      const { ops, sys } = await core();
      return ops.runSync(sys, o, await io());
    },
    watch: async (o) => {
      const [{ runWatch }, { sys }] = await Promise.all([import('./watch.js'), core()]);
      return runWatch(sys, o, await io());
    },
    installService: async (o) => {
      const [{ runInstallService }, { sys }] = await Promise.all([import('./service.js'), core()]);
      return runInstallService(sys, o, await io());
    },
    installCron: async (o) => {
      const [{ runInstallCron }, { sys }] = await Promise.all([import('./service.js'), core()]);
      return runInstallCron(sys, o, await io());
    },
    removeUser: async (o) => {
      const { ops, sys } = await core();
      return ops.runRemoveUser(sys, o, await io());
    },
    uninstall: async (o) => {
      const [{ ops, sys }, svc] = await Promise.all([core(), import('./service.js')]);
      return ops.runUninstall(sys, o, await io(o.yes || o.dryRun || o.json), { unit: svc.UNIT_PATH, cron: svc.CRON_PATH, beforeApply: svc.stopService });
    },
    backupsList: async (o) => {
      const [{ runBackupsList }, { sys }] = await Promise.all([import('./backups.js'), core()]);
      return runBackupsList(sys, o, await io());
    },
    backupsRestore: async (o) => {
      const [{ runBackupsRestore }, { sys }] = await Promise.all([import('./backups.js'), core()]);
      return runBackupsRestore(sys, o, await io());
    },
    doctor: async (o) => {
      const [{ runDoctor }, { sys }] = await Promise.all([import('./doctor.js'), core()]);
      return runDoctor(sys, o, await io());
    },
    login: async (o) => {
      const [{ runLogin }, { sys }] = await Promise.all([import('./login.js'), core()]);
      return runLogin(sys, o, await io(false));
    },
    completion: async (shell, program) => {
      const { completionScript } = await import('./completion.js');
      process.stdout.write(completionScript(shell, program));
      return 0;
    },
    version: async () => {
      process.stdout.write(`claude-share ${VERSION}\n`);
      return 0;
    },
  };
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
    return 0;
  }
  let code = 0;
  try {
    const program = await buildProgram(await realRunner(), (c) => (code = c));
    await program.parseAsync(argv);
    return code;
  } catch (e) {
    return await reportError(e, argv.includes('--json') ? argv : undefined);
  }
}

/** With --json, a refusal is one JSON object on stdout too (scripts parse stdout); the human line stays on stderr. */
async function reportError(e: unknown, jsonArgv?: string[]): Promise<number> {
  // Loaded here, not at the top: --version and --help stay fast.
  const { safeText } = await import('./validate.js');
  const err = e as { name?: string; code?: string; exitCode?: number; message?: string; hint?: string };
  if (err?.name === 'CliError') {
    process.stderr.write(`claude-share: ${safeText(err.message ?? '')}\n${err.hint ? `  fix: ${safeText(err.hint)}\n` : ''}`);
    if (jsonArgv) {
      // Loaded only here: --version and --help stay fast.
      const { errorJson } = await import('./render.js');
      const words = jsonArgv.slice(2).filter((a) => !a.startsWith('-'));
      const command = words[0] === 'server' ? words[1] : words[0] === 'backups' ? words.slice(0, 2).join(' ') : words[0];
      process.stdout.write(JSON.stringify(errorJson(command, { code: err.code ?? 'error', exitCode: err.exitCode, message: err.message ?? '', hint: err.hint })) + '\n');
    }
    return err.exitCode ?? 70;
  }
  if (typeof err?.code === 'string' && err.code.startsWith('commander.')) {
    if (['commander.helpDisplayed', 'commander.version', 'commander.help'].includes(err.code)) return 0;
    return 64;
  }
  if (err?.name === 'ExitPromptError') {
    process.stderr.write('claude-share: cancelled; nothing was changed after the prompts\n');
    return 64;
  }
  // The message may name a path a member chose (ENOENT: … '/proc/self/fd/43/<her bytes>'): never raw to a terminal.
  process.stderr.write(`claude-share: internal error: ${safeText(err?.message ?? String(e))}\n  please report it with the command you ran\n`);
  if (process.env.CLAUDE_SHARE_DEBUG) console.error(e);
  return 70;
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
