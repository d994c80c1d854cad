import type { Register } from './types.js';

export const registerRemove: Register = (parent, runner, done) => {
  parent
    .command('remove-user')
    .description("give a user private copies of the shared files, take them out of the group and the config (backups are kept)")
    .argument('<name>', 'the managed user')
    .option('--delete-account', 'also delete the account (userdel), keeping its home')
    .option('--remove-home', 'with --delete-account: remove the home too')
    .option('--dry-run', 'print the plan and change nothing')
    .option('--json', 'print one JSON object')
    .option('--config <path>', 'config file (default /etc/claude-share/config, or $CLAUDE_SHARE_CONFIG)')
    .action(async (name: string, o) =>
      done(await runner.removeUser({ name, deleteAccount: !!o.deleteAccount, removeHome: !!o.removeHome, dryRun: !!o.dryRun, json: !!o.json, config: o.config })),
    );
  parent
    .command('uninstall')
    .description('every member gets private copies; the service, cron file and config are removed; the shared directory stays')
    .option('--purge', 'move the shared directory (with its backups) into a root-only archive next to it')
    .option('--dry-run', 'print the plan and change nothing')
    .option('--json', 'print one JSON object')
    .option('--config <path>', 'config file (default /etc/claude-share/config, or $CLAUDE_SHARE_CONFIG)')
    .action(async (o) => done(await runner.uninstall({ purge: !!o.purge, dryRun: !!o.dryRun, json: !!o.json, config: o.config })));
};
