/**
 * The mapped sources of `roster import`: an export read through a mapping (a file, or a preset
 * shipped in mappings/), the two-file batch (the `batch` preset), and what a batch target's portal
 * exports. Finds the mapping, reads each of its files from the export folder (or from memory),
 * and maps them (source/mapped-export.ts).
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Diagnostics } from '../diagnostic.js';
import { InputError, UsageError } from '../errors.js';
import type { SpreadsheetEncoding } from '../formats/csv/decode.js';
import { type Mapping, parseMapping } from '../formats/mapped/mapping.js';
import { closest } from '../formats/oneroster-csv/header.js';
import type { Roster } from '../model/roster.js';
import {
  columnsNamed,
  mapExport,
  noteText,
  readSourceTable,
  type SourceTable,
} from '../source/mapped-export.js';

const PRESETS_DIR = fileURLToPath(new URL('../../mappings/', import.meta.url));
const SCHEMA_FILE = fileURLToPath(new URL('../../schemas/import-mapping.schema.json', import.meta.url));

/** The mappings shipped with roster-as-code (mappings/NAME.yaml). */
export function presetNames(): string[] {
  return readdirSync(PRESETS_DIR)
    .filter((f) => f.endsWith('.yaml'))
    .map((f) => f.slice(0, -'.yaml'.length))
    .sort();
}

/** A mapping file, or the name of a preset. */
export function loadMapping(nameOrFile: string): Mapping {
  const schemaText = readFileSync(SCHEMA_FILE, 'utf8');
  if (/^[a-z0-9-]+$/.test(nameOrFile) && !existsSync(nameOrFile)) {
    const presets = presetNames();
    if (!presets.includes(nameOrFile)) {
      const near = closest(nameOrFile, presets);
      throw new UsageError(
        'MAPPING_UNKNOWN',
        `there is no mapping preset "${nameOrFile}"${near ? `; did you mean "${near}"?` : ''}`,
        `Presets: ${presets.join(', ')}. Or give the path of a mapping file (docs/import.md says how to write one).`,
      );
    }
    const file = join(PRESETS_DIR, `${nameOrFile}.yaml`);
    return parseMapping(`preset ${nameOrFile}`, readFileSync(file, 'utf8'), schemaText);
  }
  if (!existsSync(nameOrFile) || !statSync(nameOrFile).isFile())
    throw new UsageError(
      'MAPPING_UNKNOWN',
      `the mapping ${nameOrFile} is not a file`,
      `Give a preset (${presetNames().join(', ')}) or the path of a mapping file.`,
    );
  return parseMapping(nameOrFile, readFileSync(nameOrFile, 'utf8'), schemaText);
}

export interface MappedRead {
  readonly roster: Roster;
  readonly diagnostics: Diagnostics;
  /** The export folder (diagnostics name files relative to it). */
  readonly location: string;
  /** The mapping's notes, its variables filled in. */
  readonly notes: readonly string[];
  readonly mapping: Mapping;
}

interface ReadHow {
  readonly encoding?: SpreadsheetEncoding;
  readonly delimiter?: string;
  readonly now?: Date;
}

/**
 * Reads the export through `mapping`. `files` gives a file's bytes by the mapping's name for it
 * (undefined: absent); `shownAs` the name diagnostics use for it.
 */
export function mapFiles(
  mapping: Mapping,
  files: (name: string) => { bytes: Buffer; shownAs: string } | undefined,
  location: string,
  how: ReadHow,
): MappedRead {
  const diagnostics = new Diagnostics();
  const tables = new Map<string, SourceTable>();
  const unreadable = new Set<string>();
  for (const [name, spec] of Object.entries(mapping.files)) {
    const found = files(name);
    if (!found) continue;
    const encoding = spec.encoding ?? how.encoding;
    const delimiter = spec.delimiter ?? how.delimiter;
    const table = readSourceTable(
      found.shownAs,
      found.bytes,
      { ...(encoding ? { encoding } : {}), ...(delimiter ? { delimiter } : {}) },
      columnsNamed(mapping, name),
      diagnostics,
    );
    if (table) tables.set(name, table);
    else unreadable.add(name);
  }
  const now = how.now ?? new Date();
  const { roster } = mapExport(mapping, tables, unreadable, diagnostics, now);
  return {
    roster,
    diagnostics,
    location,
    notes: mapping.notes.map((n) => noteText(n, now)),
    mapping,
  };
}

/** An export folder read through a mapping (file names as the mapping gives them). */
export function readMappedFolder(folder: string, mapping: Mapping, how: ReadHow): MappedRead {
  if (!existsSync(folder) || !statSync(folder).isDirectory())
    throw new UsageError(
      'USAGE',
      `${folder} is not a folder`,
      'Give the folder that holds the export’s CSV files (unzip a zip first).',
    );
  return mapFiles(
    mapping,
    (name) => {
      const path = join(folder, mapping.files[name]!.path);
      return existsSync(path) ? { bytes: readFileSync(path), shownAs: mapping.files[name]!.path } : undefined;
    },
    resolve(folder),
    how,
  );
}

/** The two-file batch: USERS and, when given, DEMOGRAPHICS (files of any name), or a folder of both. */
export function readBatchFiles(users: string, demographics: string | undefined, how: ReadHow): MappedRead {
  const mapping = loadMapping('batch');
  if (existsSync(users) && statSync(users).isDirectory()) {
    if (demographics)
      throw new UsageError(
        'USAGE',
        `${users} is a folder: it holds both files`,
        'Give the folder alone, or the two files: roster import --from batch users.csv demographics.csv.',
      );
    return readMappedFolder(users, mapping, how);
  }
  for (const f of [users, demographics])
    if (f && !existsSync(f))
      throw new InputError(
        'IMPORT_SOURCE_MISSING',
        `${f} does not exist`,
        'Check the path of the batch file.',
      );
  const paths: Record<string, string | undefined> = { users, demographics };
  return mapFiles(
    mapping,
    (name) => {
      const path = paths[name];
      return path ? { bytes: readFileSync(path), shownAs: basename(path) } : undefined;
    },
    resolve(dirname(users)),
    how,
  );
}

/** What a batch portal exports (its two files' text), through the batch mapping. */
export function readBatchExport(
  exported: { users: string; demographics: string },
  location: string,
  how: ReadHow,
): MappedRead {
  const mapping = loadMapping('batch');
  const texts: Record<string, string> = exported;
  return mapFiles(
    mapping,
    (name) => {
      const text = texts[name];
      return text === undefined
        ? undefined
        : { bytes: Buffer.from(text, 'utf8'), shownAs: mapping.files[name]!.path };
    },
    location,
    how,
  );
}
