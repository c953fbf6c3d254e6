/**
 * Fault injection for tests, unset in normal use. At a named point:
 * - ROSTER_FAULT=<point>: the process kills itself (SIGKILL, no clean-up), as a power cut or an
 *   OOM kill would;
 * - ROSTER_PAUSE=<point>: it says `paused at <point>` on stderr and waits for SIGINT or SIGTERM,
 *   so that a test can interrupt it exactly there (a CI runner cancelling the job).
 */
export async function faultPoint(name: string): Promise<void> {
  if (process.env.ROSTER_FAULT === name) process.kill(process.pid, 'SIGKILL');
  if (process.env.ROSTER_PAUSE === name) {
    delete process.env.ROSTER_PAUSE; // once: the first time the point is reached
    process.stderr.write(`paused at ${name}\n`);
    // Listeners run in order: the command's own interrupt handler has seen the signal first.
    await new Promise<void>((resolve) => {
      // (Signal listeners do not keep the event loop alive: a timer does.)
      const alive = setInterval(() => undefined, 1000);
      const go = () => {
        clearInterval(alive);
        process.off('SIGINT', go);
        process.off('SIGTERM', go);
        resolve();
      };
      process.on('SIGINT', go);
      process.on('SIGTERM', go);
    });
  }
}
