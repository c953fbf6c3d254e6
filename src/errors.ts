/**
 * Typed errors. Every failure a user can cause carries a stable `code`, a message that says what
 * failed and where, and a `hint` that says how to fix it. They are rendered in one place
 * (`src/base-command.ts`); nothing else prints errors.
 */
import { ExitCode } from './exit-codes.js';

export class RosterError extends Error {
  readonly code: string;
  readonly hint: string | undefined;
  readonly exitCode: ExitCode;

  constructor(
    code: string,
    message: string,
    options: { hint?: string; exitCode?: ExitCode; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'RosterError';
    this.code = code;
    this.hint = options.hint;
    this.exitCode = options.exitCode ?? ExitCode.Failure;
  }
}

/** The user asked for something that cannot be done as asked (bad flag, missing path). */
export class UsageError extends RosterError {
  constructor(code: string, message: string, hint?: string) {
    super(code, message, { hint, exitCode: ExitCode.Usage });
    this.name = 'UsageError';
  }
}

/** Input that cannot be read at all (as opposed to input with findings, which are Diagnostics). */
export class InputError extends RosterError {
  constructor(code: string, message: string, hint?: string, cause?: unknown) {
    super(code, message, { hint, exitCode: ExitCode.Failure, cause });
    this.name = 'InputError';
  }
}

/** A defect in roster-as-code itself. */
export class BugError extends RosterError {
  constructor(message: string, cause?: unknown) {
    super('INTERNAL_ERROR', message, {
      hint: 'This is a bug in roster-as-code. Run again with DEBUG=roster to see details, and report it.',
      exitCode: ExitCode.Internal,
      cause,
    });
    this.name = 'BugError';
  }
}
