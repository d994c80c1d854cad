import { beforeEach, describe, expect, it } from 'vitest';
import { runAddContainer, runContainerArgs, runRemoveContainer, type ContainerOptions } from '../src/commands/container.js';
import { runStatus } from '../src/commands/status.js';
import { runSync } from '../src/commands/sync.js';
import { runToken } from '../src/commands/token.js';
import { loadConfig } from '../src/engine/config.js';
import { HOUR, captureIo, creds, initializedMachine } from './helpers/fixtures.js';
import type { MemorySystem } from './helpers/memory-system.js';

// Containers managed like members (issue 15.2): an account with no login shell whose home a container mounts as HOME.
const CFG = '/etc/claude-share/config';
const SH = '/shared/claude-share/home/.claude';
let sys: MemorySystem;
const opts = (o: Partial<ContainerOptions> = {}): ContainerOptions => ({ name: 'agent1', dryRun: false, json: false, config: CFG, ...o });
const args = (format: string) => {
  const io = captureIo();
  expect(runContainerArgs(sys, { name: 'agent1', format, config: CFG }, io)).toBe(0);
  return io.lines.join('\n');
};

beforeEach(async () => {
  sys = await initializedMachine('alice:a\n');
});

describe('add-container', () => {
  it('creates an account with no login shell and no password, links its home like a member, and records it as a container', async () => {
    expect(await runAddContainer(sys, opts(), captureIo())).toBe(0);
    expect(sys.getUser('agent1')).toMatchObject({ shell: '/usr/sbin/nologin' });
    expect(sys.passwords.get('agent1') ?? null).toBeNull();
    expect(sys.groups.get('claudeshare')!.members).toContain('agent1');
    expect(sys.readlink('/home/agent1/.claude/.credentials.json')).toBe(`${SH}/.credentials.json`);
    expect(sys.readlink('/home/agent1/.claude.json')).toBe(`${SH}/.claude.json`);
    expect(loadConfig(sys, CFG)).toMatchObject({ managedUsers: ['alice', 'agent1'], containers: ['agent1'] });
    const io = captureIo();
    expect(runStatus(sys, { json: true, quiet: false, config: CFG }, io)).toBe(0);
    expect(JSON.parse(io.lines.join('\n')).users.find((u: { name: string }) => u.name === 'agent1')).toMatchObject({ container: true, inGroup: true });
  });

  it('a refresh inside the container severs a link in its home on the host: sync promotes it and relinks, as for a member', async () => {
    await runAddContainer(sys, opts(), captureIo());
    const a = sys.getUser('agent1')!;
    sys.unlink('/home/agent1/.claude/.credentials.json');
    sys.addFile('/home/agent1/.claude/.credentials.json', creds(sys.clock + 8 * HOUR, { account: 'acct-1', refresh: 'from-the-container' }), a.uid, a.gid, 0o600).mtimeMs = sys.clock + 1;
    expect(await runSync(sys, { dryRun: false, json: false, quiet: true, config: CFG }, captureIo())).toBe(0);
    expect(JSON.parse(sys.content(`${SH}/.credentials.json`)!).claudeAiOauth.refreshToken).toBe('from-the-container');
    expect(sys.readlink('/home/agent1/.claude/.credentials.json')).toBe(`${SH}/.credentials.json`);
  });

  it('refuses an existing account (a person would lose their shell) and bad names, changing nothing', async () => {
    const before = sys.snapshot();
    await expect(runAddContainer(sys, opts({ name: 'alice' }), captureIo())).rejects.toMatchObject({ exitCode: 65, message: expect.stringMatching(/exists already/) });
    await expect(runAddContainer(sys, opts({ name: 'Agent;1' }), captureIo())).rejects.toMatchObject({ exitCode: 65 });
    expect(sys.snapshot()).toBe(before);
  });
});

describe('container-args', () => {
  beforeEach(async () => {
    await runAddContainer(sys, opts(), captureIo());
  });

  it('docker: the container runs as its account with the group, its home as HOME, the shared copies at the same path', () => {
    const a = sys.getUser('agent1')!;
    const gid = sys.getGroup('claudeshare')!.gid;
    expect(args('docker').split(' \\\n  ')).toEqual([
      `--user ${a.uid}:${a.gid} --group-add ${gid} --security-opt no-new-privileges --cap-drop ALL`,
      '--volume /home/agent1:/home/agent1',
      `--volume ${SH}:${SH}`,
      '--env HOME=/home/agent1',
    ]);
  });

  it('compose and devcontainer say the same; with a long-lived token set, its env file is added to each', async () => {
    expect(args('compose').split('\n')).toEqual([
      `    user: "${sys.getUser('agent1')!.uid}:${sys.getUser('agent1')!.gid}"`,
      `    group_add: ["${sys.getGroup('claudeshare')!.gid}"]`,
      '    security_opt: ["no-new-privileges:true"]',
      '    cap_drop: [ALL]',
      '    volumes:',
      '      - "/home/agent1:/home/agent1"',
      `      - "${SH}:${SH}"`,
      '    environment:',
      '      HOME: "/home/agent1"',
    ]);
    expect(JSON.parse(args('devcontainer'))).toMatchObject({
      containerEnv: { HOME: '/home/agent1' },
      mounts: ['source=/home/agent1,target=/home/agent1,type=bind', `source=${SH},target=${SH},type=bind`],
    });
    sys.addDir('/etc/profile.d', 0, 0, 0o755);
    const io = Object.assign(captureIo(), { readSecret: async () => 'sk-ant-oat01-' + 'x'.repeat(40) });
    expect(await runToken(sys, { action: 'set', config: CFG }, io)).toBe(0);
    expect(sys.lstat('/etc/claude-share/oauth-token.env')).toMatchObject({ uid: 0, mode: 0o600 });
    expect(args('docker')).toContain('--env-file /etc/claude-share/oauth-token.env');
    expect(args('compose')).toContain('env_file: /etc/claude-share/oauth-token.env');
    expect(JSON.parse(args('devcontainer')).runArgs).toContain('--env-file');
  });

  it('refuses a format it does not know (64) and a name that is not a container (65)', () => {
    expect(() => runContainerArgs(sys, { name: 'agent1', format: 'podman-kube', config: CFG }, captureIo())).toThrow(expect.objectContaining({ exitCode: 64 }));
    expect(() => runContainerArgs(sys, { name: 'alice', format: 'docker', config: CFG }, captureIo())).toThrow(expect.objectContaining({ exitCode: 65 }));
  });
});

describe('remove-container', () => {
  it('deletes the account, keeps its home, drops it from the config; only containers are removed this way', async () => {
    await runAddContainer(sys, opts(), captureIo());
    await expect(runRemoveContainer(sys, opts({ name: 'alice' }), captureIo())).rejects.toMatchObject({ exitCode: 65 });
    expect(await runRemoveContainer(sys, opts(), captureIo())).toBe(0);
    expect(sys.getUser('agent1')).toBeNull();
    // Its home stays, root's alone: the freed uid goes to the next account, which must not inherit it.
    expect(sys.lstat('/home/agent1')).toMatchObject({ type: 'dir', uid: 0, gid: 0, mode: 0o700 });
    expect(loadConfig(sys, CFG)).toMatchObject({ managedUsers: ['alice'], containers: [] });
  });
});
