import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
let cp: typeof import('node:child_process') | undefined;

/**
 * node:child_process, loaded the first time a program is run (2.5 ms of Node's own module compilation): status and
 * sync run none, and every run pays for what it uses only.
 */
export const childProcess = (): typeof import('node:child_process') => (cp ??= require('node:child_process') as typeof import('node:child_process'));
