import type { Register } from './types.js';

export const registerCompletion: Register = (parent, run, done) => {
  parent
    .command('completion')
    .description('print a shell completion script: eval "$(claude-share completion bash)"')
    .argument('<shell>', 'bash or zsh')
    .action(async (shell: string) => done(await run('completion', { shell, program: parent })));
};
