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

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** What went wrong, for scripts (--json's error.code): each refusal is one of these. */
export type ErrorCode = 'usage' | 'bad-input' | 'config-invalid' | 'unsafe' | 'operator' | 'locked';

export class CliError extends Error {
  constructor(
    readonly code: ErrorCode,
    readonly exitCode: ExitCode,
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
