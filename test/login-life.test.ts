import { beforeEach, describe, expect, it } from 'vitest';
import { LOGIN_STATE } from '../src/engine/login-life.js';
import { runInit } from '../src/commands/init.js';
import { runStatus } from '../src/commands/status.js';
import { runSync } from '../src/commands/sync.js';
import { captureIo, creds, HOUR, initOpts, machineWithRootLogin } from './helpers/fixtures.js';
import type { MemorySystem } from './helpers/memory-system.js';

// A login lives about 30 days whatever the refreshes (claude-code-facts.md): status shows its end and warns (exit 1)
// from 7 days before; the end is refreshTokenExpiresAt, or 30 days after claude-share first saw the login.
const DAY = 24 * HOUR;
const CFG = '/etc/claude-share/config';
const SHARED_CREDS = '/shared/claude-share/home/.claude/.credentials.json';
let sys: MemorySystem;

const status = (extra = {}) => {
  const io = captureIo();
  const code = runStatus(sys, { json: false, quiet: false, config: CFG, ...extra }, io);
  return { code, text: io.lines.join('\n'), io };
};
const statusDoc = () => {
  const io = captureIo();
  const code = runStatus(sys, { json: true, quiet: false, config: CFG }, io);
  return { code, doc: JSON.parse(io.lines.join('\n')) };
};
const sync = () => runSync(sys, { dryRun: false, json: false, quiet: false, config: CFG }, captureIo());
const setShared = (json: string) => (sys.files.get(SHARED_CREDS)!.content = Buffer.from(json));
/** A member's client refreshed 8 hours on (a version that drops refreshTokenExpiresAt), and sync promoted it. */
const refreshAndSync = async () => {
  setShared(creds(sys.clock + 8 * HOUR, { account: 'acct-1' }));
  expect(await sync()).toBe(0);
};

beforeEach(async () => {
  sys = machineWithRootLogin(Date.parse('2026-11-23T12:00:00Z') + 2 * HOUR);
  sys.addFile('/root/users', 'alice:a\n', 0, 0, 0o600);
  expect(await runInit(sys, initOpts({ usersFromFile: '/root/users' }), captureIo())).toBe(0);
});

describe("the login's end", () => {
  it('refreshTokenExpiresAt decides when the shared copy has it: shown, in JSON and Prometheus; a warning and exit 1 from 7 days before', async () => {
    setShared(creds(sys.clock + 8 * HOUR, { account: 'acct-1', extra: {} }).replace('"scopes"', `"refreshTokenExpiresAt":${sys.clock + 20 * DAY},"scopes"`));
    let s = status();
    expect(s.code).toBe(0);
    expect(s.text).toMatch(/login ends \S+ \(in 20 days\)/);
    let j = statusDoc();
    expect(j.doc.login).toMatchObject({ endsAtEstimated: false, daysLeft: 20 });
    sys.clock += 14 * DAY;
    setShared(creds(sys.clock + 8 * HOUR, { account: 'acct-1' }).replace('"scopes"', `"refreshTokenExpiresAt":${sys.clock + 6 * DAY},"scopes"`));
    s = status();
    expect(s.code).toBe(1);
    expect(s.text).toMatch(/\[login-ending\] the shared login ends in 6 days/);
    j = statusDoc();
    expect(j.doc.healthy).toBe(false);
    expect(j.doc.problems.map((p: { code: string }) => p.code)).toContain('login-ending');
    sys.addDir('/var/lib/prom', 0, 0, 0o755);
    status({ prometheus: '/var/lib/prom/cs.prom' });
    expect(sys.content('/var/lib/prom/cs.prom')).toMatch(/^claude_share_login_ends_in_seconds\{estimated="false"\} 518400$/m);
  });

  it('without it, 30 days after claude-share first saw the login (init or sync records it; status only reads); refreshes do not move it', async () => {
    const first = sys.clock;
    expect(sys.lstat(LOGIN_STATE)).not.toBeNull();
    const before = sys.snapshot();
    expect(statusDoc().doc.login).toMatchObject({ endsAt: new Date(first + 30 * DAY).toISOString(), endsAtEstimated: true, daysLeft: 30 });
    expect(sys.snapshot()).toBe(before);
    for (let d = 0; d < 24; d++) {
      sys.clock += DAY;
      await refreshAndSync();
    }
    const s = status();
    expect(s.code).toBe(1);
    expect(s.text).toMatch(/login-ending\] the shared login ends in 6 days .*estimated/);
    expect(statusDoc().doc.login.endsAt).toBe(new Date(first + 30 * DAY).toISOString());
  });

  it('a new login after a logout (or of another account) starts a new 30 days', async () => {
    sys.clock += 25 * DAY;
    await refreshAndSync();
    expect(status().code).toBe(1);
    // Logged out everywhere, then someone logs in again: the first sync that sees it usable again records it anew.
    setShared(JSON.stringify({ claudeAiOauth: { accessToken: '', refreshToken: '', expiresAt: 0, accountUuid: 'acct-1' } }));
    await sync();
    setShared(creds(sys.clock + 8 * HOUR, { account: 'acct-1' }));
    expect(await sync()).toBe(0);
    const j = statusDoc();
    expect(j.code).toBe(0);
    expect(j.doc.login).toMatchObject({ daysLeft: 30, endsAtEstimated: true });
  });

  it('a sighting a member could not have written: the state is root-only, and a forged or absurd one is ignored', async () => {
    const st = sys.lstat(LOGIN_STATE)!;
    expect(st).toMatchObject({ uid: 0, mode: 0o600 });
    sys.files.get(LOGIN_STATE)!.content = Buffer.from('{"account":"acct-1","firstSeenMs":1e300}');
    expect(statusDoc().doc.login.endsAt).toBeNull();
    expect(status().code).toBe(0);
  });
});
