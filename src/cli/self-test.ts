#!/usr/bin/env node
/**
 * install.sh's proof that this runtime can do what a real init and sync do, before it reports success:
 * every module loads (a dependency that needs a newer Node fails here, not at the first init), and in a throw-away
 * directory given to an unprivileged account (nobody) root makes a member's ~/.claude, a private file owned by
 * the member, a link, a shared file through the pinned descriptors, reads them back the way sync does, and sees a
 * planted symlink refused. Exit 0 when everything holds; otherwise 70 and one line naming the step and its cause.
 */
import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import { EXIT } from '../core/errors.js';

type Step = [string, () => unknown];

async function selfTest(): Promise<string | null> {
  const { RealSystem } = await import('../system/real-system.js');
  const sys = new RealSystem();
  const member = sys.getUser('nobody') ?? { name: 'nobody', uid: 65534, gid: 65534, home: '/nonexistent', shell: '' };
  const top = fs.mkdtempSync(`${tmpdir()}/claude-share-self-test.`);
  const home = `${top}/home`;
  const shared = `${top}/shared`;
  const expect = (ok: boolean, what: string) => {
    if (!ok) throw new Error(what);
  };
  const steps: Step[] = [
    [
      'load every command',
      async () => {
        const { buildProgram } = await import('../cli.js');
        await buildProgram({} as never, () => undefined);
        const { COMMANDS } = await import('./table.js');
        await Promise.all([...Object.values(COMMANDS).map((c) => c.load()), import('./console-io.js')]);
      },
    ],
    ['make a member home', () => sys.mkdir(home, 0o750, member.uid, member.gid)],
    ['make ~/.claude as the member', () => sys.mkdir(`${home}/.claude`, 0o700, member.uid, member.gid)],
    ['make the shared directory', () => sys.mkdir(shared, 0o770, 0, 0)],
    ['write a shared copy', () => sys.writeFileAtomic(`${shared}/.credentials.json`, '{"claudeAiOauth":{}}', { mode: 0o660, uid: 0, gid: member.gid })],
    ['link it from the home', () => sys.symlinkReplace(`${shared}/.credentials.json`, `${home}/.claude/.credentials.json`)],
    ['write a private file for the member', () => sys.replaceFile(`${home}/.claude/settings.json`, '{}', { mode: 0o600, uid: member.uid, gid: member.gid })],
    [
      'read it back as sync does',
      () => {
        const r = sys.readFileNoFollow(`${home}/.claude/settings.json`, { owner: member.uid, maxBytes: 1024 });
        expect(r.ok && r.bytes.toString() === '{}' && r.stat.uid === member.uid && r.stat.mode === 0o600, `read back ${JSON.stringify(r.ok ? r.stat : r.reason)}`);
      },
    ],
    [
      'refuse the link when reading',
      () => {
        const r = sys.readFileNoFollow(`${home}/.claude/.credentials.json`, { maxBytes: 1024 });
        expect(!r.ok && r.reason === 'symlink', `a symlink was read (${r.ok ? 'ok' : r.reason})`);
      },
    ],
    [
      'refuse a planted directory symlink',
      () => {
        fs.symlinkSync(shared, `${home}/planted`);
        fs.lchownSync(`${home}/planted`, member.uid, member.gid);
        const r = sys.readFileNoFollow(`${home}/planted/.credentials.json`, { maxBytes: 1024 });
        expect(!r.ok && r.reason === 'unsafe-path', `followed a member's symlink (${r.ok ? 'ok' : r.reason})`);
      },
    ],
    ['restore a shared mode', () => sys.setGroupMode(`${shared}/.credentials.json`, member.gid, 0o660)],
  ];
  try {
    for (const [name, run] of steps) {
      try {
        await run();
      } catch (e) {
        return `${name}: ${(e as Error).message}`;
      }
    }
    return null;
  } finally {
    fs.rmSync(top, { recursive: true, force: true });
  }
}

if (process.geteuid?.() !== 0) {
  process.stderr.write('self-test: run it as root (it acts for an unprivileged account, as init and sync do)\n');
  process.exitCode = EXIT.unsafe;
} else {
  selfTest().then(
    (failure) => {
      if (failure) process.stderr.write(`self-test failed: ${failure}\n`);
      else process.stdout.write(`self-test passed on Node ${process.versions.node}\n`);
      process.exitCode = failure ? EXIT.internal : EXIT.ok;
    },
    (e) => {
      process.stderr.write(`self-test failed: ${(e as Error).message}\n`);
      process.exitCode = EXIT.internal;
    },
  );
}
