import type { Register } from './types.js';

export const registerStatus: Register = (parent, run, done) => {
  parent
    .command('status')
    .description('check links, group membership, shared file modes and the login; exit 0 healthy, 1 drift, 2 operator needed')
    .option('--json', 'print one JSON object (schemaVersion 2: README, JSON output)')
    .option('-q, --quiet', 'print nothing when healthy, only the problems otherwise (for cron)')
    .option('--cron', 'for cron: problems printed only when they appear or change, one line when all are resolved')
    .option('--user <name>', 'only this managed user (the shared copies and the login are always checked)')
    .option('--prometheus <file>', 'also write node_exporter textfile metrics to FILE (atomically)')
    .option('--config <path>', 'config file (default /etc/claude-share/config, or $CLAUDE_SHARE_CONFIG)')
    .action(async (o) => done(await run('status', { json: !!o.json, quiet: !!o.quiet, cron: !!o.cron, user: o.user, prometheus: o.prometheus, config: o.config })));
};
