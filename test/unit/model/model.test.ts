import { describe, expect, it, vi } from 'vitest';
import { hashBytes, hashString, mix32 } from '../../../src/model/byte-hash.js';
import { derivedEnrollmentId, derivedRoleId } from '../../../src/model/derived-ids.js';
import { ENTITIES } from '../../../src/model/entities.js';
import { fingerprintRecord, fingerprintRoster } from '../../../src/model/fingerprint.js';
import { KeyMap, KeySet } from '../../../src/model/key-set.js';
import { normalizeRecord, normalizeValue } from '../../../src/model/normalize.js';
import { RecordTable } from '../../../src/model/record-table.js';
import { RosterBuilder } from '../../../src/model/roster.js';

describe('normalization', () => {
  it('trims, canonicalizes booleans, enumerations, statuses and date-times', () => {
    const r = normalizeRecord('users', {
      sourcedId: ' u1 ',
      enabledUser: 'TRUE',
      role: 'Student',
      status: 'inactive',
      dateLastModified: '2025-01-02T03:04:05+01:00',
    });
    expect(r).toEqual({
      sourcedId: 'u1',
      enabledUser: 'true',
      role: 'student',
      status: 'tobedeleted',
      dateLastModified: '2025-01-02T02:04:05.000Z',
    });
  });

  it('sorts and de-duplicates lists whose order carries no meaning, keeps ordered ones', () => {
    expect(normalizeValue(ENTITIES.classes.fields.termSourcedIds, 'spring, fall,fall')).toBe('fall,spring');
    expect(normalizeValue(ENTITIES.classes.fields.subjects, 'Science, Math')).toBe('Science,Math');
  });

  it('leaves malformed values for the validator to report', () => {
    expect(normalizeValue(ENTITIES.academicSessions.fields.startDate, '8/27/2025')).toBe('8/27/2025');
    expect(normalizeValue(ENTITIES.users.fields.dateLastModified, '2017-05-06 08:01:05')).toBe(
      '2017-05-06 08:01:05',
    );
  });
});

describe('fingerprints', () => {
  const base = { sourcedId: 'k1', title: 'Math 3A', termSourcedIds: 'fall,spring', classType: 'scheduled' };

  it('do not depend on field order, set-list order or dateLastModified', () => {
    const a = normalizeRecord('classes', base);
    const b = normalizeRecord('classes', {
      classType: 'scheduled',
      termSourcedIds: 'spring,fall',
      title: 'Math 3A',
      sourcedId: 'k1',
      dateLastModified: '2025-01-01T00:00:00.000Z',
    });
    expect(fingerprintRecord(b)).toBe(fingerprintRecord(a));
    expect(fingerprintRecord(a)).toMatch(/^[0-9a-f]{16}$/);
  });

  it('change when any content changes, including extension columns', () => {
    const a = fingerprintRecord(normalizeRecord('classes', base));
    expect(fingerprintRecord(normalizeRecord('classes', { ...base, title: 'Math 3B' }))).not.toBe(a);
    expect(fingerprintRecord(normalizeRecord('classes', { ...base, 'metadata.room': '12' }))).not.toBe(a);
  });

  it('of a roster do not depend on record order', () => {
    const one = new RosterBuilder('1.1');
    const two = new RosterBuilder('1.1');
    const records = [base, { ...base, sourcedId: 'k2' }, { ...base, sourcedId: 'k3', title: 'Art' }];
    for (const r of records) one.add('classes', r);
    for (const r of [...records].reverse()) two.add('classes', r);
    expect(fingerprintRoster(two.build())).toBe(fingerprintRoster(one.build()));
    two.add('classes', { ...base, sourcedId: 'k4' });
    expect(fingerprintRoster(two.build())).not.toBe(fingerprintRoster(one.build()));
  });

  it('of a roster (version 2) sum, per record, a hash per non-empty value seeded by its field name', () => {
    // The definition, written plainly: the table's one-pass version must agree with it.
    const table = new RecordTable('users');
    table.add({ sourcedId: 'u1', role: 'student', givenName: 'Zoë', dateLastModified: '2026-01-01' });
    table.add({ sourcedId: 'u2', role: 'teacher', email: 'a@b.example', 'metadata.x': 'y' });
    table.add({ sourcedId: 'u3' });
    let a = 0;
    let b = 0;
    for (let i = 0; i < table.size; i++) {
      let ra = 0;
      let rb = 0;
      for (const [field, value] of Object.entries(table.get(i))) {
        if (value === '' || field === 'dateLastModified') continue;
        const bytes = Buffer.from(value);
        ra = (ra + hashBytes(bytes, 0, bytes.length, hashString(field, 0x243f6a88))) | 0;
        rb = (rb + hashBytes(bytes, 0, bytes.length, hashString(field, 0x85a308d3))) | 0;
      }
      a = (a + mix32(ra)) | 0;
      b = (b + mix32(rb ^ 0x5bd1e995)) | 0;
    }
    expect(table.contentSums()).toEqual([a >>> 0, b >>> 0]);
  });

  it('of a table are computed once for every thread it is shared with, and again when it changes', () => {
    const table = new RecordTable('users');
    table.add({ sourcedId: 'u1', role: 'student' });
    table.add({ sourcedId: 'u2', role: 'teacher' });
    const copy = new RecordTable('users');
    for (let i = 0; i < table.size; i++) copy.add(table.get(i));
    const expected = copy.contentSums();
    const elsewhere = RecordTable.fromShared(table.share()); // as another thread sees it
    const computed = vi.spyOn(
      RecordTable.prototype as unknown as { computeContentSums(): unknown },
      'computeContentSums',
    );
    try {
      expect(elsewhere.contentSums()).toEqual(expected);
      expect(table.contentSums()).toEqual(expected);
      expect(computed).toHaveBeenCalledTimes(1);
      // A table that grew (this side only: sharing moved it to fresh memory) has other sums.
      table.add({ sourcedId: 'u3' });
      copy.add({ sourcedId: 'u3' });
      expect(table.contentSums()).toEqual(copy.contentSums());
      expect(elsewhere.contentSums()).toEqual(expected);
      // One taken back and grown again to the same size: computed anew.
      table.truncate(2);
      table.add({ sourcedId: 'u4' });
      const other = new RecordTable('users');
      for (let i = 0; i < table.size; i++) other.add(table.get(i));
      expect(table.contentSums()).toEqual(other.contentSums());
    } finally {
      computed.mockRestore();
    }
  });
});

describe('derived ids', () => {
  it('never change: vendors keep them (pinned values)', () => {
    expect(derivedEnrollmentId('cls-1', 'stu-0001', 'student')).toBe('enr-190f75d96dc376f1');
    expect(derivedRoleId('stf-01', 'sch-001', 'teacher')).toBe('rol-32f3f850c234b342');
    expect(derivedEnrollmentId('Zoë', 'ü', 'student')).toBe('enr-ce580e32f1e69ddb');
  });
});

describe('RecordTable', () => {
  it('stores records compactly and decodes them, with origins', () => {
    const t = new RecordTable('orgs');
    t.add({ sourcedId: 'd1', name: 'District', type: 'district' }, { file: 'orgs.csv', line: 2 });
    t.add(
      { sourcedId: 's1', name: 'School', type: 'school', parentSourcedId: 'd1', 'metadata.code': 'X' },
      { file: 'orgs.csv', line: 3 },
    );
    expect(t.size).toBe(2);
    expect(t.get(0)).toEqual({
      sourcedId: 'd1',
      status: '',
      dateLastModified: '',
      name: 'District',
      type: 'district',
      identifier: '',
      parentSourcedId: '',
      'metadata.code': '',
    });
    expect(t.value(1, 'parentSourcedId')).toBe('d1');
    expect(t.value(1, 'metadata.code')).toBe('X');
    expect(t.value(0, 'metadata.code')).toBe('');
    expect(t.origin(1)).toEqual({ file: 'orgs.csv', line: 3 });
    expect(t.extensionFields).toEqual(['metadata.code']);
  });
});

describe('KeySet and KeyMap', () => {
  it('hold more keys than one shard and answer membership exactly', () => {
    const set = new KeySet();
    const map = new KeyMap<number>();
    for (let i = 0; i < 50_000; i++) {
      expect(set.add(`enr-${i}`)).toBe(true);
      map.set(`enr-${i}`, i);
    }
    expect(set.add('enr-42')).toBe(false);
    expect(set.size).toBe(50_000);
    expect(set.has('enr-49999')).toBe(true);
    expect(set.has('enr-50000')).toBe(false);
    expect(map.get('enr-1234')).toBe(1234);
    expect(map.size).toBe(50_000);
  });

  it('open a new shard at the limit and still answer across shards (the >16M case, at small scale)', () => {
    const set = new KeySet(1000);
    const map = new KeyMap<number>(1000);
    for (let i = 0; i < 3500; i++) {
      set.add(`k${i}`);
      map.set(`k${i}`, i);
    }
    expect(set.shardCount).toBe(4);
    expect(map.shardCount).toBe(4);
    expect(set.add('k10')).toBe(false); // found in the first shard
    expect(set.size).toBe(3500);
    map.set('k10', -1); // replaced where it is, not added again
    expect(map.get('k10')).toBe(-1);
    expect(map.size).toBe(3500);
    expect(map.get('k3499')).toBe(3499);
    expect(map.has('k3500')).toBe(false);
  });
});

describe('records from input', () => {
  it('keep a column named __proto__ as a field, through the table and a policy', async () => {
    const { applyPolicy, defaultPolicy } = await import('../../../src/plan/policy.js');
    const builder = new RosterBuilder('1.1');
    builder.table('orgs').declareField('__proto__');
    builder.add('orgs', { sourcedId: 'd1', name: 'D', type: 'district', ['__proto__' as string]: 'kept' });
    const roster = builder.build();
    const record = roster.table('orgs').get(0);
    expect(Object.hasOwn(record, '__proto__')).toBe(true);
    expect(Object.getOwnPropertyDescriptor(record, '__proto__')?.value).toBe('kept');
    expect(Object.getPrototypeOf(record)).toBe(Object.prototype);
    const withheld = applyPolicy(roster, { ...defaultPolicy(), share: { withhold: { orgs: ['name'] } } });
    const after = withheld.table('orgs').get(0);
    expect(Object.getOwnPropertyDescriptor(after, '__proto__')?.value).toBe('kept');
    expect(after.name).toBe('');
  });
});
