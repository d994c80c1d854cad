import type { Register } from './types.js';

export const registerVersion: Register = (parent, run, done) => {
  parent
    .command('version')
    .description('print the version')
    .action(async () => done(await run('version', {})));
};
