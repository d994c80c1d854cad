import type { Register } from './types.js';

export const registerToken: Register = (parent, run, done) => {
  const token = parent.command('token').description('the long-lived token mode for agents and containers: set, show, remove (claude setup-token makes one)');
  const sub = (name: string, description: string) => token.command(name).description(description).option('--config <path>', 'config file (default /etc/claude-share/config, or $CLAUDE_SHARE_CONFIG)');
  sub('set', "store a setup-token for root and the group, and export it in members' login shells; read from stdin (or asked without echo), never from argv")
    .option('--from-file <file>', 'read it from a root-owned 0600 file instead of stdin')
    .action(async (o) => done(await run('token', { action: 'set', fromFile: o.fromFile, config: o.config })));
  sub('show', 'the token masked, when it was set and the days left of its year; exit 1 within 30 days of its end, 2 when unusable')
    .option('--json', 'print one JSON object')
    .action(async (o) => done(await run('token', { action: 'show', json: !!o.json, config: o.config })));
  sub('remove', 'remove the token (a root-only copy is kept in /var/lib/claude-share) and the login-shell export').action(async (o) =>
    done(await run('token', { action: 'remove', config: o.config })),
  );
};
