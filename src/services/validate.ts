/** The validate service: load the roster at a path, run every rule, summarize. Shared by the CLI and the Action. */
import { type LoadOptions, loadRoster } from '../source/load.js';
import { summarize, type ValidationResult, validateRoster } from '../validate/validate.js';

export async function validatePath(path: string, options: LoadOptions = {}): Promise<ValidationResult> {
  const loaded = await loadRoster(path, options);
  validateRoster(loaded.roster, loaded.diagnostics);
  if (loaded.roster.size === 0 && loaded.diagnostics.errorCount === 0) {
    loaded.diagnostics.add('SOURCE_EMPTY', { file: loaded.location, message: `${path} holds no records` });
  }
  return summarize(loaded.roster, loaded.location, loaded.format, loaded.diagnostics);
}
