import type { Register } from './types.js';

export const registerWatch: Register = (parent, run, done) => {
  parent
    .command('watch')
    .description('run in the foreground and heal every member within about a second of a Claude write (for systemd)')
    .option('--debounce <ms>', 'wait this long after an event before healing', '200')
    .option('--sweep <minutes>', 'full sync every N minutes, for missed events', '5')
    .option('--config <path>', 'config file (default /etc/claude-share/config, or $CLAUDE_SHARE_CONFIG)')
    .action(async (o) => {
      const debounceMs = Number(o.debounce);
      const sweepMinutes = Number(o.sweep);
      if (!(debounceMs >= 0 && debounceMs <= 60_000) || !(sweepMinutes > 0 && sweepMinutes <= 1440)) {
        const { usageError } = await import('../../core/errors.js');
        throw usageError('--debounce takes 0 to 60000 ms and --sweep 1 to 1440 minutes');
      }
      done(await run('watch', { debounceMs, sweepMinutes, config: o.config }));
    });
  parent
    .command('install-service')
    .description('write and enable claude-share-watch.service (systemd)')
    .option('--uninstall', 'disable and remove it')
    .option('--config <path>', 'config file')
    .action(async (o) => done(await run('installService', { uninstall: !!o.uninstall, config: o.config })));
  parent
    .command('install-cron')
    .description('write /etc/cron.d/claude-share: status --cron every 5 minutes, or sync --cron every minute with --heal (root is mailed only when problems appear or change)')
    .option('--heal', 'run sync --cron every minute instead of status')
    .option('--uninstall', 'remove it')
    .action(async (o) => done(await run('installCron', { uninstall: !!o.uninstall, heal: !!o.heal })));
};
