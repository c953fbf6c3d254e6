/**
 * SIGINT (Ctrl-C) and SIGTERM (a CI runner cancelling a job: GitHub sends SIGINT, then SIGTERM,
 * then kills) turned into an AbortSignal, so that a command stops at its next safe point and
 * releases what it holds instead of dying mid-step. Node's default for both is to exit at once.
 */

export type InterruptSignal = 'SIGINT' | 'SIGTERM';

/** The reason of an aborted signal: which interrupt arrived. */
export class Interruption extends Error {
  constructor(readonly signal: InterruptSignal) {
    super(`interrupted by ${signal}`);
    this.name = 'Interruption';
  }
}

/** The Interruption a signal was aborted with, if it was. */
export function interruptionOf(signal: AbortSignal | undefined): Interruption | undefined {
  return signal?.aborted && signal.reason instanceof Interruption ? signal.reason : undefined;
}

export interface InterruptTrap {
  readonly signal: AbortSignal;
  /**
   * Stops listening (Node's defaults apply again), unless already interrupted: the command is
   * then finishing its clean-up and exit, which the runner's follow-up SIGTERM must not cut short.
   */
  release(): void;
}

/**
 * Listens for SIGINT and SIGTERM until released. The first aborts `signal` and calls `onFirst`;
 * the runner's SIGTERM after a SIGINT is part of the same cancellation and changes nothing. The
 * same signal twice (Ctrl-C pressed again) exits at once: a person wants out, and a lock left
 * behind on this host is taken over by the next apply.
 */
export function trapInterrupts(onFirst: (signal: InterruptSignal) => void): InterruptTrap {
  const controller = new AbortController();
  const handler = (name: InterruptSignal) => {
    const first = interruptionOf(controller.signal);
    if (!first) {
      controller.abort(new Interruption(name));
      onFirst(name);
    } else if (first.signal === name) {
      process.exit(name === 'SIGTERM' ? 143 : 130);
    }
  };
  const onInt = () => handler('SIGINT');
  const onTerm = () => handler('SIGTERM');
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);
  return {
    signal: controller.signal,
    release() {
      if (controller.signal.aborted) return;
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
    },
  };
}
