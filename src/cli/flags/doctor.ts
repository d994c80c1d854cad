import type { Register } from './types.js';

export const registerDoctor: Register = (parent, run, done) => {
  parent
    .command('doctor')
    .description(
      'status for members, plus what only their side shows: is the installed claude, run as them, logged in; do their running sessions have the group and a umask that keeps group access; which client version and how it writes the login. Exit codes as status',
    )
    .argument('[user]', 'the member to check')
    .option('--all', 'check every managed member')
    .option('--claude <path>', "the claude to run as the members (default: the one on root's PATH that only root could have installed)")
    .option('--json', 'print one JSON object (schemaVersion 2)')
    .option('--config <path>', 'config file (default /etc/claude-share/config, or $CLAUDE_SHARE_CONFIG)')
    .action(async (user: string | undefined, o) => done(await run('doctor', { user, all: !!o.all, claude: o.claude, json: !!o.json, config: o.config })));
};
