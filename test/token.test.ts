import { beforeEach, describe, expect, it } from 'vitest';
import { runStatus } from '../src/commands/status.js';
import { runToken, type TokenOptions } from '../src/commands/token.js';
import { runUninstall } from '../src/commands/uninstall.js';
import { runRemoveUser } from '../src/commands/remove-user.js';
import { prometheusText } from '../src/core/render.js';
import { maskToken, TOKEN_PATH, TOKEN_PROFILE, tokenProblem } from '../src/core/token.js';
import { statusModel } from '../src/commands/status.js';
import { loadConfig } from '../src/engine/config.js';
import { captureIo, initializedMachine } from './helpers/fixtures.js';
import type { MemorySystem } from './helpers/memory-system.js';

// The long-lived token mode (issue 15.1): stored for root and the group only, exported to members' login shells,
// never printed, and watched by status for the end of its year.
const CFG = '/etc/claude-share/config';
const DAY = 86_400_000;
const TOKEN = 'sk-ant-oat01-' + 'AbC_dEf-0123456789'.repeat(6);
let sys: MemorySystem;

const io = (stdin?: string) => Object.assign(captureIo(), stdin === undefined ? {} : { readSecret: async () => stdin });
const token = (o: Partial<TokenOptions>, stdin?: string) => runToken(sys, { action: 'set', config: CFG, ...o }, io(stdin));
const status = () => {
  const out = captureIo();
  const code = runStatus(sys, { json: true, quiet: false, config: CFG }, out);
  return { code, doc: JSON.parse(out.lines.join('\n')) as { token: { masked: string; daysLeft: number } | null; problems: { code: string }[] } };
};

beforeEach(async () => {
  sys = await initializedMachine('alice:a\n');
  sys.addDir('/etc/profile.d', 0, 0, 0o755);
});

describe('what a setup-token looks like', () => {
  it.each([
    ['', /empty/],
    ['sk-ant-api03-' + 'x'.repeat(40), /API key.*switches off/],
    ['sk-ant-ort01-' + 'x'.repeat(40), /refresh token.*single-use/],
    ['sk-ant-oat01-abc def', /one line without spaces/],
    ['hello', /starts with sk-ant-oat01-/],
    ['sk-ant-oat01-short', /20 to 1,000/],
    ['sk-ant-oat01-' + 'x'.repeat(30) + ';rm', /20 to 1,000/],
  ])('%j is refused: %s', (text, why) => expect(tokenProblem(text)).toMatch(why));

  it('accepts one, with the newline a paste or a file adds; the mask shows the prefix and 4 characters only', () => {
    expect(tokenProblem(TOKEN + '\n')).toBeNull();
    expect(maskToken(TOKEN)).toBe(`sk-ant-oat01-…${TOKEN.slice(-4)}`);
  });
});

describe('token set, show, remove', () => {
  it('stores it root:<group> 0640 and exports it to login shells that can read it; never printed, never logged', async () => {
    const out = io(TOKEN + '\n');
    expect(await runToken(sys, { action: 'set', config: CFG }, out)).toBe(0);
    const gid = sys.getGroup('claudeshare')!.gid;
    expect(sys.lstat(TOKEN_PATH)).toMatchObject({ type: 'file', uid: 0, gid, mode: 0o640 });
    expect(sys.content(TOKEN_PATH)).toBe(TOKEN + '\n');
    expect(sys.lstat(TOKEN_PROFILE)).toMatchObject({ uid: 0, gid: 0, mode: 0o644 });
    expect(sys.content(TOKEN_PROFILE)).toMatch(
      /if \[ "\$\(id -u\)" != 0 \] && \[ -r \/etc\/claude-share\/oauth-token \]; then\n\s+CLAUDE_CODE_OAUTH_TOKEN=\$\(cat \/etc\/claude-share\/oauth-token\)\n\s+export CLAUDE_CODE_OAUTH_TOKEN/,
    );
    expect(sys.content(TOKEN_PROFILE)).not.toContain(TOKEN);
    const said = [...out.lines, ...out.errors, ...sys.logs].join('\n');
    expect(said).toContain(maskToken(TOKEN));
    expect(said).not.toContain(TOKEN.slice(13, 40));
  });

  it('status, show and Prometheus report it masked, with the days left of its year', async () => {
    expect(await token({}, TOKEN)).toBe(0);
    const s = status();
    expect(s.code).toBe(0);
    expect(s.doc.token).toMatchObject({ masked: maskToken(TOKEN), daysLeft: 365, ok: true });
    expect(JSON.stringify(s.doc)).not.toContain(TOKEN.slice(13, 40));
    expect(prometheusText(statusModel(sys, loadConfig(sys, CFG)!))).toMatch(/^claude_share_token_days_left 365$/m);
    const shown = captureIo();
    expect(await runToken(sys, { action: 'show', config: CFG }, shown)).toBe(0);
    expect(shown.lines.join('\n')).toMatch(/^sk-ant-oat01-….{4} {2}set 2026-11-23T12:00:00\.000Z {2}365 days left/);
  });

  it('within 30 days of its year status exits 1 (token-ending); after it, 2 (token-expired)', async () => {
    expect(await token({}, TOKEN)).toBe(0);
    sys.clock += 340 * DAY;
    expect(status()).toMatchObject({ code: 1, doc: { problems: expect.arrayContaining([expect.objectContaining({ code: 'token-ending' })]) } });
    sys.clock += 30 * DAY;
    expect(status()).toMatchObject({ code: 2, doc: { problems: expect.arrayContaining([expect.objectContaining({ code: 'token-expired' })]) } });
    expect(await runToken(sys, { action: 'show', config: CFG }, captureIo())).toBe(2);
  });

  it('a token file others can read, or someone else wrote, is token-invalid (2)', async () => {
    expect(await token({}, TOKEN)).toBe(0);
    sys.chmod(TOKEN_PATH, 0o644);
    expect(status()).toMatchObject({ code: 2, doc: { problems: [expect.objectContaining({ code: 'token-invalid' })] } });
  });

  it.each<[string, Partial<TokenOptions>, string | undefined, number, RegExp]>([
    ['an API key', {}, 'sk-ant-api03-' + 'x'.repeat(40), 65, /API key/],
    ['nothing', {}, '\n', 65, /empty/],
    ['a token file others can read', { fromFile: '/root/open' }, undefined, 77, /mode 644/],
    ['--from-file with show', { action: 'remove', fromFile: '/root/t' }, undefined, 64, /--from-file goes with token set only/],
  ])('refuses %s, and writes nothing', async (_what, o, stdin, code, message) => {
    sys.addFile('/root/open', TOKEN, 0, 0, 0o644);
    const before = sys.snapshot();
    await expect(token(o, stdin)).rejects.toMatchObject({ exitCode: code, message: expect.stringMatching(message) });
    expect(sys.snapshot()).toBe(before);
  });

  it('--from-file reads a root-only file; remove keeps a root-only copy and takes both files away; again, nothing to do', async () => {
    sys.addFile('/root/t', TOKEN + '\n', 0, 0, 0o600);
    expect(await token({ fromFile: '/root/t' })).toBe(0);
    const out = captureIo();
    expect(await runToken(sys, { action: 'remove', config: CFG }, out)).toBe(0);
    expect(sys.lstat(TOKEN_PATH)).toBeNull();
    expect(sys.lstat(TOKEN_PROFILE)).toBeNull();
    const kept = [...sys.files.keys()].find((p) => p.startsWith('/var/lib/claude-share/oauth-token.removed-'))!;
    expect(sys.lstat(kept)).toMatchObject({ uid: 0, mode: 0o600 });
    expect(sys.content(kept)).toBe(TOKEN + '\n');
    expect(status().doc.token).toBeNull();
    const again = captureIo();
    expect(await runToken(sys, { action: 'remove', config: CFG }, again)).toBe(0);
    expect(again.lines.join('\n')).toMatch(/nothing to do/);
  });

  it('uninstall takes the token away too (the group stays, so it would stay readable), keeping a root-only copy', async () => {
    expect(await token({}, TOKEN)).toBe(0);
    const out = captureIo();
    expect(await runUninstall(sys, { purge: false, dryRun: false, json: false, config: CFG }, out)).toBe(0);
    for (const f of [TOKEN_PROFILE, TOKEN_PATH, '/etc/claude-share/oauth-token.env']) expect(sys.lstat(f), f).toBeNull();
    expect(out.errors.join('\n')).toMatch(/long-lived token was removed \(a root-only copy is in \/var\/lib\/claude-share\)/);
    expect([...sys.files.keys()].some((p) => p.startsWith('/var/lib/claude-share/oauth-token.removed-'))).toBe(true);
  });

  it('a token that cannot be read is neither replaced nor removed without a copy (77)', async () => {
    expect(await token({}, TOKEN)).toBe(0);
    sys.files.get(TOKEN_PATH)!.nlink = 2;
    await expect(runToken(sys, { action: 'remove', config: CFG }, captureIo())).rejects.toMatchObject({ exitCode: 77, message: expect.stringMatching(/cannot be kept \(hard-linked\)/) });
    await expect(token({}, TOKEN)).rejects.toMatchObject({ exitCode: 77 });
    expect(sys.lstat(TOKEN_PATH)).not.toBeNull();
  });

  it('removing a member while token mode is on says the token must be rotated', async () => {
    expect(await token({}, TOKEN)).toBe(0);
    const out = captureIo();
    expect(await runRemoveUser(sys, { name: 'alice', deleteAccount: false, removeHome: false, dryRun: false, json: false, config: CFG }, out)).toBe(0);
    expect(out.errors.join('\n')).toMatch(/alice could read the long-lived token.*claude setup-token.*token set.*revoke/);
  });
});
