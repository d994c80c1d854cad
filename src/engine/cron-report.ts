import { createHash } from 'node:crypto';
import type { Problem } from '../core/model.js';
import { renderProblems, type Style } from '../core/render.js';
import type { System } from '../system/system.js';

/** Where `--cron` remembers what it last reported: root-only, kept across reboots, nothing a member can write. */
export const CRON_STATE_DIR = '/var/lib/claude-share';

/**
 * For cron, which mails root whatever a job prints: routine heals go to syslog only (apply logs every action), and
 * problems and warnings are printed when they appear or change, once, not every minute while they last; when they
 * are all gone, one line says so.
 */
export function cronReport(sys: System, command: 'sync' | 'status', problems: Problem[], style: Style, out: (line: string) => void) {
  const state = `${CRON_STATE_DIR}/cron-report.${command}`;
  const key = problems.length
    ? createHash('sha256')
        .update(JSON.stringify(problems.map((p) => [p.severity, p.code, p.user ?? '', p.path ?? '']).sort()))
        .digest('hex')
    : 'clear';
  const old = sys.readFileNoFollow(state, { owner: 0, maxBytes: 256 });
  const prev = old.ok ? old.bytes.toString('utf8').trim() : 'clear';
  if (key === prev) return;
  if (problems.length) {
    out(`claude-share ${command}: ${problems.length} problem${problems.length > 1 ? 's' : ''} (reported again only when they change):`);
    renderProblems(problems, style).forEach(out);
  } else {
    out(`claude-share ${command}: every problem reported before is resolved`);
  }
  if (sys.lstat(CRON_STATE_DIR)?.type !== 'dir') sys.mkdir(CRON_STATE_DIR, 0o700, 0, 0);
  sys.writeFileAtomic(state, `${key}\n`, { mode: 0o600, uid: 0, gid: 0 });
}
