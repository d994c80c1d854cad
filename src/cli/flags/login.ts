import type { Register } from './types.js';

export const registerLogin: Register = (parent, run, done) => {
  parent
    .command('login')
    .description(
      'renew the shared login (it lives about 30 days): how it stands, which account must sign in and how; with --as NAME --run, the real sign-in as that member on this terminal, then sync',
    )
    .option('--as <user>', 'the managed member who signs in')
    .option('--run', 'run claude auth login as that member now (needs a terminal), then share the new login')
    .option('--accept-account', 'the new login may be of another account: it becomes the shared one (as sync --accept-account)')
    .option('--claude <path>', "the claude to run (default: the one on root's PATH that only root could have installed)")
    .option('--config <path>', 'config file (default /etc/claude-share/config, or $CLAUDE_SHARE_CONFIG)')
    .action(async (o) => done(await run('login', { as: o.as, run: !!o.run, acceptAccount: !!o.acceptAccount, claude: o.claude, config: o.config })));
};
