/** `roster unlock`: remove a target's lock, whoever holds it (the command asks for --force first). */
import { loadRepoConfig, selectTarget } from '../config/config.js';
import { createTarget } from '../targets/create.js';
import type { LockStatus } from '../targets/target.js';

/** Removes the lock of `target` in the repo; returns whose it was, or undefined when none was held. */
export async function unlockTarget(options: {
  repo: string;
  target: string;
}): Promise<LockStatus | undefined> {
  const target = createTarget(selectTarget(loadRepoConfig(options.repo), options.target));
  return target.forceUnlock().finally(() => target.close?.());
}
