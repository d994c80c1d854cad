import type { Command } from 'commander';
import type { Register } from './types.js';

/** The options every container command shares. */
const withConfig = (c: Command) => c.option('--config <path>', 'config file (default /etc/claude-share/config, or $CLAUDE_SHARE_CONFIG)');
const acting = (c: Command) => withConfig(c.option('--dry-run', 'print exactly what would happen and change nothing').option('--json', 'print one JSON object'));

export const registerContainer: Register = (parent, run, done) => {
  acting(
    parent
      .command('add-container')
      .description('an account (no login shell) whose home a container mounts as HOME: linked, healed and checked like a member')
      .argument('<name>', 'the account and container name, e.g. agent1'),
  ).action(async (name: string, o) => done(await run('addContainer', { name, dryRun: !!o.dryRun, json: !!o.json, config: o.config })));
  withConfig(
    parent
      .command('container-args')
      .description('what to add to docker run, a compose service or devcontainer.json for that container')
      .argument('<name>', 'a container added with add-container')
      .option('--format <format>', 'docker, compose or devcontainer', 'docker'),
  ).action(async (name: string, o) => done(await run('containerArgs', { name, format: o.format, config: o.config })));
  acting(
    parent.command('remove-container').description('the container leaves: its account goes, its home (made root-only) and the backups stay').argument('<name>', 'a container added with add-container'),
  ).action(async (name: string, o) => done(await run('removeContainer', { name, dryRun: !!o.dryRun, json: !!o.json, config: o.config })));
};
