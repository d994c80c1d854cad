import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { acquireLock, startTime } from '../src/system/lock.js';

// The lock on the real kernel, in a temp dir: what counts as a holder, what is stale, what is refused. (The case of
// a member's process at a killed holder's pid is in real-system.test.ts, with the pinned walk.) Root-owned
// directories need root: CI runs as root.
const root = process.geteuid?.() === 0;
let top: string;
let lock: string;

beforeEach(() => {
  top = fs.mkdtempSync(`${tmpdir()}/cs-lock-`);
  fs.mkdirSync(`${top}/run`, { mode: 0o700 });
  lock = `${top}/run/lock`;
});
afterEach(() => fs.rmSync(top, { recursive: true, force: true }));

describe('startTime', () => {
  it("reads field 22 of /proc/PID/stat after the last ')': a command name with spaces and parentheses cannot shift it", () => {
    const mine = startTime(process.pid);
    expect(mine).toMatch(/^\d+$/);
    expect(startTime(process.pid)).toBe(mine);
    expect(startTime(2 ** 22 + 1), 'no such process').toBe('');
  });
});

describe.runIf(root)('acquireLock', () => {
  it('takes a free lock, names itself by pid and start time, and the release removes only its own file', async () => {
    const release = await acquireLock(lock, 200);
    expect(fs.readFileSync(lock, 'utf8')).toBe(`${process.pid} ${startTime(process.pid)}\n`);
    expect(fs.statSync(lock).mode & 0o777).toBe(0o600);
    // Someone broke it and took it meanwhile: the release leaves theirs alone.
    fs.writeFileSync(lock, '1 2\n');
    release();
    expect(fs.readFileSync(lock, 'utf8')).toBe('1 2\n');
  });

  it.each([
    ['garbage', 'not a lock\n'],
    ['an empty file', ''],
    ['a dead pid', `${2 ** 22 + 1} 123\n`],
    ['a recycled pid (this pid, another start time)', `${process.pid} 1\n`],
  ])('a lock left with %s is stale: broken and taken', async (_what, content) => {
    fs.writeFileSync(lock, content);
    const release = await acquireLock(lock, 200);
    expect(fs.readFileSync(lock, 'utf8')).toBe(`${process.pid} ${startTime(process.pid)}\n`);
    release();
    expect(fs.existsSync(lock)).toBe(false);
    expect(fs.readdirSync(`${top}/run`), 'no stale file left behind').toEqual([]);
  });

  it('a live root holder is waited for, then named in an operator error (2) that says what to do', async () => {
    fs.writeFileSync(lock, `${process.pid} ${startTime(process.pid)}\n`);
    const t0 = Date.now();
    await expect(acquireLock(lock, 300)).rejects.toMatchObject({ exitCode: 2, message: expect.stringMatching(`pid ${process.pid}`), hint: 'wait for it to finish, then run this again' });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(250);
  });

  it('a lock directory others can write is refused (77): a member could plant a lock there and stop every heal', async () => {
    fs.chmodSync(`${top}/run`, 0o777);
    await expect(acquireLock(lock, 200)).rejects.toMatchObject({ exitCode: 77, message: expect.stringMatching(/refusing the lock directory/) });
    expect(fs.existsSync(lock)).toBe(false);
  });

  it('a symlink at the lock path is a stale lock: the link itself goes, what it points at is never written', async () => {
    fs.writeFileSync(`${top}/elsewhere`, 'x');
    fs.symlinkSync(`${top}/elsewhere`, lock);
    const release = await acquireLock(lock, 200);
    expect(fs.lstatSync(lock).isFile()).toBe(true);
    expect(fs.readFileSync(`${top}/elsewhere`, 'utf8')).toBe('x');
    release();
  });
});
