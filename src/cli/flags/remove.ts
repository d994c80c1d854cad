import type { Register } from './types.js';

export const registerRemove: Register = (parent, run, done) => {
  parent
    .command('remove-user')
    .description('give a user private copies of the shared files, take them out of the group and the config (backups are kept)')
    .argument('<name>', 'the managed user')
    .option('--delete-account', 'also delete the account (userdel), keeping its home')
    .option('--remove-home', 'with --delete-account: remove the home too')
    .option('--dry-run', 'print the plan and change nothing')
    .option('--json', 'print one JSON object')
    .option('--config <path>', 'config file (default /etc/claude-share/config, or $CLAUDE_SHARE_CONFIG)')
    .action(async (name: string, o) => done(await run('removeUser', { name, deleteAccount: !!o.deleteAccount, removeHome: !!o.removeHome, dryRun: !!o.dryRun, json: !!o.json, config: o.config })));
  parent
    .command('uninstall')
    .description('every member gets private copies (the login only with --keep-login); the service, cron file and config are removed; the shared directory stays')
    .option('--purge', 'move the shared directory (with its backups) into a root-only archive next to it')
    .option('--keep-login <user>', 'this one member keeps the live shared login (a copy for several would log the others out)')
    .option('--shared-dir <dir>', 'with --purge after a plain uninstall (the config is gone): where the shared directory is')
    .option('-y, --yes', 'do not ask for confirmation on a terminal')
    .option('--dry-run', 'print the plan and change nothing')
    .option('--json', 'print one JSON object')
    .option('--config <path>', 'config file (default /etc/claude-share/config, or $CLAUDE_SHARE_CONFIG)')
    .action(async (o) => done(await run('uninstall', { purge: !!o.purge, dryRun: !!o.dryRun, json: !!o.json, config: o.config, keepLogin: o.keepLogin, sharedDir: o.sharedDir, yes: !!o.yes })));
};
