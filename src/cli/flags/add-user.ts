import type { Register } from './types.js';

export const registerAddUser: Register = (parent, run, done) => {
  parent
    .command('add-user')
    .description('create one more managed user, or adopt an existing account (its private files are backed up)')
    .argument('<name>', 'the user')
    .option('--password <password>', 'password of a new account (visible in ps: prefer --password-from-file)')
    .option('--password-from-file <file>', 'file holding the password; root-owned, mode 0600')
    .option('--no-password', 'create the account with a locked password (SSH keys only)')
    .option('--allow-system-user', 'allow adopting an account with uid below 1000')
    .option('-y, --yes', 'never prompt')
    .option('--dry-run', 'print the plan and change nothing')
    .option('--json', 'print one JSON object')
    .option('--config <path>', 'config file (default /etc/claude-share/config, or $CLAUDE_SHARE_CONFIG)')
    .action(async (name: string, o) => {
      done(
        await run('addUser', {
          name,
          password: typeof o.password === 'string' ? o.password : undefined,
          passwordFromFile: o.passwordFromFile,
          noPassword: o.password === false,
          allowSystemUser: !!o.allowSystemUser,
          dryRun: !!o.dryRun,
          json: !!o.json,
          config: o.config,
          yes: !!o.yes,
        }),
      );
    });
};
