import { beforeEach, describe, expect, it } from 'vitest';
import { runStatus } from '../src/commands/status.js';
import { runSync } from '../src/commands/sync.js';
import { UMASK_BLOCK } from '../src/core/items.js';
import { PROBE_MEMO } from '../src/engine/probe-memo.js';
import { captureIo, initializedMachine } from './helpers/fixtures.js';
import type { MemorySystem } from './helpers/memory-system.js';

// The probe memo (src/engine/probe-memo.ts) saves reading what did not change; it must never hide what did.
const CFG = '/etc/claude-share/config';
let sys: MemorySystem;
let reads: string[];
const status = () => {
  const io = captureIo();
  const code = runStatus(sys, { json: true, quiet: false, config: CFG }, io);
  return { code, doc: JSON.parse(io.lines.join('\n')) as { problems: { code: string; user?: string }[] } };
};

beforeEach(async () => {
  sys = await initializedMachine('alice:a\nbob:b\n');
  const real = sys.readFileNoFollow.bind(sys);
  reads = [];
  sys.readFileNoFollow = (p, o) => (reads.push(p), real(p, o));
});
const rcReads = () => reads.filter((p) => /\/(\.bashrc|\.profile)$/.test(p));

describe('the probe memo', () => {
  it('is root-only; a status after it reads no start file and lists no home, and is still healthy', () => {
    expect(status().code).toBe(0);
    expect(sys.lstat(PROBE_MEMO)).toMatchObject({ type: 'file', uid: 0, gid: 0, mode: 0o600 });
    reads = [];
    const listed: string[] = [];
    const readdir = sys.readdir.bind(sys);
    sys.readdir = (p) => (listed.push(p), readdir(p));
    expect(status().code).toBe(0);
    expect(rcReads()).toEqual([]);
    expect(listed.filter((p) => p.startsWith('/home/'))).toEqual([]);
  });

  it('never hides a change: a start file that lost its block is read again and reported', () => {
    status();
    const bashrc = '/home/alice/.bashrc';
    sys.files.get(bashrc)!.content = Buffer.from(sys.content(bashrc)!.replace(UMASK_BLOCK, ''));
    reads = [];
    const r = status();
    expect(rcReads()).toEqual([bashrc]);
    expect(r.code).toBe(1);
    expect(r.doc.problems.some((p) => p.user === 'alice')).toBe(true);
  });

  it('never hides a new leftover: a .claude.json.corrupted.* file in a remembered home is found', () => {
    status();
    sys.addFile('/home/bob/.claude.json.corrupted.123', '{', sys.getUser('bob')!.uid, sys.getUser('bob')!.uid);
    expect(status().doc.problems.map((p) => p.code)).toContain('claude-json-corrupted');
  });

  it('never hides a link pointed elsewhere, and reads no link it knows', () => {
    status();
    const link = '/home/alice/.claude/settings.json';
    const readlink = sys.readlink.bind(sys);
    const links: string[] = [];
    sys.readlink = (p) => (links.push(p), readlink(p));
    expect(status().code).toBe(0);
    expect(links.filter((p) => p.startsWith('/home/'))).toEqual([]);
    sys.files.get(link)!.target = '/tmp/elsewhere';
    const r = status();
    expect(links).toContain(link);
    expect(r.code).toBe(1);
    expect(r.doc.problems.some((p) => p.user === 'alice' && p.code === 'wrong-target')).toBe(true);
  });

  it('a memo that is not root-only, or not ours, is ignored: everything is read', () => {
    status();
    sys.chmod(PROBE_MEMO, 0o644);
    reads = [];
    expect(status().code).toBe(0);
    expect(rcReads()).toHaveLength(4);
    sys.addFile(PROBE_MEMO, 'garbage', 0, 0, 0o600);
    reads = [];
    expect(status().code).toBe(0);
    expect(rcReads()).toHaveLength(4);
  });

  it('a look at one member (sync --user, the watcher healing her) neither reads nor writes it: O(1) in the members', async () => {
    status();
    const before = sys.content(PROBE_MEMO);
    sys.files.get('/home/alice/.profile')!.content = Buffer.from('# emptied\n');
    reads = [];
    expect(await runSync(sys, { dryRun: false, json: false, quiet: false, user: 'alice', config: CFG }, captureIo())).toBe(0);
    expect(reads).not.toContain(PROBE_MEMO);
    expect(sys.content(PROBE_MEMO)).toBe(before);
    expect(sys.content('/home/alice/.profile')).toContain(UMASK_BLOCK);
  });

  it('a dry run uses it and writes nothing; a sync that changed something keeps it current', async () => {
    status();
    const before = sys.content(PROBE_MEMO);
    sys.files.get('/home/alice/.profile')!.content = Buffer.from('# emptied\n');
    expect(await runSync(sys, { dryRun: true, json: false, quiet: false, config: CFG }, captureIo())).toBe(0);
    expect(sys.content(PROBE_MEMO)).toBe(before);
    expect(await runSync(sys, { dryRun: false, json: false, quiet: false, config: CFG }, captureIo())).toBe(0);
    reads = [];
    expect(status().code).toBe(0);
    expect(rcReads()).toEqual([]);
  });
});
