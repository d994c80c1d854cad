import type { Register } from './types.js';

const CONFIG = ['--config <path>', 'config file (default /etc/claude-share/config, or $CLAUDE_SHARE_CONFIG)'] as const;

export const registerContainer: Register = (parent, run, done) => {
  parent
    .command('add-container')
    .description('an account (no login shell) whose home a container mounts as HOME: linked, healed and checked like a member')
    .argument('<name>', 'the account and container name, e.g. agent1')
    .option('--dry-run', 'print exactly what would happen and change nothing')
    .option('--json', 'print one JSON object')
    .option(...CONFIG)
    .action(async (name: string, o) => done(await run('addContainer', { name, dryRun: !!o.dryRun, json: !!o.json, config: o.config })));
  parent
    .command('container-args')
    .description('what to add to docker run, a compose service or devcontainer.json for that container')
    .argument('<name>', 'a container added with add-container')
    .option('--format <format>', 'docker, compose or devcontainer', 'docker')
    .option(...CONFIG)
    .action(async (name: string, o) => done(await run('containerArgs', { name, format: o.format, config: o.config })));
  parent
    .command('remove-container')
    .description('the container leaves: its account goes, its home and the backups stay')
    .argument('<name>', 'a container added with add-container')
    .option('--dry-run', 'print exactly what would happen and change nothing')
    .option('--json', 'print one JSON object')
    .option(...CONFIG)
    .action(async (name: string, o) => done(await run('removeContainer', { name, dryRun: !!o.dryRun, json: !!o.json, config: o.config })));
};
