/**
 * Roster rules: checks across records once a whole roster is read: references resolve (to a
 * record of the right type), parents form trees, dates are in order, 1.2 roles are coherent,
 * and data-quality warnings (shared e-mail addresses, subjects that disagree with the course).
 *
 * References from delta rows are not required to resolve inside the package: the receiver may
 * already hold the record (as Longsight's `bulkOnly` reference mode).
 */

import { type Diagnostics, recordsName } from '../diagnostic.js';
import { quoted } from '../formats/field-rules.js';
import { hashBytes, sameBytes } from '../model/byte-hash.js';
import { ENTITIES, type EntityName, isListType } from '../model/entities.js';
import { InlineKeyIndex } from '../model/key-index.js';
import { splitList } from '../model/normalize.js';
import { type ByteRange, byteRange, type Origin, RecordTable } from '../model/record-table.js';
import type { Roster } from '../model/roster.js';

export function checkRoster(roster: Roster, diagnostics: Diagnostics): void {
  // Typed-array indexes on the sourcedId bytes: references resolve without a string per record,
  // and with the keys held in the index (a city's enrollments look up users and classes 16M times).
  const ids = new Map<EntityName, InlineKeyIndex>();
  for (const entity of roster.entities()) {
    if (entity === 'enrollments') continue; // nothing references enrollments; skip 10M ids
    ids.set(entity, InlineKeyIndex.of(roster.table(entity), 'sourcedId'));
  }
  const orgTypes = typesOf(roster, 'orgs');
  const sessionTypes = typesOf(roster, 'academicSessions');
  const range = byteRange();

  for (const entity of roster.entities()) {
    const table = roster.table(entity);
    const spec = ENTITIES[entity];
    const fromDelta = roster.mode(entity) === 'delta';
    const missingFile = new Set<string>();
    const refFields = Object.entries(spec.fields)
      .filter(([, f]) => f.type === 'ref' || f.type === 'refList')
      .map(([field, fieldSpec]) => {
        const target = fieldSpec.ref!;
        const absent = roster.mode(target) === 'absent' || !roster.entities().includes(target);
        // References whose record must also be of a type (a school, a school year).
        const type = requiredType(entity, field);
        return {
          field,
          position: table.fieldIndexOf(field),
          list: isListType(fieldSpec.type),
          target,
          absent,
          index: ids.get(target),
          type,
          /** Per record of the target: 1 when of that type. */
          ofType: type && !absent ? ofType(roster, target, type) : undefined,
          lenient: fromDelta || roster.mode(target) === 'delta',
        };
      });
    const startPosition = table.fieldIndexOf(startField(entity));
    const endPosition = table.fieldIndexOf(endField(entity));
    // Where record i is, for a diagnostic (one function per table, not a closure per record).
    let i = 0;
    const where = () => at(table.origin(i), entity, table.value(i, 'sourcedId'));
    for (i = 0; i < table.size; i++) {
      for (const ref of refFields) {
        if (ref.position < 0 || !RecordTable.narrow(table.locate(i, range), ref.position)) continue;
        const { field, target } = ref;
        if (ref.absent) {
          if (!fromDelta && !missingFile.has(field)) {
            missingFile.add(field);
            const found = where();
            const targets = recordsName(target, found.file);
            diagnostics.add('REFERENCE_FILE_MISSING', {
              ...found,
              field,
              message: `${recordsName(entity, found.file)} references ${targets} (${field}), but the package has no ${targets}`,
            });
          }
          continue;
        }
        // Found (and of the right type) on the bytes: nothing to report, no string made.
        if (ref.list) {
          if (everyItemFound(ref.index!, range)) continue;
        } else {
          const found = ref.index!.findBytes(range.buffer, range.start, range.end);
          if (found < 0 ? ref.lenient : !ref.ofType || ref.ofType[found] === 1) continue;
        }
        const values = ref.list ? splitList(table.value(i, field)) : [table.value(i, field)];
        for (const value of values) {
          if (ref.index!.find(value) < 0) {
            if (ref.lenient) continue;
            const found = where();
            diagnostics.add('REFERENCE_MISSING', {
              ...found,
              field,
              message: `${field} ${quoted(value)} matches no record in ${recordsName(target, found.file)}`,
            });
            continue;
          }
          checkReferenceType(entity, field, value, orgTypes, sessionTypes, where, diagnostics);
        }
      }
      // Most records have neither date: decode them only when present.
      if (
        startPosition >= 0 &&
        endPosition >= 0 &&
        RecordTable.narrow(table.locate(i, range), endPosition) &&
        RecordTable.narrow(table.locate(i, range), startPosition)
      )
        checkDateOrder(
          entity,
          table.value(i, startField(entity)),
          table.value(i, endField(entity)),
          where,
          diagnostics,
        );
    }
  }

  checkDemographicsUsers(roster, ids, diagnostics);
  checkCycles(roster, 'orgs', diagnostics);
  checkCycles(roster, 'academicSessions', diagnostics);
  if (roster.version === '1.2') checkRoles(roster, diagnostics);
  checkSharedEmails(roster, diagnostics);
  checkClassSubjects(roster, diagnostics);
}

function at(origin: Origin | undefined, entity: EntityName, recordId: string) {
  return {
    ...(origin ? { file: origin.file, line: origin.line } : { file: ENTITIES[entity].file }),
    entity,
    recordId,
  };
}

/** True when every item of a stored list (normalized: items joined by commas) is in `index`. */
function everyItemFound(index: InlineKeyIndex, list: ByteRange): boolean {
  const { buffer, end } = list;
  let s = list.start;
  for (let p = s; p <= end; p++) {
    if (p < end && buffer[p] !== COMMA) continue;
    if (index.findBytes(buffer, s, p) < 0) return false;
    s = p + 1;
  }
  return true;
}
const COMMA = 0x2c;

/** The type a reference's record must have, when the rules say (checkReferenceType). */
function requiredType(entity: EntityName, field: string): string | undefined {
  if (field === 'schoolSourcedId' && (entity === 'classes' || entity === 'enrollments')) return 'school';
  if (field === 'schoolYearSourcedId' && entity === 'courses') return 'schoolYear';
  return undefined;
}

const typeFlags = new WeakMap<RecordTable, Map<string, Uint8Array>>();
/** Per record of `entity`: 1 when its type is `type` (built once per table and type). */
function ofType(roster: Roster, entity: EntityName, type: string): Uint8Array {
  const table = roster.table(entity);
  let byType = typeFlags.get(table);
  if (!byType) {
    byType = new Map();
    typeFlags.set(table, byType);
  }
  let flags = byType.get(type);
  if (!flags || flags.length !== table.size) {
    flags = new Uint8Array(table.size);
    for (let i = 0; i < table.size; i++) flags[i] = table.value(i, 'type') === type ? 1 : 0;
    byType.set(type, flags);
  }
  return flags;
}

function typesOf(roster: Roster, entity: 'orgs' | 'academicSessions'): Map<string, string> {
  const table = roster.table(entity);
  const map = new Map<string, string>();
  for (let i = 0; i < table.size; i++) map.set(table.value(i, 'sourcedId'), table.value(i, 'type'));
  return map;
}

function checkReferenceType(
  entity: EntityName,
  field: string,
  value: string,
  orgTypes: Map<string, string>,
  sessionTypes: Map<string, string>,
  where: () => ReturnType<typeof at>,
  diagnostics: Diagnostics,
): void {
  if (field === 'schoolSourcedId' && (entity === 'classes' || entity === 'enrollments')) {
    const type = orgTypes.get(value);
    if (type !== undefined && type !== 'school') {
      diagnostics.add('REFERENCE_WRONG_TYPE', {
        ...where(),
        field,
        message: `schoolSourcedId ${quoted(value)} is an org of type ${type}, not a school`,
      });
    }
  }
  if (field === 'schoolYearSourcedId' && entity === 'courses') {
    const type = sessionTypes.get(value);
    if (type !== undefined && type !== 'schoolYear') {
      diagnostics.add('REFERENCE_WRONG_TYPE', {
        ...where(),
        field,
        message: `schoolYearSourcedId ${quoted(value)} is a session of type ${type}, not a schoolYear`,
      });
    }
  }
}

function startField(entity: EntityName): string {
  return entity === 'academicSessions' ? 'startDate' : 'beginDate';
}
function endField(_entity: EntityName): string {
  return 'endDate';
}

function checkDateOrder(
  entity: EntityName,
  start: string,
  end: string,
  where: () => ReturnType<typeof at>,
  diagnostics: Diagnostics,
): void {
  if (start === '' || end === '' || !/^\d{4}-\d{2}-\d{2}$/.test(start) || !/^\d{4}-\d{2}-\d{2}$/.test(end))
    return;
  if (start >= end) {
    const found = where();
    diagnostics.add('DATE_ORDER', {
      ...found,
      field: 'endDate',
      message: `${recordsName(entity, found.file)}: endDate ${end} is not after ${startField(entity)} ${start}`,
    });
  }
}

function checkDemographicsUsers(
  roster: Roster,
  ids: Map<EntityName, InlineKeyIndex>,
  diagnostics: Diagnostics,
): void {
  if (roster.mode('demographics') === 'delta') return;
  const table = roster.table('demographics');
  if (roster.mode('users') === 'absent' && table.size > 0) {
    // A demographics record is its user's: without users, none of them refers to anyone.
    const first = at(table.origin(0), 'demographics', table.value(0, 'sourcedId'));
    diagnostics.add('REFERENCE_FILE_MISSING', {
      ...first,
      field: 'sourcedId',
      message: `${recordsName('demographics', first.file)} references ${recordsName('users', first.file)} (sourcedId), but the package has no ${recordsName('users', first.file)}`,
    });
    return;
  }
  if (roster.mode('users') !== 'bulk') return;
  for (let i = 0; i < table.size; i++) {
    if ((ids.get('users')?.findFrom(table, i, 0) ?? -1) < 0) {
      const id = table.value(i, 'sourcedId');
      diagnostics.add('REFERENCE_MISSING', {
        ...at(table.origin(i), 'demographics', id),
        field: 'sourcedId',
        message: `demographics ${quoted(id)} matches no user (a demographics sourcedId is its user's sourcedId)`,
      });
    }
  }
}

function checkCycles(roster: Roster, entity: 'orgs' | 'academicSessions', diagnostics: Diagnostics): void {
  const table = roster.table(entity);
  const parent = new Map<string, string>();
  for (let i = 0; i < table.size; i++) {
    const p = table.value(i, 'parentSourcedId');
    if (p !== '') parent.set(table.value(i, 'sourcedId'), p);
  }
  const reported = new Set<string>();
  for (let i = 0; i < table.size; i++) {
    const start = table.value(i, 'sourcedId');
    const path: string[] = [start];
    let node = parent.get(start);
    while (node !== undefined && path.length <= parent.size) {
      if (node === start) {
        const key = [...path].sort().join(',');
        if (!reported.has(key)) {
          reported.add(key);
          const found = at(table.origin(i), entity, start);
          diagnostics.add('REFERENCE_CYCLE', {
            ...found,
            field: 'parentSourcedId',
            message: `${recordsName(entity, found.file)} parents form a cycle: ${[...path, start].join(' -> ')}`,
          });
        }
        break;
      }
      if (path.includes(node)) break; // a cycle further up, reported from its own members
      path.push(node);
      node = parent.get(node);
    }
  }
}

function checkRoles(roster: Roster, diagnostics: Diagnostics): void {
  const roles = roster.table('roles');
  const profiles = roster.table('userProfiles');
  const profileUser = new Map<string, string>();
  for (let i = 0; i < profiles.size; i++)
    profileUser.set(profiles.value(i, 'sourcedId'), profiles.value(i, 'userSourcedId'));
  const primaries = new Map<string, number[]>();
  const orgsOfUser = new Map<string, Set<string>>();
  for (let i = 0; i < roles.size; i++) {
    const user = roles.value(i, 'userSourcedId');
    const org = roles.value(i, 'orgSourcedId');
    if (!orgsOfUser.has(user)) orgsOfUser.set(user, new Set());
    orgsOfUser.get(user)!.add(org);
    const key = `${user}\u0000${org}`;
    if (!primaries.has(key)) primaries.set(key, []);
    if (roles.value(i, 'roleType') === 'primary') primaries.get(key)!.push(i);
    const profile = roles.value(i, 'userProfileSourcedId');
    const owner = profile === '' ? undefined : profileUser.get(profile);
    if (owner !== undefined && owner !== user) {
      diagnostics.add('PROFILE_USER_MISMATCH', {
        ...at(roles.origin(i), 'roles', roles.value(i, 'sourcedId')),
        field: 'userProfileSourcedId',
        message: `role points at user profile ${quoted(profile)} of another user`,
      });
    }
  }
  if (roster.mode('roles') === 'bulk') {
    // At most one primary role per user and org, and at least one primary role per user.
    const primaryCount = new Map<string, number>();
    for (const [key, list] of primaries) {
      const user = key.split('\u0000')[0]!;
      primaryCount.set(user, (primaryCount.get(user) ?? 0) + list.length);
      if (list.length <= 1) continue;
      const org = key.split('\u0000')[1]!;
      const i = list[1]!;
      diagnostics.add('ROLE_PRIMARY_COUNT', {
        ...at(roles.origin(i), 'roles', roles.value(i, 'sourcedId')),
        field: 'roleType',
        message: `user ${quoted(user)} has ${list.length} primary roles at org ${quoted(org)}`,
      });
    }
    for (const [user, n] of primaryCount) {
      if (n > 0) continue;
      const i = firstRoleOf(roles, user);
      diagnostics.add('ROLE_PRIMARY_COUNT', {
        ...at(roles.origin(i), 'roles', roles.value(i, 'sourcedId')),
        field: 'roleType',
        message: `user ${quoted(user)} has roles but no primary role`,
      });
    }
    const users = roster.table('users');
    for (let i = 0; i < users.size; i++) {
      const primaryOrg = users.value(i, 'primaryOrgSourcedId');
      const id = users.value(i, 'sourcedId');
      if (primaryOrg !== '' && !orgsOfUser.get(id)?.has(primaryOrg)) {
        diagnostics.add('PRIMARY_ORG_WITHOUT_ROLE', {
          ...at(users.origin(i), 'users', id),
          field: 'primaryOrgSourcedId',
          message: `primaryOrgSourcedId ${quoted(primaryOrg)} has no role row for this user`,
        });
      }
    }
  }
}

function firstRoleOf(roles: RecordTable, user: string): number {
  for (let i = 0; i < roles.size; i++) {
    if (roles.value(i, 'userSourcedId') === user) return i;
  }
  return 0;
}

/**
 * Users with the same e-mail address (compared in lower case). Addresses are compared as bytes in
 * a typed-array hash table, not as a million strings in a Map (seconds and ~150 MB at city scale).
 */
function checkSharedEmails(roster: Roster, diagnostics: Diagnostics): void {
  const users = roster.table('users');
  const position = users.fieldIndexOf('email');
  if (position < 0) return;
  let capacity = 16;
  while (capacity < users.size * 2) capacity *= 2;
  const mask = capacity - 1;
  // Per slot: the first user with that address (-1: free), and the address's hash.
  const slots = new Int32Array(2 * capacity).fill(-1);
  const mine = foldedRange();
  const theirs = foldedRange();
  for (let i = 0; i < users.size; i++) {
    if (!lowerCaseEmail(users, i, position, mine)) continue;
    const h = hashBytes(mine.buffer, mine.start, mine.end) | 0;
    let slot = h & mask;
    let prior = -1;
    for (; slots[2 * slot] !== -1; slot = (slot + 1) & mask) {
      if (slots[2 * slot + 1] !== h) continue;
      const other = slots[2 * slot]!;
      lowerCaseEmail(users, other, position, theirs);
      if (sameBytes(theirs.buffer, theirs.start, theirs.end, mine.buffer, mine.start, mine.end)) {
        prior = other;
        break;
      }
    }
    if (prior < 0) {
      slots[2 * slot] = i;
      slots[2 * slot + 1] = h;
      continue;
    }
    // 1.1 lists a person with two roles as two users: same username means same person.
    if (users.value(prior, 'username') === users.value(i, 'username')) continue;
    diagnostics.add('EMAIL_SHARED', {
      ...at(users.origin(i), 'users', users.value(i, 'sourcedId')),
      field: 'email',
      message: `user ${quoted(users.value(i, 'sourcedId'))} has the same e-mail address as user ${quoted(
        users.value(prior, 'sourcedId'),
      )}`,
    });
  }
}

/**
 * Puts in `out` the bytes of user `index`'s e-mail address in lower case (as String#toLowerCase
 * gives it), folded into `out`'s own buffer; false when the user has none.
 */
function lowerCaseEmail(users: RecordTable, index: number, position: number, out: FoldedRange): boolean {
  const r = users.locate(index, out.record);
  if (!RecordTable.narrow(r, position)) return false;
  const { buffer, start, end } = r;
  let ascii = true;
  for (let k = start; k < end && ascii; k++) if (buffer[k]! >= 0x80) ascii = false;
  const folded = ascii ? undefined : Buffer.from(buffer.toString('utf8', start, end).toLowerCase(), 'utf8');
  const length = folded ? folded.length : end - start;
  if (out.buffer.length < length) out.buffer = Buffer.alloc(2 * length);
  if (folded) folded.copy(out.buffer);
  else
    for (let k = 0; k < length; k++) {
      const c = buffer[start + k]!;
      out.buffer[k] = c >= 0x41 && c <= 0x5a ? c + 0x20 : c;
    }
  out.start = 0;
  out.end = length;
  return true;
}

/** A byte range over a buffer of its own, for lowerCaseEmail. */
interface FoldedRange extends ByteRange {
  readonly record: ByteRange;
}
const foldedRange = (): FoldedRange => ({ buffer: Buffer.alloc(256), start: 0, end: 0, record: byteRange() });

function checkClassSubjects(roster: Roster, diagnostics: Diagnostics): void {
  const courses = roster.table('courses');
  const byId = new Map<string, number>();
  for (let i = 0; i < courses.size; i++) byId.set(courses.value(i, 'sourcedId'), i);
  const classes = roster.table('classes');
  for (let i = 0; i < classes.size; i++) {
    const codes = classes.value(i, 'subjectCodes');
    const c = byId.get(classes.value(i, 'courseSourcedId'));
    if (codes === '' || c === undefined) continue;
    const courseCodes = courses.value(c, 'subjectCodes');
    if (courseCodes !== '' && courseCodes !== codes) {
      diagnostics.add('SUBJECTS_DIFFER_FROM_COURSE', {
        ...at(classes.origin(i), 'classes', classes.value(i, 'sourcedId')),
        field: 'subjectCodes',
        message: `class subjectCodes ${quoted(codes)} differ from its course ${quoted(
          courses.value(c, 'sourcedId'),
        )} (${quoted(courseCodes)})`,
      });
    }
  }
}
