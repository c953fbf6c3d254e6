/**
 * Validation for the incremental plan: is the roster still clean after some of its lines changed?
 *
 * The roster was clean (no diagnostic at all) when its plan found nothing to do, so the target holds
 * exactly its records. Now some lines went away (`removed`, read from the old copy of the files)
 * and some came (`added`). The new roster is the target's records, less those of the removed
 * lines, plus the added ones. It is clean when:
 *
 * - the roster rules find nothing in a part of it: the small tables whole (orgs, sessions,
 *   courses), the added records, and every record they lead to (references, a user's roles, the
 *   users sharing an added user's e-mail address, the classes of a changed course), until
 *   nothing more is needed;
 * - no added sourcedId is held by a record that stayed (a duplicate);
 * - no record that stayed references a sourcedId that went away.
 *
 * Anything else (or any doubt) answers "not known clean", and the caller reads and checks the
 * whole roster, which reports every diagnostic with its file and line. So this never has to say
 * where a problem is, only that there may be one.
 */

import { Diagnostics } from '../diagnostic.js';
import { hashBytes, hashString } from '../model/byte-hash.js';
import { ENTITIES, type EntityName } from '../model/entities.js';
import { type Finder, KeyIndex, keyFinder } from '../model/key-index.js';
import { splitList } from '../model/normalize.js';
import { byteRange, RecordTable, type RosterRecord } from '../model/record-table.js';
import { type Roster, RosterBuilder } from '../model/roster.js';
import { checkRoster } from './roster-rules.js';

/** Tables that are read whole into the part checked (a city has a few thousand courses at most). */
const WHOLE: ReadonlySet<EntityName> = new Set(['orgs', 'academicSessions', 'courses']);

export type IncrementalCheck =
  | {
      readonly clean: true;
      /** Per entity: the target's records of the removed lines (what a plan may delete). */
      readonly removed: ReadonlyMap<EntityName, readonly number[]>;
    }
  | { readonly clean: false; readonly reason: string };

interface Side {
  /** The target's table (the records of unchanged lines, and of the removed ones). */
  readonly current: RecordTable;
  /** Made when first asked (an index of a city's table takes a second; most tables never need one). */
  find: Finder;
  /** Per target record: 1 when its line went away (a removed line's record). */
  readonly gone: Uint8Array;
  /** The same records as a list, in the removed lines' order. */
  readonly goneList: number[];
  readonly removedIds: ReadonlySet<string>;
  readonly added: RecordTable;
  readonly addedIds: Map<string, number>;
}

/**
 * Checks the new roster (see the module comment). `current` is what the target holds, equal to
 * the roster before the change; `removed` and `added` hold the records of the lines that went
 * away and came. Every entity's mode must be bulk (or absent) and ids sourcedIds.
 */
export function checkIncrementally(
  current: Roster,
  removed: Roster,
  added: Roster,
  tallies?: ReferenceTallies,
): IncrementalCheck {
  const sides = new Map<EntityName, Side>();
  for (const entity of added.entities()) {
    const currentTable = current.table(entity);
    const gone = new Uint8Array(currentTable.size);
    const removedIds = new Set<string>();
    const old = removed.table(entity);
    const table = added.table(entity);
    const side: Side = {
      current: currentTable,
      find: (key) => {
        side.find = keyFinder(currentTable, 'sourcedId');
        return side.find(key);
      },
      gone,
      goneList: [],
      removedIds,
      added: table,
      addedIds: new Map(),
    };
    if ((old.size > 0 || table.size > 0) && (entity === 'orgs' || entity === 'academicSessions'))
      // An org or session changed: a type or a parent that records far away depend on. Rare: check all.
      return { clean: false, reason: `${entity} changed` };
    const { addedIds } = side;
    const find = (id: string) => side.find(id);
    for (let i = 0; i < old.size; i++) {
      const id = old.value(i, 'sourcedId');
      const at = find(id);
      // The target must hold what the removed line said: else it changed since (or the cache lies).
      if (at < 0 || gone[at] === 1 || currentTable.fingerprint(at) !== old.fingerprint(i))
        return { clean: false, reason: `the target's ${entity} differ from the roster's last plan` };
      gone[at] = 1;
      side.goneList.push(at);
      removedIds.add(id);
    }
    for (let i = 0; i < table.size; i++) {
      const id = table.value(i, 'sourcedId');
      if (addedIds.has(id)) return { clean: false, reason: `a sourcedId twice in ${entity}` };
      addedIds.set(id, i);
      const at = find(id);
      if (at >= 0 && gone[at] !== 1) return { clean: false, reason: `a sourcedId twice in ${entity}` };
    }
    sides.set(entity, side);
  }

  const referenced = referencesToGoneIds(sides, removed, added, tallies);
  if (referenced) return { clean: false, reason: referenced };

  const part = partToCheck(added, removed, sides, tallies);
  const diagnostics = new Diagnostics();
  checkRoster(part, diagnostics);
  const found = diagnostics.sorted();
  if (found.length > 0) return { clean: false, reason: `${found[0]!.code} in the changed records` };
  return { clean: true, removed: new Map([...sides].map(([entity, side]) => [entity, side.goneList])) };
}

/** A record of the new roster by sourcedId: added, or held and not gone. */
function recordOf(side: Side, id: string): { table: RecordTable; index: number } | undefined {
  const a = side.addedIds.get(id);
  if (a !== undefined) return { table: side.added, index: a };
  const at = side.find(id);
  if (at >= 0 && side.gone[at] !== 1) return { table: side.current, index: at };
  return undefined;
}

/** Reference fields of `entity` (and demographics' sourcedId, which is its user's). */
function referenceFields(entity: EntityName): { field: string; target: EntityName; list: boolean }[] {
  const out = Object.entries(ENTITIES[entity].fields)
    .filter(([, f]) => (f.type === 'ref' || f.type === 'refList') && f.ref)
    .map(([field, f]) => ({ field, target: f.ref!, list: f.type === 'refList' }));
  if (entity === 'demographics') out.push({ field: 'sourcedId', target: 'users', list: false });
  return out;
}

/**
 * Why some record that stayed references a sourcedId that went away; undefined: none does.
 *
 * With the tallies of the roster before (ReferenceTallies), most gone ids are cleared without
 * reading the tables: if the values of a field with that id's hash, less those of the removed
 * lines, plus those of the added ones, number 0, nothing references it. Only ids still counted
 * (a reference, or another value with the same hash) are looked for record by record.
 */
function referencesToGoneIds(
  sides: Map<EntityName, Side>,
  removed: Roster,
  added: Roster,
  tallies: ReferenceTallies | undefined,
): string | undefined {
  // The ids gone for good (removed, not added again), per entity.
  const goneIds = new Map<EntityName, string[]>();
  for (const [entity, side] of sides) {
    const ids = [...side.removedIds].filter((id) => !side.addedIds.has(id));
    if (ids.length > 0) goneIds.set(entity, ids);
  }
  if (goneIds.size === 0) return undefined;
  const r = byteRange();
  for (const [entity, side] of sides) {
    const { current: currentTable } = side;
    for (const { field, target, list } of referenceFields(entity)) {
      const position = currentTable.fieldIndexOf(field);
      let ids = goneIds.get(target);
      if (!ids || position < 0) continue;
      const tally = tallies?.fields.get(`${entity}.${field}`);
      if (tally) {
        const before = valueHashes(removed.table(entity), field, list);
        const after = valueHashes(added.table(entity), field, list);
        ids = ids.filter((id) => {
          const h = hashString(id);
          return countOf(tally, h) - (before.get(h) ?? 0) + (after.get(h) ?? 0) > 0;
        });
        if (ids.length === 0) continue;
      }
      const index = keyIndexOf(target, ids);
      for (let i = 0; i < currentTable.size; i++) {
        if (side.gone[i] === 1 || !RecordTable.narrow(currentTable.locate(i, r), position)) continue;
        const hit = list
          ? splitList(r.buffer.toString('utf8', r.start, r.end)).some((id) => index.find(id) >= 0)
          : index.findBytes(r.buffer, r.start, r.end) >= 0;
        if (hit) return `a ${entity} record that did not change references a ${target} record that went away`;
      }
    }
  }
  return undefined;
}

/** An index over the bytes of `ids`. */
function keyIndexOf(entity: EntityName, ids: readonly string[]): KeyIndex {
  const table = new RecordTable(entity);
  for (const id of ids) table.add({ sourcedId: id });
  return KeyIndex.of(table, 'sourcedId');
}

/** How often each value hash occurs in `field` of `table` (list items one by one). */
function valueHashes(table: RecordTable, field: string, list: boolean): Map<number, number> {
  const out = new Map<number, number>();
  for (let i = 0; i < table.size; i++) {
    const value = table.value(i, field);
    if (value === '') continue;
    for (const item of list ? splitList(value) : [value]) {
      const h = hashString(item);
      out.set(h, (out.get(h) ?? 0) + 1);
    }
  }
  return out;
}

/** How many times `h` occurs in the sorted `hashes`. */
function countOf(hashes: Uint32Array, h: number): number {
  const first = (value: number) => {
    let low = 0;
    let high = hashes.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (hashes[middle]! < value) low = middle + 1;
      else high = middle;
    }
    return low;
  };
  return h === 0xffffffff ? hashes.length - first(h) : first(h + 1) - first(h);
}

/**
 * What the incremental check needs to know of the roster before without reading it again: per
 * reference field (`entity.field`), the sorted hashes of every value it holds (list items one by
 * one), and the sorted hashes of the users' e-mail addresses in lower case. Made when the plan
 * cache is filled; a city's take ~100 MB.
 */
export interface ReferenceTallies {
  readonly fields: ReadonlyMap<string, Uint32Array>;
  readonly emails: Uint32Array;
  /**
   * Per user of the target's table (in its order), the hash of the e-mail address in lower case
   * (0: none): the users sharing an added user's address are found without reading a million.
   */
  readonly userEmails?: Uint32Array;
}

/**
 * The ReferenceTallies of `roster`. The e-mail tally is made from `userEmails` when given (the
 * target's users, which hold the same addresses) rather than hashed again.
 */
export function referenceTallies(roster: Roster, userEmails?: Uint32Array): ReferenceTallies {
  const fields = new Map<string, Uint32Array>();
  const r = byteRange();
  for (const entity of roster.entities()) {
    const table = roster.table(entity);
    for (const { field, target, list } of referenceFields(entity)) {
      // (A change of orgs or sessions is checked whole: no tally needed for them.)
      if (target === 'orgs' || target === 'academicSessions') continue;
      const position = table.fieldIndexOf(field);
      if (position < 0) continue;
      const hashes: number[] | Uint32Array = list ? [] : new Uint32Array(table.size);
      let n = 0;
      for (let i = 0; i < table.size; i++) {
        if (!RecordTable.narrow(table.locate(i, r), position)) continue;
        if (!list) {
          (hashes as Uint32Array)[n++] = hashBytes(r.buffer, r.start, r.end);
          continue;
        }
        for (const item of splitList(r.buffer.toString('utf8', r.start, r.end)))
          (hashes as number[]).push(hashString(item));
      }
      const sorted = list ? Uint32Array.from(hashes) : (hashes as Uint32Array).slice(0, n);
      fields.set(`${entity}.${field}`, sorted.sort());
    }
  }
  const hashed = userEmails ?? userEmailHashes(roster.table('users'));
  const emails = hashed.filter((h) => h !== 0).sort();
  return { fields, emails, ...(userEmails ? { userEmails } : {}) };
}

/** userEmails of ReferenceTallies, for `users` (the target's table). */
export function userEmailHashes(users: RecordTable): Uint32Array {
  const out = new Uint32Array(users.size);
  const position = users.fieldIndexOf('email');
  if (position < 0) return out;
  const r = byteRange();
  let scratch = Buffer.alloc(256);
  for (let i = 0; i < users.size; i++) {
    if (!RecordTable.narrow(users.locate(i, r), position)) continue;
    // An ASCII address is folded on its bytes (as toLowerCase would); others through a string.
    const length = r.end - r.start;
    if (scratch.length < length) scratch = Buffer.alloc(2 * length);
    let ascii = true;
    for (let k = 0; k < length && ascii; k++) {
      const c = r.buffer[r.start + k]!;
      if (c >= 0x80) ascii = false;
      else scratch[k] = c >= 0x41 && c <= 0x5a ? c + 0x20 : c;
    }
    out[i] = ascii
      ? hashBytes(scratch, 0, length)
      : hashString(r.buffer.toString('utf8', r.start, r.end).toLowerCase());
  }
  return out;
}

/** The hash of user i's e-mail address in lower case (as the shared e-mail rule compares them). */
function emailHash(users: RecordTable, i: number): number | undefined {
  const email = users.value(i, 'email');
  return email === '' ? undefined : hashString(email.toLowerCase());
}

/** The part of the new roster the roster rules are run on (see the module comment). */
function partToCheck(
  added: Roster,
  removed: Roster,
  sides: Map<EntityName, Side>,
  tallies: ReferenceTallies | undefined,
): Roster {
  const builder = new RosterBuilder(added.version);
  builder.source = added.source;
  for (const [e, m] of Object.entries(added.explicitModes())) builder.modes[e as EntityName] = m;
  const taken = new Map<EntityName, Set<string>>();
  const queue: [EntityName, RosterRecord][] = [];
  const take = (entity: EntityName, id: string, record: RosterRecord) => {
    let ids = taken.get(entity);
    if (!ids) {
      ids = new Set();
      taken.set(entity, ids);
    }
    if (ids.has(id)) return;
    ids.add(id);
    builder.addNormalized(entity, record);
    queue.push([entity, record]);
  };
  const takeId = (entity: EntityName, id: string) => {
    const side = sides.get(entity);
    if (taken.get(entity)?.has(id) || !side) return;
    const found = recordOf(side, id);
    if (found) take(entity, id, found.table.get(found.index));
  };
  for (const entity of added.entities()) {
    const side = sides.get(entity)!;
    builder.table(entity);
    for (const f of side.current.extensionFields) builder.table(entity).declareField(f);
    for (const f of side.added.extensionFields) builder.table(entity).declareField(f);
    if (WHOLE.has(entity)) {
      for (let i = 0; i < side.current.size; i++)
        if (side.gone[i] !== 1) take(entity, side.current.value(i, 'sourcedId'), side.current.get(i));
    }
    for (let i = 0; i < side.added.size; i++)
      take(entity, side.added.value(i, 'sourcedId'), side.added.get(i));
  }

  // Records that share a rule with an added one, though no reference leads to them.
  const users = sides.get('users');
  if (users && mayShareEmails(users.added, removed.table('users'), tallies))
    for (const i of sameEmails(users, tallies?.userEmails))
      takeId('users', users.current.value(i, 'sourcedId'));
  const classes = sides.get('classes');
  const changedCourses = sides.get('courses')?.addedIds;
  if (classes && changedCourses && changedCourses.size > 0)
    for (const i of currentWhere(classes, 'courseSourcedId', (v) => changedCourses.has(v)))
      takeId('classes', classes.current.value(i, 'sourcedId'));

  // Then everything referenced, and every role of every user taken (a user's roles are checked together).
  const roles = sides.get('roles');
  let rolesOf = new Set<string>();
  for (;;) {
    while (queue.length > 0) {
      const [entity, record] = queue.pop()!;
      for (const { field, target, list } of referenceFields(entity)) {
        if (WHOLE.has(target)) continue;
        const value = record[field] ?? '';
        if (value === '') continue;
        for (const id of list ? splitList(value) : [value]) takeId(target, id);
      }
    }
    const usersTaken = taken.get('users') ?? new Set<string>();
    if (!roles || usersTaken.size === rolesOf.size) break;
    const wanted = new Set([...usersTaken].filter((u) => !rolesOf.has(u)));
    rolesOf = new Set(usersTaken);
    for (const i of currentWhere(roles, 'userSourcedId', (v) => wanted.has(v)))
      takeId('roles', roles.current.value(i, 'sourcedId'));
  }
  return builder.build();
}

/** Records of the current side (not gone) whose `field` satisfies `test`. */
function currentWhere(side: Side, field: string, test: (value: string) => boolean): number[] {
  const out: number[] = [];
  const position = side.current.fieldIndexOf(field);
  if (position < 0) return out;
  const r = byteRange();
  for (let i = 0; i < side.current.size; i++) {
    if (side.gone[i] === 1 || !RecordTable.narrow(side.current.locate(i, r), position)) continue;
    if (test(r.buffer.toString('utf8', r.start, r.end))) out.push(i);
  }
  return out;
}

/**
 * False when no user that stayed can have the e-mail address of an added one: by the tallies,
 * no address of the roster before (less the removed users') has the hash of an added one.
 */
function mayShareEmails(
  added: RecordTable,
  removed: RecordTable,
  tallies: ReferenceTallies | undefined,
): boolean {
  if (!tallies) return true;
  const gone = new Map<number, number>();
  for (let i = 0; i < removed.size; i++) {
    const h = emailHash(removed, i);
    if (h !== undefined) gone.set(h, (gone.get(h) ?? 0) + 1);
  }
  for (let i = 0; i < added.size; i++) {
    const h = emailHash(added, i);
    // (A hash of 0 stands for "no address" in the tallies: such an address is looked for.)
    if (h !== undefined && (h === 0 || countOf(tallies.emails, h) - (gone.get(h) ?? 0) > 0)) return true;
  }
  return false;
}

/** Users held (and not gone) with the e-mail address of an added user, compared in lower case. */
function sameEmails(users: Side, hashed: Uint32Array | undefined): number[] {
  const wanted = new Set<string>();
  const hashes = new Set<number>();
  for (let i = 0; i < users.added.size; i++) {
    const email = users.added.value(i, 'email');
    if (email === '') continue;
    const folded = email.toLowerCase();
    wanted.add(folded);
    hashes.add(hashString(folded));
  }
  const out: number[] = [];
  const position = users.current.fieldIndexOf('email');
  if (wanted.size === 0 || position < 0) return out;
  // (The hashes kept in the tallies, else made here: the same folding either way.)
  const all = hashed && hashed.length === users.current.size ? hashed : userEmailHashes(users.current);
  for (let i = 0; i < all.length; i++) {
    if (users.gone[i] === 1 || !hashes.has(all[i]!)) continue;
    if (wanted.has(users.current.value(i, 'email').toLowerCase())) out.push(i);
  }
  return out;
}
