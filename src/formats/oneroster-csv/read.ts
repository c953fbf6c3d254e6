/**
 * Reads a OneRoster CSV package (1.1 or 1.2; folder or zip) into a Roster, streaming each file,
 * with every package, syntax, header and field finding reported as a Diagnostic.
 */
import {
  ENTITIES,
  type EntityName,
  entitiesOf,
  type FieldSpec,
  MANIFEST_FILES,
  type RosterVersion,
} from '../../model/entities.js';
import { KeyIndex } from '../../model/key-index.js';
import { normalizeValue } from '../../model/normalize.js';
import { type FileMode, type Roster, RosterBuilder } from '../../model/roster.js';
import { PROGRESS_EVERY_ROWS, type ProgressListener } from '../../progress.js';
import type { Diagnostics } from '../../validate/diagnostic.js';
import { checkRecordFields } from '../../validate/field-rules.js';
import { readCsv } from '../csv/read-csv.js';
import type { PackageFiles } from '../package-files.js';
import { closest, mapHeader } from './header.js';
import { MANIFEST_FILE, type ManifestInfo, readManifest } from './manifest.js';

export interface ReadResult {
  readonly roster: Roster;
  /** sourcedIds seen more than once, per entity (the first record is kept). */
  readonly duplicates: ReadonlyMap<EntityName, ReadonlySet<string>>;
}

const ROSTERING_FILES = new Set(Object.values(ENTITIES).map((e) => e.file));
const OTHER_FILES = new Set(
  [...MANIFEST_FILES['1.1'], ...MANIFEST_FILES['1.2']]
    .map((n) => `${n}.csv`)
    .filter((f) => !ROSTERING_FILES.has(f)),
);

/** Reads the package. Never throws for bad input: findings go to `diagnostics`. */
export interface ReadOptions {
  /**
   * Run the field rules on every row (default). Off where only the data is wanted (a diff, a
   * target's own snapshot): reading is then about a third faster.
   */
  readonly checkFields?: boolean;
  /** Told of each file and of every PROGRESS_EVERY_ROWS rows. */
  readonly progress?: ProgressListener;
}

export async function readOneRoster(
  files: PackageFiles,
  diagnostics: Diagnostics,
  options: ReadOptions = {},
): Promise<ReadResult> {
  if (files.rejected) return { roster: new RosterBuilder('1.1').build(), duplicates: new Map() };
  const present = new Set(files.names);
  let manifest: ManifestInfo | undefined;
  if (present.has(MANIFEST_FILE)) {
    manifest = await readManifest(files.open(MANIFEST_FILE), MANIFEST_FILE, diagnostics);
  } else {
    diagnostics.add('MANIFEST_MISSING', {
      file: MANIFEST_FILE,
      message: `${files.label} has no manifest.csv (without one a package is OneRoster 1.0)`,
    });
  }
  // Without a usable manifest, the files themselves tell: roles.csv exists only in 1.2.
  const version: RosterVersion = manifest?.version ?? (present.has('roles.csv') ? '1.2' : '1.1');

  const knownFiles = new Set([MANIFEST_FILE, ...entitiesOf(version).map((e) => ENTITIES[e].file)]);
  for (const name of files.names) {
    // Only CSV files can be misplaced package files; a README or a licence beside them is fine.
    if (knownFiles.has(name) || !name.toLowerCase().endsWith('.csv')) continue;
    if (OTHER_FILES.has(name)) {
      diagnostics.add('FILE_NOT_ROSTERING', {
        file: name,
        message: `${name} is not a rostering file and is not read`,
      });
      continue;
    }
    const candidates = [...knownFiles];
    const sameCase = candidates.find((c) => c.toLowerCase() === name.toLowerCase());
    const near = sameCase ?? closest(name, candidates);
    const otherVersion = Object.values(ENTITIES).find((e) => e.file === name);
    diagnostics.add('FILE_UNKNOWN', {
      file: name,
      message: otherVersion
        ? `${name} is not part of OneRoster ${version}`
        : `${name} is not a OneRoster file${near ? `; did you mean ${near}?` : ''}`,
      ...(near ? { hint: `Rename it to ${near} (file names are case-sensitive).` } : {}),
    });
  }

  const builder = new RosterBuilder(version);
  if (manifest) builder.source = manifest.source;
  const duplicates = new Map<EntityName, Set<string>>();

  for (const entity of entitiesOf(version)) {
    const file = ENTITIES[entity].file;
    const stated = manifest?.modes.get(entity);
    const exists = present.has(file);
    if (manifest && exists && (stated === 'absent' || !manifest.listed.has(entity))) {
      diagnostics.add('MANIFEST_FILE_NOT_LISTED', {
        file: MANIFEST_FILE,
        ...(manifest.lines.get(entity) ? { line: manifest.lines.get(entity) } : {}),
        message: `${file} is in the package but manifest.csv ${stated === 'absent' ? 'marks it absent' : 'does not list it'}`,
      });
    }
    if (manifest && !exists && (stated === 'bulk' || stated === 'delta')) {
      diagnostics.add('MANIFEST_FILE_MISSING', {
        file: MANIFEST_FILE,
        line: manifest.lines.get(entity),
        message:
          stated === 'bulk'
            ? `manifest.csv says ${file} is bulk, but the file is missing: a receiver would remove every ${entity} record it holds`
            : `manifest.csv says ${file} is delta, but the file is missing`,
      });
    }
    if (!exists) continue;
    // A present file is bulk unless the manifest says delta: when manifest and files disagree, the data wins.
    const mode: FileMode = stated === 'delta' ? 'delta' : 'bulk';
    builder.modes[entity] = mode;
    options.progress?.({ stage: 'read', detail: ENTITIES[entity].file });
    duplicates.set(
      entity,
      await readEntityFile(
        files,
        entity,
        version,
        mode,
        builder,
        diagnostics,
        options.checkFields !== false,
        options.progress,
      ),
    );
  }
  await files.close();
  return { roster: builder.build(), duplicates };
}

async function readEntityFile(
  files: PackageFiles,
  entity: EntityName,
  version: RosterVersion,
  mode: FileMode,
  builder: RosterBuilder,
  diagnostics: Diagnostics,
  checkFields: boolean,
  progress?: ProgressListener,
): Promise<Set<string>> {
  const file = ENTITIES[entity].file;
  const table = builder.table(entity);
  const specs = ENTITIES[entity].fields;
  // Per header position: where its value goes in the table's row, and how it is normalized.
  let slots: number[] = [];
  let slotSpecs: (FieldSpec | undefined)[] = [];
  const idSlot = () => columns?.indexOf('sourcedId') ?? -1;
  let idColumn = -1;
  // Duplicates are found on the stored bytes: no string per id, no Map over 8M entries.
  const seen = new KeyIndex(table, table.fieldIndexOf('sourcedId'));
  const duplicates = new Set<string>();
  let columns: readonly (string | null)[] | undefined;
  let headerWidth = 0;
  let dataRows = 0;
  const result = await readCsv(
    files.open(file),
    file,
    (cells, line) => {
      if (columns === undefined) {
        // A BOM is dropped by the decoder; header names are kept exactly, for the case rule.
        columns = mapHeader(entity, version, cells, file, diagnostics).columns;
        // Extension columns are kept even when every value is empty: the vendor asked for them.
        for (const c of columns) if (c !== null) table.declareField(c);
        slots = columns.map((c) => (c === null ? -1 : table.fieldIndexOf(c)));
        slotSpecs = columns.map((c) => (c === null ? undefined : specs[c]));
        idColumn = idSlot();
        headerWidth = cells.length;
        return;
      }
      dataRows++;
      if (progress && dataRows % PROGRESS_EVERY_ROWS === 0)
        progress({ stage: 'read', detail: file, rows: dataRows });
      if (cells.length !== headerWidth) {
        diagnostics.add('CSV_ROW_WIDTH', {
          file,
          line,
          entity,
          message: `${file} line ${line} has ${cells.length} fields; the header has ${headerWidth}`,
        });
      }
      if (checkFields) {
        const record: Record<string, string> = {};
        const position: Record<string, number> = {};
        for (let i = 0; i < columns.length && i < cells.length; i++) {
          const field = columns[i];
          if (field) {
            record[field] = cells[i]!;
            position[field] = i + 1;
          }
        }
        checkRecordFields(
          record,
          {
            entity,
            version,
            mode,
            file,
            position: (f) => ({ line, ...(position[f] ? { column: position[f] } : {}) }),
          },
          diagnostics,
        );
      }
      const values = new Array<string>(table.fields.length).fill('');
      for (let i = 0; i < slots.length && i < cells.length; i++) {
        const slot = slots[i]!;
        if (slot >= 0) values[slot] = normalizeValue(slotSpecs[i], cells[i]!);
      }
      const index = table.addValues(values, { file, line });
      if (seen.add(index) >= 0) {
        table.truncate(index);
        const id = (cells[idColumn] ?? '').trim();
        duplicates.add(id);
        diagnostics.add('DUPLICATE_SOURCED_ID', {
          file,
          line,
          column: idColumn + 1,
          entity,
          recordId: id,
          field: 'sourcedId',
          message: `${file} has sourcedId ${JSON.stringify(id)} more than once`,
        });
      }
    },
    diagnostics,
  );
  if (result.empty) {
    diagnostics.add('CSV_EMPTY_FILE', {
      file,
      line: 1,
      entity,
      message: `${file} is empty (not even a header)`,
    });
  } else if (!result.aborted && dataRows === 0) {
    diagnostics.add('CSV_HEADER_ONLY', {
      file,
      line: 1,
      entity,
      message: `${file} has a header but no data rows`,
    });
  }
  return duplicates;
}
