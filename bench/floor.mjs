// REFERENCE ONLY: the system calls a status of every managed member cannot avoid, and nothing else: for each member
// in the config, lstat of the home, ~/.claude, the four shared files and the two shell start files (what status
// does once its memo knows the rest, src/engine/probe-memo.ts). Timed by bench/bench.sh with node's own start, so
// `status / floor` is what status costs beyond Node and the kernel.
import { lstatSync, readFileSync } from 'node:fs';

const cfg = readFileSync(process.argv[2] ?? '/etc/claude-share/config', 'utf8');
const users = new Set((/^MANAGED_USERS=(.*)$/m.exec(cfg)?.[1] ?? '').split(',').filter(Boolean));
const homes = readFileSync('/etc/passwd', 'utf8')
  .split('\n')
  .map((l) => l.split(':'))
  .filter((f) => users.has(f[0]))
  .map((f) => f[5]);
const rel = ['', '/.claude', '/.claude/.credentials.json', '/.claude.json', '/.claude/settings.json', '/.claude/settings.local.json', '/.bashrc', '/.profile'];
let n = 0;
for (const h of homes) for (const r of rel) if (lstatSync(h + r, { throwIfNoEntry: false })) n++;
if (n < homes.length) process.exit(1);
