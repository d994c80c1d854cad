import { describe, expect, it } from 'vitest';
import {
  FRAME,
  FrameReader,
  MAX_FRAME,
  authorizedKeyLine,
  cleanEnv,
  decodeArg,
  dropKeys,
  encodeArg,
  extraName,
  parseCommands,
  parseForced,
  parsePublicKey,
  parseRunRequest,
  parseTarget,
  putKey,
  remotePaths,
  sessionName,
  SESSION_RE,
  frame,
  welcome,
} from '../src/core/workspace.js';

const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHd0aGF0ZXZlci10aGUtbWVtYmVyLWhhZC1iZWZvcmU1';
const S = 'proj-20261205-101500';

describe('targets and names', () => {
  it.each([
    ['alice@server.example.org', undefined, { user: 'alice', host: 'server.example.org', port: 22 }],
    ['alice@10.0.0.1:2222', undefined, { user: 'alice', host: '10.0.0.1', port: 2222 }],
    ['alice@host', 2200, { user: 'alice', host: 'host', port: 2200 }],
  ])('%s parses', (s, port, want) => expect(parseTarget(s, port)).toEqual(want));

  it.each(['nohost', 'alice@-oProxyCommand=x', 'Alice@host', 'alice@host:0', 'alice@host:99999', 'a@b@c', 'alice@ho st', 'alice@host;id', '-x@host'])(
    '%s is refused with a reason, never reaching ssh',
    (s) => expect(typeof parseTarget(s)).toBe('string'),
  );

  it('a session is the cleaned directory name and the UTC time, always matching SESSION_RE', () => {
    const t = new Date(Date.UTC(2026, 11, 5, 10, 15, 0));
    expect(sessionName('/home/a/My Project!', t)).toBe('my-project-20261205-101500');
    expect(sessionName('/', t)).toBe('root-20261205-101500');
    expect(sessionName('/x/---', t)).toBe('project-20261205-101500');
    expect(sessionName('/x/' + 'a'.repeat(80), t)).toBe('a'.repeat(24) + '-20261205-101500');
    for (const d of ['/home/a/My Project!', '/', '/x/---', '/x/ünïcødé', '/x/-rf']) expect(sessionName(d, t)).toMatch(SESSION_RE);
  });

  it('extras are N-name under extras/<session>; the main mount under mounts/', () => {
    expect(extraName(1, '/home/a/shared lib')).toBe('1-shared-lib');
    expect(extraName(2, '/home/a/..hidden')).toBe('2-hidden');
    expect(remotePaths('/home/m', S, ['/x/lib', '/y/docs'])).toEqual({
      main: `/home/m/.claude-share/mounts/${S}`,
      extras: [`/home/m/.claude-share/extras/${S}/1-lib`, `/home/m/.claude-share/extras/${S}/2-docs`],
      socket: `/home/m/.claude-share/run/${S}.sock`,
      runDir: '/home/m/.claude-share/run',
    });
  });

  it('laptop paths cross as base64url and come back exactly, anything else is refused', () => {
    for (const p of ['/home/a/p', '/home/a/with space/ü', "/x/'; rm -rf ~"]) expect(decodeArg(encodeArg(p))).toBe(p);
    expect(decodeArg('')).toBeNull();
    expect(decodeArg('a b')).toBeNull();
    expect(decodeArg('L2V0Yw==')).toBeNull(); // padding: not what encodeArg makes
  });
});

describe('the allow-list of named commands', () => {
  it('parses name = argv, with quotes and no shell', () => {
    const r = parseCommands(`# comment\ntest = npm test\nbuild=make -j4\nwhere = sh -c 'hostname; pwd'\nq = echo "a b" c\n`);
    expect(r.problems).toEqual([]);
    expect(r.commands).toEqual({ test: ['npm', 'test'], build: ['make', '-j4'], where: ['sh', '-c', 'hostname; pwd'], q: ['echo', 'a b', 'c'] });
  });

  it("names that are Object's own (constructor, toString) are commands like any other", () => {
    const r = parseCommands('constructor = true\ntoString = false\n');
    expect(r.problems).toEqual(['line 2: "toString" is not a command name (a-z, 0-9, _ and -, starting with a letter)']);
    expect(r.commands).toEqual({ constructor: ['true'] });
    expect(parseRunRequest('{"name":"constructor"}', r.commands)).toEqual({ name: 'constructor', argv: ['true'] });
  });

  it('reports what does not parse and keeps the rest', () => {
    const r = parseCommands('ok = true\nno equals\nBad = x\nok = again\nempty =\nq = echo "open\nctl = a\u0007b\n');
    expect(Object.keys(r.commands)).toEqual(['ok']);
    expect(r.problems).toEqual([
      'line 2: no "=" (write name = program args)',
      'line 3: "Bad" is not a command name (a-z, 0-9, _ and -, starting with a letter)',
      'line 4: "ok" is named twice',
      'line 5: "empty" has no program',
      'line 6: unterminated "',
      'line 7: a control character',
    ]);
  });

  it('a request names a command on the list and nothing else', () => {
    const allowed = { test: ['npm', 'test'] };
    expect(parseRunRequest('{"v":1,"name":"test"}', allowed)).toEqual({ name: 'test', argv: ['npm', 'test'] });
    expect(parseRunRequest('{"name":"nope"}', allowed)).toMatch(/"nope" is not on this project's list of commands \(test\)/);
    expect(parseRunRequest('{"name":"nope"}', {})).toMatch(/the list is empty/);
    expect(parseRunRequest('{"name":"test","argv":["rm","-rf","/"]}', allowed)).toMatch(/nothing else/);
    expect(parseRunRequest('{"name":"constructor"}', allowed)).toMatch(/not on this project's list/);
    expect(parseRunRequest('{"name":"__proto__"}', allowed)).toMatch(/not a command name/);
    expect(parseRunRequest('["test"]', allowed)).toMatch(/not an object/);
    expect(parseRunRequest('test', allowed)).toMatch(/not JSON/);
  });

  it("a named command's environment: the laptop's own, nothing from the server", () => {
    const env = cleanEnv({ PATH: '/bin', HOME: '/home/a', SSH_CONNECTION: 'x', LD_PRELOAD: '/tmp/evil.so', NODE_OPTIONS: '--require x' }, S, ['/home/a/p']);
    expect(env).toEqual({ CLAUDE_SHARE_SESSION: S, PATH: '/bin', HOME: '/home/a' });
    // PATH: no relative entry, none inside a published directory (the server writes there)
    const path = cleanEnv({ PATH: '.:node_modules/.bin::/home/a/p/bin:/home/a/p/:/home/a/lib/x:/usr/bin:/home/a/pp:/x/../home/a/p' }, S, ['/home/a/p', '/home/a/lib']).PATH;
    expect(path).toBe('/usr/bin:/home/a/pp');
    expect(cleanEnv({ PATH: '.' }, S, []).PATH).toBe('/usr/local/bin:/usr/bin:/bin');
  });

  it('frames survive any split and refuse what is malformed', () => {
    const bytes = Buffer.concat([frame(FRAME.stdout, 'hello'), frame(FRAME.stderr, Buffer.from([0, 1, 2])), frame(FRAME.exit, '{"code":7}')]);
    const r = new FrameReader();
    const got: { type: number; payload: Buffer }[] = [];
    for (const b of bytes) {
      const out = r.push(Buffer.from([b]));
      if (typeof out === 'string') throw new Error(out);
      got.push(...out);
    }
    expect(got.map((f) => [f.type, f.payload.toString('hex')])).toEqual([
      [1, Buffer.from('hello').toString('hex')],
      [2, '000102'],
      [3, Buffer.from('{"code":7}').toString('hex')],
    ]);
    const huge = Buffer.alloc(5);
    huge[0] = 1;
    huge.writeUInt32BE(MAX_FRAME + 1, 1);
    expect(new FrameReader().push(huge)).toBe('a malformed frame');
    expect(new FrameReader().push(Buffer.from([9, 0, 0, 0, 0]))).toBe('a malformed frame');
  });
});

describe('authorized_keys', () => {
  it('accepts one ed25519 public key and nothing around it', () => {
    expect(parsePublicKey(`${KEY} me@laptop\n`)).toBe(KEY);
    expect(parsePublicKey(`command="sh" ${KEY}`)).toBeNull();
    expect(parsePublicKey(`${KEY}\n${KEY}`)).toBeNull();
    expect(parsePublicKey('ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQ me')).toBeNull();
    expect(parsePublicKey(`${KEY}x`)).toBeNull();
  });

  it('init keys run only the forced command; session keys may also forward and have a terminal, and expire', () => {
    expect(authorizedKeyLine('/usr/local/bin/claude-share', KEY, { kind: 'init', tag: 'a.laptop' })).toBe(
      `restrict,command="/usr/local/bin/claude-share tunnel ssh-command --key init --tag a.laptop" ${KEY} claude-share:init:a.laptop`,
    );
    expect(authorizedKeyLine('/usr/local/bin/claude-share', KEY, { kind: 'session', tag: 'a.laptop', session: S, expires: new Date(Date.UTC(2027, 0, 4, 10, 15)) })).toBe(
      `restrict,port-forwarding,pty,expiry-time="202701041015Z",command="/usr/local/bin/claude-share tunnel ssh-command --key session --session ${S} --tag a.laptop" ${KEY} claude-share:session:${S}:a.laptop`,
    );
  });

  it('put replaces the line with the same comment; drop removes exactly the picked ones; every other byte stays', () => {
    const mine = `# my keys\r\n${KEY} me@elsewhere\n\nfrom="10.0.0.0/8" ${KEY} claude-share:init:not-mine-because-it-is-a-lookalike-but-ok\n`;
    const line = authorizedKeyLine('/cs', KEY, { kind: 'init', tag: 't' });
    const once = putKey(mine, line);
    expect(putKey(once, line)).toBe(once);
    expect(once.startsWith(mine.replace(/\n*$/, ''))).toBe(true);
    const { text, removed } = dropKeys(once, (c) => c === 'claude-share:init:t');
    expect(removed).toBe(1);
    expect(text).toBe(mine.replace(/\n*$/, '') + '\n');
    // A member's own line whose comment merely contains our prefix later on is not ours.
    expect(dropKeys(`${KEY} x-claude-share:init:t\n`, () => true).removed).toBe(0);
  });
});

describe('the forced command', () => {
  const init = { kind: 'init' as const };
  const sess = { kind: 'session' as const, session: S };
  it('a session key may prepare, mount, status, umount and enter its own session only', () => {
    expect(parseForced(`tunnel prepare ${S}`, sess)).toEqual({ verb: 'prepare', session: S });
    expect(parseForced(`tunnel mount ${S} 1 ${encodeArg('/home/a/lib')}`, sess)).toEqual({ verb: 'mount', session: S, index: 1, source: '/home/a/lib' });
    expect(parseForced(`tunnel enter ${S} ${encodeArg('["-p","hi"]')}`, sess)).toEqual({ verb: 'enter', session: S, args: ['-p', 'hi'] });
    expect(parseForced(`tunnel enter ${S}`, sess)).toEqual({ verb: 'enter', session: S, args: [] });
    expect(parseForced(`tunnel umount ${S}`, sess)).toEqual({ verb: 'umount', session: S });
    expect(parseForced('tunnel prepare other-20261205-101500', sess)).toMatch(/not a tunnel verb/);
    expect(parseForced('tunnel forget', sess)).toMatch(/not a tunnel verb/);
    expect(parseForced(`tunnel authorize-session ${S}`, sess)).toMatch(/not a tunnel verb/);
  });

  it('an init key may check, authorize a session, status, umount and forget, never mount or enter', () => {
    expect(parseForced('tunnel check', init)).toEqual({ verb: 'check' });
    expect(parseForced(`tunnel authorize-session ${S}`, init)).toEqual({ verb: 'authorize-session', session: S });
    expect(parseForced('tunnel forget', init)).toEqual({ verb: 'forget' });
    expect(parseForced(`tunnel mount ${S} 0 ${encodeArg('/x')}`, init)).toMatch(/not a tunnel verb/);
    expect(parseForced(`tunnel enter ${S}`, init)).toMatch(/not a tunnel verb/);
  });

  it.each([
    undefined,
    '',
    'id',
    'sh -c id',
    'tunnel check; id',
    'tunnel  check',
    'tunnel check extra',
    `tunnel mount ${S} 1 ${encodeArg('relative/path')}`,
    `tunnel mount ${S} 1 ${encodeArg('/a/../etc')}`,
    `tunnel mount ${S} 10 ${encodeArg('/a')}`,
    `tunnel mount ${S} 1 ${encodeArg('/a')} extra`,
    `tunnel enter ${S} ${encodeArg('{"a":1}')}`,
    `tunnel enter ${S} ${encodeArg('[1]')}`,
    `tunnel prepare ../../${S}`,
    'tunnel prepare proj-2026-1',
  ])('%j is refused', (cmd) => {
    expect(typeof parseForced(cmd, sess)).toBe('string');
    expect(typeof parseForced(cmd, init)).toBe('string');
  });
});

it('the welcome names the server, the session, each mount and where it comes from, the commands and how to stop', () => {
  expect(
    welcome({
      server: 'alice@host (srv)',
      session: S,
      main: `/home/alice/.claude-share/mounts/${S}`,
      local: '/home/al/proj',
      extras: [{ remote: '/r/1-lib', local: '/home/al/lib' }],
      commands: ['test'],
    }),
  ).toEqual([
    `claude-share live: alice@host (srv), session ${S}`,
    `  /home/alice/.claude-share/mounts/${S}  <=  /home/al/proj`,
    '  /r/1-lib  <=  /home/al/lib',
    '  commands run on this machine: test (on the server: cs run NAME)',
    '  stop with: cs stop',
  ]);
});

it('what the other side sent reaches the terminal without control characters, and JSON stays JSON', async () => {
  const { terminalSafe } = await import('../src/system/workspace-host.js');
  expect(terminalSafe('a\tb\u001b]52;c;ZXZpbA==\u0007\u009b2J\u202e')).toBe('a\tb\\u001b]52;c;ZXZpbA==\\u0007\\u009b2J\\u202e');
  const json = JSON.stringify({ path: '/home/a/\u0085x\u202ey' });
  expect(JSON.parse(terminalSafe(json))).toEqual({ path: '/home/a/\u0085x\u202ey' });
});
