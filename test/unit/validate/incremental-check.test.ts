/**
 * checkIncrementally against an oracle: the new roster built whole and checked by the roster
 * rules. The incremental check may say "not known clean" for a clean roster (the plan then reads
 * everything), but must never call clean a roster with a diagnostic or a duplicate sourcedId. With or
 * without the tallies of the roster before, the answer is the same.
 */
import { describe, expect, it } from 'vitest';
import { Diagnostics } from '../../../src/diagnostic.js';
import { generateDistrict, seededRandom } from '../../../src/generate/generate.js';
import type { EntityName } from '../../../src/model/entities.js';
import type { RosterRecord } from '../../../src/model/record-table.js';
import { type Roster, RosterBuilder } from '../../../src/model/roster.js';
import { checkIncrementally, referenceTallies, userEmailHashes } from '../../../src/validate/incremental.js';
import { checkRoster } from '../../../src/validate/roster-rules.js';

interface Edit {
  /** sourcedIds whose records (lines) go away, per entity. */
  readonly removed: Partial<Record<EntityName, string[]>>;
  /** Records (lines) that come, per entity. */
  readonly added: Partial<Record<EntityName, RosterRecord[]>>;
}

function builderLike(roster: Roster): RosterBuilder {
  const b = new RosterBuilder(roster.version);
  for (const e of roster.entities())
    for (const f of roster.table(e).extensionFields) b.table(e).declareField(f);
  return b;
}

/** The removed and added records as rosters, as the incremental plan reads them from lines. */
function rostersOf(before: Roster, edit: Edit): { removed: Roster; added: Roster } {
  const removed = builderLike(before);
  const added = builderLike(before);
  for (const entity of before.entities()) {
    const ids = new Set(edit.removed[entity] ?? []);
    const table = before.table(entity);
    for (let i = 0; i < table.size; i++)
      if (ids.has(table.value(i, 'sourcedId'))) removed.addNormalized(entity, table.get(i));
    for (const r of edit.added[entity] ?? []) added.addNormalized(entity, r);
  }
  return { removed: removed.build(), added: added.build() };
}

/** The oracle: the new roster whole, clean when no sourcedId is doubled and no rule finds anything. */
function cleanWhole(before: Roster, edit: Edit): boolean {
  const b = builderLike(before);
  for (const entity of before.entities()) {
    const gone = new Set(edit.removed[entity] ?? []);
    const ids = new Set<string>();
    const table = before.table(entity);
    const records = [...table].filter((r) => !gone.has(r.sourcedId!));
    for (const r of [...records, ...(edit.added[entity] ?? [])]) {
      if (ids.has(r.sourcedId!)) return false;
      ids.add(r.sourcedId!);
      b.addNormalized(entity, r);
    }
  }
  const diagnostics = new Diagnostics();
  checkRoster(b.build(), diagnostics);
  return diagnostics.sorted().length === 0;
}

function check(before: Roster, edit: Edit): boolean {
  const { removed, added } = rostersOf(before, edit);
  const plain = checkIncrementally(before, removed, added);
  const tallied = checkIncrementally(before, removed, added, referenceTallies(before));
  expect(tallied.clean).toBe(plain.clean);
  const userEmails = userEmailHashes(before.table('users'));
  const withEmails = checkIncrementally(before, removed, added, { ...referenceTallies(before), userEmails });
  expect(withEmails.clean).toBe(plain.clean);
  if (plain.clean) expect(cleanWhole(before, edit)).toBe(true);
  return plain.clean;
}

const district = generateDistrict({ schools: 2, students: 80, seed: 'incremental-check' });
const records = (entity: EntityName) => [...district.table(entity)];
const users = records('users');
const enrollments = records('enrollments');
const students = users.filter((u) => u.role === 'student');
const subjectCourse = records('courses').find((c) => c.subjectCodes !== '')!;

describe('checkIncrementally', () => {
  it('calls clean what is: a name changed, a student with all their records gone, a new one', () => {
    const student = students[0]!;
    const changed: RosterRecord = { ...students[1]!, givenName: 'Changed' };
    const gone = students[2]!.sourcedId!;
    const newcomer = {
      ...students[3]!,
      sourcedId: 'stu-new',
      username: 'new.one',
      email: 'new.one@example.org',
    };
    const edit: Edit = {
      removed: {
        users: [changed.sourcedId!, gone],
        enrollments: enrollments.filter((e) => e.userSourcedId === gone).map((e) => e.sourcedId!),
        demographics: [gone],
      },
      added: {
        users: [changed, newcomer],
        enrollments: [
          {
            ...enrollments.find((e) => e.userSourcedId === student.sourcedId)!,
            sourcedId: 'enr-new',
            userSourcedId: 'stu-new',
          },
        ],
      },
    };
    expect(check(district, edit)).toBe(true);
  });

  it('finds what the whole roster would: a reference to a gone record, a doubled id, a shared e-mail address, subjects', () => {
    const gone = students[2]!.sourcedId!;
    const cases: Edit[] = [
      { removed: { users: [gone] }, added: {} }, // enrollments and demographics still reference it
      { removed: {}, added: { users: [{ ...students[4]!, givenName: 'Twin' }] } },
      {
        removed: {},
        added: { users: [{ ...students[5]!, sourcedId: 'stu-x', username: 'someone.else' }] },
      },
      {
        removed: {},
        added: { enrollments: [{ ...enrollments[0]!, sourcedId: 'enr-x', classSourcedId: 'no-such-class' }] },
      },
      {
        removed: { courses: [subjectCourse.sourcedId!] },
        added: { courses: [{ ...subjectCourse, subjectCodes: '99999' }] },
      },
    ];
    for (const [k, edit] of cases.entries()) expect(check(district, edit), `case ${k}`).toBe(false);
  });

  it('never calls clean a roster that is not, over random edits', () => {
    const rnd = seededRandom('random-edits');
    const pick = <T>(list: readonly T[]) => list[Math.floor(rnd() * list.length)]!;
    let clean = 0;
    for (let round = 0; round < 150; round++) {
      const edit: {
        removed: Partial<Record<EntityName, string[]>>;
        added: Partial<Record<EntityName, RosterRecord[]>>;
      } = { removed: {}, added: {} };
      const remove = (e: EntityName, id: string) => {
        edit.removed[e] = [...(edit.removed[e] ?? []), id];
      };
      const add = (e: EntityName, r: RosterRecord) => {
        edit.added[e] = [...(edit.added[e] ?? []), r];
      };
      for (let k = 0; k < 1 + Math.floor(rnd() * 4); k++) {
        const x = rnd();
        if (x < 0.2) {
          const e = pick(enrollments);
          remove('enrollments', e.sourcedId!);
        } else if (x < 0.4) {
          const e = pick(enrollments);
          remove('enrollments', e.sourcedId!);
          add('enrollments', { ...e, classSourcedId: pick(records('classes')).sourcedId! });
        } else if (x < 0.55) {
          const u = pick(students);
          remove('users', u.sourcedId!);
          if (rnd() < 0.7) {
            for (const e of enrollments.filter((e) => e.userSourcedId === u.sourcedId))
              remove('enrollments', e.sourcedId!);
            remove('demographics', u.sourcedId!);
          }
        } else if (x < 0.7) {
          const u = pick(students);
          add('users', {
            ...u,
            sourcedId: `stu-r${round}-${k}`,
            username: rnd() < 0.5 ? u.username! : `r${round}.${k}`,
          });
        } else if (x < 0.85) {
          const c = pick(records('classes'));
          remove('classes', c.sourcedId!);
          if (rnd() < 0.5)
            for (const e of enrollments.filter((e) => e.classSourcedId === c.sourcedId))
              remove('enrollments', e.sourcedId!);
        } else {
          const e = pick(enrollments);
          add('enrollments', {
            ...e,
            sourcedId: `enr-r${round}-${k}`,
            userSourcedId: rnd() < 0.8 ? e.userSourcedId! : 'nobody',
          });
        }
      }
      for (const [e, ids] of Object.entries(edit.removed)) edit.removed[e as EntityName] = [...new Set(ids)];
      if (check(district, edit)) clean++;
    }
    // Some edits are clean and known so (the check is not just "no" every time).
    expect(clean).toBeGreaterThan(20);
  });
});
