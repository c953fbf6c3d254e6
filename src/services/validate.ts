/** The validate service: load the roster at a path, run every rule, summarize. Shared by the CLI and the Action. */
import { startLoading } from '../source/background.js';
import type { LoadOptions } from '../source/load.js';
import { summarize, type ValidationResult } from '../validate/validate.js';

export async function validatePath(path: string, options: LoadOptions = {}): Promise<ValidationResult> {
  // A large roster is read on two threads (this one takes its largest file), then validated.
  const loading = startLoading(path, { ...options, validate: true });
  await loading.help();
  const loaded = await loading.validated;
  if (loaded.roster.size === 0 && loaded.diagnostics.errorCount === 0) {
    loaded.diagnostics.add('SOURCE_EMPTY', { file: loaded.location, message: `${path} holds no records` });
  }
  return summarize(loaded.roster, loaded.location, loaded.format, loaded.diagnostics);
}
