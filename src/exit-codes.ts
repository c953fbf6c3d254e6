/**
 * The exit codes of every `roster` command: one table, documented in README.md ("Exit codes")
 * and checked against it by a test.
 */
export enum ExitCode {
  /** Success: the roster is valid, the command did what was asked. */
  Ok = 0,
  /** The input is invalid (validation errors) or the operation failed. */
  Failure = 1,
  /** `roster plan --detailed-exitcode` only: the plan has changes. */
  Changes = 2,
  /** A usage error: unknown flag, missing argument, a path that does not exist. */
  Usage = 64,
  /** An internal error (a bug in roster-as-code). */
  Internal = 70,
  /** Interrupted by SIGINT (Ctrl-C): stopped at a safe point, lock released. */
  Interrupted = 130,
  /** Stopped by SIGTERM (a CI runner cancelling the job): stopped at a safe point, lock released. */
  Terminated = 143,
}
