import { dataError, EXIT, usageError } from '../core/errors.js';
import { sharedStore } from '../core/items.js';
import { TOKEN_ENV_FILE } from '../core/token.js';
import { shellQuote } from '../core/untrusted.js';
import { assertValidName, isReserved, printable } from '../core/validate.js';
import { type Config, configPath, requireConfig } from '../engine/config.js';
import { configAction, converge, desiredFrom, preflight, underLock } from '../engine/converge.js';
import type { Io } from '../engine/io.js';
import type { System } from '../system/system.js';
import { runRemoveUser } from './remove-user.js';

/**
 * Containers managed like members. A container gets an account of its own (a uid in the group, no login shell, no
 * password) whose home on the host is what the container mounts as its HOME: claude-share links the four files
 * there, heals them when a refresh inside the container severs one (the watcher sees the host directory), and status
 * checks them, exactly as for a member. A rebuilt container finds its login where it left it: on the host.
 * HOME rather than CLAUDE_CONFIG_DIR: that variable moves .claude.json into the config directory, a layout no
 * member has; with HOME the container's files are where every member's are.
 */
export interface ContainerOptions {
  name: string;
  dryRun: boolean;
  json: boolean;
  config?: string;
}

export async function runAddContainer(sys: System, o: ContainerOptions, io: Io): Promise<number> {
  preflight(sys);
  assertValidName(o.name, 'container name');
  const cfgPath = configPath(o.config);
  const pre = requireConfig(sys, cfgPath);
  if (isReserved(o.name) || o.name === pre.group) throw dataError(`${o.name} cannot be a container: it is a system name or the group's`, 'choose another name, e.g. agent1');
  // A new account only: a person's account turned into a container's would lose its shell.
  if (sys.getUser(o.name) && !pre.containers.includes(o.name))
    throw dataError(`an account ${o.name} exists already`, `choose a new name for the container (add-user adopts existing accounts as members)`);
  return underLock(sys, o.dryRun, async () => {
    const c = requireConfig(sys, cfgPath);
    const config: Config = { ...c, managedUsers: [...new Set([...c.managedUsers, o.name])], containers: [...new Set([...c.containers, o.name])] };
    const desired = desiredFrom(config, { createUsers: sys.getUser(o.name) ? [] : [o.name], onlyUsers: [o.name] });
    const { code } = await converge(sys, io, { desired, dryRun: o.dryRun, json: o.json, command: 'add-container', extra: () => configAction(sys, cfgPath, config) });
    if (!o.dryRun && !o.json && code === EXIT.ok) io.err(`next: claude-share server container-args ${o.name} --format docker|compose|devcontainer`);
    return code;
  });
}

export async function runRemoveContainer(sys: System, o: ContainerOptions, io: Io): Promise<number> {
  const c = requireConfig(sys, configPath(o.config));
  if (!c.containers.includes(o.name)) throw dataError(`${printable(o.name)} is not a container here`, `containers: ${c.containers.join(', ') || '(none)'}`);
  // Its account goes; its home stays (what Claude wrote there, its projects and history, are kept), root's alone
  // from now on: the freed uid goes to the next account useradd makes, which must not inherit it.
  const home = sys.getUser(o.name)?.home;
  const code = await runRemoveUser(sys, { name: o.name, deleteAccount: true, removeHome: false, dryRun: o.dryRun, json: o.json, config: o.config }, io);
  if (!o.dryRun && home && !sys.getUser(o.name) && sys.lstat(home)?.type === 'dir') {
    sys.mkdir(home, 0o700, 0, 0);
    io.err(`kept ${home}, now root's alone (0700)`);
  }
  return code;
}

export interface ContainerArgsOptions {
  name: string;
  format: string;
  config?: string;
}

/** What to add to `docker run`, a compose service or devcontainer.json, for a container added with add-container. */
export function runContainerArgs(sys: System, o: ContainerArgsOptions, io: Io): number {
  const c = requireConfig(sys, configPath(o.config));
  if (!['docker', 'compose', 'devcontainer'].includes(o.format)) throw usageError(`--format ${printable(o.format)}: docker, compose or devcontainer`);
  if (!c.containers.includes(o.name)) throw dataError(`${printable(o.name)} is not a container here`, `add it: claude-share server add-container ${printable(o.name)}`);
  const u = sys.getUser(o.name);
  const g = sys.getGroup(c.group);
  if (!u || !g) throw dataError(`the account ${o.name} or the group ${c.group} is missing`, 'run: claude-share sync');
  const store = sharedStore(c.sharedDir);
  // The links in the home are absolute: the shared copies must be at the same path inside.
  const mounts = [
    [u.home, u.home],
    [store, store],
  ];
  const token = !!sys.lstat(TOKEN_ENV_FILE);
  // The container's processes write into the shared copies' directory (setgid, group-executable): none of them may
  // ever become root or another uid there (a setuid binary planted for the members). No new privileges, no
  // capabilities, and every process as the container's account (devcontainer's remoteUser too, not the image's).
  const user = `${u.uid}:${u.gid}`;
  const text =
    o.format === 'docker'
      ? [
          `--user ${user} --group-add ${g.gid} --security-opt no-new-privileges --cap-drop ALL`,
          ...mounts.map(([s, t]) => `--volume ${shellQuote(`${s}:${t}`)}`),
          `--env HOME=${shellQuote(u.home)}`,
          ...(token ? [`--env-file ${TOKEN_ENV_FILE}`] : []),
        ].join(' \\\n  ')
      : o.format === 'compose'
        ? [
            `    user: "${user}"`,
            `    group_add: ["${g.gid}"]`,
            `    security_opt: ["no-new-privileges:true"]`,
            `    cap_drop: [ALL]`,
            `    volumes:`,
            ...mounts.map(([s, t]) => `      - ${JSON.stringify(`${s}:${t}`)}`),
            `    environment:`,
            `      HOME: ${JSON.stringify(u.home)}`,
            ...(token ? [`    env_file: ${TOKEN_ENV_FILE}`] : []),
          ].join('\n')
        : JSON.stringify(
            {
              runArgs: ['--user', user, '--group-add', String(g.gid), '--security-opt', 'no-new-privileges', '--cap-drop', 'ALL', ...(token ? ['--env-file', TOKEN_ENV_FILE] : [])],
              mounts: mounts.map(([s, t]) => `source=${s},target=${t},type=bind`),
              containerUser: user,
              remoteUser: user,
              containerEnv: { HOME: u.home },
              updateRemoteUserUID: false,
            },
            null,
            2,
          );
  io.out(text);
  return EXIT.ok;
}
