import { beforeEach, describe, expect, it } from 'vitest';
import { isRelevant, runWatch, watchTargets } from '../src/commands/watch.js';
import { loadConfig } from '../src/engine/config.js';
import { HOUR, captureIo, creds, initializedMachine } from './helpers/fixtures.js';
import type { MemorySystem } from './helpers/memory-system.js';

// The watcher on the in-memory system: its inotify events and signals are sys.watched and sys.signal(), so the
// whole loop (arm, event, heal, reload, stop) runs here; the real kernel's side is docker/e2e/40-watch.bats.
const CFG = '/etc/claude-share/config';
const SH = '/shared/claude-share/home/.claude';
let sys: MemorySystem;
const settle = (ms = 80) => new Promise((r) => setTimeout(r, ms));

beforeEach(async () => {
  sys = await initializedMachine('alice:a\nbob:b\n');
});

describe('what the watcher watches', () => {
  it('the shared directories, each home and its ~/.claude; never a symlink or a directory of someone else', () => {
    const dirs = () => watchTargets(sys, loadConfig(sys, CFG)!).map((t) => `${t.user ?? '-'} ${t.dir}`);
    expect(dirs()).toEqual(['- /shared/claude-share/home', `- ${SH}`, 'alice /home/alice', 'alice /home/alice/.claude', 'bob /home/bob', 'bob /home/bob/.claude']);
    // bob's ~/.claude swapped for a symlink to root's, alice's handed to another uid: neither is watched.
    const bob = sys.getUser('bob')!;
    for (const p of [...sys.files.keys()]) if (p.startsWith('/home/bob/.claude')) sys.files.delete(p);
    sys.addLink('/home/bob/.claude', '/root/.claude', bob.uid, bob.uid);
    sys.files.get('/home/alice/.claude')!.uid = bob.uid;
    expect(dirs()).toEqual(['- /shared/claude-share/home', `- ${SH}`, 'alice /home/alice', 'bob /home/bob']);
  });

  it('reacts to the shared files, their directory and the shell start files; not to temp files (null: unknown, so yes)', () => {
    for (const n of ['.credentials.json', '.claude.json', 'settings.json', 'settings.local.json', '.claude', '.bashrc', '.profile', null]) expect(isRelevant(n), String(n)).toBe(true);
    for (const n of ['.credentials.json.tmp.123.456', '.claude.json.tmp.1', 'projects', 'notes.txt', '.claude.json.backup']) expect(isRelevant(n), n).toBe(false);
  });
});

describe('the watch loop', () => {
  it('arms, heals a severed login after its event, reloads at SIGHUP, and stops at SIGTERM with 0 and no watch left', async () => {
    const io = captureIo();
    const done = runWatch(sys, { debounceMs: 10, sweepMinutes: 60, config: CFG }, io);
    await settle();
    // 6 targets and the config's directory.
    expect(io.lines.join('\n')).toMatch(/watching 7 directories for 2 managed users/);
    expect([...sys.watched.keys()]).toEqual(expect.arrayContaining(['/home/bob/.claude', SH, '/etc/claude-share']));

    // Claude's refresh as bob: a newer login renamed over the link.
    const bob = sys.getUser('bob')!;
    sys.unlink('/home/bob/.claude/.credentials.json');
    sys.addFile('/home/bob/.claude/.credentials.json', creds(sys.clock + 8 * HOUR, { account: 'acct-1', refresh: 'r-new' }), bob.uid, bob.uid, 0o600).mtimeMs = sys.clock + 1;
    sys.watched.get('/home/bob/.claude')!.onChange('.credentials.json.tmp.1.2');
    await settle();
    expect(sys.lstat('/home/bob/.claude/.credentials.json')!.type, 'a temp file name alone heals nothing').toBe('file');
    sys.watched.get('/home/bob/.claude')!.onChange('.credentials.json');
    await settle();
    expect(sys.lstat('/home/bob/.claude/.credentials.json')!.type).toBe('symlink');
    expect(JSON.parse(sys.content(`${SH}/.credentials.json`)!).claudeAiOauth.refreshToken).toBe('r-new');
    expect(io.lines.join('\n')).toMatch(/healed bob in \d+ ms/);

    sys.signal('SIGHUP');
    await settle();
    expect(io.lines.join('\n')).toMatch(/reloaded the config \(SIGHUP\): 2 managed users/);

    sys.signal('SIGTERM');
    expect(await done).toBe(0);
    expect(io.lines.at(-1)).toMatch(/stopped \(SIGTERM\)$/);
    expect(sys.watched.size).toBe(0);
    expect(sys.signalHandlers.size, 'the signal handlers stay until the process exits, harmless once stopped').toBe(1);
  });
});
