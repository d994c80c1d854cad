#!/usr/bin/env node
// Summarise a V8 .cpuprofile (node --cpu-prof): the top functions by self time, the CLI's own functions by
// inclusive time, then self time per script.
//   node bench/top-prof.mjs FILE.cpuprofile [TOP=15]
// Prints markdown. Self time of a sample = the time until the next sample (Chrome DevTools' convention).
import { readFileSync } from 'node:fs';

const [file, topArg] = process.argv.slice(2);
if (!file) {
  console.error('usage: node bench/top-prof.mjs FILE.cpuprofile [TOP]');
  process.exit(64);
}
const top = Number(topArg ?? 15);
const prof = JSON.parse(readFileSync(file, 'utf8'));
const byId = new Map(prof.nodes.map((n) => [n.id, n]));
const self = new Map(); // node id -> µs
const { samples, timeDeltas } = prof;
for (let i = 0; i < samples.length; i++) {
  const dt = i + 1 < timeDeltas.length ? timeDeltas[i + 1] : 0;
  self.set(samples[i], (self.get(samples[i]) ?? 0) + Math.max(0, dt));
}
const total = [...self.values()].reduce((a, b) => a + b, 0) || 1;

const cwd = process.cwd();
const where = (cf) => {
  if (!cf.url) return '';
  let u = cf.url.replace(/^file:\/\//, '');
  if (u.startsWith(cwd + '/')) u = u.slice(cwd.length + 1);
  u = u.replace(/^.*\/node_modules\//, 'node_modules/');
  return `${u}:${cf.lineNumber + 1}`;
};
const script = (cf) => (cf.url ? where(cf).replace(/:\d+$/, '') : '(native / VM)');

const fn = new Map();
const files = new Map();
for (const [id, us] of self) {
  const cf = byId.get(id).callFrame;
  const key = `${cf.functionName || '(anonymous)'}\t${where(cf)}`;
  fn.set(key, (fn.get(key) ?? 0) + us);
  files.set(script(cf), (files.get(script(cf)) ?? 0) + us);
}
const ms = (us) => (us / 1000).toFixed(1);
const pct = (us) => ((100 * us) / total).toFixed(1);
const cell = (s) => s.replace(/\|/g, '\\|');

console.log(`profiled ${ms(prof.endTime - prof.startTime)} ms, ${samples.length} samples\n`);
console.log('| self ms | % | function | where |');
console.log('|---:|---:|---|---|');
for (const [key, us] of [...fn].sort((a, b) => b[1] - a[1]).slice(0, top)) {
  const [name, loc] = key.split('\t');
  console.log(`| ${ms(us)} | ${pct(us)} | \`${cell(name)}\` | ${cell(loc)} |`);
}
// Inclusive time of the CLI's own functions (dist/): where the wall time goes, by phase. Each sample counts once
// per function, however deep the recursion.
const parent = new Map();
for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const incl = new Map();
for (const [id, us] of self) {
  const seen = new Set();
  for (let x = id; x !== undefined; x = parent.get(x)) {
    const cf = byId.get(x).callFrame;
    if (!/\/dist\//.test(cf.url)) continue;
    const key = `${cf.functionName || '(anonymous)'}\t${where(cf)}`;
    if (seen.has(key)) continue;
    seen.add(key);
    incl.set(key, (incl.get(key) ?? 0) + us);
  }
}
console.log('\n| incl. ms | % | function (dist/ only) | where |');
console.log('|---:|---:|---|---|');
for (const [key, us] of [...incl].sort((a, b) => b[1] - a[1]).slice(0, 12)) {
  const [name, loc] = key.split('\t');
  console.log(`| ${ms(us)} | ${pct(us)} | \`${cell(name)}\` | ${cell(loc)} |`);
}

console.log('\n| self ms | % | script |');
console.log('|---:|---:|---|');
for (const [f, us] of [...files].sort((a, b) => b[1] - a[1]).slice(0, 8)) console.log(`| ${ms(us)} | ${pct(us)} | ${cell(f)} |`);
