/**
 * `roster import`: what a district already has becomes the repo's roster. Reads the source,
 * validates it, and writes roster YAML (or OneRoster CSV) into the roster folder named by
 * roster.config.yaml. Never replaces uncommitted work there (git says what is uncommitted), and
 * writes an invalid roster only when asked (`allowInvalid`), with the report beside it.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import Papa from 'papaparse';
import { loadRepoConfig, selectTarget } from '../config/config.js';
import { ensurePrivateDir, workspaceDir } from '../config/workspace.js';
import { Diagnostics } from '../diagnostic.js';
import { UsageError } from '../errors.js';
import { decoderFor, SPREADSHEET_ENCODINGS, type SpreadsheetEncoding } from '../formats/csv/decode.js';
import type { RosterFormat } from '../formats/format.js';
import { uncommittedChanges } from '../git/repo.js';
import type { EntityName } from '../model/entities.js';
import type { Roster } from '../model/roster.js';
import type { ProgressListener } from '../progress.js';
import { renderValidationJson } from '../render/validation.js';
import { loadRoster } from '../source/load.js';
import { type ApiReadStats, readOneRosterApi } from '../source/oneroster-api.js';
import { BatchTarget } from '../targets/batch.js';
import { createTarget } from '../targets/create.js';
import {
  InvalidRosterError,
  summarize,
  type ValidationResult,
  validateRoster,
} from '../validate/validate.js';
import {
  loadMapping,
  type MappedRead,
  presetNames,
  readBatchExport,
  readBatchFiles,
  readMappedFolder,
} from './mapped-source.js';
import { listFiles, writeRoster } from './write.js';

export { SPREADSHEET_ENCODINGS, type SpreadsheetEncoding };

/** Where a roster can be imported from. */
export type ImportSource = 'oneroster' | 'oneroster-api' | 'mapped' | 'batch' | 'target';
/** What `--from` names (a target is named with `--from-target`). */
export const IMPORT_SOURCES: readonly ImportSource[] = ['oneroster', 'oneroster-api', 'mapped', 'batch'];

export interface ImportOptions {
  /** The district repo (or a folder inside it). */
  readonly repo: string;
  readonly from: ImportSource;
  /**
   * oneroster: a OneRoster CSV folder or zip (1.1 or 1.2); oneroster-api: the service's base URL;
   * mapped: the export's folder; batch: the users file (or a folder of both files);
   * target: a target's name (what roster-as-code last delivered to it, or a batch portal's export).
   */
  readonly source: string;
  /** batch: the demographics file. */
  readonly demographics?: string;
  /** mapped: a mapping file, or the name of a preset (mappings/NAME.yaml). */
  readonly mapping?: string;
  /** When the import runs (the school year mappings fill in); now by default. */
  readonly now?: Date;
  /** oneroster-api: the client's credentials (from the environment) and token endpoint. */
  readonly api?: {
    readonly clientId: string;
    readonly clientSecret: string;
    readonly tokenUrl?: string;
    readonly pageSize?: number;
  };
  readonly progress?: ProgressListener;
  /** A folder saved by a spreadsheet: its files' encoding and field separator (mapped: the default). */
  readonly spreadsheet?: { readonly encoding?: SpreadsheetEncoding; readonly delimiter?: string };
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
  /** What the writer and the mapping have to say (e.g. what the source did not carry). */
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
      spreadsheetHint(validation) ??
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
    // Beside the roster, in the private workspace: diagnostics can quote values (never committed).
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
    notes: [...(loaded.notes ?? []), ...written.notes],
  };
}

async function readSource(options: ImportOptions): Promise<{
  roster: Roster;
  diagnostics: Diagnostics;
  location: string;
  format: RosterFormat;
  stats?: ApiReadStats;
  notes?: readonly string[];
}> {
  if (options.from === 'oneroster') {
    const source = options.spreadsheet ? fromSpreadsheet(options.source, options.spreadsheet) : undefined;
    try {
      const loaded = await loadRoster(
        source ?? options.source,
        options.progress ? { progress: options.progress } : {},
      );
      // Diagnostics name the files as the user knows them.
      return source ? { ...loaded, location: resolve(options.source) } : loaded;
    } finally {
      if (source) rmSync(source, { recursive: true, force: true });
    }
  }
  if (options.from === 'target') return fromTarget(options.repo, options.source, options);
  if (options.from === 'mapped' || options.from === 'batch') {
    const how = { ...options.spreadsheet, ...(options.now ? { now: options.now } : {}) };
    if (options.from === 'batch')
      return mappedRead(readBatchFiles(options.source, options.demographics, how));
    if (!options.mapping)
      throw new UsageError(
        'USAGE',
        '--from mapped needs --mapping',
        `Give a preset (${presetNames().join(', ')}) or a mapping file: roster import --from mapped ./export --mapping clever.`,
      );
    return mappedRead(readMappedFolder(options.source, loadMapping(options.mapping), how));
  }
  if (!options.api)
    throw new UsageError(
      'USAGE',
      'an import from a OneRoster API needs the client id and secret',
      'Pass --client-id-env and --client-secret-env.',
    );
  const { roster, stats, diagnostics } = await readOneRosterApi({
    url: options.source,
    ...options.api,
    ...(options.progress ? { progress: options.progress } : {}),
  });
  return { roster, diagnostics, location: options.source, format: 'oneroster-api', stats };
}

/** A mapped read as a source of the import (the format is the roster's: diagnostics name CSV files). */
function mappedRead(read: MappedRead) {
  return {
    roster: read.roster,
    diagnostics: read.diagnostics,
    location: read.location,
    format: 'oneroster-csv' as RosterFormat,
    notes: read.notes,
  };
}

/**
 * What roster-as-code last delivered to a target (its snapshot), so that a repo made again from
 * it plans no changes; for a batch target, what its portal exports now (read through the batch
 * mapping: the two files carry no school names, course titles or term dates, which are filled in).
 */
async function fromTarget(repo: string, name: string, options: ImportOptions) {
  const targetConfig = selectTarget(loadRepoConfig(repo), name);
  if (targetConfig.kind === 'batch') {
    const portal = new BatchTarget(targetConfig);
    return mappedRead(
      readBatchExport(await portal.exportFiles(), portal.location, options.now ? { now: options.now } : {}),
    );
  }
  const target = createTarget(targetConfig);
  try {
    const state = await target.readState();
    if (!state)
      throw new UsageError(
        'IMPORT_TARGET_EMPTY',
        `target "${name}" (${target.location}) holds nothing delivered by roster-as-code`,
        'Import what the portal holds from its OneRoster API or an export instead (roster import --from ...).',
      );
    const roster = await target.readCurrent(state);
    return {
      roster,
      diagnostics: new Diagnostics(),
      location: target.location,
      // (A snapshot is kept as a OneRoster zip, or read from one.)
      format: 'oneroster-zip' as RosterFormat,
    };
  } finally {
    await target.close?.();
  }
}

/**
 * A folder of CSV files saved by a spreadsheet, as OneRoster CSV: each file decoded from
 * `encoding` and, when its fields are separated by `delimiter`, written again with commas (by
 * PapaParse, quoting as needed). Returns a temporary folder (the caller removes it).
 */
function fromSpreadsheet(
  source: string,
  how: { encoding?: SpreadsheetEncoding; delimiter?: string },
): string {
  if (!existsSync(source) || !statSync(source).isDirectory())
    throw new UsageError(
      'USAGE',
      `--encoding and --delimiter read a folder of CSV files; ${source} is not one`,
      'Unzip the export first, then import the folder.',
    );
  const out = mkdtempSync(join(tmpdir(), 'roster-import-'));
  const decode = decoderFor(how.encoding ?? 'utf-8');
  for (const name of readdirSync(source)) {
    const from = join(source, name);
    if (!statSync(from).isFile()) continue;
    if (!name.toLowerCase().endsWith('.csv')) {
      writeFileSync(join(out, name), readFileSync(from));
      continue;
    }
    let text = decode(readFileSync(from)).replace(/^\ufeff/, '');
    if (how.delimiter && how.delimiter !== ',') {
      const rows = Papa.parse<string[]>(text, { delimiter: how.delimiter, skipEmptyLines: true }).data;
      text = `${Papa.unparse(rows, { newline: '\n' })}\n`;
    }
    writeFileSync(join(out, name), text);
  }
  return out;
}

/** The flags that read a spreadsheet's file, when diagnostics say the files are one. */
function spreadsheetHint(validation: ValidationResult): string | undefined {
  const flags = new Set<string>();
  for (const d of validation.diagnostics) {
    if (d.code === 'CSV_ENCODING') {
      const encoding = /looks like (\S+)/.exec(d.message)?.[1] ?? '';
      flags.add(
        /UTF-16/.test(encoding)
          ? '--encoding utf-16le'
          : /8859/.test(encoding)
            ? '--encoding latin1'
            : '--encoding windows-1252',
      );
    }
    if (d.code === 'CSV_DELIMITER') {
      const m = /separates its fields with (semicolons|tabs|vertical bars)/.exec(d.message)?.[1];
      flags.add(
        m === 'tabs' ? '--delimiter tab' : m === 'vertical bars' ? "--delimiter '|'" : "--delimiter ';'",
      );
    }
  }
  return flags.size > 0
    ? `These files look saved by a spreadsheet: import them again with ${[...flags].join(' ')}.`
    : undefined;
}
