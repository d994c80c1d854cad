import type { Command } from 'commander';
import type { Io } from '../engine/io.js';
import type { System } from '../system/system.js';

/** A command's handler: the options its flags parsed (src/cli/flags), the machine, the terminal; its exit code. */
type Handler<O> = (sys: System, o: O, io: Io) => Promise<number> | number;
interface Entry<O> {
  /** Loaded only when the command runs: --help and --version never load the engine. */
  load: () => Promise<Handler<O>>;
  /** May it ask questions on a terminal? (never unless it says so) */
  prompts?: (o: O) => boolean;
  /** Each output line written at once (a long-running log, a terminal handed to a member's program). */
  streaming?: boolean;
}
const entry = <O>(load: () => Promise<Handler<O>>, prompts?: (o: O) => boolean, streaming?: boolean): Entry<O> => ({ load, prompts, streaming });

/**
 * THE list of commands. The flags name an id from here; the options type of each id is its handler's, so a flag
 * file, the real run and the test stub cannot disagree about what a command takes.
 */
export const COMMANDS = {
  init: entry(
    async () => (await import('../commands/init.js')).runInit,
    (o) => !o.yes,
  ),
  addUser: entry(
    async () => (await import('../commands/add-user.js')).runAddUser,
    (o) => !o.yes,
  ),
  status: entry(async () => (await import('../commands/status.js')).runStatus),
  sync: entry(async () => (await import('../commands/sync.js')).runSync),
  watch: entry(async () => (await import('../commands/watch.js')).runWatch, undefined, true),
  installService: entry(async () => (await import('../commands/service.js')).runInstallService),
  installCron: entry(async () => (await import('../commands/service.js')).runInstallCron),
  removeUser: entry(async () => (await import('../commands/remove-user.js')).runRemoveUser),
  uninstall: entry(
    async () => (await import('../commands/uninstall.js')).runUninstall,
    (o) => !(o.yes || o.dryRun || o.json),
  ),
  backupsList: entry(async () => (await import('../commands/backups.js')).runBackupsList),
  backupsRestore: entry(async () => (await import('../commands/backups.js')).runBackupsRestore),
  doctor: entry(async () => (await import('../commands/doctor.js')).runDoctor),
  token: entry(async () => (await import('../commands/token.js')).runToken),
  addContainer: entry(async () => (await import('../commands/container.js')).runAddContainer),
  containerArgs: entry(async () => (await import('../commands/container.js')).runContainerArgs),
  removeContainer: entry(async () => (await import('../commands/container.js')).runRemoveContainer),
  usage: entry(async () => (await import('../commands/usage.js')).runUsage, undefined, true),
  login: entry(
    async () => (await import('../commands/login.js')).runLogin,
    () => true,
    true,
  ),
  client: entry(
    async () => {
      const [{ runClient }, host] = await Promise.all([import('../commands/workspace.js'), workspaceHost()]);
      return (_sys, o: import('../commands/workspace.js').ClientOptions) => runClient(host, o);
    },
    undefined,
    true,
  ),
  tunnel: entry(
    async () => {
      const [{ runTunnelServerSide }, host] = await Promise.all([import('../commands/tunnel.js'), workspaceHost()]);
      return (_sys, o: import('../commands/tunnel.js').TunnelOptions) => runTunnelServerSide(host, o);
    },
    undefined,
    true,
  ),
  completion: entry(async () => {
    const { completionScript } = await import('./completion.js');
    return (_sys, o: { shell: string; program: Command }) => (process.stdout.write(completionScript(o.shell, o.program)), 0);
  }),
  version: entry(async () => {
    const { VERSION } = await import('./version.js');
    return (_sys, _o: Record<string, never>, io) => (io.out(`claude-share ${VERSION}`), 0);
  }),
};

/** Workspace mode runs as the member, on their machine or through a forced command: not through System (root's). */
async function workspaceHost() {
  const [{ realWorkspaceHost }, { VERSION }, { fileURLToPath }] = await Promise.all([import('../system/workspace-host.js'), import('./version.js'), import('node:url')]);
  return realWorkspaceHost(VERSION, fileURLToPath(new URL('../cli.js', import.meta.url)));
}

export type CommandId = keyof typeof COMMANDS;
export type OptionsOf<K extends CommandId> = (typeof COMMANDS)[K] extends Entry<infer O> ? O : never;
/** What a flag file calls: the real one below, or a test's recorder. */
export type Run = <K extends CommandId>(id: K, o: OptionsOf<K>) => Promise<number>;

export const realRun: Run = async (id, o) => {
  const e = COMMANDS[id] as Entry<typeof o>;
  const [handler, { RealSystem }, { consoleIo }] = await Promise.all([e.load(), import('../system/real-system.js'), import('./console-io.js')]);
  const io = consoleIo(!(e.prompts?.(o) ?? false), e.streaming);
  try {
    return await handler(new RealSystem(), o, io);
  } finally {
    io.flush();
  }
};
