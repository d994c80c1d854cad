import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

// The import rule (README "Layout"): the pure core computes, the engine acts only through the System interface, and
// only the OS layer touches the machine. A linter rule as a test: no dependency, and it fails with the offending import.
const SRC = new URL('../src/', import.meta.url);
const COMMANDS = new URL('../commands/', import.meta.url);

/** Plans, renders and rules: no effect of any kind, so every one of them runs on data alone. */
const PURE = ['plan', 'plan-removal', 'render', 'credentials', 'items', 'problem-codes', 'client-versions', 'untrusted', 'validate', 'errors', 'model', 'login-end', 'system', 'exit-code'];
/** The only modules that reach the OS directly: the System implementation and the process around it. */
const OS_LAYER = ['real-system', 'member-exec', 'lock', 'self-test', 'cli', 'console-io', 'service', 'watch'];
const EFFECT_BUILTINS = /^node:(fs|fs\/promises|child_process|net|os|dgram|http|https|worker_threads|cluster|tty)$/;

interface Import {
  from: string;
  typeOnly: boolean;
}

function importsOf(text: string): Import[] {
  const out: Import[] = [];
  for (const m of text.matchAll(/^(?:import|export)\s+(type\s+)?(?:[^'";]*?\s+from\s+)?'([^']+)';/gm)) out.push({ from: m[2], typeOnly: !!m[1] });
  for (const m of text.matchAll(/\bimport\(\s*'([^']+)'\s*\)/g)) out.push({ from: m[1], typeOnly: false });
  return out;
}

const modules = (dir: URL) =>
  readdirSync(dir)
    .filter((f) => f.endsWith('.ts'))
    .map((f) => ({ name: f.replace(/\.ts$/, ''), imports: importsOf(readFileSync(new URL(f, dir), 'utf8')) }));
const local = (from: string) => (from.startsWith('./') ? from.slice(2).replace(/\.js$/, '') : from.startsWith('../src/') ? from.slice(7).replace(/\.js$/, '') : null);

describe('the import rule', () => {
  const src = modules(SRC);

  it('finds the imports it checks (the parser is not blind)', () => {
    const plan = src.find((m) => m.name === 'plan')!;
    expect(plan.imports.map((i) => i.from)).toContain('./credentials.js');
    expect(src.find((m) => m.name === 'real-system')!.imports.map((i) => i.from)).toContain('node:fs');
    expect(importsOf("import type { A } from './a.js';\nimport { b } from 'node:fs';\nconst x = await import('./c.js');")).toEqual([
      { from: './a.js', typeOnly: true },
      { from: 'node:fs', typeOnly: false },
      { from: './c.js', typeOnly: false },
    ]);
  });

  it('the pure core imports (values) only from the pure core: no builtin, no package, no engine', () => {
    const bad = src.filter((m) => PURE.includes(m.name)).flatMap((m) => m.imports.filter((i) => !i.typeOnly && !PURE.includes(local(i.from) ?? '')).map((i) => `${m.name} imports ${i.from}`));
    expect(bad).toEqual([]);
  });

  it('outside the OS layer nothing touches the machine: no effectful builtin, no OS-layer module (commands included)', () => {
    const all = [...src.filter((m) => !OS_LAYER.includes(m.name)), ...modules(COMMANDS).map((m) => ({ ...m, name: `commands/${m.name}` }))];
    const bad = all.flatMap((m) => m.imports.filter((i) => !i.typeOnly && (EFFECT_BUILTINS.test(i.from) || OS_LAYER.includes(local(i.from) ?? ''))).map((i) => `${m.name} imports ${i.from}`));
    expect(bad).toEqual([]);
  });

  it('every module is placed: in the pure core, the OS layer, or the engine between them (listed here when added)', () => {
    const ENGINE = ['apply', 'backups', 'completion', 'config', 'cron-report', 'doctor', 'heal-scheduler', 'login', 'login-life', 'operations', 'probe', 'users-file'];
    expect(src.map((m) => m.name).sort()).toEqual([...PURE, ...OS_LAYER, ...ENGINE].sort());
  });
});
