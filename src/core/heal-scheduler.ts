/**
 * When the watcher heals, and whom (server watch; the inotify plumbing stays in watch.ts). Pure timing, so a fake clock
 * tests it (test/heal-scheduler.test.ts):
 *   - events are debounced (debounceMs) and merged: the members whose homes changed, or everyone (a sweep, a new
 *     config); an event that is complete when it happens (a credentials rename) waits only settleMs;
 *   - a member writing more often than the debounce cannot postpone a heal past maxWaitMs after the first event;
 *   - one heal at a time: what comes in meanwhile is merged into a single follow-up, never queued pass after pass;
 *   - whoever a heal could not repair is tried again after 1 s, doubling up to a minute while it keeps failing, so a
 *     member racing the heal never leaves the others unhealed until the next sweep.
 */
export type Who = string | null | 'everyone';

export interface HealOutcome {
  /** Members (null: the shared copies) whose repair failed or conflicted: tried again later. */
  retry: (string | null)[];
  /** Look at everyone again now (the shared directory was put back, a new login was promoted). */
  everyoneAgain: boolean;
}

export interface SchedulerOptions {
  debounceMs: number;
  /** For an event that is complete when it happens: long enough for what the client does right after it. */
  settleMs: number;
  maxWaitMs: number;
}

/** users undefined: everyone; []: only the shared copies. since: when the first event of this batch came. */
export type HealFn = (users: string[] | undefined, since: number) => Promise<HealOutcome>;

export class HealScheduler {
  private readonly pending = new Set<string>();
  private everyone = false;
  private firstEventAt = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private running = false;
  private followUp: { users: string[] | undefined; since: number } | null = null;
  private healing: Promise<void> = Promise.resolve();
  private readonly backoff = new Map<string, number>();
  private stopped = false;

  constructor(
    private readonly o: SchedulerOptions,
    private readonly heal: HealFn,
    private readonly onError: (e: Error) => void,
    private readonly now: () => number = Date.now,
  ) {}

  schedule(who: Who, atOnce = false) {
    if (this.stopped) return;
    const now = this.now();
    if (!this.timer) this.firstEventAt = now;
    if (who === 'everyone') this.everyone = true;
    else if (who !== null) this.pending.add(who);
    const left = this.o.maxWaitMs - (now - this.firstEventAt);
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => this.flush(), Math.max(0, Math.min(atOnce ? this.o.settleMs : this.o.debounceMs, left)));
  }

  /** No new heal starts; resolves once the one under way is done. */
  async stop() {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.healing;
  }

  private flush() {
    this.timer = null;
    const users = this.everyone ? undefined : [...this.pending];
    const since = this.firstEventAt;
    this.pending.clear();
    this.everyone = false;
    if (this.running) {
      const f = this.followUp;
      const merged = !f ? users : !f.users || !users ? undefined : [...new Set([...f.users, ...users])];
      this.followUp = { users: merged, since: f?.since ?? since };
      return;
    }
    this.running = true;
    this.healing = (async () => {
      let next: { users: string[] | undefined; since: number } | null = { users, since };
      while (next && !this.stopped) {
        try {
          const r = await this.heal(next.users, next.since);
          if (r.everyoneAgain) this.schedule('everyone');
          this.retryLater(r.retry, next.users);
        } catch (e) {
          this.onError(e as Error);
          this.retryLater(next.users ?? ['everyone'], next.users);
        }
        next = this.followUp;
        this.followUp = null;
      }
      this.running = false;
    })();
  }

  private retryLater(who: (string | null)[], healed: string[] | undefined) {
    for (const u of healed ?? []) if (!who.includes(u)) this.backoff.delete(u);
    for (const u of who) {
      const key = u ?? 'shared';
      const delay = Math.min((this.backoff.get(key) ?? 500) * 2, 60_000);
      this.backoff.set(key, delay);
      const t = setTimeout(() => this.schedule(u), delay);
      (t as { unref?: () => void }).unref?.();
    }
  }
}
