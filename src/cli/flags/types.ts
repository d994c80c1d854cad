import type { Command } from 'commander';
import type { Run } from '../table.js';

/** One file per command: its flags, parsed into the options of its entry in the command table (../table.ts). */
export type Register = (parent: Command, run: Run, done: (code: number) => void) => void;

export const collect = (v: string, prev: string[]) => [...prev, v];
