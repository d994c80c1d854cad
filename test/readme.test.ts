import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { INTERNAL_CODES, PROBLEM_CODES } from '../src/core/problem-codes.js';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
const section = readme.slice(readme.indexOf('## Troubleshooting'), readme.indexOf('## FAQ'));
const documented = [...section.matchAll(/^\| `([a-z-]+)` \|/gm)].map((m) => m[1]);

describe('README troubleshooting table', () => {
  it('lists every problem code the tool can report, and no other', () => {
    const reportable = Object.keys(PROBLEM_CODES).filter((c) => !INTERNAL_CODES.includes(c as never));
    expect([...documented].sort()).toEqual([...reportable].sort());
  });

  it('keeps the two quick-start commands', () => {
    expect(readme).toContain('sudo ./install.sh && sudo claude-share server init');
    expect(readme).toContain('sudo npm cit');
  });
});

describe('README "Many servers"', () => {
  it('shows the example inventory and playbook exactly as ansible/example holds them (the files the Ansible test runs)', () => {
    for (const f of ['inventory.yml', 'playbook.yml']) {
      const text = readFileSync(new URL(`../ansible/example/${f}`, import.meta.url), 'utf8');
      expect(readme, f).toContain('```yaml\n' + text + '```');
    }
  });
});
