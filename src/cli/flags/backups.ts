import type { Register } from './types.js';

export const registerBackups: Register = (parent, run, done) => {
  const backups = parent.command('backups').description('list the backups root keeps (they hold logins: root-only) and restore one file');
  backups
    .command('list')
    .description('every backup run, newest first: each file, where it came from, its owner and mode there')
    .option('--json', 'print one JSON object')
    .option('--config <path>', 'config file (default /etc/claude-share/config, or $CLAUDE_SHARE_CONFIG)')
    .action(async (o) => done(await run('backupsList', { json: !!o.json, config: o.config })));
  backups
    .command('restore')
    .description('put one backed-up file back where it was (a shared copy into the shared directory, a member file into their home), the current one backed up first')
    .argument('<run/file>', 'as `backups list` prints it, e.g. 2026-11-23T10-00-00.000Z/shared/.claude/settings.json')
    .option('--as-shared', "restore a managed member's file as the shared copy")
    .option('--force', 'replace a live shared login (the live one is backed up first)')
    .option('--dry-run', 'say what would be restored and change nothing')
    .option('--config <path>', 'config file (default /etc/claude-share/config, or $CLAUDE_SHARE_CONFIG)')
    .action(async (what: string, o) => done(await run('backupsRestore', { what, asShared: !!o.asShared, force: !!o.force, dryRun: !!o.dryRun, config: o.config })));
};
