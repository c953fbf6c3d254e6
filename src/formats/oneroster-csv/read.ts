/**
 * Reads a OneRoster CSV package (1.1 or 1.2; folder or zip) into a Roster, streaming each file,
 * with every package, syntax, header and field diagnostic reported as a Diagnostic.
 */

import type { Readable } from 'node:stream';
import type { Diagnostic, Diagnostics } from '../../diagnostic.js';
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
import { RecordTable, SEPARATOR } from '../../model/record-table.js';
import { type FileMode, type Roster, RosterBuilder } from '../../model/roster.js';
import { PROGRESS_EVERY_ROWS, type ProgressListener } from '../../progress.js';
import { LINE_LIMIT, LineLimit } from '../csv/line-limit.js';
import { readCsv } from '../csv/read-csv.js';
import { type ScanHandler, type ScannedRow, type ScanOutcome, scanCsv } from '../csv/scan-csv.js';
import {
  checkRecordFields,
  fieldValueIsClean,
  type RecordContext,
  requiredFields,
  VALUE_LIMIT,
} from '../field-rules.js';
import type { PackageFiles } from '../package-files.js';
import { closest, foreignDelimiter, mapHeader } from './header.js';
import { KnownValues } from './known-values.js';
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

/** Reads the package. Never throws for bad input: diagnostics go to `diagnostics`. */
export interface ReadOptions {
  /**
   * Run the field rules on every row (default). Off where only the data is wanted (a diff, a
   * target's own snapshot): reading is then about a third faster.
   */
  readonly checkFields?: boolean;
  /** Told of each file and of every PROGRESS_EVERY_ROWS rows. */
  readonly progress?: ProgressListener;
  /** 'general': skip the fast byte scanner (tests compare the two readers). */
  readonly reader?: 'auto' | 'general';
  /**
   * Keep the sourcedId indexes built while reading (for duplicates) for later use (default).
   * Off when the roster is only checked and compared: a city's enrollment index is 130+ MB, and
   * one is built again if something asks for it.
   */
  readonly keepIndexes?: boolean;
  /** One entity's file may be read elsewhere meanwhile (see ReadElsewhere). */
  readonly elsewhere?: ReadElsewhere;
}

/** One entity's file, read on its own (readEntityFileAlone). */
export interface EntityFileRead {
  readonly table: RecordTable;
  /** Its diagnostics, in the order they were made. */
  readonly diagnostics: readonly Diagnostic[];
  /** sourcedIds seen more than once (the first record is kept). */
  readonly duplicates: ReadonlySet<string>;
}

/**
 * Lets one entity's file (a city's enrollments: two thirds of the bytes) be read by someone else,
 * e.g. another thread, while readOneRoster reads the others. The reader offers it as soon as it
 * knows how the file is to be read, reads every other file, then claims it: `claim` answers
 * undefined when nobody took it (it is read there and then), else the result of reading it
 * elsewhere, which takes its place (records, diagnostics in file order, duplicates).
 */
export interface ReadElsewhere {
  readonly entity: EntityName;
  offer(version: RosterVersion, mode: FileMode): void;
  claim(): Promise<EntityFileRead> | undefined;
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
  const elsewhere = options.elsewhere;
  const offered = elsewhere && present.has(ENTITIES[elsewhere.entity].file) ? elsewhere.entity : undefined;
  if (offered) elsewhere!.offer(version, fileMode(manifest?.modes.get(offered)));
  /** Where the offered file's diagnostics go (they come last otherwise). */
  let offeredAt = 0;

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
    const mode = fileMode(stated);
    builder.modes[entity] = mode;
    if (entity === offered) {
      offeredAt = diagnostics.list.length;
      continue;
    }
    duplicates.set(
      entity,
      await readEntityFile(files, entity, version, mode, builder.table(entity), diagnostics, options),
    );
  }
  if (offered) {
    const claimed = elsewhere!.claim();
    // The later files' diagnostics step aside, so that the offered file's come where it stands.
    const later = diagnostics.list.splice(offeredAt);
    if (claimed) {
      const read = await claimed;
      builder.adopt(read.table);
      for (const d of read.diagnostics) diagnostics.list.push(d);
      duplicates.set(offered, new Set(read.duplicates));
    } else {
      const mode = builder.modes[offered]!;
      duplicates.set(
        offered,
        await readEntityFile(files, offered, version, mode, builder.table(offered), diagnostics, options),
      );
    }
    for (const d of later) diagnostics.list.push(d);
  }
  await files.close();
  return { roster: builder.build(), duplicates };
}

/** A present file is bulk unless the manifest says delta: when manifest and files disagree, the data wins. */
function fileMode(stated: FileMode | undefined): FileMode {
  return stated === 'delta' ? 'delta' : 'bulk';
}

/**
 * Reads one entity's file of a package into a table of its own, with its diagnostics (what
 * readOneRoster does for that file, done elsewhere: see ReadElsewhere). The manifest and the
 * other files are not looked at: the caller says the version and mode.
 */
export async function readEntityFileAlone(
  files: PackageFiles,
  entity: EntityName,
  version: RosterVersion,
  mode: FileMode,
  diagnostics: Diagnostics,
  options: ReadOptions = {},
): Promise<EntityFileRead> {
  const table = new RecordTable(entity);
  const from = diagnostics.list.length;
  try {
    const duplicates = await readEntityFile(files, entity, version, mode, table, diagnostics, options);
    return { table, diagnostics: diagnostics.list.slice(from), duplicates };
  } finally {
    await files.close();
  }
}

const CHECK_NONE = 0;
const CHECK_ID = 1;
const CHECK_VALUE = 2;
// Values unique to a row (e-mail addresses, user ids, birth dates) defeat the remembered answers
// of CHECK_VALUE: most are judged on their bytes (bytesAreClean), the rest as CHECK_VALUE.
const CHECK_EMAIL = 3;
const CHECK_DATE = 4;
const CHECK_USER_IDS = 5;
/** A flag beside the kind (CHECK_* stay below it). */
const REQUIRED = 8;
/** Distinct values remembered per column: enough for roles, grades, dates and booleans. */
const MEMO_LIMIT = 1024;
/** True when a value of this check kind is certainly clean by its bytes alone (false: look closer). */
function bytesAreClean(kind: number, bytes: Uint8Array, start: number, end: number): boolean {
  if (kind === CHECK_EMAIL) return emailBytesAreClean(bytes, start, end);
  if (kind === CHECK_DATE) return dateBytesAreClean(bytes, start, end);
  if (kind === CHECK_USER_IDS) return userIdsBytesAreClean(bytes, start, end);
  return false;
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/**
 * True when these bytes are certainly a date the VALUE_DATE rule accepts: YYYY-MM-DD of a day
 * that exists, in the years 1900-2199 (others are checked as strings).
 */
function dateBytesAreClean(bytes: Uint8Array, start: number, end: number): boolean {
  if (end - start !== 10 || bytes[start + 4] !== 0x2d || bytes[start + 7] !== 0x2d) return false;
  const digit = (k: number) => {
    const b = bytes[start + k]! - 0x30;
    return b >= 0 && b <= 9 ? b : -100;
  };
  const year = digit(0) * 1000 + digit(1) * 100 + digit(2) * 10 + digit(3);
  const month = digit(5) * 10 + digit(6);
  const day = digit(8) * 10 + digit(9);
  if (year < 1900 || year > 2199 || month < 1 || month > 12 || day < 1) return false;
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  return day <= (month === 2 && leap ? 29 : DAYS_IN_MONTH[month - 1]!);
}

/**
 * True when these bytes are certainly userIds the VALUE_USER_IDS rule accepts: `{type:id}` items
 * joined by commas, in printable ASCII without spaces (others are checked as strings).
 */
function userIdsBytesAreClean(bytes: Uint8Array, start: number, end: number): boolean {
  let k = start;
  for (;;) {
    if (bytes[k] !== 0x7b) return false; // {
    k++;
    const type = k;
    while (k < end && bytes[k] !== 0x3a) {
      const b = bytes[k]!;
      if (b <= 0x20 || b >= 0x7f || b === 0x7b || b === 0x7d) return false;
      k++;
    }
    if (k === type || k >= end) return false;
    k++; // :
    const id = k;
    while (k < end && bytes[k] !== 0x7d) {
      const b = bytes[k]!;
      if (b <= 0x20 || b >= 0x7f || b === 0x7b) return false;
      k++;
    }
    if (k === id || k >= end) return false;
    k++; // }
    if (k === end) return true;
    if (bytes[k] !== 0x2c) return false; // ,
    k++;
  }
}

/**
 * True when these bytes are certainly an e-mail address the VALUE_EMAIL rule accepts: printable
 * ASCII without space, comma or semicolon; one @ after something; a dot inside what follows.
 * (Anything else is checked as a string, by the rule itself.) Unique per user: a string and a
 * regular expression for each would cost a second at city scale.
 */
function emailBytesAreClean(bytes: Uint8Array, start: number, end: number): boolean {
  let at = -1;
  let dot = -1;
  for (let k = start; k < end; k++) {
    const b = bytes[k]!;
    if (b <= 0x20 || b >= 0x7f || b === 0x2c || b === 0x3b) return false;
    if (b === 0x40) {
      if (at >= 0) return false;
      at = k;
    } else if (b === 0x2e && at >= 0 && k > at + 1 && k < end - 1) dot = k;
  }
  return at > start && dot > 0;
}

/** The bytes a sourcedId may hold (the VALUE_GUID rule). */
const ID_BYTE = new Uint8Array(256);
for (const ch of '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz./@_-')
  ID_BYTE[ch.charCodeAt(0)] = 1;

/**
 * Reads one entity file: with the fast byte scanner when the file is in its shape, else (or when
 * it stops part-way) again from the start with the general parser, whose diagnostics are exact.
 */
async function readEntityFile(
  files: PackageFiles,
  entity: EntityName,
  version: RosterVersion,
  mode: FileMode,
  table: RecordTable,
  diagnostics: Diagnostics,
  options: ReadOptions,
): Promise<Set<string>> {
  const file = ENTITIES[entity].file;
  const { progress } = options;
  const checkFields = options.checkFields !== false;
  progress?.({ stage: 'read', detail: file });
  const mark = { records: table.size, diagnostics: diagnostics.list.length };
  // Duplicate sourcedIds are looked for once the file is read (KeyIndex.bulk: much faster than
  // row by row); when there is one, the file is read again row by row to report each where it is.
  // `rows` is the reader whose rows are kept: the fast one, or the general parser's.
  let rows = new EntityFileReader(entity, version, mode, table, diagnostics, checkFields, progress, true);
  let scanned: ScanOutcome =
    options.reader === 'general'
      ? { kind: 'fallback', reason: 'asked for' }
      : await scanCsv(openLimited(files, file, diagnostics), rows);
  if (scanned.kind === 'done' && !rows.indexKeys()) {
    table.truncate(mark.records);
    diagnostics.rollback(mark.diagnostics);
    rows = new EntityFileReader(entity, version, mode, table, diagnostics, checkFields, progress);
    scanned = await scanCsv(openLimited(files, file, diagnostics), rows);
  }
  if (scanned.kind === 'done') {
    if (!scanned.empty && !scanned.finalNewline) {
      diagnostics.add('CSV_NO_FINAL_NEWLINE', {
        file,
        line: Math.max(1, rows.lastLine),
        message: `${file} does not end with a line break`,
      });
    }
    rows.finish(scanned.empty, false);
  } else {
    // Take back what the rows pass added, and read the file again with the general parser.
    table.truncate(mark.records);
    diagnostics.rollback(mark.diagnostics);
    const general = new EntityFileReader(entity, version, mode, table, diagnostics, checkFields, progress);
    rows = general;
    const result = await readCsv(
      openLimited(files, file, diagnostics),
      file,
      (cells, line) => general.cells(cells, line),
      diagnostics,
    );
    general.finish(result.empty, result.aborted);
  }
  if (options.keepIndexes === false) KeyIndex.forget(table, 'sourcedId');
  return rows.duplicates;
}

/** The rows of one entity file, from either reader, into the entity's table. */
class EntityFileReader implements ScanHandler {
  readonly duplicates = new Set<string>();
  lastLine = 0;
  private readonly file: string;
  private readonly specs: Readonly<Record<string, FieldSpec>>;
  private columns: readonly (string | null)[] | undefined;
  /** The file uses another separator (CSV_DELIMITER): its rows are counted, not read. */
  private skipRows = false;
  private headerWidth = 0;
  private idColumn = -1;
  private dataRows = 0;
  /** Per table field: the header position it is read from (-1: none). */
  private columnOfField = new Int32Array(0);
  private specOfField: (FieldSpec | undefined)[] = [];
  /** Per table field: values whose type may be spelled in more than one way (checked, not copied blind). */
  private typedField = new Uint8Array(0);
  private readonly lastRaw: string[] = [];
  /** Per table field: typed values already seen to be canonical (copied as they are), by their bytes. */
  private canonical: KnownValues[] = [];
  private readonly lastNormal: string[] = [];
  // Duplicates are found on the stored bytes: no string per id, no Map over 8M entries.
  /** The sourcedId index (undefined until indexKeys when duplicates are looked for at the end). */
  private seen: KeyIndex | undefined;
  private readonly fileId: number;

  constructor(
    private readonly entity: EntityName,
    private readonly version: RosterVersion,
    private readonly mode: FileMode,
    private readonly table: RecordTable,
    private readonly diagnostics: Diagnostics,
    private readonly checkFields: boolean,
    private readonly progress: ProgressListener | undefined,
    duplicatesAtEnd = false,
  ) {
    this.file = ENTITIES[entity].file;
    this.specs = ENTITIES[entity].fields;
    if (!duplicatesAtEnd) {
      this.seen = new KeyIndex(table, table.fieldIndexOf('sourcedId'));
      for (let i = 0; i < table.size; i++) this.seen.add(i);
    }
    this.fileId = table.fileId(this.file);
  }

  private header(cells: string[]): void {
    const { table } = this;
    const delimiter = foreignDelimiter(this.entity, this.version, cells);
    if (delimiter) {
      // One diagnostic for the file, not one per column and row: its rows are not read.
      this.diagnostics.add('CSV_DELIMITER', {
        file: this.file,
        line: 1,
        entity: this.entity,
        message: `${this.file} separates its fields with ${delimiter}, not commas: its rows were not read`,
      });
      this.skipRows = true;
      this.columns = [];
      return;
    }
    // A BOM is dropped by the reader; header names are kept exactly, for the case rule.
    const columns = mapHeader(this.entity, this.version, cells, this.file, this.diagnostics).columns;
    this.columns = columns;
    // Extension columns are kept even when every value is empty: the vendor asked for them.
    for (const c of columns) if (c !== null) table.declareField(c);
    const n = table.fields.length;
    this.columnOfField = new Int32Array(n).fill(-1);
    this.typedField = new Uint8Array(n);
    this.canonical = Array.from({ length: n }, () => new KnownValues());
    this.specOfField = table.fields.map((f) => this.specs[f]);
    for (const [i, c] of columns.entries()) if (c !== null) this.columnOfField[table.fieldIndexOf(c)] = i;
    for (let f = 0; f < n; f++) {
      const type = this.specOfField[f]?.type;
      this.typedField[f] = type && !['string', 'ref', 'guid', 'date', 'year'].includes(type) ? 1 : 0;
    }
    this.idColumn = columns.indexOf('sourcedId');
    this.headerWidth = cells.length;
    if (this.checkFields) this.prepareChecks(columns);
  }

  // --- The field checks' fast pre-filter -------------------------------------------------------
  // checkRecordFields builds an object per row; on a city's 10M clean rows that is most of the
  // reading time. The fast reader first looks at each value (its bytes, or a remembered answer for
  // fields with few distinct values) and runs checkRecordFields only on rows that may have a
  // diagnostic. Any doubt means the full check, so the diagnostics are exactly the same.

  /** Per header position: CHECK_* kind, plus REQUIRED when an empty value is a diagnostic. */
  private checkKind = new Uint8Array(0);
  /** Rows always get the full check (a required column is missing; subjects beside subjectCodes). */
  private alwaysCheck = false;
  private readonly clean: Map<string, boolean>[] = [];
  /** Per header position: values known to be clean, by their bytes (no string made for them). */
  private readonly knownClean: KnownValues[] = [];
  private checkContext: RecordContext | undefined;

  private prepareChecks(columns: readonly (string | null)[]): void {
    const ctx = { entity: this.entity, version: this.version, mode: this.mode, file: this.file };
    this.checkContext = { ...ctx, position: () => ({}) };
    const required = requiredFields(ctx);
    this.checkKind = new Uint8Array(columns.length);
    for (const [i, field] of columns.entries()) {
      const type = field ? this.specs[field]?.type : undefined;
      let kind = CHECK_NONE;
      if (field === 'status' || field === 'dateLastModified') kind = CHECK_VALUE;
      else if (type === 'guid' || type === 'ref') kind = CHECK_ID;
      else if (type === 'email') kind = CHECK_EMAIL;
      else if (type === 'date') kind = CHECK_DATE;
      else if (type === 'userIds') kind = CHECK_USER_IDS;
      else if (type && type !== 'string' && type !== 'list') kind = CHECK_VALUE;
      this.checkKind[i] = kind | (field && required.has(field) ? REQUIRED : 0);
      this.clean[i] = new Map();
      this.knownClean[i] = new KnownValues();
    }
    this.alwaysCheck =
      [...required].some((f) => !columns.includes(f)) ||
      (columns.includes('subjects') && columns.includes('subjectCodes'));
  }

  /** True when no field check can find anything in this row (fast reader, unquoted lines). */
  private rowIsClean(bytes: Buffer, starts: Int32Array, ends: Int32Array, count: number): boolean {
    if (this.alwaysCheck || count !== this.headerWidth) return false;
    const kinds = this.checkKind;
    for (let c = 0; c < count; c++) {
      const kind = kinds[c]!;
      const s = starts[c]!;
      const e = ends[c]!;
      if (e - s > VALUE_LIMIT) return false; // (in bytes: a value that long may be over the limit)
      if (kind === CHECK_NONE) continue;
      if (s === e) {
        if ((kind & REQUIRED) !== 0) return false;
        continue;
      }
      if ((kind & ~REQUIRED) === CHECK_ID) {
        // A sourcedId: 1-255 of [0-9A-Za-z./@_-] (the VALUE_GUID rule), checked on the bytes.
        if (e - s > 255) return false;
        for (let k = s; k < e; k++) if (ID_BYTE[bytes[k]!] === 0) return false;
      } else if (!bytesAreClean(kind & ~REQUIRED, bytes, s, e)) {
        const known = this.knownClean[c]!;
        if (known.has(bytes, s, e)) continue;
        const raw = bytes.toString('utf8', s, e);
        const memo = this.clean[c]!;
        let ok = memo.get(raw);
        if (ok === undefined) {
          ok = fieldValueIsClean(this.checkContext!, this.columns![c]!, raw);
          if (memo.size < MEMO_LIMIT) memo.set(raw, ok);
        }
        if (!ok) return false;
        known.add(bytes, s, e);
      }
    }
    return true;
  }

  /** The row being read by row(), and its values as text (one function, not a closure per row). */
  private scanned: ScannedRow | undefined;
  private readonly scannedText = (c: number): string => {
    const { cells, bytes, starts, ends } = this.scanned!;
    return cells ? cells[c]! : bytes.toString('utf8', starts[c], ends[c]);
  };

  /** A row from the fast scanner. */
  row(row: ScannedRow, line: number): void {
    this.lastLine = line;
    if (this.columns === undefined) {
      const cells =
        row.cells ??
        Array.from({ length: row.count }, (_, k) => row.bytes.toString('utf8', row.starts[k], row.ends[k]));
      this.header(cells);
      return;
    }
    if (this.skipRows) {
      this.dataRows++;
      return;
    }
    const { bytes, starts, ends, count, cells } = row;
    this.scanned = row;
    const text = this.scannedText;
    const clean = this.checkFields && !cells && !row.unusual && this.rowIsClean(bytes, starts, ends, count);
    this.beginRow(count, line, text, clean);
    const { table, columnOfField } = this;
    const n = table.fields.length;
    const room =
      (cells ? cells.reduce((k, c) => k + c.length, 0) * 3 : ends[count - 1]! - starts[0]!) + n * 32;
    const begin = table.beginRecord(room);
    const out = table.writeBuffer;
    let at = begin;
    for (let f = 0; f < n; f++) {
      if (f > 0) out[at++] = SEPARATOR;
      const c = columnOfField[f]!;
      if (c < 0 || c >= count) continue;
      if (!cells) {
        const s = starts[c]!;
        const e = ends[c]!;
        if (s === e) continue;
        const first = bytes[s]!;
        const last = bytes[e - 1]!;
        // Copied as they are unless the value may need normalizing: a typed value, white space or
        // a control character or a non-ASCII character at an edge (trim() knows Unicode spaces).
        if (
          !row.unusual &&
          this.typedField[f] === 0 &&
          first > 0x20 &&
          first < 0x80 &&
          last > 0x20 &&
          last < 0x80
        ) {
          if (e - s < 24) for (let k = s; k < e; k++) out[at++] = bytes[k]!;
          else at += bytes.copy(out, at, s, e);
          continue;
        }
        // A typed value spelled as one seen before that needed no normalizing: copy it.
        if (!row.unusual && this.canonical[f]!.has(bytes, s, e)) {
          for (let k = s; k < e; k++) out[at++] = bytes[k]!;
          continue;
        }
      }
      const raw = text(c);
      let value: string;
      if (raw === this.lastRaw[f]) value = this.lastNormal[f]!;
      else {
        value = normalizeValue(this.specOfField[f], raw);
        this.lastRaw[f] = raw;
        this.lastNormal[f] = value;
      }
      if (!cells && !row.unusual && value === raw) this.canonical[f]!.add(bytes, starts[c]!, ends[c]!);
      if (value !== '') at += out.write(value, at, 'utf8');
    }
    this.endRow(table.endRecord(at, this.fileId, line), line, text);
  }

  /** A row from the general parser. */
  cells(cells: string[], line: number): void {
    if (this.columns === undefined) {
      this.header(cells);
      return;
    }
    if (this.skipRows) {
      this.dataRows++;
      return;
    }
    const text = (c: number) => cells[c]!;
    this.beginRow(cells.length, line, text, false);
    const { table, columnOfField } = this;
    const values = new Array<string>(table.fields.length).fill('');
    for (let f = 0; f < values.length; f++) {
      const c = columnOfField[f]!;
      if (c >= 0 && c < cells.length) values[f] = normalizeValue(this.specOfField[f], cells[c]!);
    }
    this.endRow(table.addValues(values, { file: this.file, line }), line, text);
  }

  /** Counts the row and checks its width and (unless known clean) its fields. */
  private beginRow(width: number, line: number, text: (column: number) => string, clean: boolean): void {
    const { file, entity, diagnostics } = this;
    this.dataRows++;
    if (this.progress && this.dataRows % PROGRESS_EVERY_ROWS === 0)
      this.progress({ stage: 'read', detail: file, rows: this.dataRows });
    if (width !== this.headerWidth) {
      diagnostics.add('CSV_ROW_WIDTH', {
        file,
        line,
        entity,
        message: `${file} line ${line} has ${width} fields; the header has ${this.headerWidth}`,
      });
    }
    if (!this.checkFields || clean) return;
    const columns = this.columns!;
    const record: Record<string, string> = {};
    const position: Record<string, number> = {};
    for (let i = 0; i < columns.length && i < width; i++) {
      const field = columns[i];
      if (field) {
        record[field] = text(i);
        position[field] = i + 1;
      }
    }
    checkRecordFields(
      record,
      {
        entity,
        version: this.version,
        mode: this.mode,
        file,
        position: (f) => ({ line, ...(position[f] ? { column: position[f] } : {}) }),
      },
      diagnostics,
    );
  }

  private endRow(index: number, line: number, text: (column: number) => string): void {
    if (!this.seen || this.seen.add(index) < 0) return;
    // The first record with a sourcedId is kept; later ones are reported and dropped.
    this.table.truncate(index);
    const id = text(this.idColumn).trim();
    this.duplicates.add(id);
    this.diagnostics.add('DUPLICATE_SOURCED_ID', {
      file: this.file,
      line,
      column: this.idColumn + 1,
      entity: this.entity,
      recordId: id,
      field: 'sourcedId',
      message: `${this.file} has sourcedId ${JSON.stringify(id)} more than once`,
    });
  }

  /**
   * Indexes the sourcedIds of the table (this file's rows and any before) when duplicates were
   * left for the end; false when one is held twice (nothing is indexed then).
   */
  indexKeys(): boolean {
    if (this.seen) return true;
    const index = KeyIndex.bulk(this.table, 'sourcedId');
    if (!index) return false;
    this.seen = index;
    return true;
  }

  finish(empty: boolean, aborted: boolean): void {
    const { file, entity } = this;
    // The sourcedId index built to find duplicates serves the rules and the plan engine too.
    if (this.seen) KeyIndex.remember(this.seen, 'sourcedId');
    // (A file whose reading stopped at its first bytes, another encoding, is not empty: the
    // encoding diagnostic says what is wrong.)
    if (empty && !aborted) {
      this.diagnostics.add('CSV_EMPTY_FILE', {
        file,
        line: 1,
        entity,
        message: `${file} is empty (not even a header)`,
      });
    } else if (!aborted && this.dataRows === 0) {
      this.diagnostics.add('CSV_HEADER_ONLY', {
        file,
        line: 1,
        entity,
        message: `${file} has a header but no data rows`,
      });
    }
  }
}

/** The file's bytes with each line longer than LINE_LIMIT dropped and reported (CSV_LINE_TOO_LONG). */
function openLimited(files: PackageFiles, file: string, diagnostics: Diagnostics): Readable {
  const source = files.open(file);
  const limited = new LineLimit((line, bytes, what) => {
    // (A quote left open past the limit ends the file there: the parser reports it as never closed.)
    if (what === 'quote') return;
    const header = what === 'header';
    diagnostics.add('CSV_LINE_TOO_LONG', {
      file,
      line,
      message: `${file} line ${line}${header ? ', its header,' : ''} is ${bytes.toLocaleString('en-US')} bytes long, over the limit of ${LINE_LIMIT.toLocaleString('en-US')}: ${header ? 'the file was not read' : 'it was not read'}`,
    });
  });
  source.on('error', (err) => limited.destroy(err));
  // (A reader that stops early destroys the limited stream: the file is closed with it.)
  limited.on('close', () => source.destroy());
  return source.pipe(limited);
}
