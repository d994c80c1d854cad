import type { Io } from '../../src/engine/io.js';
import { MemorySystem } from './memory-system.js';

export const HOUR = 3600_000;

export function creds(expiresAt: number, opts: { refresh?: string; account?: string; extra?: Record<string, unknown> } = {}) {
  const refresh = opts.refresh ?? `sk-ant-ort01-${expiresAt}`;
  return JSON.stringify({
    claudeAiOauth: {
      accessToken: refresh ? `sk-ant-oat01-${expiresAt}` : '',
      refreshToken: refresh,
      expiresAt,
      scopes: ['user:inference'],
      subscriptionType: 'max',
      ...(opts.account ? { accountUuid: opts.account } : {}),
    },
    mcpOAuth: {},
    ...opts.extra,
  });
}

export function captureIo(): Io & { lines: string[]; errors: string[] } {
  const lines: string[] = [];
  const errors: string[] = [];
  return { lines, errors, out: (l) => lines.push(l), err: (l) => errors.push(l), style: { color: false }, interactive: false };
}

/** A machine where root is logged in to Claude. */
export function machineWithRootLogin(expiresAt: number) {
  const sys = new MemorySystem();
  sys.addDir('/root/.claude', 0, 0, 0o700);
  sys.addFile('/root/.claude/.credentials.json', creds(expiresAt, { account: 'acct-1' }), 0, 0, 0o600);
  sys.addFile(
    '/root/.claude.json',
    JSON.stringify({ oauthAccount: { accountUuid: 'acct-1', emailAddress: 'a@example.com' }, hasCompletedOnboarding: true, projects: { '/root/secret': {} }, mcpServers: { x: { command: 'evil' } } }),
    0,
    0,
    0o600,
  );
  sys.addFile('/root/.claude/settings.json', '{"theme":"dark"}', 0, 0, 0o644);
  return sys;
}

export const initOpts = (extra: Record<string, unknown> = {}) => ({
  user: [] as string[],
  noPassword: false,
  settingsLocal: true,
  copyFullClaudeJson: false,
  keepSourceCopy: false,
  dryRun: false,
  json: false,
  yes: true,
  config: '/etc/claude-share/config',
  ...extra,
});

/** A machine where root is logged in (token valid 2 more hours), after `server init` of these name:password lines. */
export async function initializedMachine(users = 'alice:a\nbob:b\n') {
  const sys = machineWithRootLogin(Date.parse('2026-11-23T12:00:00Z') + 2 * HOUR);
  sys.addFile('/root/users', users, 0, 0, 0o600);
  const { runInit } = await import('../../src/commands/init.js');
  const code = await runInit(sys, initOpts({ usersFromFile: '/root/users' }), captureIo());
  if (code !== 0) throw new Error(`init failed with ${code}`);
  return sys;
}
