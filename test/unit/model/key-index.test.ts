import { describe, expect, it } from 'vitest';
import { hashBytes } from '../../../src/model/byte-hash.js';
import { InlineKeyIndex, KeyIndex } from '../../../src/model/key-index.js';
import { RecordTable } from '../../../src/model/record-table.js';

function enrollments(n: number, id = (i: number) => `enr-${i}`): RecordTable {
  const t = new RecordTable('enrollments');
  for (let i = 0; i < n; i++)
    t.add({ sourcedId: id(i), classSourcedId: `cls-${i % 7}`, userSourcedId: `stu-${i}`, role: 'student' });
  return t;
}

describe('RecordTable (byte arena)', () => {
  it('keeps records across many buffers and decodes each exactly, non-ASCII included', () => {
    const t = new RecordTable('users');
    const names = ['Zoë', 'Łukasz', '李', 'Amélie', 'Ngọc'];
    // ~600k records of ~40 bytes: several 4 MiB buffers.
    for (let i = 0; i < 120_000; i++)
      t.add({ sourcedId: `u${i}`, givenName: names[i % 5]!, familyName: 'O’Brien', role: 'student' });
    expect(t.size).toBe(120_000);
    expect(t.value(119_999, 'sourcedId')).toBe('u119999');
    expect(t.value(7, 'givenName')).toBe('李');
    expect(t.get(4).familyName).toBe('O’Brien');
    expect(t.value(4, 'middleName')).toBe('');
  });

  it('compares stored records byte for byte, and hashes equal records equally', () => {
    const a = enrollments(3);
    const b = enrollments(3);
    b.add({ sourcedId: 'enr-0', classSourcedId: 'cls-0', userSourcedId: 'stu-0', role: 'teacher' });
    expect(a.sameStored(0, b, 0)).toBe(true);
    expect(a.hashOf(0)).toBe(b.hashOf(0));
    expect(a.sameStored(0, b, 3)).toBe(false);
    expect(a.sameStored(1, b, 0)).toBe(false);
  });

  it('drops trailing empty values, and takes records back on truncate', () => {
    const t = enrollments(10);
    expect(t.stored(0)).toBe('enr-0\u001f\u001f\u001fcls-0\u001f\u001fstu-0\u001fstudent');
    t.truncate(4);
    expect(t.size).toBe(4);
    t.add({ sourcedId: 'again' });
    expect(t.value(4, 'sourcedId')).toBe('again');
    expect(t.value(3, 'sourcedId')).toBe('enr-3');
    expect(() => t.get(5)).toThrow(RangeError);
  });
});

describe('KeyIndex', () => {
  it('finds records by key bytes, from strings and from other tables', () => {
    const t = enrollments(1000);
    const index = KeyIndex.of(t, 'sourcedId');
    expect(index.size).toBe(1000);
    expect(index.find('enr-0')).toBe(0);
    expect(index.find('enr-999')).toBe(999);
    expect(index.find('enr-1000')).toBe(-1);
    expect(index.find('')).toBe(-1);
    const other = enrollments(5, (i) => `enr-${i * 400}`);
    expect([0, 1, 2, 3, 4].map((j) => index.findFrom(other, j, 0))).toEqual([0, 400, 800, -1, -1]);
  });

  it('reports the record already holding a key, and skips empty keys', () => {
    const t = enrollments(3, (i) => (i === 2 ? 'enr-0' : `enr-${i}`));
    t.add({ sourcedId: '', role: 'student' });
    const index = new KeyIndex(t, 0);
    expect([0, 1, 2, 3].map((i) => index.add(i))).toEqual([-1, -1, 0, -1]);
    expect(index.size).toBe(2);
  });

  it('stays exact when every key collides (a constant hash)', () => {
    const t = enrollments(2000);
    const index = new KeyIndex(t, 0, { hash: () => 7 });
    for (let i = 0; i < t.size; i++) expect(index.add(i)).toBe(-1);
    for (const i of [0, 1, 999, 1999]) expect(index.find(`enr-${i}`)).toBe(i);
    expect(index.find('enr-2000')).toBe(-1);
  });

  it('grows from a few slots, never more than 70% full (the >16M case, at small scale)', () => {
    // A weak hash (2^15 distinct values, spread, for 2^17 keys) from one slot: 14 doublings, exact answers.
    const t = enrollments(1 << 17);
    const index = new KeyIndex(t, 0, {
      capacity: 1,
      hash: (b, s, e) => Math.imul(hashBytes(b, s, e) & 0x7fff, 0x9e3779b1),
    });
    for (let i = 0; i < t.size; i++) index.add(i);
    expect(index.size).toBe(1 << 17);
    expect(index.capacity).toBe(1 << 18);
    for (let i = 0; i < t.size; i += 997) expect(index.find(`enr-${i}`)).toBe(i);
    expect(index.find('enr-x')).toBe(-1);
  });
});

describe('KeyIndex.bulk (all keys at once, region by region)', () => {
  for (const [name, hash] of [
    ['the real hash', undefined],
    // Every hash a multiple of 256: ~100 keys start at each such slot (long probe runs).
    ['a weak hash (long probe runs)', (b: Uint8Array, s: number, e: number) => hashBytes(b, s, e) & ~0xff],
  ] as const) {
    it(`finds what adding one by one finds, with ${name}`, () => {
      // 100k keys: 2^18 slots, eight regions; some records have no key.
      const table = enrollments(100_000, (i) => (i % 1000 === 7 ? '' : `enr-${(i * 7919) % 1_000_003}`));
      const bulk = KeyIndex.bulk(table, 'sourcedId', hash ? { hash } : {})!;
      const one = new KeyIndex(table, 0, hash ? { hash } : {});
      for (let i = 0; i < table.size; i++) one.add(i);
      expect(bulk.size).toBe(one.size);
      expect(bulk.size).toBe(99_900);
      for (let i = 0; i < table.size; i += 97) {
        const key = table.value(i, 'sourcedId');
        expect(bulk.find(key)).toBe(key === '' ? -1 : i);
      }
      expect(bulk.find('enr-missing')).toBe(-1);
    });
  }

  it('gives up when a key is held twice (the caller then goes one by one)', () => {
    const table = enrollments(50_000);
    table.add({ sourcedId: 'enr-123', role: 'teacher' });
    expect(KeyIndex.bulk(table, 'sourcedId')).toBeUndefined();
    // KeyIndex.of still finds the first record holding it.
    expect(KeyIndex.of(table, 'sourcedId').find('enr-123')).toBe(123);
  });
});

describe('InlineKeyIndex (keys held in the index)', () => {
  for (const [name, id] of [
    ['short ids', (i: number) => `stu-${i}`],
    ['GUIDs', (i: number) => `0b1e5c2a-3f4d-4e6b-9a7c-${String(i).padStart(12, '0')}`],
    ['some ids too long to hold', (i: number) => (i % 3 === 0 ? `long-${'x'.repeat(60)}-${i}` : `é-${i}`)],
  ] as const) {
    it(`finds what KeyIndex finds, with ${name}`, () => {
      const table = new RecordTable('users');
      for (let i = 0; i < 3000; i++) table.add({ sourcedId: id(i), role: 'student' });
      table.add({ sourcedId: id(5), role: 'teacher' }); // a duplicate: the first one is found
      table.add({ role: 'student' }); // no key: not indexed
      const inline = InlineKeyIndex.of(table, 'sourcedId');
      const plain = KeyIndex.of(table, 'sourcedId');
      const probes = [
        ...Array.from({ length: 3100 }, (_, i) => id(i)),
        ...Array.from({ length: 50 }, (_, i) => `${id(i)}x`),
        ...Array.from({ length: 50 }, (_, i) => id(i).slice(0, -1)),
        '',
      ];
      const answers = probes.map((p) => inline.find(p));
      expect(answers).toEqual(probes.map((p) => plain.find(p)));
      expect(answers.filter((a) => a >= 0).length).toBeGreaterThanOrEqual(3000);
      expect(answers.filter((a) => a < 0).length).toBeGreaterThanOrEqual(100);
      expect(inline.find(id(5))).toBe(5);
      expect(inline.findFrom(table, 7, 0)).toBe(7);
      expect(InlineKeyIndex.of(table, 'sourcedId')).toBe(inline); // built once
      table.add({ sourcedId: 'late' });
      expect(InlineKeyIndex.of(table, 'sourcedId').find('late')).toBe(table.size - 1);
    });
  }
});

describe('Roster sharing (with another thread)', () => {
  it('shares every table and index without copying; both sides read the same roster', async () => {
    const { generateDistrict } = await import('../../../src/generate/generate.js');
    const { Roster } = await import('../../../src/model/roster.js');
    const { fingerprintRoster } = await import('../../../src/model/fingerprint.js');
    const roster = generateDistrict({ schools: 2, students: 200, seed: 'transfer' });
    const before = fingerprintRoster(roster);
    const firstUser = roster.table('users').get(0);
    const sentIndex = KeyIndex.of(roster.table('users'), 'sourcedId');
    const data = roster.share();
    // What postMessage does with shared memory: the other side gets views of the same bytes.
    const received = structuredClone(data);
    expect(received.tables[0]!.chunks[0]!.buffer).toBeInstanceOf(SharedArrayBuffer);
    const back = Roster.fromShared(received);
    expect(fingerprintRoster(back)).toBe(before);
    expect(back.table('users').get(0)).toEqual(firstUser);
    // The sending side keeps working on the same memory.
    expect(fingerprintRoster(roster)).toBe(before);
    expect(sentIndex.find(firstUser.sourcedId!)).toBe(0);
    // The sourcedId index built while reading comes along, and finds what it found before.
    const { KeyIndex: Index } = await import('../../../src/model/key-index.js');
    expect(Index.of(back.table('users'), 'sourcedId').find(firstUser.sourcedId!)).toBe(0);
    // Either side can still grow, into its own memory: the other side does not see it.
    const size = roster.table('users').size;
    back.table('users').add({ sourcedId: 'late', role: 'student' });
    roster.table('users').add({ sourcedId: 'early', role: 'teacher' });
    expect(back.table('users').value(size, 'sourcedId')).toBe('late');
    expect(roster.table('users').value(size, 'sourcedId')).toBe('early');
    expect(back.table('users').get(size - 1)).toEqual(roster.table('users').get(size - 1));
  });
});
