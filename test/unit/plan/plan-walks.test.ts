/**
 * The plan engine matches records four ways (side by side with a sorted target, records out of
 * key order radix-sorted and walked again, an unsorted target walked in its own order, an index);
 * whichever it takes, the changes must be those a plain comparison of the two rosters gives.
 */
import { describe, expect, it } from 'vitest';
import { generateDistrict } from '../../../src/generate/generate.js';
import { fingerprintRecord } from '../../../src/model/fingerprint.js';
import { type Roster, RosterBuilder } from '../../../src/model/roster.js';
import { computePlan } from '../../../src/plan/compute.js';
import { defaultPolicy } from '../../../src/plan/policy.js';

function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

type Rows = Record<string, string>[];

/** A roster of `users` and `enrollments` rows, in the order given. */
function rosterOf(users: Rows, enrollments: Rows): Roster {
  const b = new RosterBuilder('1.1');
  for (const u of users) b.addNormalized('users', u);
  for (const e of enrollments) b.addNormalized('enrollments', e);
  return b.build();
}

/** The oracle: creates, updates and deletes by key, from plain maps of fingerprints. */
function expectedChanges(have: Rows, want: Rows): string[] {
  const before = new Map(have.map((r) => [r.sourcedId!, fingerprintRecord(r)]));
  const after = new Map(want.map((r) => [r.sourcedId!, fingerprintRecord(r)]));
  const out: string[] = [];
  for (const [k, f] of after) {
    if (!before.has(k)) out.push(`create ${k}`);
    else if (before.get(k) !== f) out.push(`update ${k}`);
  }
  for (const k of before.keys()) if (!after.has(k)) out.push(`delete ${k}`);
  return out.sort();
}

function plannedChanges(current: Roster, desired: Roster, entity: 'users' | 'enrollments'): string[] {
  const plan = computePlan({
    desired,
    current,
    target: { name: 't', kind: 'dir', mode: 'bulk', policy: defaultPolicy() },
    state: { lineage: 'l', serial: 1 },
    commit: null,
    now: new Date('2026-11-29T00:00:00Z'),
  });
  return plan.changes
    .filter((c) => c.entity === entity)
    .map((c) => `${c.action} ${c.key}`)
    .sort();
}

/** Edits a list of rows at random: removals (some in runs), changes, additions, a few moves. */
function edit(rows: Rows, rnd: () => number, makeNew: (n: number) => Record<string, string>): Rows {
  const out: Rows = [];
  for (let i = 0; i < rows.length; i++) {
    const x = rnd();
    if (x < 0.03)
      i += Math.floor(rnd() * 12); // a run of removals, longer than the walk looks ahead
    else if (x < 0.06) out.push({ ...rows[i]!, givenName: `Changed${i}`, classSourcedId: `cls-x${i}` });
    // Only the delivery date differs (no change), or the last values are emptied (a change).
    else if (x < 0.08) out.push({ ...rows[i]!, dateLastModified: `2026-11-${10 + (i % 19)}T08:00:00Z` });
    else if (x < 0.09) out.push({ ...rows[i]!, password: '', grades: '', endDate: '', primary: '' });
    else out.push(rows[i]!);
    if (rnd() < 0.02) out.push(makeNew(i));
  }
  for (let m = 0; m < out.length / 50; m++) {
    const from = Math.floor(rnd() * out.length);
    const [row] = out.splice(from, 1);
    out.splice(Math.floor(rnd() * out.length), 0, row!);
  }
  return out;
}

function shuffled<T>(list: T[], rnd: () => number): T[] {
  const out = [...list];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

describe('plan engine: matching records however the two sides are ordered', () => {
  const district = generateDistrict({ schools: 2, students: 400, seed: 5 });
  const users = [...district.table('users')].map((r) => ({ ...r }));
  const enrollments = [...district.table('enrollments')].map((r) => ({ ...r }));
  const newUser = (n: number) => ({ ...users[0]!, sourcedId: `new-u-${n}`, username: `new${n}` });
  const newEnrollment = (n: number) => ({ ...enrollments[0]!, sourcedId: `new-e-${n}` });
  const bySourcedId = (a: Record<string, string>, b: Record<string, string>) =>
    a.sourcedId! < b.sourcedId! ? -1 : a.sourcedId! > b.sourcedId! ? 1 : 0;

  it.each([
    ['a sorted target, the roster edited in place', 'sorted', 'same'],
    ['a sorted target, the roster in no order', 'sorted', 'shuffled'],
    ['an unsorted target, the roster in the same order', 'unsorted', 'same'],
    ['an unsorted target, the roster in another order', 'unsorted', 'shuffled'],
  ] as const)('%s', (_, targetOrder, rosterOrder) => {
    for (const seed of [1, 2, 3]) {
      const rnd = seeded(seed);
      const order = (rows: Rows) =>
        targetOrder === 'sorted' ? [...rows].sort(bySourcedId) : shuffled(rows, rnd);
      const haveUsers = order(users);
      const haveEnrollments = order(enrollments);
      let wantUsers = edit(haveUsers, rnd, newUser);
      let wantEnrollments = edit(haveEnrollments, rnd, newEnrollment);
      if (rosterOrder === 'shuffled') {
        wantUsers = shuffled(wantUsers, rnd);
        wantEnrollments = shuffled(wantEnrollments, rnd);
      }
      const current = rosterOf(haveUsers, haveEnrollments);
      const desired = rosterOf(wantUsers, wantEnrollments);
      expect(plannedChanges(current, desired, 'users')).toEqual(expectedChanges(haveUsers, wantUsers));
      expect(plannedChanges(current, desired, 'enrollments')).toEqual(
        expectedChanges(haveEnrollments, wantEnrollments),
      );
    }
  });

  it('records of the same columns that differ only in dateLastModified are unchanged', () => {
    const have = users.slice(0, 6);
    const dated = (r: Record<string, string>) => ({ ...r, dateLastModified: '2026-11-20T08:00:00Z' });
    const want = [
      dated(have[0]!), // the delivery date alone: unchanged
      { ...dated(have[1]!), familyName: 'Other' }, // and a value: updated
      have[2]!,
      { ...have[3]!, grades: '', password: '' }, // the last values emptied: updated
      have[4]!,
      dated(have[5]!),
    ];
    expect(plannedChanges(rosterOf(have, []), rosterOf(want, []), 'users')).toEqual(
      [`update ${have[1]!.sourcedId}`, `update ${have[3]!.sourcedId}`].sort(),
    );
    expect(expectedChanges(have, want)).toEqual(
      plannedChanges(rosterOf(have, []), rosterOf(want, []), 'users'),
    );
  });

  it('a target holding a key twice: the first record holding it speaks for both', () => {
    const twice = [users[3]!, users[1]!, { ...users[1]!, givenName: 'Other' }, users[2]!];
    const desired = rosterOf([users[1]!, users[2]!], []);
    // users[3] is gone; users[1] matches its first copy (unchanged); the second copy is not removed.
    expect(plannedChanges(rosterOf(twice, []), desired, 'users')).toEqual([`delete ${users[3]!.sourcedId}`]);
  });
});
