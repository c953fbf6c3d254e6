/**
 * The JSON plan: exactly `JSON.stringify(plan, null, 2)` and a line break, as UTF-8, written in
 * pieces (a city's first plan is gigabytes of JSON, more than one string can hold). Changes made
 * by computePlan are written straight from their records' bytes (several times faster than
 * JSON.stringify); others (read back from a file, or an update between tables of different
 * columns) by JSON.stringify. Reading plan files back is plan/plan-file.ts.
 */
import { closeSync, openSync, renameSync, writeSync } from 'node:fs';
import { sameBytes } from '../model/byte-hash.js';
import type { EntityName } from '../model/entities.js';
import { type ByteRange, byteRange, type RecordTable, SEPARATOR } from '../model/record-table.js';
import { type ChangeRecords, changeRecords, type FieldSource, type Mask } from '../plan/change.js';
import type { Plan, PlanChange } from '../plan/plan.js';
import { SOFT_DELETED } from '../plan/policy.js';
import { JsonBytes } from './json-bytes.js';

/** The plan as JSON in pieces of about `chunkBytes`. */
export function* planJsonChunks(plan: Plan, chunkBytes = 1 << 20): Generator<Buffer> {
  const out = new JsonBytes(chunkBytes + (chunkBytes >> 2));
  out.text('{');
  const entries = Object.entries(plan).filter(([, v]) => v !== undefined);
  for (const [n, [key, value]] of entries.entries()) {
    out.text(`\n  ${JSON.stringify(key)}: `);
    if (key === 'changes' && Array.isArray(value) && value.length > 0) {
      out.text('[');
      for (const [i, change] of value.entries()) {
        out.text(i > 0 ? ',\n    ' : '\n    ');
        if (!writeChangeJson(change, out)) out.text(indent(JSON.stringify(change, null, 2), '    '));
        if (out.length >= chunkBytes) yield out.take();
      }
      out.text('\n  ]');
    } else {
      out.text(indent(JSON.stringify(value, null, 2), '  '));
    }
    if (n < entries.length - 1) out.text(',');
  }
  out.text('\n}\n');
  yield out.take();
}

function indent(json: string, by: string): string {
  return json.replaceAll('\n', `\n${by}`);
}

/** Writes the plan as a JSON file, piece by piece, replacing `path` in one rename. */
export function writePlanFile(path: string, plan: Plan): void {
  const tmp = `${path}.tmp-${process.pid}`;
  const fd = openSync(tmp, 'w');
  try {
    for (const chunk of planJsonChunks(plan)) writeSync(fd, chunk);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}

/** Per source, what writeChangeJson needs per field of desired and of current (made when first needed). */
const jsonFieldsOf = new WeakMap<FieldSource, { desired?: JsonFields; current?: JsonFields }>();

/**
 * Writes a change made by computePlan as JSON, exactly as `JSON.stringify(change, null, 2)`
 * indented by four spaces, straight from the records' bytes. False (nothing written) when it
 * cannot: a change not made by computePlan, or an update between tables of different columns.
 */
export function writeChangeJson(change: PlanChange, out: JsonBytes): boolean {
  const records: ChangeRecords | undefined = changeRecords(change);
  if (!records) return false;
  const { source, desiredIndex, currentIndex } = records;
  if (change.action === 'update' && !source.sameLayout) return false;
  const q = JSON.stringify;
  out.text(
    `{\n      "action": ${q(change.action)},\n      "entity": ${q(change.entity)},\n      "key": ${q(change.key)},\n      "sourcedId": ${q(change.sourcedId)},${
      change.school !== undefined ? `\n      "school": ${q(change.school)},` : ''
    }\n      "reason": ${q(change.reason)},\n      "fields": `,
  );
  if (change.action === 'delete' && source.soft) {
    out.text(SOFT_DELETE_FIELDS);
    return true;
  }
  let json = jsonFieldsOf.get(source);
  if (!json) {
    json = {};
    jsonFieldsOf.set(source, json);
  }
  out.text('[');
  const start = out.length;
  if (change.action === 'update') {
    json.desired ??= jsonFields(source.entity, source.desired, source.mask);
    writeUpdatedFields(out, json.desired, source.current!, currentIndex, source.desired, desiredIndex);
  } else if (change.action === 'create') {
    json.desired ??= jsonFields(source.entity, source.desired, source.mask);
    writeRecordFields(out, json.desired, source.desired, desiredIndex, AFTER);
  } else {
    json.current ??= jsonFields(source.entity, source.current!, source.mask);
    writeRecordFields(out, json.current, source.current!, currentIndex, BEFORE);
  }
  if (out.length === start) out.text(']\n    }');
  else out.text('\n      ]\n    }');
  return true;
}

/** Per field position of a table: the bytes that open its JSON field entry, and how values show. */
interface JsonFields {
  /** `{"name": ...` as planJsonChunks indents it. */
  readonly opening: Buffer[];
  /** null: the value as it is; else the JSON of what shows instead ("(redacted)"...). */
  readonly shown: (Buffer | null)[];
  /** 1 for fields a change never lists (dateLastModified). */
  readonly skipped: Uint8Array;
}

function jsonFields(entity: EntityName, table: RecordTable, mask: Mask): JsonFields {
  return {
    opening: table.fields.map((f) =>
      Buffer.from(`\n        {\n          "name": ${JSON.stringify(f)}`, 'utf8'),
    ),
    // Masking depends on the field, not on the (non-empty) value.
    shown: table.fields.map((f) => {
      const shown = mask(entity, f, 'x');
      return shown === 'x' ? null : Buffer.from(JSON.stringify(shown), 'utf8');
    }),
    skipped: Uint8Array.from(table.fields, (f) => (f === 'dateLastModified' ? 1 : 0)),
  };
}

const BEFORE = Buffer.from(',\n          "before": ');
const AFTER = Buffer.from(',\n          "after": ');
const FIELD_END = Buffer.from('\n        }');
const COMMA = Buffer.from(',');
const SOFT_DELETE_FIELDS = `[\n        {\n          "name": "${SOFT_DELETED.field}",\n          "before": "true",\n          "after": "${SOFT_DELETED.value}"\n        }\n      ]\n    }`;
const jsonScratch = { a: byteRange(), b: byteRange(), ra: byteRange(), rb: byteRange() };

/** A field entry: `{"name": ..., "before"|"after": value}` (value: the bytes, or what shows instead). */
function writeField(
  out: JsonBytes,
  json: JsonFields,
  f: number,
  first: boolean,
  direction: Buffer,
  value: ByteRange,
): void {
  if (!first) out.raw(COMMA);
  out.raw(json.opening[f]!);
  out.raw(direction);
  const shown = json.shown[f];
  if (shown) out.raw(shown);
  else out.string(value.buffer, value.start, value.end);
  out.raw(FIELD_END);
}

/** A created or deleted record's non-empty fields (fieldsOf / beforeFieldsOf). */
function writeRecordFields(
  out: JsonBytes,
  json: JsonFields,
  table: RecordTable,
  index: number,
  direction: Buffer,
): void {
  const r = table.locate(index, jsonScratch.a);
  const value = jsonScratch.ra;
  value.buffer = r.buffer;
  let first = true;
  let f = 0;
  let s = r.start;
  for (let p = r.start; p <= r.end; p++) {
    if (p < r.end && r.buffer[p] !== SEPARATOR) continue;
    if (p > s && json.skipped[f] === 0) {
      value.start = s;
      value.end = p;
      writeField(out, json, f, first, direction, value);
      first = false;
    }
    f++;
    s = p + 1;
  }
}

/** The fields in which two records of the same columns differ (diffFields). */
function writeUpdatedFields(
  out: JsonBytes,
  json: JsonFields,
  current: RecordTable,
  currentIndex: number,
  desired: RecordTable,
  desiredIndex: number,
): void {
  const before = current.locate(currentIndex, jsonScratch.a);
  const after = desired.locate(desiredIndex, jsonScratch.b);
  const b = jsonScratch.ra;
  const a = jsonScratch.rb;
  b.buffer = before.buffer;
  a.buffer = after.buffer;
  let bs = before.start;
  let as = after.start;
  let first = true;
  for (let f = 0; f < desired.fields.length; f++) {
    // The next value on each side (an ended record has only empty values left).
    let be = bs;
    while (be < before.end && before.buffer[be] !== SEPARATOR) be++;
    let ae = as;
    while (ae < after.end && after.buffer[ae] !== SEPARATOR) ae++;
    b.start = Math.min(bs, before.end);
    b.end = Math.min(be, before.end);
    a.start = Math.min(as, after.end);
    a.end = Math.min(ae, after.end);
    bs = be + 1;
    as = ae + 1;
    if (json.skipped[f] === 1 || sameBytes(b.buffer, b.start, b.end, a.buffer, a.start, a.end)) continue;
    if (!first) out.raw(COMMA);
    first = false;
    out.raw(json.opening[f]!);
    const shown = json.shown[f];
    if (b.end > b.start) {
      out.raw(BEFORE);
      if (shown) out.raw(shown);
      else out.string(b.buffer, b.start, b.end);
    }
    if (a.end > a.start) {
      out.raw(AFTER);
      if (shown) out.raw(shown);
      else out.string(a.buffer, a.start, a.end);
    }
    out.raw(FIELD_END);
  }
}
