import { beforeAll, describe, expect, it } from 'vitest';
import type { Observed } from '../src/core/model.js';
import { plan } from '../src/core/plan.js';
import { loadConfig } from '../src/engine/config.js';
import { syncDesired } from '../src/engine/converge.js';
import { probe } from '../src/engine/probe.js';
import { initializedMachine } from './helpers/fixtures.js';
import type { MemorySystem } from './helpers/memory-system.js';

// The pure plan as a table: one healthy observation, changed the way the world changes, and what plan() must make
// of it (the actions sync would take, the problems only a person can fix). No System is touched by plan().
let sys: MemorySystem;
const CFG = '/etc/claude-share/config';

beforeAll(async () => {
  sys = await initializedMachine('alice:a\nbob:b\n');
});

const desired = () => syncDesired(loadConfig(sys, CFG)!);
const user = (obs: Observed, name: string) => obs.users.find((u) => u.name === name)!;
const item = (obs: Observed, name: string, rel: string) => user(obs, name).items.find((i) => i.item.rel === rel)!;

describe('plan(desired, observed)', () => {
  it.each<[string, (obs: Observed) => void, string[], string[]]>([
    ['everything in place', () => {}, [], []],
    ['a link gone from a home', (o) => Object.assign(item(o, 'alice', '.claude/settings.json'), { state: 'missing', stat: null }), ['link /home/alice/.claude/settings.json'], []],
    ['a member out of the group', (o) => (user(o, 'bob').inGroup = false), ['add-to-group claudeshare'], []],
    ['a shared copy others can read', (o) => (o.shared[2].stat!.mode = 0o664), ['fix-shared /shared/claude-share/home/.claude/settings.json'], []],
    ['a start file without the umask block', (o) => (user(o, 'alice').rc[0].hasBlock = false), ['umask-block /home/alice/.bashrc'], []],
    ['an account gone', (o) => Object.assign(user(o, 'bob'), { entry: null }), [], ['user-missing']],
    [
      'a home that is not its owner’s',
      (o) => Object.assign(user(o, 'bob'), { unsafe: 'home /home/bob is owned by uid 0, not bob', items: user(o, 'bob').items.map((i) => ({ ...i, state: 'unsafe', stat: null, detail: 'x' })) }),
      [],
      ['home-unsafe'],
    ],
    ['a shared directory a member could swap', (o) => (o.insecureParent = '/shared is writable by group or others (mode 777)'), [], ['shared-dir-insecure']],
    ['a home full of corrupted-file leftovers', (o) => (user(o, 'alice').corrupted = { count: 3, names: ['a', 'b', 'c'] }), [], ['claude-json-corrupted']],
  ])('%s', (_what, change, actions, problems) => {
    const obs = probe(sys, desired());
    change(obs);
    const p = plan(desired(), obs);
    expect(p.actions.map((a) => `${a.kind} ${a.target}`)).toEqual(actions);
    expect(p.problems.map((x) => x.code)).toEqual(problems);
  });

  it('is pure: the same observation gives the same plan, and planning changes nothing it was given', () => {
    const obs = probe(sys, desired());
    const before = JSON.stringify(obs);
    expect(JSON.stringify(plan(desired(), obs))).toBe(JSON.stringify(plan(desired(), obs)));
    expect(JSON.stringify(obs)).toBe(before);
  });
});
