import type { Register } from './types.js';

export const registerUsage: Register = (parent, run, done) => {
  const usage = parent.command('usage').description("who used the shared subscription, from Claude Code's own telemetry attributed by the kernel: report (the default), enable, disable, receive");
  usage
    .command('report', { isDefault: true })
    .description('per member: sessions, requests, tokens by type, estimated USD, last seen')
    .option('--since <when>', 'how far back: 12h, 30d, 2w or a date (2026-11-01)', '30d')
    .option('--by <key>', 'group by user, day or model', 'user')
    .option('--json', 'print one JSON object')
    .action(async (o) => done(await run('usage', { action: 'report', since: o.since, by: o.by, json: !!o.json })));
  usage
    .command('enable')
    .description("turn Claude Code's telemetry on for every user of this machine (a managed-settings drop-in) and start the receiver on 127.0.0.1")
    .option('--port <port>', "the receiver's port on 127.0.0.1 (default 931: below 1024, so no member can take it while the receiver restarts)")
    .action(async (o) => done(await run('usage', { action: 'enable', port: o.port })));
  usage
    .command('disable')
    .description("remove the drop-in and the receiver's unit; the rows stay")
    .action(async () => done(await run('usage', { action: 'disable' })));
  usage
    .command('receive')
    .description('the receiver itself, in the foreground (what the unit runs)')
    .option('--port <port>', 'the port (default: the one enable wrote)')
    .action(async (o) => done(await run('usage', { action: 'receive', port: o.port })));
};
