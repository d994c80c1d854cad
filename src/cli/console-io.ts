import type { Io, Prompter } from '../engine/io.js';
import { readAllStdin } from '../system/stdin.js';

/**
 * Prompts only on a terminal; colours only on a terminal, and never with NO_COLOR. Output lines are written in
 * batches (status over 1,000 members is 1,000 lines: one write, not 1,000 system calls), flushed before anything
 * goes to stderr or a prompt, so the two streams keep their order; `streaming` writes each line at once (the
 * watcher's log, a sign-in on the terminal).
 */
export function consoleIo(yes: boolean, streaming = false): Io & { flush(): void } {
  const tty = !!process.stdin.isTTY && !!process.stdout.isTTY;
  let pending = '';
  const flush = () => {
    if (pending) process.stdout.write(pending);
    pending = '';
  };
  const prompts = inquirerPrompter();
  return {
    out: (l) => {
      pending += l + '\n';
      if (streaming || pending.length > 1 << 16) flush();
    },
    err: (l) => {
      flush();
      process.stderr.write(l + '\n');
    },
    style: { color: !!process.stdout.isTTY && !process.env.NO_COLOR },
    interactive: tty && !yes,
    prompt: {
      input: (m, d) => (flush(), prompts.input(m, d)),
      password: (m) => (flush(), prompts.password(m)),
    },
    progress: process.stderr.isTTY ? (t) => (flush(), process.stderr.write(`\r\x1b[K${t}`)) : undefined,
    readSecret: async (question, maxBytes) => {
      flush();
      if (process.stdin.isTTY) return prompts.password(question);
      return readAllStdin(maxBytes);
    },
    flush,
  };
}

function inquirerPrompter(): Prompter {
  return {
    async input(message, def) {
      const { input } = await import('@inquirer/prompts');
      return input({ message, default: def });
    },
    async password(message) {
      const { password } = await import('@inquirer/prompts');
      return password({ message, mask: '*' });
    },
  };
}
