#!/usr/bin/env node
// REFERENCE ONLY: the file-system work `sync` must do per severed user, with nothing else around it, timed
// in-process (no node startup). bench/bench.sh uses it as the "backup I/O" term of the sync target.
//   node bench/backup-io.mjs DIR COUNT     -> prints the elapsed microseconds of the timed part
// Untimed setup: COUNT homes DIR/h/uN/.claude holding a 0600 private .credentials.json (like a severed copy).
// Timed, per file, the same syscalls as RealSystem: read it (O_NOFOLLOW, fstat); make the backup directories
// (mkdir + open + fchown + fchmod per level); write the backup atomically (temp O_EXCL, write, fchown,
// fchmod, fsync, rename); relink (symlink at a temp name, rename over the private file).
import * as fs from 'node:fs';

const [dir, countArg] = process.argv.slice(2);
const count = Number(countArg);
if (!dir || !Number.isInteger(count) || count < 1) {
  console.error('usage: node bench/backup-io.mjs DIR COUNT');
  process.exit(64);
}
const { O_RDONLY, O_WRONLY, O_CREAT, O_EXCL, O_NOFOLLOW, O_DIRECTORY } = fs.constants;
const body =
  JSON.stringify({
    claudeAiOauth: {
      accessToken: 'sk-ant-oat01-x'.padEnd(108, 'x'),
      refreshToken: 'sk-ant-ort01-x'.padEnd(108, 'x'),
      expiresAt: Date.now() + 8 * 3600e3,
      scopes: ['user:inference', 'user:profile'],
      subscriptionType: 'max',
    },
  }) + '\n';

fs.rmSync(dir, { recursive: true, force: true });
for (let i = 0; i < count; i++) {
  fs.mkdirSync(`${dir}/h/u${i}/.claude`, { recursive: true, mode: 0o700 });
  fs.writeFileSync(`${dir}/h/u${i}/.claude/.credentials.json`, body, { mode: 0o600 });
}
fs.mkdirSync(`${dir}/shared/backups`, { recursive: true, mode: 0o700 });

const mkdir = (p) => {
  try {
    fs.mkdirSync(p, { mode: 0o700 });
  } catch (e) {
    if (e.code !== 'EEXIST') throw e;
  }
  const fd = fs.openSync(p, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
  fs.fchownSync(fd, 0, 0);
  fs.fchmodSync(fd, 0o700);
  fs.closeSync(fd);
};

const t0 = process.hrtime.bigint();
const root = `${dir}/shared/backups/${new Date().toISOString().replace(/:/g, '-')}`;
for (let i = 0; i < count; i++) {
  const src = `${dir}/h/u${i}/.claude/.credentials.json`;
  const fd = fs.openSync(src, O_RDONLY | O_NOFOLLOW);
  const st = fs.fstatSync(fd);
  const buf = Buffer.alloc(st.size + 1);
  const n = fs.readSync(fd, buf, 0, buf.length, null);
  fs.closeSync(fd);
  mkdir(`${dir}/shared/backups`);
  mkdir(root);
  mkdir(`${root}/u${i}`);
  mkdir(`${root}/u${i}/.claude`);
  const dest = `${root}/u${i}/.claude/.credentials.json`;
  fs.lstatSync(dest, { throwIfNoEntry: false });
  const tmp = `${dest}.tmp`;
  const w = fs.openSync(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0o600);
  fs.writeFileSync(w, buf.subarray(0, n));
  fs.fchownSync(w, 0, 0);
  fs.fchmodSync(w, 0o600);
  fs.fsyncSync(w);
  fs.closeSync(w);
  fs.renameSync(tmp, dest);
  fs.symlinkSync('/shared/claude-share/home/.claude/.credentials.json', `${src}.link`);
  fs.renameSync(`${src}.link`, src);
}
const us = Number((process.hrtime.bigint() - t0) / 1000n);
fs.rmSync(dir, { recursive: true, force: true });
console.log(us);
