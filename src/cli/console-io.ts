import type { Io, Prompter } from '../engine/io.js';

/** Prompts only on a terminal; colours only on a terminal, and never with NO_COLOR. */
export function consoleIo(yes: boolean): Io {
  const tty = !!process.stdin.isTTY && !!process.stdout.isTTY;
  return {
    out: (l) => process.stdout.write(l + '\n'),
    err: (l) => process.stderr.write(l + '\n'),
    style: { color: !!process.stdout.isTTY && !process.env.NO_COLOR },
    interactive: tty && !yes,
    prompt: inquirerPrompter(),
    progress: process.stderr.isTTY ? (t) => process.stderr.write(`\r\x1b[K${t}`) : undefined,
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
