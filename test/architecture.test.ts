import { readdirSync, readFileSync, statSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

// The import rule (README "Code layout"), one folder a layer:
//   src/core     pure: data in, data out (plans, renders, rules, the platform tables)
//   src/engine   probe → plan → apply, converge: acts only through the System interface
//   src/commands one handler per command: options in, exit code out, through the engine and System
//   src/system   the only code that touches the machine: the System implementation, acting as a member, the lock
//   src/cli      argv → options (flags/), the command table, the terminal; src/cli.ts is the entry point
// A linter rule written as a test: no dependency, and it fails naming the offending import.
const SRC = new URL('../src/', import.meta.url).pathname;
const LAYERS = ['core', 'engine', 'commands', 'system', 'cli'] as const;
type Layer = (typeof LAYERS)[number];
/** Which layers each layer may import values from (types may come from anywhere: they vanish at build). */
const MAY_IMPORT: Record<Layer, Layer[]> = {
  core: ['core'],
  engine: ['core', 'engine'],
  commands: ['core', 'engine', 'commands'],
  system: ['core', 'system'],
  cli: ['core', 'engine', 'commands', 'system', 'cli'],
};
/** Builtins that reach the machine: only system/ and cli/ use them. */
const EFFECT_BUILTINS = /^node:(fs|fs\/promises|child_process|net|os|dgram|http|https|worker_threads|cluster|tty|process)$/;

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

const walk = (dir: string): string[] => readdirSync(dir).flatMap((f) => (statSync(dir + f).isDirectory() ? walk(`${dir}${f}/`) : f.endsWith('.ts') ? [dir + f] : []));
const files = walk(SRC).map((p) => ({ rel: p.slice(SRC.length), imports: importsOf(readFileSync(p, 'utf8')) }));
/** src/cli.ts, the entry point, belongs to cli. */
const layerOf = (rel: string) => (/^cli\.(ts|js)$/.test(rel) ? 'cli' : rel.split('/')[0]) as Layer;
/** The layer a relative import lands in, or null for a package or builtin. */
function target(fromRel: string, spec: string): string | null {
  if (!spec.startsWith('.')) return null;
  const parts = fromRel.split('/').slice(0, -1);
  for (const seg of spec.split('/')) {
    if (seg === '..') parts.pop();
    else if (seg !== '.') parts.push(seg);
  }
  return parts.join('/');
}

describe('the import rule', () => {
  it('finds the imports it checks (the parser is not blind)', () => {
    const plan = files.find((f) => f.rel === 'core/plan.ts')!;
    expect(plan.imports.map((i) => i.from)).toContain('./credentials.js');
    expect(files.find((f) => f.rel === 'system/real-system.ts')!.imports.map((i) => i.from)).toContain('node:fs');
    expect(importsOf("import type { A } from './a.js';\nimport { b } from 'node:fs';\nconst x = await import('./c.js');")).toEqual([
      { from: './a.js', typeOnly: true },
      { from: 'node:fs', typeOnly: false },
      { from: './c.js', typeOnly: false },
    ]);
    expect(target('commands/sync.ts', '../engine/converge.js')).toBe('engine/converge.js');
  });

  it('every module sits in a layer folder (src/cli.ts, the entry point, aside)', () => {
    expect(files.filter((f) => !LAYERS.includes(layerOf(f.rel))).map((f) => f.rel)).toEqual([]);
    for (const l of LAYERS) expect(files.some((f) => layerOf(f.rel) === l)).toBe(true);
  });

  it('each layer imports values only from the layers below it', () => {
    const bad = files.flatMap((f) =>
      f.imports
        .filter((i) => !i.typeOnly)
        .filter((i) => {
          const t = target(f.rel, i.from);
          return t !== null && !MAY_IMPORT[layerOf(f.rel)].includes(layerOf(t));
        })
        .map((i) => `${f.rel} imports ${i.from}`),
    );
    expect(bad).toEqual([]);
  });

  it('the pure core imports no builtin and no package', () => {
    const bad = files.filter((f) => layerOf(f.rel) === 'core').flatMap((f) => f.imports.filter((i) => !i.typeOnly && !i.from.startsWith('.')).map((i) => `${f.rel} imports ${i.from}`));
    expect(bad).toEqual([]);
  });

  it('only system/ and cli/ reach the machine: no effectful builtin in core, engine or commands', () => {
    const bad = files
      .filter((f) => ['core', 'engine', 'commands'].includes(layerOf(f.rel)))
      .flatMap((f) => f.imports.filter((i) => !i.typeOnly && EFFECT_BUILTINS.test(i.from)).map((i) => `${f.rel} imports ${i.from}`));
    expect(bad).toEqual([]);
  });
});
