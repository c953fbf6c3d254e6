/**
 * Field rules: checks of one record's values on their own (required, types, enumerations, file
 * mode), run by every reader on the raw values before normalization, so a diagnostic points at the
 * value as written. Values of personal fields are never quoted in messages.
 */

import { Diagnostics, recordsName } from '../diagnostic.js';
import {
  ENTITIES,
  type EntityName,
  type FieldSpec,
  GRADE_LEVELS,
  type RosterVersion,
} from '../model/entities.js';
import { splitList } from '../model/normalize.js';
import type { FileMode } from '../model/roster.js';

export interface FieldPosition {
  readonly line?: number;
  readonly column?: number;
}

export interface RecordContext {
  readonly entity: EntityName;
  readonly version: RosterVersion;
  readonly mode: FileMode;
  readonly file: string;
  /** Where a field's value stands (its line and column); `line` of the record when unknown. */
  readonly position: (field: string) => FieldPosition;
}

const GUID = /^[0-9A-Za-z./@_-]{1,255}$/;
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DATETIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;
const YEAR = /^\d{4}$/;
const EMAIL = /^[^\s@,;]+@[^\s@,;]+\.[^\s@,;]+$/;
const USER_ID = /^\{[^{}:]+:[^{}]+\}$/;

export function isValidDate(value: string): boolean {
  const m = DATE.exec(value);
  if (!m) return false;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const date = new Date(Date.UTC(y, mo - 1, d));
  return date.getUTCFullYear() === y && date.getUTCMonth() === mo - 1 && date.getUTCDate() === d;
}

/** `value` for messages: quoted when the field is not personal data, withheld otherwise. */
export function shown(spec: FieldSpec | undefined, value: string): string {
  if (spec?.pii) return '(value withheld: personal data)';
  return quoted(value);
}

/** A value quoted for a message, cut after 60 characters (a hostile file's value can be 300 MB). */
export function quoted(value: string): string {
  return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value);
}

function gradeHint(value: string): string | undefined {
  if (/^[1-9]$/.test(value)) return `Write "0${value}": CEDS grade levels 01-09 keep the leading zero.`;
  if (/^k$/i.test(value) || /^kindergarten$/i.test(value)) return 'Write "KG" for kindergarten.';
  const m = /^grade\s*(\d{1,2})$/i.exec(value);
  if (m) return `Write "${m[1]!.padStart(2, '0')}".`;
  return undefined;
}

/**
 * Checks one record. `record` maps field names to raw values ('' or absent when empty).
 * Returns nothing: diagnostics go to `diagnostics`.
 */
export function checkRecordFields(
  record: Readonly<Record<string, string | undefined>>,
  ctx: RecordContext,
  diagnostics: Diagnostics,
): void {
  const spec = ENTITIES[ctx.entity];
  const recordId = (record.sourcedId ?? '').trim() || undefined;
  const at = (field: string) => ({
    file: ctx.file,
    ...ctx.position(field),
    entity: ctx.entity,
    recordId,
    field,
  });

  for (const [field, fieldSpec] of Object.entries(spec.fields)) {
    checkField(field, fieldSpec, record[field] ?? '', ctx, at, diagnostics);
  }

  // 1.1 users need role and orgSourcedIds (1.2 moved them to roles.csv).
  if (ctx.entity === 'users' && ctx.version === '1.1') {
    for (const field of ['orgSourcedIds', 'role']) {
      if ((record[field] ?? '').trim() === '') {
        diagnostics.add('VALUE_REQUIRED', {
          ...at(field),
          message: `${field} is required in ${recordsName('users', ctx.file)} (OneRoster 1.1)`,
        });
      }
    }
  }

  const subjects = splitList((record.subjects ?? '').trim());
  const codes = splitList((record.subjectCodes ?? '').trim());
  if (subjects.length > 0 && codes.length > 0 && subjects.length !== codes.length) {
    diagnostics.add('VALUE_LIST_LENGTH', {
      ...at('subjectCodes'),
      message: `${subjects.length} subjects but ${codes.length} subjectCodes`,
    });
  }
}

/** One field's own checks (what checkRecordFields runs for every field of the model). */
function checkField(
  field: string,
  fieldSpec: FieldSpec,
  raw: string,
  ctx: RecordContext,
  at: At,
  diagnostics: Diagnostics,
): void {
  const value = raw.trim();
  if (field === 'status' || field === 'dateLastModified') {
    checkLifecycle(field, value, fieldSpec, ctx, at, diagnostics);
    return;
  }
  if (value === '') {
    if (fieldSpec.required && versionHasField(ctx, field)) {
      diagnostics.add('VALUE_REQUIRED', {
        ...at(field),
        message: `${field} is required in ${recordsName(ctx.entity, ctx.file)}`,
      });
    }
    return;
  }
  if (value.length > VALUE_LIMIT) {
    diagnostics.add('VALUE_TOO_LONG', {
      ...at(field),
      message: `${field} is ${value.length.toLocaleString('en-US')} characters long, over the limit of ${VALUE_LIMIT.toLocaleString('en-US')}`,
    });
    return;
  }
  const control = controlCharacterAt(value);
  if (control >= 0) {
    // A NUL or escape inside a name is delivered as is, and breaks the vendor's import or screen.
    const code = value.charCodeAt(control).toString(16).toUpperCase().padStart(4, '0');
    diagnostics.add('VALUE_CONTROL_CHARACTER', {
      ...at(field),
      message: `${field} holds the control character U+${code} (at character ${control + 1})`,
    });
  }
  checkValue(field, value, fieldSpec, ctx, at, diagnostics);
}

/**
 * The longest value (64 Ki characters): far beyond any name, id or list a roster holds (a
 * district administrator's 1,000 schools are 12,000), short of what a damaged or hostile file
 * holds (a 50 MB name was valid, and would have been delivered).
 */
export const VALUE_LIMIT = 65_536;

/** Where `value` holds a control character no roster value holds (tabs and line breaks are left to the other rules), or -1. */
function controlCharacterAt(value: string): number {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if ((c < 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) || c === 0x7f) return i;
  }
  return -1;
}

/**
 * True when `raw`, as the value of `field`, gives no diagnostic of its own. The fast reader asks
 * this (and remembers the answer for fields with few distinct values) to skip checkRecordFields
 * on rows where nothing can be found; any doubt sends the row through checkRecordFields.
 */
export function fieldValueIsClean(ctx: RecordContext, field: string, raw: string): boolean {
  const fieldSpec = ENTITIES[ctx.entity].fields[field];
  if (!fieldSpec) return true;
  // Asked once per row for fields of unique values (e-mail addresses): no allocation per call.
  scratch.rollback(0);
  checkField(field, fieldSpec, raw, ctx, () => ({ file: ctx.file }), scratch);
  return scratch.list.length === 0;
}
const scratch = new Diagnostics();

/**
 * Fields whose emptiness is a diagnostic in this file: required ones, and role and orgSourcedIds of
 * 1.1 users (checked across fields by checkRecordFields).
 */
export function requiredFields(ctx: Omit<RecordContext, 'position'>): Set<string> {
  const spec = ENTITIES[ctx.entity];
  const required = new Set(
    Object.entries(spec.fields)
      .filter(([field, f]) => f.required && versionHasField(ctx as RecordContext, field))
      .map(([field]) => field),
  );
  if (ctx.entity === 'users' && ctx.version === '1.1')
    for (const f of ['orgSourcedIds', 'role']) required.add(f);
  // In a delta file, status and dateLastModified must be filled.
  if (ctx.mode === 'delta')
    for (const f of ['status', 'dateLastModified']) if (spec.fields[f]) required.add(f);
  return required;
}

function versionHasField(ctx: RecordContext, field: string): boolean {
  const columns = ENTITIES[ctx.entity].columns[ctx.version];
  return columns === undefined || columns.includes(field);
}

type At = (field: string) => Record<string, unknown> & { file: string };

function checkLifecycle(
  field: string,
  value: string,
  fieldSpec: FieldSpec,
  ctx: RecordContext,
  at: At,
  diagnostics: Diagnostics,
): void {
  if (ctx.mode === 'bulk') {
    if (value !== '') {
      diagnostics.add('STATUS_IN_BULK', {
        ...at(field),
        message: `${field} is filled (${quoted(value)}) in a bulk file`,
      });
      // Still say when the value itself is malformed: it shows what the exporter does.
      if (field === 'dateLastModified') checkValue(field, value, fieldSpec, ctx, at, diagnostics);
    }
    return;
  }
  if (ctx.mode !== 'delta') return;
  if (value === '') {
    diagnostics.add('STATUS_REQUIRED_IN_DELTA', {
      ...at(field),
      message: `${field} is required in a delta file`,
    });
    return;
  }
  if (field === 'status') {
    if (value === 'inactive') {
      diagnostics.add('STATUS_INACTIVE', {
        ...at(field),
        message: 'status "inactive" is not a OneRoster 1.1/1.2 status',
      });
    } else if (value !== 'active' && value !== 'tobedeleted') {
      diagnostics.add('VALUE_ENUM', {
        ...at(field),
        message: `status ${quoted(value)} is not one of: active, tobedeleted`,
      });
    }
  } else {
    checkValue(field, value, fieldSpec, ctx, at, diagnostics);
  }
}

function checkValue(
  field: string,
  value: string,
  spec: FieldSpec,
  ctx: RecordContext,
  at: At,
  diagnostics: Diagnostics,
): void {
  const file = recordsName(ctx.entity, ctx.file);
  if (/[\r\n]/.test(value)) {
    diagnostics.add('CSV_LINE_BREAK_IN_FIELD', { ...at(field), message: `${field} contains a line break` });
    return;
  }
  switch (spec.type) {
    case 'guid':
    case 'ref':
      if (!GUID.test(value)) {
        diagnostics.add('VALUE_GUID', {
          ...at(field),
          message: `${field} ${shown(spec, value)} is not a valid sourcedId`,
        });
      }
      return;
    case 'refList':
      for (const item of splitList(value)) {
        if (!GUID.test(item)) {
          diagnostics.add('VALUE_GUID', {
            ...at(field),
            message: `${field} item ${quoted(item)} is not a valid sourcedId`,
          });
        }
      }
      return;
    case 'boolean':
      if (value !== 'true' && value !== 'false') {
        const hint = /^(true|false)$/i.test(value)
          ? `Write "${value.toLowerCase()}" in lower case.`
          : undefined;
        diagnostics.add('VALUE_BOOLEAN', {
          ...at(field),
          message: `${field} ${shown(spec, value)} is not true or false`,
          ...(hint ? { hint } : {}),
        });
      }
      return;
    case 'date':
      if (!isValidDate(value)) {
        diagnostics.add('VALUE_DATE', {
          ...at(field),
          message: `${field} ${shown(spec, value)} is not a date (YYYY-MM-DD)`,
        });
      }
      return;
    case 'datetime':
      if (!DATETIME.test(value) || Number.isNaN(Date.parse(value))) {
        diagnostics.add('VALUE_DATETIME', {
          ...at(field),
          message: `${field} ${shown(spec, value)} is not an ISO 8601 date-time with a time zone`,
        });
      }
      return;
    case 'year':
      if (!YEAR.test(value)) {
        diagnostics.add('VALUE_YEAR', {
          ...at(field),
          message: `${field} ${shown(spec, value)} is not a year (YYYY)`,
        });
      }
      return;
    case 'email':
      if (!EMAIL.test(value)) {
        diagnostics.add('VALUE_EMAIL', { ...at(field), message: `${field} is not an e-mail address` });
      }
      return;
    case 'userIds':
      for (const item of value.split(/(?<=\}),/)) {
        if (!USER_ID.test(item.trim())) {
          diagnostics.add('VALUE_USER_IDS', {
            ...at(field),
            message: `${field} has an item not in the {type:id} form`,
          });
          return;
        }
      }
      return;
    case 'grades':
      for (const grade of splitList(value)) {
        if (!GRADE_LEVELS.includes(grade)) {
          const hint = gradeHint(grade);
          diagnostics.add('VALUE_GRADE', {
            ...at(field),
            // 1.2 leaves the grade vocabulary to the deployment: CEDS is the US norm, not a rule.
            severity: ctx.version === '1.1' ? 'error' : 'warning',
            message: `${field} ${quoted(grade)} is not a CEDS grade level`,
            ...(hint ? { hint } : {}),
          });
        }
      }
      return;
    case 'enum': {
      const allowed = spec.values?.[ctx.version] ?? [];
      if (allowed.includes(value)) return;
      if (ctx.version === '1.2' && spec.extensible && /^ext:\S+$/.test(value)) return;
      const sameCase = allowed.find((v) => v.toLowerCase() === value.toLowerCase());
      const hint = sameCase
        ? `Values are case-sensitive: write "${sameCase}".`
        : ctx.entity === 'users' && field === 'role' && ctx.version === '1.2'
          ? 'OneRoster 1.2 keeps roles in roles.csv.'
          : undefined;
      diagnostics.add('VALUE_ENUM', {
        ...at(field),
        message: `${field} ${shown(spec, value)} in ${file} is not one of: ${allowed.join(', ')}${
          ctx.version === '1.2' && spec.extensible ? ', ext:*' : ''
        }`,
        ...(hint ? { hint } : {}),
      });
      return;
    }
    default:
      return;
  }
}
