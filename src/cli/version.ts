import { readFileSync } from 'node:fs';

/** package.json is three levels up from dist/src/cli/version.js, two from src/cli/version.ts (tests). */
function readVersion(): string {
  for (const rel of ['../../../package.json', '../../package.json']) {
    try {
      return JSON.parse(readFileSync(new URL(rel, import.meta.url), 'utf8')).version;
    } catch {
      /* try the next layout */
    }
  }
  return 'unknown';
}

export const VERSION = readVersion();
