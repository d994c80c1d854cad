import type { Register } from './types.js';

export const registerCompletion: Register = (parent, runner, done) => {
  parent
    .command('completion')
    .description('print a shell completion script: eval "$(claude-share completion bash)"')
    .argument('<shell>', 'bash or zsh')
    .action(async (shell: string) => done(await runner.completion(shell, parent)));
};
