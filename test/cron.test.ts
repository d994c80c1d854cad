import { beforeEach, describe, expect, it } from 'vitest';
import { runInit } from '../src/commands/init.js';
import { runStatus } from '../src/commands/status.js';
import { runSync } from '../src/commands/sync.js';
import { CRON_PATH, runInstallCron } from '../src/commands/service.js';
import { CliError } from '../src/core/errors.js';
import { captureIo, creds, HOUR, initOpts, machineWithRootLogin } from './helpers/fixtures.js';
import type { MemorySystem } from './helpers/memory-system.js';

const NOW = Date.parse('2026-11-23T12:00:00Z');
const SH = '/shared/claude-share/home/.claude';
const CFG = '/etc/claude-share/config';
let sys: MemorySystem;

const cronSync = async () => {
  const io = captureIo();
  const code = await runSync(sys, { dryRun: false, json: false, quiet: false, cron: true, config: CFG }, io);
  return { code, out: [...io.lines, ...io.errors].join('\n') };
};

beforeEach(async () => {
  sys = machineWithRootLogin(NOW + 2 * HOUR);
  sys.addFile('/root/users', 'alice:a\nbob:b\n', 0, 0, 0o600);
  expect(await runInit(sys, initOpts({ usersFromFile: '/root/users' }), captureIo())).toBe(0);
});

describe('cron: root is mailed what needs a human, once', () => {
  it('install-cron refuses without a cron daemon (2, the fix named, nothing written), and writes the --cron line with one', () => {
    const io = captureIo();
    let err: unknown;
    try {
      runInstallCron(sys, { uninstall: false, heal: true }, io);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(CliError);
    expect((err as CliError).exitCode).toBe(2);
    expect((err as CliError).message).toMatch(/no cron daemon is installed/);
    expect(sys.lstat(CRON_PATH)).toBeNull();
    for (const d of ['/usr', '/usr/sbin']) sys.addDir(d, 0, 0, 0o755);
    sys.addFile('/usr/sbin/cron', '', 0, 0, 0o755);
    expect(runInstallCron(sys, { uninstall: false, heal: true }, io)).toBe(0);
    expect(sys.content(CRON_PATH)).toMatch(/^\* \* \* \* \* root \S+ sync --cron$/m);
    expect(runInstallCron(sys, { uninstall: false, heal: false }, io)).toBe(0);
    expect(sys.content(CRON_PATH)).toMatch(/^\*\/5 \* \* \* \* root \S+ status --cron$/m);
  });

  it('sync --cron: a routine heal prints nothing (syslog has it); a warning is printed when it appears, not again; its end is one line', async () => {
    expect((await cronSync()).out).toBe('');
    // A routine token refresh: alice's link replaced by a fresher private login.
    sys.addFile('/home/alice/.claude/.credentials.json', creds(NOW + 8 * HOUR, { account: 'acct-1' }), sys.getUser('alice')!.uid, sys.getUser('alice')!.uid, 0o600).mtimeMs = sys.clock++;
    const heal = await cronSync();
    expect(heal.code).toBe(0);
    expect(heal.out).toBe('');
    expect(JSON.parse(sys.content(`${SH}/.credentials.json`)!).claudeAiOauth.expiresAt).toBe(NOW + 8 * HOUR);
    expect(sys.logs.join('\n')).toMatch(/promote-shared user=alice/);
    // A warning that needs a human: hooks in the shared settings.
    sys.files.get(`${SH}/settings.json`)!.content = Buffer.from('{"hooks":{"Stop":[{"command":"curl x"}]}}\n');
    const first = await cronSync();
    expect(first.out).toMatch(/1 problem .*reported again only when they change/);
    expect(first.out).toMatch(/shared-runs-commands/);
    expect((await cronSync()).out).toBe('');
    sys.files.get(`${SH}/settings.json`)!.content = Buffer.from('{}\n');
    expect((await cronSync()).out).toMatch(/every problem reported before is resolved/);
    expect((await cronSync()).out).toBe('');
    expect(sys.lstat('/var/lib/claude-share')).toMatchObject({ uid: 0, mode: 0o700 });
  });

  it('status --cron reports drift once, and again when it changes', async () => {
    const status = () => {
      const io = captureIo();
      const code = runStatus(sys, { json: false, quiet: false, cron: true, config: CFG }, io);
      return { code, out: io.lines.join('\n') };
    };
    expect(status().out).toBe('');
    sys.files.delete('/home/alice/.claude/settings.json');
    const a = status();
    expect(a.code).toBe(1);
    expect(a.out).toMatch(/alice/);
    expect(status().out).toBe('');
    sys.files.delete('/home/bob/.claude/settings.json');
    expect(status().out).toMatch(/bob/);
  });
});
