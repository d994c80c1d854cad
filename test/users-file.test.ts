import { describe, expect, it } from 'vitest';
import { parseUsersFile } from '../src/engine/users-file.js';
import { nameProblem } from '../src/core/validate.js';

describe('parseUsersFile', () => {
  it('reads name:password lines with comments, blanks and CRLF; the password is all after the first colon', () => {
    expect(parseUsersFile('# team\r\n\r\nalice:s3cret\r\nbob:a:b:c\n  # indented comment\n', 'f')).toEqual([
      { name: 'alice', password: 's3cret' },
      { name: 'bob', password: 'a:b:c' },
    ]);
  });

  it('reports every bad line with its number, and no password', () => {
    let msg = '';
    try {
      parseUsersFile('alice:pw1\nBad:pw2\nalice:pw3\ncarol:\nnocolon\n', 'users.txt');
    } catch (e) {
      msg = (e as Error).message;
      expect((e as { exitCode: number }).exitCode).toBe(65);
    }
    expect(msg).toContain('line 2');
    expect(msg).toContain('line 3: duplicate user (first on line 1)');
    expect(msg).toContain('line 4: the password is empty');
    expect(msg).toContain('line 5: expected name:password');
    expect(msg).not.toMatch(/pw1|pw2|pw3/);
  });

  it('a file of 1,000 bad lines is one line of message: the first five named, the rest counted', () => {
    const text = Array.from({ length: 1000 }, (_, i) => `user${i}`).join('\n');
    expect(() => parseUsersFile(text, 'big.txt')).toThrow(/^big\.txt: 1000 bad lines: line 1: expected name:password; (line \d+: [^;]+; ){4}… and 995 more$/);
  });

  it('refuses an empty file', () => {
    expect(() => parseUsersFile('# nothing\n', 'f')).toThrow(/no users/);
  });
});

describe('nameProblem', () => {
  it.each(['alice', '_svc', 'a-b_c9', 'machine$', 'a'.repeat(32)])('accepts %s', (n) => expect(nameProblem(n)).toBeNull());
  it.each(['', 'Alice', '9lives', '-x', 'a b', 'a/../b', '..', 'é', 'a'.repeat(33), 'a$b', 'x\u0000y'])('refuses %j', (n) => expect(nameProblem(n)).not.toBeNull());
});

describe('hostile input', () => {
  it('refuses over-long passwords and lines that are not UTF-8, with their numbers', () => {
    const text = `alice:${'x'.repeat(600)}\nbob:pw\uFFFD\ncarol:ok\n`;
    expect(() => parseUsersFile(text, 'f')).toThrow(/line 1: the password is longer than 512[\s\S]*line 2: not valid UTF-8/);
  });

  it('never echoes a huge name whole', () => {
    try {
      parseUsersFile(`${'a'.repeat(100_000)}:pw\n`, 'f');
    } catch (e) {
      expect((e as Error).message.length).toBeLessThan(400);
      return;
    }
    throw new Error('not refused');
  });
});
