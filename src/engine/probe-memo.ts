import { MAX_READ_BYTES } from '../core/items.js';
import type { FileStat, System } from '../system/system.js';

/**
 * What earlier looks found in members' shell start files (the umask block there or not), homes (no
 * .claude.json.corrupted.* files) and links (their target: a symlink cannot be changed in place, only replaced by a
 * new inode), keyed by what lstat says of each: inode, size, mtime and ctime. The kernel changes
 * ctime at every write, chmod, chown or utimes, and nobody can set it back, so an unchanged key means unchanged
 * content: a status of 1,000 members reads their 2,000 start files and 1,000 home listings once, then only what
 * changed. Root-only state; a memo that is missing, unreadable or not ours only means looking at everything again, and
 * nothing is ever written because of it (apply reads a start file itself before adding the block).
 */
export const PROBE_MEMO = '/var/lib/claude-share/probe-memo';
const VERSION = 1;
const RACY_MS = 2000;

type Key = string;
const keyOf = (st: FileStat): Key => `${st.ino}:${st.size}:${st.mtimeMs}:${st.ctimeMs}`;

export class ProbeMemo {
  private changed = false;
  private saving = false;
  /**
   * Git's "racy clean" rule: a file changed within the last RACY_MS is not remembered, since a change within the same
   * clock tick (kernels before 6.13 move ctime once a tick) may not move the key; the next look remembers it.
   */
  private notAfterMs = Number.POSITIVE_INFINITY;
  private constructor(
    private readonly rcs: Map<string, [Key, boolean]>,
    private readonly homes: Map<string, Key>,
    private readonly links: Map<string, [Key, string]>,
  ) {}

  static empty(): ProbeMemo {
    return new ProbeMemo(new Map(), new Map(), new Map());
  }

  /**
   * The memo for a look at these users: a look at every member loads and keeps it; a look at a few (the watcher
   * healing one member, sync --user) neither reads nor writes it, so it costs the same with 10 or 5,000 members.
   */
  static forRun(sys: System, d: { onlyUsers?: string[] }): ProbeMemo {
    return d.onlyUsers ? ProbeMemo.empty() : ProbeMemo.load(sys);
  }

  static load(sys: System): ProbeMemo {
    const memo = ProbeMemo.read(sys);
    memo.saving = true;
    memo.notAfterMs = sys.now().getTime() - RACY_MS;
    return memo;
  }

  private static read(sys: System): ProbeMemo {
    const r = sys.readFileNoFollow(PROBE_MEMO, { owner: 0, maxBytes: MAX_READ_BYTES });
    if (!r.ok || r.stat.mode & 0o077) return ProbeMemo.empty();
    try {
      const doc = JSON.parse(r.bytes.toString('utf8')) as { v: number; rc: [string, Key, boolean][]; clean: [string, Key][]; links: [string, Key, string][] };
      if (doc.v !== VERSION || !Array.isArray(doc.rc) || !Array.isArray(doc.clean) || !Array.isArray(doc.links)) return ProbeMemo.empty();
      return new ProbeMemo(new Map(doc.rc.map(([p, k, b]) => [p, [k, b === true]])), new Map(doc.clean), new Map(doc.links.map(([p, k, t]) => [p, [k, String(t)]])));
    } catch {
      return ProbeMemo.empty();
    }
  }

  /** What was remembered of path when it had this stat; undefined when not known. */
  private recall<V>(m: Map<string, [Key, V]>, path: string, st: FileStat): V | undefined {
    const e = m.get(path);
    return e && e[0] === keyOf(st) ? e[1] : undefined;
  }
  private remember<V>(m: Map<string, [Key, V]>, path: string, st: FileStat, value: V) {
    if (st.ctimeMs > this.notAfterMs) return;
    const k = keyOf(st);
    const e = m.get(path);
    if (e?.[0] === k && e[1] === value) return;
    m.set(path, [k, value]);
    this.changed = true;
  }

  /** Whether the start file at path had the umask block when it last had this stat. */
  rcHasBlock = (path: string, st: FileStat) => this.recall(this.rcs, path, st);
  setRc = (path: string, st: FileStat, hasBlock: boolean) => this.remember(this.rcs, path, st, hasBlock);
  /** The target of the symlink at path when it last had this stat. */
  linkTarget = (path: string, st: FileStat) => this.recall(this.links, path, st);
  setLink = (path: string, st: FileStat, target: string) => this.remember(this.links, path, st, target);

  /** The home had no corrupted-file leftovers when it last had this stat (a directory's ctime moves with its entries). */
  homeClean(home: string, st: FileStat): boolean {
    return this.homes.get(home) === keyOf(st);
  }
  setHomeClean(home: string, st: FileStat, clean: boolean) {
    if (clean && st.ctimeMs > this.notAfterMs) return;
    const k = keyOf(st);
    if (clean ? this.homes.get(home) === k : !this.homes.has(home)) return;
    if (clean) this.homes.set(home, k);
    else this.homes.delete(home);
    this.changed = true;
  }

  /** Written only when loaded for a look at everyone and something changed; a failure to write costs only speed (the next run reads again). */
  save(sys: System) {
    if (!this.changed || !this.saving) return;
    const doc = { v: VERSION, rc: [...this.rcs].map(([p, [k, b]]) => [p, k, b]), clean: [...this.homes], links: [...this.links].map(([p, [k, t]]) => [p, k, t]) };
    try {
      if (sys.lstat('/var/lib/claude-share')?.type !== 'dir') sys.mkdir('/var/lib/claude-share', 0o700, 0, 0);
      sys.writeFileAtomic(PROBE_MEMO, JSON.stringify(doc) + '\n', { mode: 0o600, uid: 0, gid: 0 });
      this.changed = false;
    } catch {
      /* a read-only /var: every run reads everything, as without a memo */
    }
  }
}
