import type { Register } from './types.js';

export const registerSync: Register = (parent, run, done) => {
  parent
    .command('sync')
    .description('repair every drift: promote the freshest valid login, back up and relink every private copy')
    .option('--dry-run', 'print exactly what would happen and change nothing')
    .option('--json', 'print one JSON object')
    .option('-q, --quiet', 'print nothing when nothing changed')
    .option('--cron', 'for cron: no line per heal (syslog has them); problems printed only when they appear or change')
    .option('--user <name>', 'only this managed user')
    .option('--accept-account', 'make the freshest login the shared one even if it is of another account, and keep that account from now on')
    .option('--config <path>', 'config file (default /etc/claude-share/config, or $CLAUDE_SHARE_CONFIG)')
    .action(async (o) => done(await run('sync', { dryRun: !!o.dryRun, json: !!o.json, quiet: !!o.quiet, cron: !!o.cron, user: o.user, config: o.config, acceptAccount: !!o.acceptAccount })));
};
