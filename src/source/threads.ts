/**
 * Whether work goes to another thread: on a 2-core runner two things at once take a third or more
 * off the wall time, but starting a worker costs 0.05-0.3 s, more than it saves for small input.
 * ROSTER_THREADS=1 keeps everything on the calling thread, ROSTER_THREADS=2 always uses a worker;
 * without the compiled worker (the sources run under the test runner) there is none.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Input smaller than this (in bytes) is worked on by the calling thread. */
export const WORKER_MIN_BYTES = 16 << 20;

/** True when input of `bytes` bytes goes to the worker compiled at `worker`. */
export function threadWanted(worker: URL, bytes: () => number): boolean {
  const setting = process.env.ROSTER_THREADS;
  if (setting === '1' || !existsSync(fileURLToPath(worker))) return false;
  return setting === '2' || bytes() >= WORKER_MIN_BYTES;
}
