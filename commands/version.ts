import type { Register } from './types.js';

export const registerVersion: Register = (parent, runner, done) => {
  parent
    .command('version')
    .description('print the version')
    .action(async () => done(await runner.version()));
};
