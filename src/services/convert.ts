/**
 * `roster convert`: read a roster, validate it, and write it in another format. An invalid roster
 * is not written: the result carries its validation and nothing else.
 */
import { loadRoster } from '../source/load.js';
import { summarize, type ValidationResult, validateRoster } from '../validate/validate.js';
import { type OutputFormat, type WriteResult, writeRoster } from './write.js';

export interface ConvertOptions {
  /** Anything `roster validate` reads: a repo, a roster folder, a zip. */
  readonly src: string;
  readonly to: OutputFormat;
  readonly out: string;
  readonly force?: boolean;
  readonly layout?: 'single' | 'per-school';
  /** Diagnostic codes to leave out. */
  readonly ignore?: readonly string[];
}

export interface ConvertResult {
  readonly validation: ValidationResult;
  /** What was written; undefined when the roster was invalid (nothing was). */
  readonly written?: WriteResult;
  /** What the output does not carry (files that are not rostering, fields of another version). */
  readonly notes: readonly string[];
}

export async function convertRoster(options: ConvertOptions): Promise<ConvertResult> {
  const loaded = await loadRoster(options.src, { ignore: [...(options.ignore ?? [])] });
  validateRoster(loaded.roster, loaded.diagnostics);
  const validation = summarize(loaded.roster, loaded.location, loaded.format, loaded.diagnostics);
  if (!validation.valid) return { validation, notes: [] };
  const written = await writeRoster(loaded.roster, {
    to: options.to,
    out: options.out,
    force: options.force ?? false,
    layout: options.layout ?? 'per-school',
  });
  const notCarried = validation.diagnostics
    .filter((d) => d.code === 'FILE_NOT_ROSTERING' && d.file)
    .map((d) => `${d.file} is not carried: roster-as-code converts the rostering files only`);
  return { validation, written, notes: [...written.notes, ...notCarried] };
}
