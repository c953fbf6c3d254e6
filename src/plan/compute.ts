/**
 * computePlan: desired roster x what the target holds -> Plan. Pure: no I/O, `now` is given.
 *
 * Records are matched by the target's key field (policy `ids`), compared by fingerprint, and
 * diffed field by field only when the fingerprints differ. Only records this tool delivered (the
 * state's `managed` keys) are ever deleted; anything else the target holds is counted as unmanaged
 * and left alone.
 */
import { compareBytes, sameBytes } from '../model/byte-hash.js';
import { convertVersion } from '../model/convert-version.js';
import { ENTITIES, ENTITY_NAMES, type EntityName } from '../model/entities.js';
import { fingerprintRoster } from '../model/fingerprint.js';
import { OrderedSearch } from '../model/gallop.js';
import { type Finder, KeyIndex, keyFinder } from '../model/key-index.js';
import { sortByKey } from '../model/key-sort.js';
import {
  type ByteRange,
  byteRange,
  RecordTable,
  type RosterRecord,
  SEPARATOR,
} from '../model/record-table.js';
import type { Roster } from '../model/roster.js';
import type { JsonBytes } from './json-bytes.js';
import {
  type ChangeAction,
  type ChangeReason,
  type EntityCounts,
  type FieldChange,
  PLAN_FORMAT_VERSION,
  type Plan,
  type PlanChange,
  type PlanScope,
  type PlanTarget,
  type PlanWarning,
} from './plan.js';
import {
  activeBlackout,
  applyPolicy,
  isRedacted,
  keyField,
  type Policy,
  schoolOf,
  withheldByPolicy,
} from './policy.js';
import { findHolds } from './safety.js';

export interface PlanInput {
  /** The desired roster, as read from the repo (policy is applied here). */
  readonly desired: Roster;
  /** What the target holds now (as delivered, after policy), or undefined when never applied. */
  readonly current: Roster | undefined;
  /** Keys this tool delivered, per entity (from the state); undefined: everything current is ours. */
  readonly managed?: Partial<Record<EntityName, ReadonlySet<string>>>;
  readonly target: PlanTarget;
  readonly state: { readonly lineage: string; readonly serial: number } | undefined;
  readonly commit: string | null;
  readonly now: Date;
  /** Show personal data (names, e-mail addresses) in the plan; redacted fields stay masked. */
  readonly showPersonalData?: boolean;
  /** What the target's format can carry (applied to the desired roster after policy). */
  readonly shape?: (roster: Roster) => Roster;
  /** The desired roster's fingerprint when already known (or not wanted: a diff applies nothing). */
  readonly desiredFingerprint?: string;
  /** Compare only part of the roster (the incremental plan; see PlanScope). */
  readonly scope?: PlanScope;
  /**
   * Per entity, the roster's sourcedId of a key when the target keys records otherwise (the
   * batch target's enrollments): changes are named by it.
   */
  readonly rosterIds?: Partial<Record<EntityName, (key: string) => string | undefined>>;
}

export const REDACTED = '(redacted)';
export const PERSONAL = '(personal data)';

/** Thrown for rosters a target cannot key (a record without the key field). */
export class PlanKeyError extends Error {
  constructor(
    readonly entity: EntityName,
    readonly field: string,
    readonly sourcedIds: string[],
  ) {
    super(`${sourcedIds.length} ${entity} have no ${field}, which this target identifies them by`);
  }
}

export function computePlan(input: PlanInput): Plan {
  const { target, now } = input;
  const policy = target.policy;
  const shared = applyPolicy(input.desired, policy);
  const desired = input.shape ? input.shape(shared) : shared;
  const current = input.current ? convertVersion(input.current, desired.version).roster : undefined;

  // Schools come from the roster before shaping too: a target's shape may leave orgs out, and
  // its changes are still attributed to their schools.
  const schools = new Set<string>();
  for (const r of [shared, desired, current]) {
    if (!r) continue;
    const orgs = r.table('orgs');
    for (let i = 0; i < orgs.size; i++)
      if (orgs.value(i, 'type') === 'school') schools.add(orgs.value(i, 'sourcedId'));
  }
  // A user's school, looked up when a change needs it (a city has a million users, and a plan
  // touches a few thousand): the desired roster's word first, then what the target holds.
  const rosters = current ? [desired, current] : [desired];
  const userSchools = new Map<string, string | null>();
  const userFinders = new Map<Roster, Finder>();
  const roleSchools = new Map<Roster, Map<string, string>>();
  const userSchool = (id: string): string | undefined => {
    let school = userSchools.get(id);
    if (school === undefined) {
      school = null;
      for (const r of rosters) {
        const users = r.table('users');
        let find = userFinders.get(r);
        if (!find) {
          find = keyFinder(users, 'sourcedId');
          userFinders.set(r, find);
        }
        const at = find(id);
        if (at < 0) continue;
        const primary = users.value(at, 'primaryOrgSourcedId');
        const found = schools.has(primary)
          ? primary
          : users
              .value(at, 'orgSourcedIds')
              .split(',')
              .find((o) => schools.has(o));
        if (found) {
          school = found;
          break;
        }
      }
      for (const r of [...rosters].reverse()) {
        if (school !== null) break;
        school = rolesByUser(r, roleSchools, schools).get(id) ?? null;
      }
      userSchools.set(id, school);
    }
    return school ?? undefined;
  };

  // One string per school for every change that names it.
  const schoolNames = new Map([...schools].map((s) => [s, s]));
  const canonicalSchool = (school: string | undefined) =>
    school === undefined ? undefined : (schoolNames.get(school) ?? school);

  const mask = (entity: EntityName, field: string, value: string): string | undefined => {
    if (value === '') return undefined;
    if (isRedacted(policy, field) || (entity === 'demographics' && isRedacted(policy, 'demographics')))
      return REDACTED;
    if (ENTITIES[entity].fields[field]?.pii && !input.showPersonalData) return PERSONAL;
    return value;
  };

  const changes: PlanChange[] = [];
  const byEntity: Partial<Record<EntityName, EntityCounts>> = {};
  const unmanaged: Partial<Record<EntityName, number>> = {};
  const missingKeys: PlanKeyError[] = [];

  for (const entity of ENTITY_NAMES) {
    if (!desired.entities().includes(entity)) continue;
    const field = keyField(policy, entity);
    const named = input.rosterIds?.[entity];
    const counts: EntityCounts = { create: 0, update: 0, delete: 0, unchanged: 0 };
    const want = desired.table(entity);
    const have = current?.table(entity);
    if (input.scope && want.size === 0 && (input.scope.removed[entity]?.length ?? 0) === 0) {
      // No line of this entity changed: all of it is as the target holds it.
      counts.unchanged = input.scope.unchanged[entity] ?? 0;
      if (counts.unchanged > 0 || (have && have.size > 0)) byEntity[entity] = counts;
      continue;
    }
    // What the target holds is sorted by key (as exports, and so our snapshots, usually are): the
    // roster's records are matched by walking both side by side, not looked up one by one
    // (millions of cache misses at city scale, and an index of 130+ MB). Records out of key order
    // (added at the end of a file, or all of them) are sorted and walked again. Otherwise: a
    // typed-array index on the key bytes (no string per record, no Map over 8M entries).
    const scope = input.scope;
    const sorted = have?.ascendingBy(field) === true;
    const sideBySide = sorted && !scope;
    const haveIndex = have && !sorted ? KeyIndex.of(have, field) : undefined;
    const wantKey = want.fieldIndexOf(field);
    const haveKey = have ? have.fieldIndexOf(field) : -1;
    // (A few changed records are looked up by halving the sorted keys, not walked past millions.)
    const finder = sorted && scope !== undefined ? new SortedFinder(have!, haveKey) : undefined;
    // Which current records the roster still has: one byte per record, not a second key map.
    const matched = new Uint8Array(have?.size ?? 0);
    // Same columns on both sides: equal stored bytes mean equal records, no hashing needed.
    const sameLayout = have !== undefined && have.fields.join('\u0000') === want.fields.join('\u0000');
    const dateField = want.fields.indexOf('dateLastModified');
    const keyless: string[] = [];
    const entityChanges: PlanChange[] = [];
    const source: FieldSource = {
      entity,
      want,
      have,
      mask,
      soft: policy.deleteStyle === 'soft' && entity === 'users',
      sameLayout,
    };
    const range = byteRange();

    /** Records what becomes of roster record i, held at the target as record `found` (-1: not). */
    const settle = (i: number, found: number) => {
      const at = found >= 0 ? found : undefined;
      if (at !== undefined) matched[at] = 1;
      // Compare the stored bytes first, then the values but dateLastModified (fingerprints, which
      // skip it, between tables of other columns); objects only for changes.
      if (
        at !== undefined &&
        (sameLayout
          ? have!.sameStored(at, want, i) || have!.sameValuesBut(at, want, i, dateField)
          : have!.fingerprint(at) === want.fingerprint(i))
      ) {
        counts.unchanged++;
        return;
      }
      // Fresh, flat strings: a change outlives the decoded record (a city's first plan has 10M).
      const key = want.value(i, field);
      const sourcedId = named?.(key) ?? (field === 'sourcedId' ? key : want.value(i, 'sourcedId'));
      const school = canonicalSchool(schoolOf(entity, (f) => want.value(i, f), schools, userSchool));
      if (at === undefined) {
        counts.create++;
        entityChanges.push(new Change('create', entity, key, sourcedId, school, CREATE, source, i, -1));
        return;
      }
      counts.update++;
      entityChanges.push(new Change('update', entity, key, sourcedId, school, UPDATE, source, i, at));
    };

    const walk = sideBySide ? new SortedWalk(have!, haveKey) : undefined;
    // Not sorted, but perhaps in the same order as the roster (a target holds what the last
    // apply sent, in the roster's order): records are first looked for where the walk stands.
    const aligned = haveIndex?.unique ? new AlignedWalk(have!, haveKey) : undefined;
    // Records out of key order (a typed array: a city's 8M in no order would be 70 MB as numbers).
    let late: Int32Array | undefined;
    let lateCount = 0;
    for (let i = 0; i < want.size; i++) {
      if (wantKey < 0 || !RecordTable.narrow(want.locate(i, range), wantKey)) {
        keyless.push(want.value(i, 'sourcedId'));
        continue;
      }
      if (walk) {
        if (walk.accepts(range)) settle(i, walk.find(range));
        else {
          late ??= new Int32Array(want.size - i);
          late[lateCount++] = i;
        }
      } else if (finder) settle(i, finder.find(range));
      else if (!haveIndex) settle(i, -1);
      else {
        const at = aligned ? aligned.find(range) : -1;
        settle(i, at >= 0 ? at : haveIndex.findBytes(range.buffer, range.start, range.end));
      }
    }
    if (late) {
      // Records out of key order (added at the end of a file, or a whole file in no order):
      // sorted by key (a radix sort: a city's 8M in well under a second), and walked again.
      const again = new SortedWalk(have!, haveKey);
      for (const i of sortByKey(want, wantKey, late.subarray(0, lateCount))) {
        RecordTable.narrow(want.locate(i, range), wantKey);
        settle(i, again.find(range));
      }
    }
    if (keyless.length > 0) missingKeys.push(new PlanKeyError(entity, field, keyless));

    if (have) {
      // With a state, only what it records as delivered is ours (none of an entity it does not list).
      const managed = input.managed ? (input.managed[entity] ?? new Set<string>()) : undefined;
      // In a scope, only the records whose lines went away may be gone; all others are unchanged.
      const candidates = scope ? (scope.removed[entity] ?? []) : undefined;
      if (scope) counts.unchanged += scope.unchanged[entity] ?? 0;
      for (let c = 0, n = candidates ? candidates.length : have.size; c < n; c++) {
        const i = candidates ? candidates[c]! : c;
        if (matched[i] === 1) continue;
        // (Several current records may share a key: the one the index holds speaks for all.
        // Sorted keys are all different.)
        const first = !haveIndex ? -1 : haveIndex.findFrom(have, i, haveKey);
        if (first >= 0 && matched[first] === 1) continue;
        const key = have.value(i, field);
        if (managed && !managed.has(key)) {
          unmanaged[entity] = (unmanaged[entity] ?? 0) + 1;
          continue;
        }
        const soft = policy.deleteStyle === 'soft' && entity === 'users';
        if (soft && have.value(i, 'enabledUser') === 'false') {
          counts.unchanged++; // disabled by an earlier soft delete
          continue;
        }
        counts.delete++;
        const school = canonicalSchool(schoolOf(entity, (f) => have.value(i, f), schools, userSchool));
        const reason: ChangeReason = soft
          ? 'disable_because_absent_from_roster'
          : 'delete_because_absent_from_roster';
        const sourcedId = named?.(key) ?? (field === 'sourcedId' ? key : have.value(i, 'sourcedId'));
        entityChanges.push(new Change('delete', entity, key, sourcedId, school, reason, source, -1, i));
      }
    }
    entityChanges.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    // Not push(...): spreading a city's worth of changes as arguments overflows the stack.
    for (const c of entityChanges) changes.push(c);
    if (counts.create + counts.update + counts.delete + counts.unchanged > 0 || (have && have.size > 0))
      byEntity[entity] = counts;
  }
  if (missingKeys.length > 0) throw missingKeys[0];

  const bySchool: Record<string, { create: number; update: number; delete: number }> = {};
  for (const c of changes) {
    if (!c.school) continue;
    bySchool[c.school] ??= { create: 0, update: 0, delete: 0 };
    bySchool[c.school]![c.action]++;
  }

  const warnings: PlanWarning[] = [];
  const unmanagedTotal = Object.values(unmanaged).reduce((n, v) => n + (v ?? 0), 0);
  if (unmanagedTotal > 0) {
    warnings.push({
      code: 'UNMANAGED_RECORDS',
      message: `The target holds ${unmanagedTotal} record(s) that roster-as-code never delivered (${Object.entries(
        unmanaged,
      )
        .map(([e, n]) => `${n} ${e}`)
        .join(', ')}); they are left alone.`,
    });
  }
  if (target.mode === 'bulk' && (target.kind === 'dir' || target.kind === 'sftp') && changes.length > 0) {
    // What a portal does with a bulk file, which this plan cannot see (districts.md: records
    // added by hand at the portal vanish at the next bulk sync).
    warnings.push({
      code: 'BULK_REPLACES',
      message: `This target takes bulk deliveries: the portal replaces every kind of record the delivery carries, so records it holds that the roster lacks (added by hand at the portal, or by another feed) are removed by the portal, and this plan cannot count them. To change only what roster-as-code delivered, use mode: delta.`,
    });
  }
  const blackout = activeBlackout(policy, now);
  if (blackout) {
    warnings.push({
      code: 'BLACKOUT',
      message: `Today is inside the blackout window ${blackout.from} to ${blackout.to}${blackout.reason ? ` (${blackout.reason})` : ''}: apply will refuse unless --ignore-blackout.`,
    });
  }

  const holds = findHolds({
    desired,
    current,
    changes,
    byEntity,
    target,
    managed: input.managed,
    ...(input.scope ? { desiredSizes: input.scope.sizes } : {}),
    ...(input.scope?.held ? { held: input.scope.held } : {}),
  });

  return {
    formatVersion: PLAN_FORMAT_VERSION,
    target: { name: target.name, kind: target.kind, mode: target.mode },
    basis: {
      desiredFingerprint: input.desiredFingerprint ?? fingerprintRoster(input.desired),
      oneRosterVersion: desired.version,
      stateLineage: input.state?.lineage ?? null,
      stateSerial: input.state?.serial ?? 0,
      commit: input.commit,
      createdAt: now.toISOString(),
    },
    summary: {
      create: changes.filter((c) => c.action === 'create').length,
      update: changes.filter((c) => c.action === 'update').length,
      delete: changes.filter((c) => c.action === 'delete').length,
      byEntity,
      bySchool: Object.fromEntries(Object.entries(bySchool).sort(([a], [b]) => (a < b ? -1 : 1))),
    },
    changes,
    holds,
    warnings,
    unmanaged,
    ...withheldOf(input.desired, policy),
  };
}

function withheldOf(
  desired: Roster,
  policy: Policy,
): { withheld?: Partial<Record<EntityName, readonly string[]>> } {
  const withheld = withheldByPolicy(desired, policy);
  return withheld ? { withheld } : {};
}

type Mask = (entity: EntityName, field: string, value: string) => string | undefined;

const CREATE: ChangeReason = 'create_because_absent_at_target';
const UPDATE: ChangeReason = 'update_because_fields_differ';

/** What a Change needs to decode its fields: the two tables of its entity and the masking. */
interface FieldSource {
  readonly entity: EntityName;
  readonly want: RecordTable;
  readonly have: RecordTable | undefined;
  readonly mask: Mask;
  /** Deletes of this entity disable (users with deleteStyle soft). */
  readonly soft: boolean;
  /** want and have store the same fields in the same order. */
  readonly sameLayout: boolean;
  /** What writeJson needs per field of want and of have (made when first needed). */
  jsonWant?: JsonFields;
  jsonHave?: JsonFields;
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
const SOFT_DELETE_FIELDS =
  '[\n        {\n          "name": "enabledUser",\n          "before": "true",\n          "after": "false"\n        }\n      ]\n    }';
const jsonScratch = { a: byteRange(), b: byteRange(), ra: byteRange(), rb: byteRange() };

/**
 * A planned change whose `fields` are decoded from its records when read (by a renderer, or
 * JSON through toJSON), not held: a city's first plan has ten million changes, and their field
 * lists would not fit in memory. About 100 bytes each.
 */
class Change implements PlanChange {
  readonly #source: FieldSource;
  readonly #wantIndex: number;
  readonly #haveIndex: number;

  constructor(
    readonly action: ChangeAction,
    readonly entity: EntityName,
    readonly key: string,
    readonly sourcedId: string,
    readonly school: string | undefined,
    readonly reason: ChangeReason,
    source: FieldSource,
    wantIndex: number,
    haveIndex: number,
  ) {
    this.#source = source;
    this.#wantIndex = wantIndex;
    this.#haveIndex = haveIndex;
    // An own, enumerable property like any other (JSON, copies and comparisons see it), read
    // through one shared getter.
    Object.defineProperty(this, 'fields', FIELDS);
  }

  declare readonly fields: FieldChange[];

  static decode(change: Change): FieldChange[] {
    return change.decodeFields();
  }

  /**
   * Writes this change as JSON, exactly as `JSON.stringify(change, null, 2)` indented by four
   * spaces (planJsonChunks), straight from the records' bytes. False (nothing written) when it
   * cannot: an update between tables of different columns.
   */
  writeJson(out: JsonBytes): boolean {
    const source = this.#source;
    if (this.action === 'update' && !source.sameLayout) return false;
    const q = JSON.stringify;
    out.text(
      `{\n      "action": ${q(this.action)},\n      "entity": ${q(this.entity)},\n      "key": ${q(this.key)},\n      "sourcedId": ${q(this.sourcedId)},${
        this.school !== undefined ? `\n      "school": ${q(this.school)},` : ''
      }\n      "reason": ${q(this.reason)},\n      "fields": `,
    );
    if (this.action === 'delete' && source.soft) {
      out.text(SOFT_DELETE_FIELDS);
      return true;
    }
    out.text('[');
    const start = out.length;
    if (this.action === 'update') {
      source.jsonWant ??= jsonFields(source.entity, source.want, source.mask);
      writeUpdatedFields(out, source.jsonWant, source.have!, this.#haveIndex, source.want, this.#wantIndex);
    } else if (this.action === 'create') {
      source.jsonWant ??= jsonFields(source.entity, source.want, source.mask);
      writeRecordFields(out, source.jsonWant, source.want, this.#wantIndex, AFTER);
    } else {
      source.jsonHave ??= jsonFields(source.entity, source.have!, source.mask);
      writeRecordFields(out, source.jsonHave, source.have!, this.#haveIndex, BEFORE);
    }
    if (out.length === start) out.text(']\n    }');
    else out.text('\n      ]\n    }');
    return true;
  }

  private decodeFields(): FieldChange[] {
    const { entity, want, have, mask, soft } = this.#source;
    if (this.action === 'create') return fieldsOf(entity, want.get(this.#wantIndex), mask);
    if (this.action === 'update')
      return diffFields(entity, have!.get(this.#haveIndex), want.get(this.#wantIndex), mask);
    return soft
      ? [{ name: 'enabledUser', before: 'true', after: 'false' }]
      : beforeFieldsOf(entity, have!.get(this.#haveIndex), mask);
  }
}

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
  have: RecordTable,
  haveIndex: number,
  want: RecordTable,
  wantIndex: number,
): void {
  const before = have.locate(haveIndex, jsonScratch.a);
  const after = want.locate(wantIndex, jsonScratch.b);
  const b = jsonScratch.ra;
  const a = jsonScratch.rb;
  b.buffer = before.buffer;
  a.buffer = after.buffer;
  let bs = before.start;
  let as = after.start;
  let first = true;
  for (let f = 0; f < want.fields.length; f++) {
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

/**
 * Finds the records of a table sorted by key (RecordTable.ascendingBy), for keys asked mostly in
 * key order (a plan's changed records): a few steps each (OrderedSearch).
 */
class SortedFinder {
  private readonly search = new OrderedSearch();
  private readonly probe = byteRange();

  constructor(
    private readonly table: RecordTable,
    private readonly position: number,
  ) {}

  /** The record holding `key`; -1: none. */
  find(key: ByteRange): number {
    return this.search.find(this.table.size, (record) => this.compare(record, key));
  }

  private compare(record: number, key: ByteRange): number {
    const probe = this.probe;
    RecordTable.narrow(this.table.locate(record, probe), this.position);
    return compareBytes(probe.buffer, probe.start, probe.end, key.buffer, key.start, key.end);
  }
}

/**
 * Finds the records of a table sorted by key (RecordTable.ascendingBy) for keys given in key
 * order, by walking the table once from the start.
 */
class SortedWalk {
  private next = 0;
  private found = -1;
  private readonly last = byteRange();
  private readonly held = byteRange();

  constructor(
    private readonly table: RecordTable,
    private readonly position: number,
  ) {}

  /** True when `key` does not come before the last key looked for (find may be asked). */
  accepts(key: ByteRange): boolean {
    const { last } = this;
    return (
      last.end === last.start ||
      compareBytes(last.buffer, last.start, last.end, key.buffer, key.start, key.end) <= 0
    );
  }

  /** The record holding `key` (-1: none). Keys must come in order (see accepts). */
  find(key: ByteRange): number {
    const { last, table } = this;
    if (last.end > last.start && sameBytes(last.buffer, last.start, last.end, key.buffer, key.start, key.end))
      return this.found; // the same key again (a roster holding it twice)
    last.buffer = key.buffer;
    last.start = key.start;
    last.end = key.end;
    this.found = -1;
    for (; this.next < table.size; this.next++) {
      const k = table.locate(this.next, this.held);
      RecordTable.narrow(k, this.position);
      const order = compareBytes(k.buffer, k.start, k.end, key.buffer, key.start, key.end);
      if (order < 0) continue;
      if (order === 0) this.found = this.next++;
      break;
    }
    return this.found;
  }
}

/**
 * Finds the records of a table whose keys are all different (KeyIndex.unique) for keys given in
 * about the table's own order: at the walk's place, or a few records on (the ones passed over were
 * removed or moved). Says -1 otherwise, for the caller to look the key up; gives up for good when
 * the orders turn out unrelated. With unique keys, a record found here is the one an index finds.
 */
class AlignedWalk {
  private next = 0;
  private tries = 0;
  private misses = 0;
  private readonly held = byteRange();

  constructor(
    private readonly table: RecordTable,
    private readonly position: number,
  ) {}

  find(key: ByteRange): number {
    if (this.misses > 1000 && this.misses * 2 > this.tries) return -1; // unrelated orders
    this.tries++;
    const { table, held } = this;
    const last = Math.min(table.size, this.next + ALIGNED_LOOKAHEAD);
    for (let j = this.next; j < last; j++) {
      RecordTable.narrow(table.locate(j, held), this.position);
      if (sameBytes(held.buffer, held.start, held.end, key.buffer, key.start, key.end)) {
        this.next = j + 1;
        return j;
      }
    }
    this.misses++;
    return -1;
  }
}

/** How far past its place an AlignedWalk looks (records removed in a row). */
const ALIGNED_LOOKAHEAD = 8;

/** Writes a change made by computePlan as JSON (see Change.writeJson); false when it cannot. */
export function writeChangeJson(change: PlanChange, out: JsonBytes): boolean {
  return change instanceof Change && change.writeJson(out);
}

const FIELDS: PropertyDescriptor = {
  get(this: Change) {
    return Change.decode(this);
  },
  enumerable: true,
};

/** Each user's first school among its roles (OneRoster 1.2), built once per roster when needed. */
function rolesByUser(
  roster: Roster,
  built: Map<Roster, Map<string, string>>,
  schools: ReadonlySet<string>,
): Map<string, string> {
  let map = built.get(roster);
  if (!map) {
    map = new Map();
    const roles = roster.table('roles');
    for (let i = 0; i < roles.size; i++) {
      const org = roles.value(i, 'orgSourcedId');
      const user = roles.value(i, 'userSourcedId');
      if (schools.has(org) && !map.has(user)) map.set(user, org);
    }
    built.set(roster, map);
  }
  return map;
}

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
