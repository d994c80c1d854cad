/** Exit codes, documented in the README. Only the entry point turns them into process.exitCode. */
export const EXIT = {
  ok: 0,
  drift: 1,
  operator: 2,
  usage: 64,
  dataErr: 65,
  internal: 70,
  unsafe: 77,
  /** Stopped by SIGINT/SIGTERM between two steps (128 + SIGINT). */
  interrupted: 130,
} as const;

export class CliError extends Error {
  constructor(
    readonly code: string,
    readonly exitCode: number,
    message: string,
    readonly hint?: string,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

export const usageError = (message: string, hint?: string) => new CliError('usage', EXIT.usage, message, hint);
export const dataError = (message: string, hint?: string) => new CliError('bad-input', EXIT.dataErr, message, hint);
export const unsafeError = (message: string, hint?: string) => new CliError('unsafe', EXIT.unsafe, message, hint);
export const operatorError = (message: string, hint?: string) => new CliError('operator', EXIT.operator, message, hint);
