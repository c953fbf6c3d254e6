/** The validate service: load the roster at a path, run every rule, summarize. Shared by the CLI and the Action. */
import type { RosterFormat } from '../formats/format.js';
import { startLoading } from '../source/background.js';
import type { LoadOptions } from '../source/load.js';
import { summarize, type ValidationResult } from '../validate/validate.js';

export async function validatePath(path: string, options: LoadOptions = {}): Promise<ValidationResult> {
  // A large roster is read on two threads (this one takes its largest file), then validated.
  const loading = startLoading(path, { ...options, validate: true });
  await loading.help();
  const loaded = await loading.validated;
  if (loaded.roster.size === 0 && loaded.diagnostics.errorCount === 0 && !nothingToDo(loaded)) {
    loaded.diagnostics.add('SOURCE_EMPTY', { file: loaded.location, message: `${path} holds no records` });
  }
  return summarize(loaded.roster, loaded.location, loaded.format, loaded.diagnostics);
}

/**
 * A OneRoster package with no rostering records is valid when its manifest raised no error: a
 * manifest that marks every rostering file absent (a delta with nothing to do), or a gradebook
 * or resources package. Only a source with nothing to read at all is SOURCE_EMPTY.
 */
function nothingToDo(loaded: { format: RosterFormat }): boolean {
  return loaded.format === 'oneroster-csv' || loaded.format === 'oneroster-zip';
}
