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

/** Input that cannot be read at all (as opposed to input with diagnostics, which are Diagnostics). */
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

/** Another process holds the target's lock. */
export class LockHeldError extends RosterError {
  constructor(
    target: string,
    holder: { holder: string; host: string; operation: string; createdAt: string },
    stale: boolean,
    now: Date = new Date(),
  ) {
    const age = ageOf(holder.createdAt, now);
    super(
      'LOCK_HELD',
      `target "${target}" is locked by ${holder.holder} (${holder.operation}, since ${holder.createdAt}${age ? `, ${age} ago` : ''})${stale ? '; that process is no longer running' : ''}`,
      {
        hint: stale
          ? `The lock is stale. Check that no apply is running, then run \`roster unlock ${target} --force\`.`
          : `Wait for it to finish, or pass --lock-timeout to wait (e.g. --lock-timeout 5m). If no roster-as-code runs on ${holder.host || 'that host'} any more (a CI job that was killed), run \`roster unlock ${target} --force\`.`,
      },
    );
    this.name = 'LockHeldError';
  }
}

/** "12 minutes", "3 hours", "2 days": how long ago `iso` was (undefined when it is not a time). */
function ageOf(iso: string, now: Date): string | undefined {
  const ms = now.getTime() - Date.parse(iso);
  if (!Number.isFinite(ms) || ms < 0) return undefined;
  const minutes = Math.floor(ms / 60_000);
  if (minutes < 1) return `${Math.floor(ms / 1000)} seconds`;
  if (minutes < 120) return `${minutes} minute${minutes === 1 ? '' : 's'}`;
  const hours = Math.floor(minutes / 60);
  return hours < 48 ? `${hours} hours` : `${Math.floor(hours / 24)} days`;
}

/** SIGINT or SIGTERM arrived: the command stopped at a safe point (the message says what the target holds). */
export class InterruptedError extends RosterError {
  constructor(
    readonly signal: 'SIGINT' | 'SIGTERM',
    message: string,
    hint?: string,
  ) {
    super('INTERRUPTED', message, {
      ...(hint ? { hint } : {}),
      exitCode: signal === 'SIGTERM' ? ExitCode.Terminated : ExitCode.Interrupted,
    });
    this.name = 'InterruptedError';
  }
}

/** The disk (or a quota) is full: nothing partial was left. */
export class DiskFullError extends RosterError {
  constructor(path: string, cause?: unknown) {
    super('DISK_FULL', `no space left on the device while writing ${path}; nothing was written there`, {
      hint: 'Free some space (or raise the quota) and run again. Nothing partial was kept.',
      cause,
    });
    this.name = 'DiskFullError';
  }
}

/** Runs `write`; a full disk (or quota) becomes DiskFullError naming `path`. */
export async function diskFullAs<T>(path: string, write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (err) {
    if (isDiskFull(err)) throw new DiskFullError(path, err);
    throw err;
  }
}

/** Whether `err` says the disk or a quota is full. */
export function isDiskFull(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOSPC' || code === 'EDQUOT';
}

/** A saved plan no longer matches the roster or the target. */
export class StalePlanError extends RosterError {
  constructor(message: string) {
    super('PLAN_STALE', message, { hint: 'Run `roster plan` again, review it, and apply the new plan.' });
    this.name = 'StalePlanError';
  }
}
