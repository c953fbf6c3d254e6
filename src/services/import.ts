/**
 * `roster import`: what a district already has becomes the repo's roster. Reads the source,
 * validates it, and writes roster YAML (or OneRoster CSV) into the roster folder named by
 * roster.config.yaml. Never replaces uncommitted work there (git says what is uncommitted), and
 * writes an invalid roster only when asked (`allowInvalid`), with the report beside it.
 */
import { existsSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { ensurePrivateDir, workspaceDir } from '../config/workspace.js';
import { Diagnostics } from '../diagnostic.js';
import { UsageError } from '../errors.js';
import type { RosterFormat } from '../formats/format.js';
import { uncommittedChanges } from '../git/repo.js';
import type { EntityName } from '../model/entities.js';
import type { Roster } from '../model/roster.js';
import type { ProgressListener } from '../progress.js';
import { renderValidationJson } from '../render/validation.js';
import { loadRoster } from '../source/load.js';
import { type ApiReadStats, readOneRosterApi } from '../source/oneroster-api.js';
import {
  InvalidRosterError,
  summarize,
  type ValidationResult,
  validateRoster,
} from '../validate/validate.js';
import { loadRepoConfig } from './plan.js';
import { writeRoster } from './write.js';

/** Where a roster can be imported from (more to come: mapped legacy exports, the two-file batch). */
export type ImportSource = 'oneroster' | 'oneroster-api';
export const IMPORT_SOURCES: readonly ImportSource[] = ['oneroster', 'oneroster-api'];

export interface ImportOptions {
  /** The district repo (or a folder inside it). */
  readonly repo: string;
  readonly from: ImportSource;
  /** oneroster: a OneRoster CSV folder or zip (1.1 or 1.2); oneroster-api: the service's base URL. */
  readonly source: string;
  /** oneroster-api: the client's credentials (from the environment) and token endpoint. */
  readonly api?: {
    readonly clientId: string;
    readonly clientSecret: string;
    readonly tokenUrl?: string;
    readonly pageSize?: number;
  };
  readonly progress?: ProgressListener;
  /** yaml (default), or csv: OneRoster CSV of the source's version. */
  readonly format?: 'yaml' | 'csv';
  readonly layout?: 'single' | 'per-school';
  /** Write a roster that does not validate (its report is written beside it). */
  readonly allowInvalid?: boolean;
  /** Replace the roster folder even with uncommitted changes in it. */
  readonly force?: boolean;
}

export interface ImportResult {
  readonly rosterPath: string;
  readonly files: readonly string[];
  readonly validation: ValidationResult;
  readonly records: Partial<Record<EntityName, number>>;
  /** The validation report written beside an invalid roster (allowInvalid). */
  readonly reportFile?: string;
  /** oneroster-api: pages read, rate-limit waits, tokens renewed. */
  readonly apiStats?: ApiReadStats;
  readonly notes: readonly string[];
}

export async function importRoster(options: ImportOptions): Promise<ImportResult> {
  const config = loadRepoConfig(options.repo);
  const dest = config.rosterPath;
  const shown = relative(process.cwd(), dest) || '.';
  if (existsSync(dest) && !options.force) {
    const changes = await uncommittedChanges(dest);
    if (changes && changes.length > 0)
      throw new UsageError(
        'IMPORT_UNCOMMITTED',
        `${shown} has uncommitted changes (${changes.slice(0, 5).join(', ')}${changes.length > 5 ? `, and ${changes.length - 5} more` : ''}); nothing was imported`,
        'Commit or stash them first, so that the import can be reviewed and undone with git; or pass --force to replace them.',
      );
    if (!changes && readdirSync(dest).length > 0)
      throw new UsageError(
        'IMPORT_WOULD_REPLACE',
        `${shown} already holds files and is not in a git repository; nothing was imported`,
        'Import into a git repository (roster init runs git init), or pass --force to replace them.',
      );
  }
  const loaded = await readSource(options);
  validateRoster(loaded.roster, loaded.diagnostics);
  const validation = summarize(loaded.roster, loaded.location, loaded.format, loaded.diagnostics);
  if (!validation.valid && !options.allowInvalid)
    throw new InvalidRosterError(
      validation,
      'nothing was imported',
      'Fix the source, or pass --allow-invalid to import it anyway and fix it in the repo (the report is written beside it).',
    );
  const version = loaded.roster.version;
  const format = options.format ?? 'yaml';
  const written = await writeRoster(loaded.roster, {
    to: format === 'yaml' ? 'yaml' : version === '1.2' ? 'oneroster-1.2' : 'oneroster-1.1',
    out: dest,
    force: true, // (uncommitted work was refused above; committed files are in git)
    layout: options.layout ?? 'per-school',
  });
  // The other format's files would make the folder ambiguous: the import replaces them too.
  const other = format === 'yaml' ? /\.csv$/i : /\.ya?ml$/i;
  for (const f of listFiles(dest)) if (other.test(f)) rmSync(f);
  let reportFile: string | undefined;
  if (!validation.valid) {
    // Beside the roster, in the private workspace: findings can quote values (never committed).
    const dir = workspaceDir(config.root);
    ensurePrivateDir(dir);
    reportFile = join(dir, 'import-report.json');
    writeFileSync(
      reportFile,
      renderValidationJson(validation, { base: relative(config.root, loaded.location) || '.' }),
    );
  }
  const records: Partial<Record<EntityName, number>> = {};
  for (const e of loaded.roster.entities()) {
    const n = loaded.roster.table(e).size;
    if (n > 0) records[e] = n;
  }
  return {
    rosterPath: dest,
    files: written.files,
    validation,
    records,
    ...(reportFile ? { reportFile } : {}),
    ...(loaded.stats ? { apiStats: loaded.stats } : {}),
    notes: written.notes,
  };
}

async function readSource(options: ImportOptions): Promise<{
  roster: Roster;
  diagnostics: Diagnostics;
  location: string;
  format: RosterFormat;
  stats?: ApiReadStats;
}> {
  if (options.from === 'oneroster')
    return loadRoster(options.source, options.progress ? { progress: options.progress } : {});
  if (!options.api)
    throw new UsageError(
      'USAGE',
      'an import from a OneRoster API needs the client id and secret',
      'Pass --client-id-env and --client-secret-env.',
    );
  const { roster, stats } = await readOneRosterApi({
    url: options.source,
    ...options.api,
    ...(options.progress ? { progress: options.progress } : {}),
  });
  return { roster, diagnostics: new Diagnostics(), location: options.source, format: 'oneroster-api', stats };
}

function listFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? listFiles(join(dir, e.name)) : [join(dir, e.name)],
  );
}
