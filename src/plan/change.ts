/**
 * A planned change as computePlan makes it: the change's identity (action, entity, key, school,
 * reason) and where its records are, not their fields. `fields` is decoded from the records when
 * read (by a renderer, or JSON through toJSON), not held: a city's first plan has ten million
 * changes, and their field lists would not fit in memory. About 100 bytes each.
 *
 * Writers that work on the records' bytes (render/plan-json.ts) reach them through
 * `changeRecords`.
 */
import type { EntityName } from '../model/entities.js';
import type { RecordTable, RosterRecord } from '../model/record-table.js';
import type { ChangeAction, ChangeReason, FieldChange, PlanChange } from './plan.js';
import { SOFT_DELETED } from './policy.js';

/** How a field's value shows in a plan: as it is, masked ("(redacted)"), or not at all (undefined). */
export type Mask = (entity: EntityName, field: string, value: string) => string | undefined;

/** What a Change needs to decode its fields: the two tables of its entity and the masking. */
export interface FieldSource {
  readonly entity: EntityName;
  readonly desired: RecordTable;
  readonly current: RecordTable | undefined;
  readonly mask: Mask;
  /** Deletes of this entity disable (users with deleteStyle soft). */
  readonly soft: boolean;
  /** desired and current store the same fields in the same order. */
  readonly sameLayout: boolean;
}

/** Where a Change's records are: its source, and its record in `desired` and in `current` (-1: none). */
export interface ChangeRecords {
  readonly source: FieldSource;
  readonly desiredIndex: number;
  readonly currentIndex: number;
}

export class Change implements PlanChange {
  readonly #records: ChangeRecords;

  constructor(
    readonly action: ChangeAction,
    readonly entity: EntityName,
    readonly key: string,
    readonly sourcedId: string,
    readonly school: string | undefined,
    readonly reason: ChangeReason,
    source: FieldSource,
    desiredIndex: number,
    currentIndex: number,
  ) {
    this.#records = { source, desiredIndex, currentIndex };
    // An own, enumerable property like any other (JSON, copies and comparisons see it), read
    // through one shared getter.
    Object.defineProperty(this, 'fields', FIELDS);
  }

  declare readonly fields: FieldChange[];

  static records(change: Change): ChangeRecords {
    return change.#records;
  }

  static decode(change: Change): FieldChange[] {
    const { source, desiredIndex, currentIndex } = change.#records;
    const { entity, desired, current, mask, soft } = source;
    if (change.action === 'create') return fieldsOf(entity, desired.get(desiredIndex), mask);
    if (change.action === 'update')
      return diffFields(entity, current!.get(currentIndex), desired.get(desiredIndex), mask);
    return soft
      ? [{ name: SOFT_DELETED.field, before: 'true', after: SOFT_DELETED.value }]
      : beforeFieldsOf(entity, current!.get(currentIndex), mask);
  }
}

/** A change computePlan made: where its records are. Undefined for any other (read from a file). */
export function changeRecords(change: PlanChange): ChangeRecords | undefined {
  return change instanceof Change ? Change.records(change) : undefined;
}

const FIELDS: PropertyDescriptor = {
  get(this: Change) {
    return Change.decode(this);
  },
  enumerable: true,
};

function fieldsOf(entity: EntityName, record: RosterRecord, mask: Mask): FieldChange[] {
  const out: FieldChange[] = [];
  for (const [name, value] of Object.entries(record)) {
    if (value === '' || name === 'dateLastModified') continue;
    out.push({ name, after: mask(entity, name, value)! });
  }
  return out;
}

function beforeFieldsOf(entity: EntityName, record: RosterRecord, mask: Mask): FieldChange[] {
  return fieldsOf(entity, record, mask).map((f) => ({ name: f.name, before: f.after! }));
}

function diffFields(
  entity: EntityName,
  before: RosterRecord,
  after: RosterRecord,
  mask: Mask,
): FieldChange[] {
  const names = new Set([...Object.keys(before), ...Object.keys(after)]);
  const out: FieldChange[] = [];
  for (const name of names) {
    if (name === 'dateLastModified') continue;
    const b = before[name] ?? '';
    const a = after[name] ?? '';
    if (a === b) continue;
    const mb = mask(entity, name, b);
    const ma = mask(entity, name, a);
    out.push({
      name,
      ...(mb !== undefined ? { before: mb } : {}),
      ...(ma !== undefined ? { after: ma } : {}),
    });
  }
  return out;
}
