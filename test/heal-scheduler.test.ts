import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { HealScheduler, type HealOutcome } from '../src/core/heal-scheduler.js';

// The watcher's timing on a fake clock: debounce, the short settle after a credentials rename, the bounded wait, one
// heal at a time with one merged follow-up, and retries with backoff.
const OPTS = { debounceMs: 200, settleMs: 25, maxWaitMs: 1000 };
let heals: { users: string[] | undefined; since: number; at: number }[];
let t0: number;
let answer: (users: string[] | undefined) => HealOutcome | Promise<HealOutcome>;
let errors: string[];

function scheduler() {
  return new HealScheduler(
    OPTS,
    async (users, since) => {
      heals.push({ users, since: since - t0, at: Date.now() - t0 });
      return answer(users);
    },
    (e) => errors.push(e.message),
  );
}

beforeEach(() => {
  vi.useFakeTimers();
  t0 = Date.now();
  heals = [];
  errors = [];
  answer = () => ({ retry: [], everyoneAgain: false });
});
afterEach(() => vi.useRealTimers());

describe('HealScheduler', () => {
  it('debounces and merges: two members 100 ms apart are one heal 200 ms after the last event, timed from the first', async () => {
    const s = scheduler();
    s.schedule('alice');
    await vi.advanceTimersByTimeAsync(100);
    s.schedule('bob');
    await vi.advanceTimersByTimeAsync(199);
    expect(heals).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(heals).toEqual([{ users: ['alice', 'bob'], since: 0, at: 300 }]);
  });

  it('a credentials rename waits only the settle time; an event in the shared directory alone heals only the shared copies', async () => {
    const s = scheduler();
    s.schedule('alice', true);
    await vi.advanceTimersByTimeAsync(25);
    expect(heals).toEqual([{ users: ['alice'], since: 0, at: 25 }]);
    s.schedule(null);
    await vi.advanceTimersByTimeAsync(200);
    expect(heals[1].users).toEqual([]);
  });

  it('a member writing every 100 ms cannot postpone the heal past maxWaitMs after the first event', async () => {
    const s = scheduler();
    for (let i = 0; i < 30; i++) {
      s.schedule('mallory');
      await vi.advanceTimersByTimeAsync(100);
    }
    expect(heals.length).toBeGreaterThanOrEqual(2);
    expect(heals[0]).toEqual({ users: ['mallory'], since: 0, at: 1000 });
  });

  it('one heal at a time: what comes in meanwhile is one follow-up with everyone merged in, not a queue', async () => {
    const s = scheduler();
    answer = (users) => new Promise((r) => setTimeout(() => r({ retry: [], everyoneAgain: false }), users?.includes('alice') ? 1000 : 0));
    s.schedule('alice');
    await vi.advanceTimersByTimeAsync(200); // alice's heal starts and takes a second
    for (const who of ['bob', 'carol', 'everyone', 'dave'] as const) {
      s.schedule(who);
      await vi.advanceTimersByTimeAsync(250);
    }
    await vi.advanceTimersByTimeAsync(2000);
    expect(heals.map((h) => h.users)).toEqual([['alice'], undefined]);
  });

  it('whoever a heal could not repair is tried again after 1 s, then 2 s, 4 s, until it works', async () => {
    const s = scheduler();
    let failures = 3;
    answer = (users) => ({ retry: users?.includes('bob') && failures-- > 0 ? ['bob'] : [], everyoneAgain: false });
    s.schedule('bob');
    await vi.advanceTimersByTimeAsync(20_000);
    expect(heals.map((h) => h.at)).toEqual([200, 200 + 1000 + 200, 1400 + 2000 + 200, 3600 + 4000 + 200]);
  });

  it('a heal that asks for everyone again gets it; a heal that throws is reported and retried', async () => {
    const s = scheduler();
    let first = true;
    answer = (users) => {
      if (users?.includes('alice') && first) {
        first = false;
        return { retry: [], everyoneAgain: true };
      }
      if (users?.includes('bob')) throw new Error('disk on fire');
      return { retry: [], everyoneAgain: false };
    };
    s.schedule('alice');
    await vi.advanceTimersByTimeAsync(400);
    expect(heals.map((h) => h.users)).toEqual([['alice'], undefined]);
    s.schedule('bob');
    await vi.advanceTimersByTimeAsync(1500);
    expect(errors).toEqual(['disk on fire', 'disk on fire']);
    expect(heals.filter((h) => h.users?.includes('bob')).length).toBe(2);
  });

  it('stop: the heal under way finishes, none starts after it', async () => {
    const s = scheduler();
    answer = () => new Promise((r) => setTimeout(() => r({ retry: ['bob'], everyoneAgain: true }), 500));
    s.schedule('bob');
    await vi.advanceTimersByTimeAsync(200);
    let stopped = false;
    void s.stop().then(() => (stopped = true));
    s.schedule('alice');
    await vi.advanceTimersByTimeAsync(499);
    expect(stopped).toBe(false);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(stopped).toBe(true);
    expect(heals.map((h) => h.users)).toEqual([['bob']]);
  });
});
