import { dataError } from '../core/errors.js';
import type { Style } from '../core/render.js';
import { MAX_PASSWORD, passwordProblem } from './users-file.js';

export interface Io {
  out(line: string): void;
  err(line: string): void;
  style: Style;
  /** Prompts are allowed (a TTY and no --yes). */
  interactive: boolean;
  prompt?: Prompter;
  /** A live one-line status on a terminal; '' clears it. */
  progress?(text: string): void;
  /**
   * A secret given on stdin (at most maxBytes; more is refused), or asked for without echo when stdin is a
   * terminal: never on the command line, where every process could read it.
   */
  readSecret?(question: string, maxBytes: number): Promise<string>;
}

export interface Prompter {
  input(message: string, def?: string): Promise<string>;
  password(message: string): Promise<string>;
}

/** Asks twice; says why before asking again (empty, against the password rule, or the two did not match). */
export async function askPassword(p: Prompter, name: string, say: (line: string) => void): Promise<string> {
  for (let tries = 0; tries < 3; tries++) {
    const a = await p.password(`Password for ${name}`);
    const bad = passwordProblem(a);
    if (bad) {
      say(`${bad}; try again`);
      continue;
    }
    const b = await p.password(`Repeat the password for ${name}`);
    if (a === b) return a;
    say('the two passwords differ; try again');
  }
  throw dataError(`no acceptable password for ${name} after three tries`, `run the command again; a password is one line of printable text, at most ${MAX_PASSWORD} characters`);
}
