/**
 * Diagnostics: validation diagnostics as data. Readers and rules append them; renderers print them.
 * Every code is listed in CODES with its severity and a default hint, and documented in
 * docs/diagnostics.md (a test keeps the two in step).
 */
import { ENTITIES, type EntityName } from './model/entities.js';

export type Severity = 'error' | 'warning' | 'info';

export interface Diagnostic {
  readonly severity: Severity;
  /** Stable code, e.g. `REFERENCE_MISSING`. */
  readonly code: string;
  readonly message: string;
  /** How to fix it. */
  readonly hint?: string;
  /** Path of the file, relative to the roster root (or inside the zip). */
  readonly file?: string;
  /** 1-based line. */
  readonly line?: number;
  /** 1-based column: the field's position in a CSV row, the character column in YAML. */
  readonly column?: number;
  readonly entity?: string;
  readonly recordId?: string;
  readonly field?: string;
}

interface CodeInfo {
  readonly severity: Severity;
  readonly hint: string;
}

export const CODES = {
  // Packages, folders and zips
  SOURCE_EMPTY: {
    severity: 'error',
    hint: 'Point roster at a folder holding OneRoster CSV files or roster YAML files, or at a zip.',
  },
  ZIP_INVALID: { severity: 'error', hint: 'The zip cannot be read; export the package again.' },
  ZIP_UNSAFE_PATH: {
    severity: 'error',
    hint: 'Zip entries must be plain file names: no absolute paths and no "..".',
  },
  ZIP_NESTED_FOLDER: {
    severity: 'error',
    hint: 'Put the CSV files at the root of the zip, not inside a folder.',
  },
  ZIP_DUPLICATE_ENTRY: { severity: 'error', hint: 'A package holds at most one copy of each file.' },
  ZIP_TOO_LARGE: {
    severity: 'error',
    hint: 'The zip expands beyond the size limit; it may be a zip bomb. Raise --max-size if it is genuine.',
  },
  FILE_UNKNOWN: {
    severity: 'error',
    hint: 'OneRoster file names are case-sensitive (users.csv, academicSessions.csv, ...).',
  },
  FILE_NOT_ROSTERING: {
    severity: 'info',
    hint: 'roster-as-code handles the rostering files; resources and gradebook files are not read.',
  },
  // manifest.csv
  MANIFEST_MISSING: {
    severity: 'error',
    hint: 'OneRoster 1.1 and 1.2 packages need manifest.csv; `roster convert` writes one.',
  },
  MANIFEST_HEADER: { severity: 'error', hint: 'manifest.csv starts with the header "propertyName,value".' },
  MANIFEST_PROPERTY_UNKNOWN: {
    severity: 'error',
    hint: 'Known properties: manifest.version, oneroster.version, file.<name>, source.systemName, source.systemCode.',
  },
  MANIFEST_PROPERTY_DUPLICATE: { severity: 'error', hint: 'List each property once.' },
  MANIFEST_PROPERTY_MISSING: { severity: 'error', hint: 'Add the property to manifest.csv.' },
  MANIFEST_VERSION_INVALID: { severity: 'error', hint: 'Write "manifest.version,1.0".' },
  ONEROSTER_VERSION_INVALID: {
    severity: 'error',
    hint: 'Write "oneroster.version,1.1" or "oneroster.version,1.2".',
  },
  MANIFEST_MODE_INVALID: {
    severity: 'error',
    hint: 'Each file.<name> is one of: absent, bulk, delta (lower case).',
  },
  MANIFEST_FILE_ROW_MISSING: {
    severity: 'warning',
    hint: 'List every file of the version in the manifest, with "absent" for files not sent.',
  },
  MANIFEST_FILE_MISSING: {
    severity: 'error',
    hint: 'Add the file, or mark it "absent" in manifest.csv. A bulk file that never arrives would remove every record of its kind at the receiver.',
  },
  MANIFEST_FILE_NOT_LISTED: {
    severity: 'error',
    hint: 'Mark the file "bulk" or "delta" in manifest.csv, or remove it from the package.',
  },
  // CSV syntax
  CSV_EMPTY_FILE: { severity: 'error', hint: 'Write at least the header row.' },
  CSV_HEADER_ONLY: {
    severity: 'warning',
    hint: 'OneRoster 1.2 does not permit files without data rows; mark the file "absent" instead, or pass --ignore CSV_HEADER_ONLY if your vendor wants header-only files.',
  },
  CSV_ENCODING: {
    severity: 'error',
    hint: 'Save the file as UTF-8 (in Excel: "CSV UTF-8 (Comma delimited)").',
  },
  CSV_QUOTE: {
    severity: 'error',
    hint: 'Close the quoted field; write a quote inside a quoted field as "".',
  },
  CSV_DELIMITER: {
    severity: 'error',
    hint: 'OneRoster CSV separates fields with commas: save the file again as "CSV UTF-8 (Comma delimited)".',
  },
  CSV_LINE_TOO_LONG: {
    severity: 'error',
    hint: 'No roster row is that long: the file is damaged or is not a roster file. Export it again.',
  },
  CSV_STRAY_QUOTE: {
    severity: 'warning',
    hint: 'Quote the whole value and double the quote inside it, e.g. "Le""o"; other programs may split or drop the value.',
  },
  CSV_ROW_WIDTH: {
    severity: 'error',
    hint: 'Every row has as many fields as the header; quote values that contain commas.',
  },
  CSV_LINE_BREAK_IN_FIELD: {
    severity: 'error',
    hint: 'OneRoster forbids line breaks inside a field; remove them.',
  },
  CSV_NO_FINAL_NEWLINE: {
    severity: 'info',
    hint: 'End the file with a line break; some importers drop the last row otherwise.',
  },
  // Headers
  HEADER_MISSING_COLUMN: {
    severity: 'error',
    hint: 'Vendors expect every column of the spec, in order, even when empty.',
  },
  HEADER_WRONG_CASE: { severity: 'error', hint: 'Headers are case-sensitive.' },
  HEADER_MISSPELLED: { severity: 'error', hint: 'Fix the column name.' },
  HEADER_DUPLICATE: { severity: 'error', hint: 'Each column appears once; the repeated column is ignored.' },
  HEADER_EMPTY: {
    severity: 'error',
    hint: 'Remove the empty column, or name it (extension columns are named metadata.*).',
  },
  HEADER_UNKNOWN: {
    severity: 'warning',
    hint: 'Extension columns are named metadata.* and stand at the right end; the column is kept as an extension.',
  },
  HEADER_ORDER: { severity: 'error', hint: 'Columns must be in the order of the spec.' },
  HEADER_EXTENSION_POSITION: {
    severity: 'warning',
    hint: 'Move extension columns to the right end, after the spec columns.',
  },
  HEADER_LEGACY: {
    severity: 'error',
    hint: 'This is a OneRoster 1.0 column; rename it as the message says.',
  },
  HEADER_VERSION_MISMATCH: {
    severity: 'error',
    hint: 'The column belongs to another OneRoster version than the manifest states.',
  },
  // Values
  VALUE_REQUIRED: { severity: 'error', hint: 'Fill in the field.' },
  VALUE_ENUM: { severity: 'error', hint: 'Use one of the allowed values; values are case-sensitive.' },
  VALUE_BOOLEAN: { severity: 'error', hint: 'Write true or false, in lower case.' },
  VALUE_DATE: { severity: 'error', hint: 'Write dates as YYYY-MM-DD (Excel may have rewritten them).' },
  VALUE_DATETIME: { severity: 'error', hint: 'Write date-times in UTC as YYYY-MM-DDTHH:MM:SS.sssZ.' },
  VALUE_YEAR: { severity: 'error', hint: 'Write the year as YYYY (the year the school year ends).' },
  VALUE_TOO_LONG: {
    severity: 'error',
    hint: 'No roster value is that long (the limit is 65,536 characters): the file is damaged, or a column holds something else.',
  },
  VALUE_CONTROL_CHARACTER: {
    severity: 'error',
    hint: 'Remove the character (a NUL, an escape, ...): it is no part of a name or an id; the export that wrote it may be damaged.',
  },
  VALUE_GUID: {
    severity: 'error',
    hint: 'sourcedIds are 1 to 255 characters of A-Z a-z 0-9 . - _ / @ (no spaces, ":" or "#").',
  },
  VALUE_EMAIL: { severity: 'error', hint: 'Write one e-mail address like name@example.org.' },
  VALUE_GRADE: {
    severity: 'error',
    hint: 'Use CEDS grade levels: IT PR PK TK KG 01-13 PS UG Other (01-09 with the leading zero).',
  },
  VALUE_USER_IDS: {
    severity: 'error',
    hint: 'Write userIds as {type:id}, several as "{LDAP:jdoe},{LTI:123}".',
  },
  VALUE_LIST_LENGTH: {
    severity: 'error',
    hint: 'subjects and subjectCodes pair up by position: give them the same number of items.',
  },
  STATUS_IN_BULK: { severity: 'error', hint: 'In a bulk file, status and dateLastModified must be blank.' },
  STATUS_REQUIRED_IN_DELTA: {
    severity: 'error',
    hint: 'In a delta file, fill status (active or tobedeleted) and dateLastModified.',
  },
  STATUS_INACTIVE: {
    severity: 'error',
    hint: '"inactive" is a OneRoster 1.0 status; write tobedeleted (it is read as tobedeleted).',
  },
  // Records
  DUPLICATE_SOURCED_ID: {
    severity: 'error',
    hint: 'sourcedIds are unique within a file; remove or re-key the duplicate.',
  },
  REFERENCE_MISSING: { severity: 'error', hint: 'Add the referenced record, or correct the reference.' },
  REFERENCES_UNCHECKED: {
    severity: 'warning',
    hint: 'Fix the file named (its encoding, quotes or separator) and validate again: its records are then read and every reference to them checked.',
  },
  REFERENCE_FILE_MISSING: {
    severity: 'error',
    hint: 'A bulk package must define everything it references: add the file.',
  },
  REFERENCE_WRONG_TYPE: { severity: 'error', hint: 'The referenced record has the wrong type.' },
  REFERENCE_CYCLE: { severity: 'error', hint: 'Parents must form a tree: break the cycle.' },
  DATE_ORDER: { severity: 'error', hint: 'The end date is exclusive and must come after the start date.' },
  ROLE_PRIMARY_COUNT: { severity: 'error', hint: 'Give each user exactly one primary role per org.' },
  PRIMARY_ORG_WITHOUT_ROLE: {
    severity: 'error',
    hint: 'primaryOrgSourcedId must match an org the user has a role in.',
  },
  PROFILE_USER_MISMATCH: {
    severity: 'error',
    hint: 'A role may only point at a user profile of the same user.',
  },
  SUBJECTS_DIFFER_FROM_COURSE: {
    severity: 'warning',
    hint: 'Check whether subjects and subjectCodes were swapped between courses.',
  },
  EMAIL_SHARED: { severity: 'warning', hint: 'Many vendors need an e-mail address unique to one person.' },
  // Roster YAML
  YAML_SYNTAX: { severity: 'error', hint: 'Fix the YAML syntax at the position shown.' },
  YAML_ENCODING: {
    severity: 'error',
    hint: 'Save the file as UTF-8 (most editors: "Save with encoding" or "Reopen with encoding", then save as UTF-8).',
  },
  YAML_LINE_TOO_LONG: {
    severity: 'error',
    hint: 'No roster YAML line is that long: write long lists one item per line, or export the file again.',
  },
  YAML_DUPLICATE_KEY: { severity: 'error', hint: 'A key appears twice in one mapping; keep one.' },
  YAML_ALIAS_LIMIT: {
    severity: 'error',
    hint: 'Roster YAML does not need anchors and aliases; write the values out.',
  },
  YAML_SCHEMA: { severity: 'error', hint: 'See schemas/roster.schema.json for the shape of roster YAML.' },
  YAML_UNKNOWN_FIELD: {
    severity: 'error',
    hint: 'See schemas/roster.schema.json; extension columns go under extensions:.',
  },
  YAML_CONFLICT: {
    severity: 'error',
    hint: 'Files of one roster must agree on oneroster, source and files.',
  },
  // Mapped imports (roster import --from mapped, --from batch)
  MAPPING_FILE_MISSING: {
    severity: 'error',
    hint: 'Put the file in the export folder under the name the mapping gives it, or mark it optional in the mapping.',
  },
  MAPPING_COLUMN_MISSING: {
    severity: 'error',
    hint: "Column names are exact: correct the file's header or the mapping.",
  },
  MAPPING_COLUMN_UNUSED: {
    severity: 'warning',
    hint: 'Nothing is lost by accident: map the columns in the mapping if the roster should carry them.',
  },
  MAPPING_ROWS_UNUSED: {
    severity: 'warning',
    hint: "Check the mapping's when, require and absent filters if those rows should make records.",
  },
  MAPPING_ID_EMPTY: {
    severity: 'error',
    hint: "Fill the id column in the export, or give the mapping's sourcedId a default.",
  },
  MAPPING_CONFLICT: {
    severity: 'error',
    hint: 'Two rows make the same record with different values: correct one of them in the export.',
  },
} as const satisfies Record<string, CodeInfo>;

export type DiagnosticCode = keyof typeof CODES;

/** The longest message a diagnostic keeps. */
const MESSAGE_LIMIT = 2000;

export interface DiagnosticInput {
  readonly message: string;
  readonly hint?: string;
  readonly severity?: Severity;
  readonly file?: string;
  readonly line?: number;
  readonly column?: number;
  readonly entity?: string;
  readonly recordId?: string;
  readonly field?: string;
}

/** Collects diagnostics, applying the code's default severity and hint, and the ignore list. */
export class Diagnostics {
  readonly list: Diagnostic[] = [];
  private readonly ignored: ReadonlySet<string>;

  constructor(ignore: Iterable<string> = []) {
    this.ignored = new Set(ignore);
  }

  add(code: DiagnosticCode, input: DiagnosticInput): void {
    if (this.ignored.has(code)) return;
    const info: CodeInfo = CODES[code];
    this.list.push({
      severity: input.severity ?? info.severity,
      code,
      ...input,
      // (A message quotes at most a short piece of a value; this bounds one that slipped through.)
      message:
        input.message.length > MESSAGE_LIMIT
          ? `${input.message.slice(0, MESSAGE_LIMIT - 3)}...`
          : input.message,
      hint: input.hint ?? info.hint,
    });
  }

  /** Drops the diagnostics after the first `count` (a reader reading a file again from the start). */
  rollback(count: number): void {
    this.list.length = Math.min(this.list.length, count);
  }

  get errorCount(): number {
    return this.list.filter((d) => d.severity === 'error').length;
  }

  /** Diagnostics in a stable order: by file, line, column, code. */
  sorted(): Diagnostic[] {
    return [...this.list].sort(compareDiagnostics);
  }
}

export function compareDiagnostics(a: Diagnostic, b: Diagnostic): number {
  return (
    byCodePoint(a.file ?? '', b.file ?? '') ||
    (a.line ?? 0) - (b.line ?? 0) ||
    (a.column ?? 0) - (b.column ?? 0) ||
    byCodePoint(a.code, b.code)
  );
}

/** Locale-independent order, so reports are the same on every machine. */
function byCodePoint(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Whether a package could not be read back as a whole (a damaged zip, manifest, file or header),
 * as opposed to records that break rules: a target's snapshot holds what was delivered after
 * policy, which may lack fields a rule wants (a withheld username).
 */
export function unreadable(diagnostics: Diagnostics): boolean {
  return diagnostics.list.some(
    (d) => d.severity === 'error' && /^(ZIP_|MANIFEST_|CSV_|HEADER_|FILE_)/.test(d.code),
  );
}

/**
 * The first diagnostic that says a roster was not read as written, if any: a zip that cannot be
 * opened, no manifest, another encoding, an empty file, an unbalanced quote (rows swallowed), YAML
 * that does not parse, has a key twice, too many aliases, the wrong shape or an unknown field (the
 * reader then leaves the file out). What was read is then not the roster and must never be taken
 * for one (an empty roster "removes" everything).
 * Diagnostics on headers and values leave a roster readable: it is read as written, with diagnostics.
 */
export function firstUnparsed(diagnostics: Diagnostics): Diagnostic | undefined {
  return diagnostics.list.find(
    (d) =>
      d.severity === 'error' &&
      /^(ZIP_|MANIFEST_MISSING$|CSV_ENCODING$|CSV_EMPTY_FILE$|CSV_QUOTE$|YAML_(SYNTAX|ENCODING|DUPLICATE_KEY|ALIAS_LIMIT|SCHEMA|UNKNOWN_FIELD|CONFLICT)$)/.test(
        d.code,
      ),
  );
}

/**
 * How a diagnostic names the records of `entity`: by their OneRoster file in a CSV package
 * ("users.csv"), by the entity elsewhere ("users": roster YAML has no such file). `file`: the file
 * the diagnostic is in.
 */
export function recordsName(entity: EntityName, file: string | undefined): string {
  return file === undefined || /\.csv$/i.test(file) ? ENTITIES[entity].file : entity;
}
