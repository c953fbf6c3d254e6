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
import type { RosterFormat } from '../formats/format.js';
import { uncommittedChanges } from '../git/repo.js';
import type { EntityName } from '../model/entities.js';
import type { Roster } from '../model/roster.js';
import type { ProgressListener } from '../progress.js';
import { renderValidationJson } from '../render/validation.js';
import { loadRoster } from '../source/load.js';
import { type ApiReadStats, readOneRosterApi } from '../source/oneroster-api.js';
import { createTarget } from '../targets/create.js';
import {
  InvalidRosterError,
  summarize,
  type ValidationResult,
  validateRoster,
} from '../validate/validate.js';
import { listFiles, writeRoster } from './write.js';

/** Encodings a spreadsheet saves CSV in (Excel's "CSV" is Windows-1252; "Unicode text" is UTF-16). */
export const SPREADSHEET_ENCODINGS = ['utf-8', 'windows-1252', 'latin1', 'utf-16le', 'utf-16be'] as const;
export type SpreadsheetEncoding = (typeof SPREADSHEET_ENCODINGS)[number];

/** Where a roster can be imported from (more to come: mapped legacy exports, the two-file batch). */
export type ImportSource = 'oneroster' | 'oneroster-api' | 'target';
/** What `--from` names (a target is named with `--from-target`). */
export const IMPORT_SOURCES: readonly ImportSource[] = ['oneroster', 'oneroster-api'];

export interface ImportOptions {
  /** The district repo (or a folder inside it). */
  readonly repo: string;
  readonly from: ImportSource;
  /**
   * oneroster: a OneRoster CSV folder or zip (1.1 or 1.2); oneroster-api: the service's base URL;
   * target: a target's name (what roster-as-code last delivered to it).
   */
  readonly source: string;
  /** oneroster-api: the client's credentials (from the environment) and token endpoint. */
  readonly api?: {
    readonly clientId: string;
    readonly clientSecret: string;
    readonly tokenUrl?: string;
    readonly pageSize?: number;
  };
  readonly progress?: ProgressListener;
  /** oneroster, a folder saved by a spreadsheet: its files' encoding and field separator. */
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
  if (options.from === 'oneroster') {
    const source = options.spreadsheet ? fromSpreadsheet(options.source, options.spreadsheet) : undefined;
    try {
      const loaded = await loadRoster(
        source ?? options.source,
        options.progress ? { progress: options.progress } : {},
      );
      // Findings name the files as the user knows them.
      return source ? { ...loaded, location: resolve(options.source) } : loaded;
    } finally {
      if (source) rmSync(source, { recursive: true, force: true });
    }
  }
  if (options.from === 'target') return fromTarget(options.repo, options.source);
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

/**
 * What roster-as-code last delivered to a target (its snapshot), so that a repo made again from
 * it plans no changes. A batch target's snapshot holds only what the two files carry (no orgs,
 * sessions or courses): not a whole roster.
 */
async function fromTarget(repo: string, name: string) {
  const targetConfig = selectTarget(loadRepoConfig(repo), name);
  if (targetConfig.kind === 'batch')
    throw new UsageError(
      'IMPORT_TARGET_PARTIAL',
      `target "${name}" is a batch target: what it holds (users, classes, enrollments, demographics) is not a whole roster`,
      'Import from the portal’s OneRoster API (--from oneroster-api) or from a OneRoster export instead.',
    );
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

/**
 * Windows-1252's bytes 0x80-0x9F (the WHATWG index): Node 20's TextDecoder decodes
 * "windows-1252" as Latin-1, turning Excel's ’ “ ” – € into control characters.
 */
const WINDOWS_1252_C1 =
  '\u20ac\u0081\u201a\u0192\u201e\u2026\u2020\u2021\u02c6\u2030\u0160\u2039\u0152\u008d\u017d\u008f' +
  '\u0090\u2018\u2019\u201c\u201d\u2022\u2013\u2014\u02dc\u2122\u0161\u203a\u0153\u009d\u017e\u0178';

function decoderFor(encoding: SpreadsheetEncoding): (bytes: Buffer) => string {
  if (encoding === 'windows-1252')
    return (bytes) =>
      bytes.toString('latin1').replace(/[\u0080-\u009f]/g, (c) => WINDOWS_1252_C1[c.charCodeAt(0) - 0x80]!);
  const decoder = new TextDecoder(encoding);
  return (bytes) => decoder.decode(bytes);
}

/** The flags that read a spreadsheet's file, when findings say the files are one. */
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
