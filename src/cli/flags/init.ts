import type { Register } from './types.js';
import { collect } from './types.js';

export const registerInit: Register = (parent, run, done) => {
  parent
    .command('init')
    .description('create the group, the shared directory, the users, and link their Claude login files to one shared copy')
    .option('--shared-dir <dir>', 'shared directory (default /shared/claude-share)')
    .option('--group <name>', 'POSIX group of the members (default claudeshare)')
    .option('--source-user <user>', 'user whose Claude login seeds the shared copy (default root)')
    .option('--users-from-file <file>', 'lines name:password; root-owned, mode 0600')
    .option('--user <name[:password]>', 'a user to manage (repeatable); a password here is visible in ps', collect, [])
    .option('--no-password', 'create accounts with a locked password (SSH keys only)')
    .option('--settings-local', "share .claude/settings.local.json too (the default for a new setup); on a live one, members' own copies go to the backups")
    .option('--no-settings-local', 'keep .claude/settings.local.json private; on a live setup every member gets a private copy of the shared one')
    .option('--copy-full-claude-json', "seed the shared .claude.json with the source's whole file (projects, mcpServers)")
    .option('--keep-source-copy', "keep the source user's own credentials (dangerous: the refresh token forks)")
    .option('--adopt-group', 'use an existing non-system group that has members init does not manage: they all get the shared login')
    .option('-y, --yes', 'never prompt; missing values are errors')
    .option('--dry-run', 'print the plan and change nothing')
    .option('--json', 'print one JSON object')
    .option('--config <path>', 'config file (default /etc/claude-share/config, or $CLAUDE_SHARE_CONFIG)')
    .action(async (o) => {
      done(
        await run('init', {
          sharedDir: o.sharedDir,
          group: o.group,
          sourceUser: o.sourceUser,
          usersFromFile: o.usersFromFile,
          user: o.user,
          noPassword: o.password === false,
          // Both flags defined: undefined when neither is given, so a re-run keeps what the config says.
          settingsLocal: o.settingsLocal,
          copyFullClaudeJson: !!o.copyFullClaudeJson,
          keepSourceCopy: !!o.keepSourceCopy,
          adoptGroup: !!o.adoptGroup,
          dryRun: !!o.dryRun,
          json: !!o.json,
          config: o.config,
          yes: !!o.yes,
        }),
      );
    });
};
