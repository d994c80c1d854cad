import { mkdirSync, mkdtempSync, readlinkSync, realpathSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_PACKET_LENGTH, SftpGuard, SftpProtocolError, type GuardFs, type GuardOut } from '../src/core/sftp-guard.js';

// The SFTP guard between a member's local sftp-server and sshfs on the shared server (untrusted). Root is a real
// temporary directory and realpath the real realpath(3), so symlinks resolve as the kernel resolves them.

let base: string;
let root: string;
let outside: string;

beforeAll(() => {
  base = realpathSync.native(mkdtempSync(join(tmpdir(), 'sftp-guard-')));
  root = `${base}/root`;
  outside = `${base}/outside`;
  mkdirSync(root);
  mkdirSync(outside);
  writeFileSync(`${outside}/secret.txt`, 'not yours');
  writeFileSync(`${root}/file.txt`, 'hello');
  mkdirSync(`${root}/sub`);
  writeFileSync(`${root}/sub/inner.txt`, 'inner');
  symlinkSync('file.txt', `${root}/link-in`); // inside → inside
  symlinkSync(outside, `${root}/link-out`); // absolute, outside
  symlinkSync('../outside', `${root}/link-up`); // relative, escapes via ..
  symlinkSync(`${outside}/not-yet`, `${root}/dangling-out`); // dangling, would create outside
  mkdirSync(`${root}/.claude-share`);
  writeFileSync(`${root}/.claude-share/commands`, 'read only');
  symlinkSync('.claude-share', `${root}/alias`); // inside → the read-only area
  symlinkSync('.', `${root}/self`); // inside → the root itself
  symlinkSync(`${root}/file.txt`, `${root}/abs-in`); // absolute, inside (but not on the server)
  // a repository, a nested one, and look-alikes (rule 6)
  mkdirSync(`${root}/.git/objects/ab`, { recursive: true });
  mkdirSync(`${root}/.git/refs/heads`, { recursive: true });
  mkdirSync(`${root}/.git/hooks`);
  mkdirSync(`${root}/.git/modules/x`, { recursive: true });
  writeFileSync(`${root}/.git/config`, '[core]\n');
  writeFileSync(`${root}/.git/HEAD`, 'ref: refs/heads/main\n');
  writeFileSync(`${root}/.git/refs/heads/main`, '');
  writeFileSync(`${root}/.git/modules/x/config`, '');
  mkdirSync(`${root}/sub/.git/hooks`, { recursive: true });
  writeFileSync(`${root}/sub/.git/hooks/pre-commit`, '');
  mkdirSync(`${root}/.GIT`, { recursive: true }); // `.git` itself on a case-insensitive disk, another directory elsewhere
  mkdirSync(`${root}/git`);
  writeFileSync(`${root}/git/config`, '');
  symlinkSync('.git', `${root}/to-git`); // inside → a `.git`
  symlinkSync('sub/.git', `${root}/nested`); // inside → a directory two levels down
});

afterAll(() => rmSync(base, { recursive: true, force: true }));

const realFs: GuardFs = {
  realpath(p) {
    try {
      return realpathSync.native(p);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') return null;
      throw e;
    }
  },
};

function guard(readOnly = ['.claude-share']) {
  const refusals: string[] = [];
  const g = new SftpGuard({ root, fs: realFs, readOnly, onRefuse: (w) => refusals.push(w) });
  return { g, refusals };
}

// ---- packets ----
// The protocol's numbers written out again here, not imported from the module: a wrong number there must fail here.
const T = {
  INIT: 1,
  OPEN: 3,
  CLOSE: 4,
  READ: 5,
  WRITE: 6,
  LSTAT: 7,
  FSTAT: 8,
  SETSTAT: 9,
  FSETSTAT: 10,
  OPENDIR: 11,
  READDIR: 12,
  REMOVE: 13,
  MKDIR: 14,
  RMDIR: 15,
  REALPATH: 16,
  STAT: 17,
  RENAME: 18,
  READLINK: 19,
  SYMLINK: 20,
  EXT: 200,
};
const F = { READ: 1, WRITE: 2, APPEND: 4, CREAT: 8, TRUNC: 0x10, EXCL: 0x20 };
const u32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0);
  return b;
};
const u64 = (n: number) => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(BigInt(n));
  return b;
};
const str = (s: string | Buffer) => {
  const b = typeof s === 'string' ? Buffer.from(s) : s;
  return Buffer.concat([u32(b.length), b]);
};
const pkt = (type: number, ...fields: Buffer[]) => {
  const body = Buffer.concat([Buffer.from([type]), ...fields]);
  return Buffer.concat([u32(body.length), body]);
};
const req = (type: number, id: number, ...fields: Buffer[]) => pkt(type, u32(id), ...fields);
const NO_ATTRS = u32(0);
const HANDLE = str(u32(0)); // sftp-server's handles are 4-byte indexes
const open = (id: number, path: string, pflags: number) => req(T.OPEN, id, str(path), u32(pflags), NO_ATTRS);
const one = (type: number, id: number, path: string | Buffer) => req(type, id, str(path));
const two = (type: number, id: number, a: string, b: string) => req(type, id, str(a), str(b));
const ext = (id: number, name: string, ...fields: Buffer[]) => req(T.EXT, id, str(name), ...fields);
const read = (id: number) => req(T.READ, id, HANDLE, u64(0), u32(4096));

const status = (id: number, code: number, msg = '') => pkt(101, u32(id), u32(code), str(msg), str(''));
const OUTSIDE = (id: number) => status(id, 3, 'claude-share: outside the published directory');
const READ_ONLY = (id: number) => status(id, 3, 'claude-share: read-only');
const UNSUPPORTED = (id: number) => status(id, 8, 'claude-share: not supported');
const OWNER = (id: number) => status(id, 3, 'claude-share: owner and group cannot be changed');
const OK = (id: number) => status(id, 0);
const LINK_OUT = (id: number) => status(id, 3, 'claude-share: link leads outside the published directory');
/** SSH_FXP_NAME as sftp-server sends it for READLINK and REALPATH (long name = name, no ATTRS), or for READDIR. */
const names = (id: number, ...files: string[]) => pkt(104, u32(id), u32(files.length), ...files.flatMap((f) => [str(f), str(f), NO_ATTRS]));

const cat = (bufs: Uint8Array[]) => Buffer.concat(bufs);
const at = (rel: string) => (rel === '' ? root : `${root}/${rel}`);

/** Forwarded exactly these bytes, answered nothing itself. */
function forwarded(out: GuardOut, ...expected: Buffer[]) {
  expect(cat(out.toClient)).toEqual(Buffer.alloc(0));
  expect(cat(out.toServer)).toEqual(Buffer.concat(expected));
}

/** Answered exactly these replies, forwarded nothing. */
function refused(out: GuardOut, ...replies: Buffer[]) {
  expect(cat(out.toServer)).toEqual(Buffer.alloc(0));
  expect(cat(out.toClient)).toEqual(Buffer.concat(replies));
}

/** A fresh guard per request, so one request's verdict never waits on another's. */
const alone = (p: Buffer, readOnly?: string[]) => guard(readOnly).g.fromClient(p);

describe('framing', () => {
  it('passes INIT and VERSION through untouched, and judges the requests that follow in the same chunk', () => {
    const { g } = guard();
    const init = pkt(T.INIT, u32(3));
    const out = g.fromClient(Buffer.concat([init, one(T.STAT, 1, '../outside/secret.txt')]));
    expect(cat(out.toServer)).toEqual(init);
    expect(cat(out.toClient)).toEqual(OUTSIDE(1));
    const version = pkt(2, u32(3), str('posix-rename@openssh.com'), str('1'));
    const back = g.fromServer(version);
    expect(cat(back.toClient)).toEqual(version);
    expect(back.toServer).toEqual([]);
  });

  it('reassembles packets split byte by byte, in both directions', () => {
    const { g } = guard();
    const bad = one(T.STAT, 1, '../outside/secret.txt');
    const good = one(T.STAT, 2, 'sub/../file.txt');
    const input = Buffer.concat([bad, good]);
    const outs = [...input].map((b) => g.fromClient(Uint8Array.of(b)));
    const answered = outs.flatMap((o, i) => (o.toClient.length ? [i] : []));
    const sent = outs.flatMap((o, i) => (o.toServer.length ? [i] : []));
    expect(answered).toEqual([bad.length - 1]);
    expect(sent).toEqual([input.length - 1]);
    expect(cat(outs.flatMap((o) => o.toClient))).toEqual(OUTSIDE(1));
    expect(cat(outs.flatMap((o) => o.toServer))).toEqual(one(T.STAT, 2, at('file.txt')));

    const attrs = pkt(105, u32(2), u32(0));
    const back = [...attrs].map((b) => g.fromServer(Uint8Array.of(b)));
    expect(back.slice(0, -1).every((o) => o.toClient.length === 0)).toBe(true);
    expect(cat(back.flatMap((o) => o.toClient))).toEqual(attrs);
  });

  it('handles several packets in one chunk, keeping their order', () => {
    const { g } = guard();
    const write = req(T.WRITE, 4, HANDLE, u64(0), str('data'));
    const out = g.fromClient(Buffer.concat([read(1), one(T.STAT, 2, 'file.txt'), one(T.STAT, 3, '/etc/passwd'), write, one(T.LSTAT, 5, 'link-out')]));
    forwarded({ toServer: out.toServer, toClient: [] }, read(1), one(T.STAT, 2, at('file.txt')), write, one(T.LSTAT, 5, at('link-out')));
    expect(cat(out.toClient)).toEqual(OUTSIDE(3));
  });

  it('reassembles a packet near the size limit from uneven chunks', () => {
    const { g } = guard();
    const data = Buffer.alloc(256 * 1024 - 64, 0x61);
    const write = req(T.WRITE, 1, HANDLE, u64(0), str(data));
    const input = Buffer.concat([write, one(T.STAT, 2, '/etc/shadow')]);
    const cuts = [0, 3, 70_000, 70_001, 200_000, input.length];
    const outs = cuts.slice(1).map((end, i) => g.fromClient(input.subarray(cuts[i], end)));
    expect(outs.slice(0, -1).every((o) => o.toServer.length === 0 && o.toClient.length === 0)).toBe(true);
    expect(cat(outs.flatMap((o) => o.toServer))).toEqual(write);
    expect(cat(outs.flatMap((o) => o.toClient))).toEqual(OUTSIDE(2));
  });

  it('throws on a declared length over 256 KiB + 1 KiB, before the body arrives', () => {
    expect(() => guard().g.fromClient(u32(MAX_PACKET_LENGTH + 1))).toThrow(SftpProtocolError);
    expect(() => guard().g.fromServer(u32(0xffffffff))).toThrow(SftpProtocolError);
    // exactly the limit is waited for, not refused
    const out = guard().g.fromClient(Buffer.concat([u32(MAX_PACKET_LENGTH), Buffer.from([T.WRITE])]));
    expect(out).toEqual({ toServer: [], toClient: [] });
    expect(MAX_PACKET_LENGTH).toBe(256 * 1024 + 1024);
  });

  it('throws on fields that run past the end of a complete packet', () => {
    const truncatedString = pkt(T.STAT, u32(1), u32(50), Buffer.from('short'));
    expect(() => guard().g.fromClient(truncatedString)).toThrow(SftpProtocolError);
    const truncatedAttrs = pkt(T.OPEN, u32(1), str('file.txt'), u32(F.READ), u32(0x1), u32(0)); // size flag, 4 of 8 bytes
    expect(() => guard().g.fromClient(truncatedAttrs)).toThrow(SftpProtocolError);
    const rename = pkt(T.RENAME, u32(1), str('file.txt'));
    expect(() => guard().g.fromClient(rename)).toThrow(SftpProtocolError);
    expect(() => guard().g.fromClient(pkt(T.STAT, Buffer.from([0, 0])))).toThrow(SftpProtocolError); // no room for an id
    expect(() => guard().g.fromClient(u32(0))).toThrow(SftpProtocolError); // no type
    expect(() => guard().g.fromServer(pkt(101, Buffer.from([0])))).toThrow(SftpProtocolError);
  });

  it('throws when a request id is reused while the first is still pending', () => {
    const { g } = guard();
    forwarded(g.fromClient(one(T.STAT, 7, 'file.txt')), one(T.STAT, 7, at('file.txt')));
    expect(() => g.fromClient(one(T.STAT, 7, '/etc/passwd'))).toThrow(SftpProtocolError);
  });
});

describe('rule 1: lexical confinement', () => {
  it('reads a relative path from the root and forwards it normalised and absolute', () => {
    forwarded(alone(one(T.STAT, 1, 'file.txt')), one(T.STAT, 1, at('file.txt')));
    forwarded(alone(one(T.STAT, 1, './sub//./inner.txt')), one(T.STAT, 1, at('sub/inner.txt')));
    forwarded(alone(one(T.STAT, 1, `${root}/sub/../file.txt`)), one(T.STAT, 1, at('file.txt')));
    forwarded(alone(one(T.REALPATH, 1, '')), one(T.REALPATH, 1, root));
    forwarded(alone(one(T.REALPATH, 1, '.')), one(T.REALPATH, 1, root));
  });

  it('refuses what leaves the root lexically', () => {
    refused(alone(one(T.STAT, 1, '..')), OUTSIDE(1));
    refused(alone(one(T.STAT, 2, '../outside/secret.txt')), OUTSIDE(2));
    refused(alone(one(T.STAT, 3, 'sub/../../outside')), OUTSIDE(3));
    refused(alone(one(T.STAT, 4, '/etc/passwd')), OUTSIDE(4));
    refused(alone(open(5, `${outside}/secret.txt`, F.READ)), OUTSIDE(5));
    refused(alone(one(T.STAT, 6, `${root}-sibling/x`)), OUTSIDE(6)); // a prefix is not a parent
  });

  it('forwards the checked path, not the raw one: `symlink/..` is never handed to the kernel', () => {
    // the kernel would resolve link-out/.. to the parent of the outside directory; lexically it is the root
    forwarded(alone(one(T.STAT, 1, 'link-out/..')), one(T.STAT, 1, root));
    forwarded(alone(one(T.OPENDIR, 2, 'link-up/../sub')), one(T.OPENDIR, 2, at('sub')));
  });

  it('refuses paths that are not valid UTF-8 or hold a NUL', () => {
    refused(alone(one(T.STAT, 1, Buffer.from([0x66, 0xff, 0x2f, 0x78]))), OUTSIDE(1));
    refused(alone(one(T.STAT, 2, Buffer.from('file.txt\0../../x'))), OUTSIDE(2));
    forwarded(alone(one(T.STAT, 3, 'café')), one(T.STAT, 3, at('café')));
  });
});

describe('rule 2: operations that follow the last symlink', () => {
  it('STAT: a symlink resolving inside is fine, one resolving outside is refused', () => {
    forwarded(alone(one(T.STAT, 1, 'link-in')), one(T.STAT, 1, at('link-in')));
    refused(alone(one(T.STAT, 2, 'link-out')), OUTSIDE(2));
    refused(alone(one(T.STAT, 3, 'link-up')), OUTSIDE(3));
    refused(alone(one(T.STAT, 4, 'link-out/secret.txt')), OUTSIDE(4));
    refused(alone(one(T.STAT, 5, 'link-up/secret.txt')), OUTSIDE(5));
  });

  it('STAT, OPENDIR, REALPATH of a missing path are forwarded when its directory is inside', () => {
    forwarded(alone(one(T.STAT, 1, 'missing')), one(T.STAT, 1, at('missing')));
    forwarded(alone(one(T.OPENDIR, 2, 'sub/missing')), one(T.OPENDIR, 2, at('sub/missing')));
    forwarded(alone(one(T.REALPATH, 3, 'missing')), one(T.REALPATH, 3, at('missing')));
    refused(alone(one(T.STAT, 4, 'link-out/missing')), OUTSIDE(4));
    refused(alone(one(T.REALPATH, 5, 'missing/deeper')), OUTSIDE(5)); // the directory does not exist either
    refused(alone(one(T.STAT, 6, 'dangling-out/x')), OUTSIDE(6));
  });

  it('OPEN: outside refused; a missing file only with CREAT, and then with EXCL added', () => {
    forwarded(alone(open(1, 'file.txt', F.READ)), open(1, at('file.txt'), F.READ));
    forwarded(alone(open(2, 'link-in', F.READ | F.WRITE | F.CREAT)), open(2, at('link-in'), F.READ | F.WRITE | F.CREAT)); // exists: no EXCL
    refused(alone(open(3, 'link-out/secret.txt', F.READ)), OUTSIDE(3));
    refused(alone(open(4, 'link-up/secret.txt', F.READ)), OUTSIDE(4));
    refused(alone(open(5, 'missing', F.READ)), OUTSIDE(5));
    forwarded(alone(open(6, 'new.txt', F.WRITE | F.CREAT | F.TRUNC)), open(6, at('new.txt'), F.WRITE | F.CREAT | F.TRUNC | F.EXCL));
    refused(alone(open(7, 'link-out/new.txt', F.WRITE | F.CREAT)), OUTSIDE(7));
    // a dangling symlink looks missing to realpath; EXCL stops open(2) from following it out of the root
    forwarded(alone(open(8, 'dangling-out', F.WRITE | F.CREAT)), open(8, at('dangling-out'), F.WRITE | F.CREAT | F.EXCL));
  });

  it('OPEN keeps the ATTRS that follow the flags', () => {
    const withMode = req(T.OPEN, 1, str('sub/new'), u32(F.WRITE | F.CREAT), u32(0x4), u32(0o600));
    forwarded(alone(withMode), req(T.OPEN, 1, str(at('sub/new')), u32(F.WRITE | F.CREAT | F.EXCL), u32(0x4), u32(0o600)));
    refused(alone(req(T.OPEN, 2, str('../x'), u32(F.WRITE | F.CREAT), u32(0x4), u32(0o600))), OUTSIDE(2));
  });

  it('SETSTAT, OPENDIR, REALPATH, statvfs follow the symlink; SETSTAT of a missing path is refused', () => {
    const setstat = (id: number, p: string) => req(T.SETSTAT, id, str(p), u32(0x4), u32(0o644));
    forwarded(alone(setstat(1, 'file.txt')), setstat(1, at('file.txt')));
    refused(alone(setstat(2, 'link-out')), OUTSIDE(2));
    refused(alone(setstat(3, 'missing')), OUTSIDE(3));
    refused(alone(one(T.OPENDIR, 4, 'link-out')), OUTSIDE(4));
    forwarded(alone(one(T.OPENDIR, 5, 'sub')), one(T.OPENDIR, 5, at('sub')));
    refused(alone(one(T.REALPATH, 6, 'link-up')), OUTSIDE(6));
    forwarded(alone(ext(7, 'statvfs@openssh.com', str('sub'))), ext(7, 'statvfs@openssh.com', str(at('sub'))));
    refused(alone(ext(8, 'statvfs@openssh.com', str('link-out'))), OUTSIDE(8));
  });

  it('expand-path: `~` is the root, `~user` and escaping symlinks are refused', () => {
    const x = (id: number, p: string) => ext(id, 'expand-path@openssh.com', str(p));
    forwarded(alone(x(1, '~')), x(1, root));
    forwarded(alone(x(2, '~/file.txt')), x(2, at('file.txt')));
    forwarded(alone(x(3, 'sub')), x(3, at('sub')));
    refused(alone(x(4, '~root')), OUTSIDE(4));
    refused(alone(x(5, '~/link-out')), OUTSIDE(5));
  });

  it('refuses when realpath fails for another reason than "missing"', () => {
    const g = new SftpGuard({
      root,
      fs: {
        realpath: () => {
          throw Object.assign(new Error('EACCES'), { code: 'EACCES' });
        },
      },
    });
    refused(g.fromClient(one(T.STAT, 1, 'file.txt')), OUTSIDE(1));
    expect(g.refused).toBe(1);
  });
});

describe('rule 3: operations on the entry itself', () => {
  it('LSTAT and READLINK look at a symlink pointing outside, and at the root itself', () => {
    forwarded(alone(one(T.LSTAT, 1, 'link-out')), one(T.LSTAT, 1, at('link-out')));
    forwarded(alone(one(T.READLINK, 2, 'link-up')), one(T.READLINK, 2, at('link-up')));
    forwarded(alone(one(T.LSTAT, 3, '.')), one(T.LSTAT, 3, root));
    forwarded(alone(one(T.READLINK, 4, '')), one(T.READLINK, 4, root));
    refused(alone(one(T.LSTAT, 5, 'link-out/secret.txt')), OUTSIDE(5));
    refused(alone(one(T.READLINK, 6, 'link-up/x')), OUTSIDE(6));
    refused(alone(one(T.LSTAT, 7, 'sub/.')), OUTSIDE(7));
  });

  it('REMOVE, RMDIR, MKDIR: the directory must resolve inside; never `.`, `..` or the root', () => {
    forwarded(alone(one(T.REMOVE, 1, 'link-out')), one(T.REMOVE, 1, at('link-out'))); // the link, not its target
    refused(alone(one(T.REMOVE, 2, 'link-out/secret.txt')), OUTSIDE(2));
    refused(alone(one(T.REMOVE, 3, '.')), OUTSIDE(3));
    refused(alone(one(T.REMOVE, 4, '')), OUTSIDE(4));
    refused(alone(one(T.RMDIR, 5, 'sub/..')), OUTSIDE(5));
    refused(alone(one(T.RMDIR, 6, 'sub/.')), OUTSIDE(6));
    refused(alone(one(T.RMDIR, 7, root)), OUTSIDE(7));
    const mkdir = (id: number, p: string) => req(T.MKDIR, id, str(p), NO_ATTRS);
    forwarded(alone(mkdir(8, 'sub/new')), mkdir(8, at('sub/new')));
    refused(alone(mkdir(9, 'link-up/new')), OUTSIDE(9));
    refused(alone(mkdir(10, 'missing/new')), OUTSIDE(10));
  });

  it('RENAME and posix-rename check both paths', () => {
    forwarded(alone(two(T.RENAME, 1, 'file.txt', 'sub/moved')), two(T.RENAME, 1, at('file.txt'), at('sub/moved')));
    refused(alone(two(T.RENAME, 2, 'file.txt', 'link-out/stolen')), OUTSIDE(2));
    refused(alone(two(T.RENAME, 3, 'link-out/secret.txt', 'mine')), OUTSIDE(3));
    refused(alone(two(T.RENAME, 4, '.', 'elsewhere')), OUTSIDE(4));
    const px = (id: number, a: string, b: string) => ext(id, 'posix-rename@openssh.com', str(a), str(b));
    forwarded(alone(px(5, 'link-out', 'renamed-link')), px(5, at('link-out'), at('renamed-link')));
    refused(alone(px(6, 'file.txt', '../outside/f')), OUTSIDE(6));
    refused(alone(px(7, 'link-up/secret.txt', 'f')), OUTSIDE(7));
  });

  it('hardlink checks both paths, and refuses a source that resolves outside (link(2) follows it on macOS)', () => {
    const hl = (id: number, a: string, b: string) => ext(id, 'hardlink@openssh.com', str(a), str(b));
    forwarded(alone(hl(1, 'file.txt', 'sub/hard')), hl(1, at('file.txt'), at('sub/hard')));
    refused(alone(hl(2, 'link-out/secret.txt', 'copy')), OUTSIDE(2));
    refused(alone(hl(3, 'file.txt', 'link-out/copy')), OUTSIDE(3));
    refused(alone(hl(4, 'dangling-out', 'copy')), OUTSIDE(4));
    refused(alone(hl(5, 'link-out', 'copy')), OUTSIDE(5));
  });

  it('lsetstat acts on the link itself', () => {
    const ls = (id: number, p: string) => ext(id, 'lsetstat@openssh.com', str(p), u32(0x4), u32(0o700));
    forwarded(alone(ls(1, 'link-out')), ls(1, at('link-out')));
    refused(alone(ls(2, 'link-out/secret.txt')), OUTSIDE(2));
    refused(alone(ls(3, '')), OUTSIDE(3));
  });
});

describe('rule 4: SYMLINK (target, linkpath), in OpenSSH order', () => {
  const sym = (id: number, target: string, link: string) => two(T.SYMLINK, id, target, link);

  it('allows targets that stay inside, resolved from the link’s directory', () => {
    forwarded(alone(sym(1, 'file.txt', 'new-link')), sym(1, 'file.txt', at('new-link')));
    forwarded(alone(sym(2, '../file.txt', 'sub/up-link')), sym(2, '../file.txt', at('sub/up-link')));
    // from root/sub, ../outside is root/outside (inside, even though nothing is there)
    forwarded(alone(sym(3, '../outside', 'sub/l')), sym(3, '../outside', at('sub/l')));
  });

  it('refuses absolute targets and targets that climb out', () => {
    refused(alone(sym(1, '/etc/passwd', 'l')), OUTSIDE(1));
    refused(alone(sym(2, outside, 'l')), OUTSIDE(2));
    refused(alone(sym(3, '../outside', 'l')), OUTSIDE(3));
    refused(alone(sym(4, 'sub/../../x', 'l')), OUTSIDE(4));
    refused(alone(sym(5, '../../x', 'sub/l')), OUTSIDE(5));
  });

  it('refuses `..` after a name, and a target through a link that leads out', () => {
    refused(alone(sym(1, 'sub/../file.txt', 'l')), OUTSIDE(1)); // lexically fine, but `sub` could be a link
    refused(alone(sym(2, 'link-out/anything', 'l')), OUTSIDE(2));
    refused(alone(sym(3, 'link-out', 'l')), OUTSIDE(3));
    forwarded(alone(sym(4, './sub/./file', 'l')), sym(4, './sub/./file', at('l')));
  });

  it('judges a target of 80 000 `..` in linear time (one such packet once held the guard for most of a minute)', () => {
    const started = Date.now();
    refused(alone(sym(1, '../'.repeat(80_000) + 'x', 'l')), OUTSIDE(1));
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('checks the second string as the link’s path (a guard reading them swapped would allow this)', () => {
    refused(alone(sym(1, 'sub', 'link-out/evil')), OUTSIDE(1));
    refused(alone(sym(2, 'sub', '../evil')), OUTSIDE(2));
    refused(alone(sym(3, 'file.txt', '.')), OUTSIDE(3));
  });
});

describe('rule 5: read-only entries', () => {
  const cmds = '.claude-share/commands';

  it('OPEN for reading is fine; any writing flag is refused, also through a symlink to it', () => {
    forwarded(alone(open(1, cmds, F.READ)), open(1, at(cmds), F.READ));
    refused(alone(open(2, cmds, F.READ | F.WRITE)), READ_ONLY(2));
    refused(alone(open(3, cmds, F.APPEND | F.WRITE)), READ_ONLY(3));
    refused(alone(open(4, cmds, F.READ | F.TRUNC)), READ_ONLY(4));
    refused(alone(open(5, cmds, F.READ | F.CREAT)), READ_ONLY(5));
    refused(alone(open(6, '.claude-share/new', F.WRITE | F.CREAT)), READ_ONLY(6));
    refused(alone(open(7, 'alias/commands', F.WRITE)), READ_ONLY(7));
    refused(alone(open(8, '.Claude-Share', F.WRITE | F.CREAT)), READ_ONLY(8)); // the same name on a case-insensitive disk
  });

  it('SETSTAT, lsetstat, REMOVE, RMDIR, MKDIR at or under it are refused', () => {
    refused(alone(req(T.SETSTAT, 1, str(cmds), NO_ATTRS)), READ_ONLY(1));
    refused(alone(req(T.SETSTAT, 2, str('alias'), NO_ATTRS)), READ_ONLY(2));
    refused(alone(ext(3, 'lsetstat@openssh.com', str(cmds), NO_ATTRS)), READ_ONLY(3));
    refused(alone(one(T.REMOVE, 4, cmds)), READ_ONLY(4));
    refused(alone(one(T.REMOVE, 5, 'alias/commands')), READ_ONLY(5));
    refused(alone(one(T.RMDIR, 6, '.claude-share')), READ_ONLY(6));
    refused(alone(req(T.MKDIR, 7, str('.claude-share/x'), NO_ATTRS)), READ_ONLY(7));
    forwarded(alone(one(T.REMOVE, 8, 'alias')), one(T.REMOVE, 8, at('alias'))); // the symlink is not the area
  });

  it('RENAME, posix-rename, hardlink, SYMLINK touching it are refused, either path', () => {
    refused(alone(two(T.RENAME, 1, cmds, 'stolen')), READ_ONLY(1));
    refused(alone(two(T.RENAME, 2, 'file.txt', cmds)), READ_ONLY(2));
    refused(alone(two(T.RENAME, 3, '.claude-share', 'moved')), READ_ONLY(3));
    refused(alone(two(T.RENAME, 4, '.CLAUDE-SHARE', 'moved')), READ_ONLY(4)); // the same directory on a case-insensitive disk
    refused(alone(ext(5, 'posix-rename@openssh.com', str('sub'), str('.claude-share'))), READ_ONLY(5));
    refused(alone(ext(6, 'hardlink@openssh.com', str(cmds), str('writable'))), READ_ONLY(6));
    refused(alone(ext(7, 'hardlink@openssh.com', str('file.txt'), str('.claude-share/x'))), READ_ONLY(7));
    refused(alone(two(T.SYMLINK, 8, '../file.txt', '.claude-share/x')), READ_ONLY(8));
    forwarded(alone(two(T.SYMLINK, 9, '.claude-share/commands', 'pointer')), two(T.SYMLINK, 9, '.claude-share/commands', at('pointer')));
  });

  it('refuses creating anything named like an entry at the root, even before it exists', () => {
    const ro = ['.claude-share', '.not-yet'];
    refused(alone(req(T.MKDIR, 1, str('.not-yet'), NO_ATTRS), ro), READ_ONLY(1));
    refused(alone(open(2, '.not-yet', F.WRITE | F.CREAT), ro), READ_ONLY(2));
    refused(alone(two(T.SYMLINK, 3, 'sub', '.not-yet'), ro), READ_ONLY(3));
    refused(alone(two(T.RENAME, 4, 'sub', '.not-yet'), ro), READ_ONLY(4));
    forwarded(alone(req(T.MKDIR, 5, str('.not-yet'), NO_ATTRS), []), req(T.MKDIR, 5, str(at('.not-yet')), NO_ATTRS));
  });

  it('refuses moving a directory that holds a deeper read-only entry out from over it', () => {
    const ro = ['sub/inner.txt'];
    refused(alone(two(T.RENAME, 1, 'sub', 'moved'), ro), READ_ONLY(1));
    refused(alone(ext(2, 'posix-rename@openssh.com', str('sub'), str('moved')), ro), READ_ONLY(2));
    forwarded(alone(two(T.RENAME, 3, 'sub', 'moved'), []), two(T.RENAME, 3, at('sub'), at('moved')));
  });

  it('FSETSTAT on a handle opened on it is refused, and waits while such an OPEN is in flight', () => {
    const { g } = guard();
    const h = u32(3);
    const fsetstat = (id: number, handle: Buffer) => req(T.FSETSTAT, id, str(handle), u32(0x4), u32(0o777));
    forwarded(g.fromClient(open(1, cmds, F.READ)), open(1, at(cmds), F.READ));
    // a guessed handle sent before the reply: held, not passed
    const guessed = g.fromClient(fsetstat(2, h));
    expect(guessed).toEqual({ toServer: [], toClient: [] });
    const handleReply = pkt(102, u32(1), str(h));
    const released = g.fromServer(handleReply);
    expect(cat(released.toClient)).toEqual(Buffer.concat([handleReply, READ_ONLY(2)]));
    expect(released.toServer).toEqual([]);
    // a handle of another file passes
    forwarded(g.fromClient(fsetstat(3, u32(4))), fsetstat(3, u32(4)));
    // once closed, the slot may be reused by another file
    const close = req(T.CLOSE, 4, str(h));
    forwarded(g.fromClient(close), close);
    refused(g.fromClient(fsetstat(5, h)), READ_ONLY(5)); // close not yet answered: still refused
    g.fromServer(OK(4));
    forwarded(g.fromClient(fsetstat(6, h)), fsetstat(6, h));
  });
});

describe('rule 6: git cannot be made to run anything on the laptop', () => {
  const w = F.WRITE | F.CREAT | F.TRUNC;
  const mkdir = (id: number, p: string) => req(T.MKDIR, id, str(p), NO_ATTRS);

  it('inside any `.git`, config, config.worktree, hooks, commondir, gitdir are read-only; the rest stays writable', () => {
    forwarded(alone(open(1, '.git/objects/ab/cd', w)), open(1, at('.git/objects/ab/cd'), w | F.EXCL));
    forwarded(alone(open(2, '.git/refs/heads/main', w)), open(2, at('.git/refs/heads/main'), w));
    forwarded(alone(open(3, '.git/config.lock', w)), open(3, at('.git/config.lock'), w | F.EXCL)); // only the rename onto config is refused
    forwarded(alone(open(4, 'git/config', w)), open(4, at('git/config'), w)); // no dot: not git's
    forwarded(alone(open(5, '.git/config', F.READ)), open(5, at('.git/config'), F.READ));
    refused(alone(open(6, '.git/config', F.WRITE)), READ_ONLY(6));
    refused(alone(open(7, 'sub/.git/hooks/pre-commit', F.WRITE | F.TRUNC)), READ_ONLY(7));
    refused(alone(open(8, '.GIT/Config', w)), READ_ONLY(8)); // the same file on a case-insensitive disk
    refused(alone(open(9, '.git/modules/x/config', F.APPEND)), READ_ONLY(9)); // a submodule's, as deep as it goes
    refused(alone(open(10, '.git/hooks/post-checkout', w)), READ_ONLY(10));
    refused(alone(open(11, '.git/config.worktree', w)), READ_ONLY(11));
    refused(alone(open(12, '.git/commondir', w)), READ_ONLY(12));
    refused(alone(open(13, '.git/modules/x/gitdir', w)), READ_ONLY(13));
    refused(alone(open(14, 'to-git/config', F.WRITE)), READ_ONLY(14)); // through a symlink to the `.git`
  });

  it('refuses every writing request on them, and passes the same requests elsewhere in `.git`', () => {
    refused(alone(req(T.SETSTAT, 1, str('.git/config'), u32(0x4), u32(0o644))), READ_ONLY(1));
    refused(alone(ext(2, 'lsetstat@openssh.com', str('.git/hooks'), NO_ATTRS)), READ_ONLY(2));
    refused(alone(one(T.REMOVE, 3, '.git/config')), READ_ONLY(3));
    refused(alone(one(T.RMDIR, 4, '.git/hooks')), READ_ONLY(4));
    refused(alone(mkdir(5, '.git/modules/x/hooks')), READ_ONLY(5));
    refused(alone(two(T.RENAME, 6, '.git/config.lock', '.git/config')), READ_ONLY(6));
    refused(alone(two(T.RENAME, 7, '.git/hooks', '.git/old-hooks')), READ_ONLY(7));
    refused(alone(ext(8, 'posix-rename@openssh.com', str('.git/objects/ab'), str('.git/hooks'))), READ_ONLY(8));
    refused(alone(ext(9, 'hardlink@openssh.com', str('.git/config'), str('.git/objects/ab/x'))), READ_ONLY(9));
    refused(alone(ext(10, 'hardlink@openssh.com', str('.git/HEAD'), str('.git/hooks/pre-push'))), READ_ONLY(10));
    refused(alone(two(T.SYMLINK, 11, '../file.txt', 'sub/.git/hooks/pre-push')), READ_ONLY(11));
    const times = Buffer.concat([u32(0x8), u32(1), u32(2)]);
    forwarded(alone(req(T.SETSTAT, 12, str('.git/HEAD'), times)), req(T.SETSTAT, 12, str(at('.git/HEAD')), times));
    forwarded(alone(one(T.REMOVE, 13, '.git/refs/heads/main')), one(T.REMOVE, 13, at('.git/refs/heads/main')));
    forwarded(alone(mkdir(14, '.git/objects/cd')), mkdir(14, at('.git/objects/cd')));
    forwarded(alone(two(T.RENAME, 15, '.git/index.lock', '.git/index')), two(T.RENAME, 15, at('.git/index.lock'), at('.git/index')));
    const hl = (id: number, a: string, b: string) => ext(id, 'hardlink@openssh.com', str(a), str(b));
    forwarded(alone(hl(16, '.git/HEAD', '.git/ORIG_HEAD')), hl(16, at('.git/HEAD'), at('.git/ORIG_HEAD')));
  });

  it('an entry named `.git` is read-only itself, at any depth: no new repository, no gitdir pointer, no moving one', () => {
    refused(alone(mkdir(1, '.git')), READ_ONLY(1));
    refused(alone(mkdir(2, 'git/.git')), READ_ONLY(2)); // git init happens on the laptop
    refused(alone(open(3, 'git/.git', F.WRITE | F.CREAT)), READ_ONLY(3)); // a `gitdir: …` pointer file
    refused(alone(two(T.SYMLINK, 4, '../sub', 'git/.git')), READ_ONLY(4));
    refused(alone(two(T.RENAME, 5, 'evil', 'sub/.git')), READ_ONLY(5));
    refused(alone(two(T.RENAME, 6, 'sub/.git', 'stolen')), READ_ONLY(6));
    refused(alone(ext(7, 'posix-rename@openssh.com', str('.git'), str('old.git'))), READ_ONLY(7));
    refused(alone(one(T.REMOVE, 8, 'sub/.git')), READ_ONLY(8));
    refused(alone(one(T.RMDIR, 9, '.git')), READ_ONLY(9));
    refused(alone(req(T.SETSTAT, 10, str('.git'), u32(0x4), u32(0o777))), READ_ONLY(10));
    refused(alone(ext(11, 'hardlink@openssh.com', str('file.txt'), str('git/.git'))), READ_ONLY(11));
    refused(alone(mkdir(12, 'git/.Git')), READ_ONLY(12));
    refused(alone(mkdir(13, 'git/.g\u200cit')), READ_ONLY(13)); // HFS+ ignores U+200C in names: `.git` there
    forwarded(alone(mkdir(14, 'git/.github')), mkdir(14, at('git/.github')));
    forwarded(alone(mkdir(15, 'git/x.git')), mkdir(15, at('git/x.git')));
    forwarded(alone(open(16, '.gitignore', w)), open(16, at('.gitignore'), w | F.EXCL));
    forwarded(alone(one(T.OPENDIR, 17, 'sub/.git')), one(T.OPENDIR, 17, at('sub/.git')));
  });

  it('nothing moves across the edge of a `.git`, and no symlink is made inside one', () => {
    // out: the submodule's config would be writable out there, and could be moved back
    refused(alone(two(T.RENAME, 1, '.git/modules/x', 'x')), READ_ONLY(1));
    // in: a prepared copy
    refused(alone(two(T.RENAME, 2, 'sub', '.git/modules/sub')), READ_ONLY(2));
    refused(alone(ext(3, 'posix-rename@openssh.com', str('to-git/modules'), str('m'))), READ_ONLY(3)); // where it really is
    refused(alone(ext(4, 'hardlink@openssh.com', str('file.txt'), str('.git/objects/ab/x'))), READ_ONLY(4));
    // git would read .git/modules/y/config through the link, from a directory the server may write
    refused(alone(two(T.SYMLINK, 5, '../../sub', '.git/modules/y')), READ_ONLY(5));
    refused(alone(two(T.SYMLINK, 6, 'x', 'to-git/modules/z')), READ_ONLY(6));
    // within a `.git` the names stay protected; a repository moved whole keeps its `.git`
    forwarded(alone(two(T.RENAME, 7, '.git/modules/x', '.git/modules/y')), two(T.RENAME, 7, at('.git/modules/x'), at('.git/modules/y')));
    forwarded(alone(two(T.RENAME, 8, 'sub', 'git/sub')), two(T.RENAME, 8, at('sub'), at('git/sub')));
    // a link to it from outside is fine: writing through it is refused where it lands
    forwarded(alone(two(T.SYMLINK, 9, '.git/config', 'peek')), two(T.SYMLINK, 9, '.git/config', at('peek')));
  });
});

describe('modes and owners', () => {
  const mode = (m: number) => Buffer.concat([u32(0x4), u32(m)]);

  it('clears setuid, setgid and sticky from the mode of OPEN, MKDIR, SETSTAT, FSETSTAT and lsetstat', () => {
    const creat = F.WRITE | F.CREAT;
    forwarded(alone(req(T.OPEN, 1, str('new-suid'), u32(creat), mode(0o4755))), req(T.OPEN, 1, str(at('new-suid')), u32(creat | F.EXCL), mode(0o755)));
    forwarded(alone(req(T.MKDIR, 2, str('sub/d'), mode(0o3777))), req(T.MKDIR, 2, str(at('sub/d')), mode(0o777)));
    forwarded(alone(req(T.SETSTAT, 3, str('file.txt'), mode(0o4755))), req(T.SETSTAT, 3, str(at('file.txt')), mode(0o755)));
    forwarded(alone(req(T.SETSTAT, 4, str('sub'), mode(0o41777))), req(T.SETSTAT, 4, str(at('sub')), mode(0o40777))); // type bits kept
    forwarded(alone(req(T.FSETSTAT, 5, HANDLE, mode(0o6711))), req(T.FSETSTAT, 5, HANDLE, mode(0o711)));
    const ls = (id: number, m: number) => ext(id, 'lsetstat@openssh.com', str('file.txt'), mode(m));
    forwarded(alone(ls(6, 0o7644)), ext(6, 'lsetstat@openssh.com', str(at('file.txt')), mode(0o644)));
  });

  it('finds the mode among the other ATTRS fields, and touches nothing else', () => {
    // size, permissions, times, one extended pair whose value looks like a setuid mode
    const full = (m: number) => Buffer.concat([u32(0x1 | 0x4 | 0x8 | 0x80000000), u64(5), u32(m), u32(1), u32(2), u32(1), str('x@example.com'), str(u32(0o4755))]);
    forwarded(alone(req(T.SETSTAT, 1, str('file.txt'), full(0o4755))), req(T.SETSTAT, 1, str(at('file.txt')), full(0o755)));
    const opened = req(T.OPEN, 2, str('file.txt'), u32(F.WRITE), full(0o2644));
    forwarded(alone(opened), req(T.OPEN, 2, str(at('file.txt')), u32(F.WRITE), full(0o644)));
  });

  it('refuses setting owner or group through any request that carries ATTRS', () => {
    const uidgid = Buffer.concat([u32(0x2), u32(1000), u32(1000)]);
    const { g, refusals } = guard();
    refused(g.fromClient(req(T.SETSTAT, 1, str('file.txt'), uidgid)), OWNER(1));
    refused(alone(req(T.FSETSTAT, 2, HANDLE, uidgid)), OWNER(2));
    refused(alone(ext(3, 'lsetstat@openssh.com', str('file.txt'), uidgid)), OWNER(3));
    refused(alone(req(T.MKDIR, 4, str('sub/d'), uidgid)), OWNER(4));
    refused(alone(req(T.OPEN, 5, str('sub/new'), u32(F.WRITE | F.CREAT), uidgid)), OWNER(5));
    refused(alone(req(T.SETSTAT, 6, str('file.txt'), u32(0x2 | 0x4), u32(0), u32(0), u32(0o644))), OWNER(6));
    expect(refusals).toEqual(['setstat "file.txt": owner and group cannot be changed']);
  });

  it('refuses changing the root’s own attributes: SETSTAT of it by any name, FSETSTAT through a handle on it', () => {
    const chmod = (id: number, p: string) => req(T.SETSTAT, id, str(p), mode(0o777));
    refused(alone(chmod(1, '')), READ_ONLY(1));
    refused(alone(chmod(2, '.')), READ_ONLY(2));
    refused(alone(chmod(3, root)), READ_ONLY(3));
    refused(alone(chmod(4, 'sub/..')), READ_ONLY(4));
    refused(alone(chmod(5, 'self')), READ_ONLY(5)); // a symlink to it
    refused(alone(req(T.SETSTAT, 6, str('.'), u32(0x8), u32(1), u32(2))), READ_ONLY(6));
    forwarded(alone(chmod(7, 'sub')), chmod(7, at('sub')));
    const { g } = guard();
    forwarded(g.fromClient(open(8, '.', F.READ)), open(8, root, F.READ)); // open(2) of a directory, read-only, succeeds
    const h = u32(5);
    g.fromServer(pkt(102, u32(8), str(h)));
    refused(g.fromClient(req(T.FSETSTAT, 9, str(h), mode(0o777))), READ_ONLY(9));
    forwarded(g.fromClient(req(T.FSETSTAT, 10, str(u32(6)), mode(0o777))), req(T.FSETSTAT, 10, str(u32(6)), mode(0o777)));
  });

  it('throws on ATTRS cut short, wherever they are read', () => {
    // the mode flag without a mode: nothing may be read or rewritten past the packet's end
    expect(() => alone(req(T.SETSTAT, 1, str('file.txt'), u32(0x4)))).toThrow(SftpProtocolError);
    expect(() => alone(req(T.MKDIR, 2, str('d'), u32(0x4), Buffer.from([0, 0])))).toThrow(SftpProtocolError);
    expect(() => alone(req(T.FSETSTAT, 3, HANDLE, u32(0x2), u32(0)))).toThrow(SftpProtocolError); // uid, no gid
    expect(() => alone(ext(4, 'lsetstat@openssh.com', str('file.txt'), u32(0x80000000), u32(1), str('a')))).toThrow(SftpProtocolError);
    expect(() => alone(req(T.OPEN, 5, str('file.txt'), u32(F.READ), u32(0x1 | 0x4), u64(0)))).toThrow(SftpProtocolError);
    expect(() => alone(req(T.SETSTAT, 6, str('file.txt')))).toThrow(SftpProtocolError); // no ATTRS at all
  });
});

describe('rule 7: no path check while a namespace change is in flight', () => {
  it('holds a STAT behind an in-flight RENAME, and everything after it, until the RENAME is answered', () => {
    const { g } = guard();
    forwarded(g.fromClient(two(T.RENAME, 1, 'file.txt', 'sub/f')), two(T.RENAME, 1, at('file.txt'), at('sub/f')));
    // a handle operation with nothing queued ahead passes at once
    forwarded(g.fromClient(read(2)), read(2));
    expect(g.fromClient(one(T.STAT, 3, 'sub/f'))).toEqual({ toServer: [], toClient: [] });
    expect(g.fromClient(read(4))).toEqual({ toServer: [], toClient: [] }); // never overtakes the STAT
    expect(g.fromClient(one(T.STAT, 5, '../x'))).toEqual({ toServer: [], toClient: [] });
    expect(g.held).toBe(3);
    // the READ's reply is not the RENAME's
    const data = pkt(103, u32(2), str('hello'));
    const afterData = g.fromServer(data);
    expect(cat(afterData.toClient)).toEqual(data);
    expect(afterData.toServer).toEqual([]);
    // the RENAME's reply releases them, in order
    const released = g.fromServer(OK(1));
    expect(cat(released.toServer)).toEqual(Buffer.concat([one(T.STAT, 3, at('sub/f')), read(4)]));
    expect(cat(released.toClient)).toEqual(Buffer.concat([OK(1), OUTSIDE(5)]));
    expect(g.held).toBe(0);
  });

  it('checks the held path against the namespace as the RENAME left it', () => {
    symlinkSync(outside, `${root}/race-out`);
    try {
      const { g } = guard();
      forwarded(g.fromClient(two(T.RENAME, 1, 'race-out', 'innocent')), two(T.RENAME, 1, at('race-out'), at('innocent')));
      // checked now, `innocent` is missing with its directory inside: it would pass
      forwarded(alone(one(T.STAT, 9, 'innocent')), one(T.STAT, 9, at('innocent')));
      expect(g.fromClient(one(T.STAT, 2, 'innocent'))).toEqual({ toServer: [], toClient: [] });
      renameSync(`${root}/race-out`, `${root}/innocent`); // what sftp-server does
      const out = g.fromServer(OK(1));
      expect(out.toServer).toEqual([]);
      expect(cat(out.toClient)).toEqual(Buffer.concat([OK(1), OUTSIDE(2)]));
    } finally {
      rmSync(`${root}/race-out`, { force: true });
      rmSync(`${root}/innocent`, { force: true });
    }
  });

  it('serialises namespace changes: each waits for the previous one’s reply', () => {
    const { g } = guard();
    const mkdir = (id: number, p: string) => req(T.MKDIR, id, str(p), NO_ATTRS);
    const out = g.fromClient(Buffer.concat([mkdir(1, 'a'), one(T.REMOVE, 2, 'b'), two(T.SYMLINK, 3, 'x', 'c'), one(T.RMDIR, 4, '..')]));
    forwarded(out, mkdir(1, at('a')));
    forwarded({ toServer: g.fromServer(OK(1)).toServer, toClient: [] }, one(T.REMOVE, 2, at('b')));
    forwarded({ toServer: g.fromServer(status(2, 2)).toServer, toClient: [] }, two(T.SYMLINK, 3, 'x', at('c')));
    const last = g.fromServer(OK(3));
    expect(last.toServer).toEqual([]);
    expect(cat(last.toClient)).toEqual(Buffer.concat([OK(3), OUTSIDE(4)]));
  });

  it('lets a refused namespace change block nothing', () => {
    const { g } = guard();
    const out = g.fromClient(Buffer.concat([two(T.RENAME, 1, 'file.txt', '../stolen'), one(T.STAT, 2, 'file.txt')]));
    expect(cat(out.toClient)).toEqual(OUTSIDE(1));
    expect(cat(out.toServer)).toEqual(one(T.STAT, 2, at('file.txt')));
  });
});

describe('rule 8: replies that lead out of the root', () => {
  const rl = (id: number, p: string) => one(T.READLINK, id, p);
  /** What sftp-server answers to READLINK of a fixture: the link's real target. */
  const target = (id: number, rel: string) => names(id, readlinkSync(at(rel)));

  /** Forwards `request`, feeds sftp-server's `reply` back, and returns what reached sshfs. */
  function replyTo(g: SftpGuard, request: Buffer, reply: Buffer): Buffer {
    const sent = g.fromClient(request);
    expect(sent.toClient).toEqual([]);
    expect(sent.toServer).toHaveLength(1);
    const back = g.fromServer(reply);
    expect(back.toServer).toEqual([]);
    return cat(back.toClient);
  }

  it('READLINK: a target that stays inside passes unchanged; an absolute one is replaced, even one into the root', () => {
    const { g, refusals } = guard();
    expect(replyTo(g, rl(1, 'link-in'), target(1, 'link-in'))).toEqual(names(1, 'file.txt'));
    expect(replyTo(g, rl(2, 'self'), target(2, 'self'))).toEqual(names(2, '.'));
    expect(replyTo(g, rl(3, 'sub/up'), names(3, '../file.txt'))).toEqual(names(3, '../file.txt'));
    expect(replyTo(g, rl(4, 'link-out'), target(4, 'link-out'))).toEqual(LINK_OUT(4));
    expect(replyTo(g, rl(5, 'abs-in'), target(5, 'abs-in'))).toEqual(LINK_OUT(5));
    expect(replyTo(g, rl(6, 'dangling-out'), target(6, 'dangling-out'))).toEqual(LINK_OUT(6));
    expect(g.refused).toBe(3);
    const why = ': link leads outside the published directory';
    expect(refusals).toEqual([`readlink "link-out"${why}`, `readlink "abs-in"${why}`, `readlink "dangling-out"${why}`]);
  });

  it('READLINK: a relative target that climbs out of the root is replaced', () => {
    const { g } = guard();
    expect(replyTo(g, rl(1, 'link-up'), target(1, 'link-up'))).toEqual(LINK_OUT(1)); // ../outside
    expect(replyTo(g, rl(2, 'sub/l'), names(2, '../../outside'))).toEqual(LINK_OUT(2));
    expect(replyTo(g, rl(3, 'l'), names(3, '..'))).toEqual(LINK_OUT(3));
    expect(replyTo(g, rl(4, 'sub/l'), names(4, '..'))).toEqual(names(4, '..')); // the root itself
    expect(replyTo(g, rl(5, 'sub/l'), names(5, '../outside'))).toEqual(names(5, '../outside')); // root/outside
    expect(g.refused).toBe(3);
  });

  it('READLINK: `..` after a name is replaced, even when it stays inside lexically', () => {
    const { g } = guard();
    expect(replyTo(g, rl(1, 'l'), names(1, 'sub/../file.txt'))).toEqual(LINK_OUT(1));
    expect(replyTo(g, rl(2, 'sub/l'), names(2, '../sub/../file.txt'))).toEqual(LINK_OUT(2));
    expect(replyTo(g, rl(3, 'l'), names(3, 'a/b/../../file.txt'))).toEqual(LINK_OUT(3));
    // `.` is not a name
    expect(replyTo(g, rl(4, 'sub/l'), names(4, './../file.txt'))).toEqual(names(4, './../file.txt'));
    expect(g.refused).toBe(3);
  });

  it('READLINK: the target is judged from the link’s directory both as named and as it really is', () => {
    const { g } = guard();
    // named root/self/sub/l: ../../x is root/x; really root/sub/l: ../../x leaves the root
    expect(replyTo(g, rl(1, 'self/sub/l'), names(1, '../../x'))).toEqual(LINK_OUT(1));
    // named root/nested/l: ../../x leaves the root; really root/sub/.git/l: it is root/x
    expect(replyTo(g, rl(2, 'nested/l'), names(2, '../../x'))).toEqual(LINK_OUT(2));
    expect(replyTo(g, rl(3, 'nested/l'), names(3, '../x'))).toEqual(names(3, '../x'));
    expect(g.refused).toBe(2);
  });

  it('READLINK answered with a STATUS (not a link) passes unchanged and completes the request; so does any other type', () => {
    const { g } = guard();
    const notALink = status(1, 4, 'Failure');
    expect(replyTo(g, rl(1, 'file.txt'), notALink)).toEqual(notALink);
    // the id is free again, and a reply to it is judged by the request that now holds it
    expect(replyTo(g, rl(1, 'link-out'), target(1, 'link-out'))).toEqual(LINK_OUT(1));
    const handle = pkt(102, u32(2), HANDLE);
    expect(replyTo(g, rl(2, 'link-out'), handle)).toEqual(handle);
    expect(g.refused).toBe(1);
  });

  it('throws on a NAME reply to READLINK or REALPATH with other than one name, or cut short', () => {
    const tries: [Buffer, Buffer][] = [
      [rl(1, 'link-in'), names(1)],
      [rl(1, 'link-in'), names(1, 'file.txt', 'sub')],
      [one(T.REALPATH, 1, ''), names(1, root, root)],
      [rl(1, 'link-in'), pkt(104, u32(1), u32(1))],
      [one(T.REALPATH, 1, ''), pkt(104, u32(1), u32(1), u32(50), Buffer.from('/short'))],
    ];
    for (const [request, reply] of tries) {
      const { g } = guard();
      g.fromClient(request);
      expect(() => g.fromServer(reply)).toThrow(SftpProtocolError);
    }
  });

  it('REALPATH and expand-path: the root and what is under it pass; an answer elsewhere is replaced', () => {
    const { g, refusals } = guard();
    // sshfs's REALPATH of its base path at mount time
    expect(replyTo(g, one(T.REALPATH, 1, '.'), names(1, root))).toEqual(names(1, root));
    expect(replyTo(g, one(T.REALPATH, 2, 'link-in'), names(2, at('file.txt')))).toEqual(names(2, at('file.txt')));
    const x = (id: number, p: string) => ext(id, 'expand-path@openssh.com', str(p));
    expect(replyTo(g, x(3, '~'), names(3, root))).toEqual(names(3, root));
    // `later` is missing when checked; the laptop's owner makes it a link out before sftp-server resolves it
    forwarded(g.fromClient(one(T.REALPATH, 4, 'later')), one(T.REALPATH, 4, at('later')));
    symlinkSync(outside, at('later'));
    try {
      expect(cat(g.fromServer(names(4, realpathSync.native(at('later')))).toClient)).toEqual(LINK_OUT(4));
    } finally {
      rmSync(at('later'), { force: true });
    }
    expect(replyTo(g, x(5, '~/later'), names(5, outside))).toEqual(LINK_OUT(5));
    expect(replyTo(g, one(T.REALPATH, 6, 'sub'), names(6, `${root}-sibling/sub`))).toEqual(LINK_OUT(6));
    expect(replyTo(g, one(T.REALPATH, 7, 'sub'), names(7, `${root}/../outside`))).toEqual(LINK_OUT(7));
    expect(replyTo(g, one(T.REALPATH, 8, 'sub'), names(8, 'sub'))).toEqual(LINK_OUT(8)); // not absolute
    expect(g.refused).toBe(5);
    expect(refusals[0]).toBe('realpath "later": link leads outside the published directory');
  });

  it('REALPATH of `link-out` is refused by its reply too, should the request’s check ever miss it', () => {
    // a realpath that sees no links (the request check is rule 2's; this is what stands behind it)
    const g = new SftpGuard({ root, fs: { realpath: (p) => p } });
    expect(replyTo(g, one(T.REALPATH, 1, 'link-out'), names(1, realpathSync.native(at('link-out'))))).toEqual(LINK_OUT(1));
    expect(replyTo(g, one(T.REALPATH, 2, 'link-in'), names(2, realpathSync.native(at('link-in'))))).toEqual(names(2, at('file.txt')));
    expect(g.refused).toBe(1);
  });

  it('replaces a reply split byte by byte, once its last byte is in, and in its place among the others', () => {
    const { g } = guard();
    g.fromClient(Buffer.concat([rl(1, 'link-out'), one(T.STAT, 2, 'file.txt'), rl(3, 'link-in')]));
    const first = target(1, 'link-out');
    const attrs = pkt(105, u32(2), u32(0));
    const input = Buffer.concat([first, attrs, target(3, 'link-in')]);
    const outs = [...input].map((b) => g.fromServer(Uint8Array.of(b)));
    const answered = outs.flatMap((o, i) => (o.toClient.length ? [i] : []));
    expect(answered).toEqual([first.length - 1, first.length + attrs.length - 1, input.length - 1]);
    expect(outs.every((o) => o.toServer.length === 0)).toBe(true);
    expect(cat(outs.flatMap((o) => o.toClient))).toEqual(Buffer.concat([LINK_OUT(1), attrs, names(3, 'file.txt')]));
    expect(g.refused).toBe(1);
  });

  it('keeps the order of replies in one chunk, judges only NAME replies to READLINK and REALPATH, and releases held requests after', () => {
    const { g } = guard();
    const requests = [read(1), req(T.READDIR, 2, HANDLE), rl(3, 'link-out'), one(T.STAT, 4, 'file.txt'), rl(5, 'link-in'), two(T.RENAME, 6, 'a', 'b')];
    const sent = [read(1), req(T.READDIR, 2, HANDLE), rl(3, at('link-out')), one(T.STAT, 4, at('file.txt')), rl(5, at('link-in')), two(T.RENAME, 6, at('a'), at('b'))];
    forwarded(g.fromClient(Buffer.concat(requests)), ...sent);
    // held behind the RENAME (rule 7)
    expect(g.fromClient(Buffer.concat([one(T.STAT, 7, '../x'), one(T.READLINK, 8, 'link-up')]))).toEqual({ toServer: [], toClient: [] });
    const data = pkt(103, u32(1), str('/etc/passwd'));
    const listing = names(2, '.', '..', '/etc'); // READDIR's names are not judged
    const attrs = pkt(105, u32(4), u32(0));
    const out = g.fromServer(Buffer.concat([data, listing, target(3, 'link-out'), attrs, target(5, 'link-in'), OK(6)]));
    expect(cat(out.toClient)).toEqual(Buffer.concat([data, listing, LINK_OUT(3), attrs, names(5, 'file.txt'), OK(6), OUTSIDE(7)]));
    expect(cat(out.toServer)).toEqual(rl(8, at('link-up')));
    expect(cat(g.fromServer(target(8, 'link-up')).toClient)).toEqual(LINK_OUT(8));
    // every id is free again
    forwarded(g.fromClient(Buffer.concat([rl(3, 'link-in'), rl(8, 'link-in')])), rl(3, at('link-in')), rl(8, at('link-in')));
    expect(g.refused).toBe(3);
  });
});

describe('extensions and unknown requests', () => {
  it('refuses unknown extended requests and home-directory with OP_UNSUPPORTED', () => {
    refused(alone(ext(1, 'home-directory', str(''))), UNSUPPORTED(1));
    refused(alone(ext(2, 'nonsense@example.com', str('/etc'))), UNSUPPORTED(2));
    refused(alone(ext(3, 'statvfs@openssh.com\0x', str('sub'))), UNSUPPORTED(3));
  });

  it('refuses unknown request types with OP_UNSUPPORTED (sftp-server would not answer at all)', () => {
    refused(alone(req(99, 1, str('anything'))), UNSUPPORTED(1));
    refused(alone(req(101, 2, u32(0))), UNSUPPORTED(2)); // a reply type sent as a request
  });

  it('passes the handle and informational extensions unchanged', () => {
    const { g } = guard();
    const passing = [
      ext(1, 'limits@openssh.com'),
      ext(2, 'users-groups-by-id@openssh.com', str(u32(1000)), str(u32(1000))),
      ext(3, 'fsync@openssh.com', HANDLE),
      ext(4, 'fstatvfs@openssh.com', HANDLE),
      ext(5, 'copy-data', HANDLE, u64(0), u64(0), str(u32(1)), u64(0)),
      req(T.CLOSE, 6, HANDLE),
      req(T.FSTAT, 7, HANDLE),
      req(T.READDIR, 8, HANDLE),
    ];
    const out = g.fromClient(Buffer.concat([...passing, ext(9, 'home-directory', str(''))]));
    expect(cat(out.toServer)).toEqual(Buffer.concat(passing));
    expect(cat(out.toClient)).toEqual(UNSUPPORTED(9));
  });
});

describe('refusal accounting', () => {
  it('counts refusals and reports each once, naming the operation and path only', () => {
    const { g, refusals } = guard();
    const write = req(T.WRITE, 1, HANDLE, u64(0), str('SECRET FILE CONTENTS'));
    g.fromClient(Buffer.concat([write, open(2, '.claude-share/commands', F.WRITE), one(T.STAT, 3, '../x'), ext(4, 'home-directory', str(''))]));
    expect(g.refused).toBe(3);
    expect(refusals).toEqual(['open ".claude-share/commands": read-only', 'stat "../x": outside the published directory', 'extended "home-directory": not supported']);
    expect(refusals.join('\n')).not.toContain('SECRET');
  });
});
