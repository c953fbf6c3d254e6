/**
 * Normalization: the one canonical spelling of every value, so that two rosters that mean the
 * same thing are equal and fingerprint the same. Validation looks at raw values first (to report
 * `TRUE` or ` 09` where they stand); the Roster only ever holds normalized values.
 */
import { ENTITIES, type EntityName, type FieldSpec, isListType } from './entities.js';

// Control characters (U+0000..U+001F) never belong in a OneRoster value; U+001F is our separator.
// biome-ignore lint/suspicious/noControlCharactersInRegex: stripping them is the point
const CONTROL = /[\u0000-\u001f]/g;

export function splitList(value: string): string[] {
  if (value === '') return [];
  return value
    .split(',')
    .map((v) => v.trim())
    .filter((v) => v !== '');
}

export function normalizeValue(spec: FieldSpec | undefined, raw: string): string {
  const value = raw.replace(CONTROL, '').trim();
  if (value === '' || spec === undefined) return value;
  if (isListType(spec.type)) {
    const items = splitList(value);
    if (spec.order === 'set') {
      return [...new Set(items)].sort().join(',');
    }
    return items.join(',');
  }
  switch (spec.type) {
    case 'boolean': {
      const lower = value.toLowerCase();
      return lower === 'true' || lower === 'false' ? lower : value;
    }
    case 'status': {
      const lower = value.toLowerCase();
      // `inactive` is the 1.0 status; 1.1 removed it and the REST binding says to read it as tobedeleted.
      if (lower === 'inactive') return 'tobedeleted';
      return lower === 'active' || lower === 'tobedeleted' ? lower : value;
    }
    case 'enum': {
      const all = spec.values ? [...spec.values['1.1'], ...spec.values['1.2']] : [];
      return all.find((v) => v.toLowerCase() === value.toLowerCase()) ?? value;
    }
    case 'datetime': {
      // Only a full ISO 8601 date-time with a zone is rewritten (to UTC, milliseconds); anything
      // else stays as it is, for the validator to report.
      if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/.test(value)) {
        const t = Date.parse(value);
        if (!Number.isNaN(t)) return new Date(t).toISOString();
      }
      return value;
    }
    default:
      return value;
  }
}

/** Normalizes every value of a record of `entity`; extension fields are trimmed only. */
export function normalizeRecord(
  entity: EntityName,
  record: Readonly<Record<string, string>>,
): Record<string, string> {
  const fields = ENTITIES[entity].fields;
  const out: Record<string, string> = {};
  for (const [name, raw] of Object.entries(record)) {
    // (Names come from files: `constructor` or `__proto__` must not find Object's properties.)
    setField(out, name, normalizeValue(Object.hasOwn(fields, name) ? fields[name] : undefined, raw));
  }
  return out;
}

/**
 * Sets a field of a record built from input. A column named `__proto__` (from a file) becomes an
 * own property: plain assignment would try to replace the object's prototype and drop the value.
 */
export function setField(record: Record<string, string>, field: string, value: string): void {
  if (field === '__proto__')
    Object.defineProperty(record, field, { value, enumerable: true, writable: true, configurable: true });
  else record[field] = value;
}
