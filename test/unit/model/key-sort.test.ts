import { describe, expect, it } from 'vitest';
import { compareBytes } from '../../../src/model/byte-hash.js';
import { sortByKey } from '../../../src/model/key-sort.js';
import { RecordTable } from '../../../src/model/record-table.js';

function tableOf(keys: string[]): RecordTable {
  const t = new RecordTable('users');
  for (const k of keys) t.addValues([k, 'active']);
  return t;
}

/** The reference: a comparison sort on the keys' UTF-8 bytes, ties by record index. */
function reference(keys: string[], records: number[]): number[] {
  const bytes = keys.map((k) => Buffer.from(k, 'utf8'));
  return [...records].sort((x, y) => {
    const a = bytes[x]!;
    const b = bytes[y]!;
    return compareBytes(a, 0, a.length, b, 0, b.length) || x - y;
  });
}

function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

describe('sortByKey (radix sort of records by key bytes)', () => {
  it('orders as a byte-wise comparison sort: shared prefixes, ties past 8 bytes, prefixes of keys, non-ASCII', () => {
    const keys = [
      'enr-00000000000000b',
      'enr-00000000000000a', // equal in the 8 packed bytes after the prefix: settled whole
      'enr-0000000',
      'enr-00000000', // a key that is a prefix of another
      'enr-ff',
      'enr-zoë', // bytes above 0x7f sort after ASCII
      'enr-zoe',
      'enr-Z',
      'enr-00000000000000a0',
    ];
    const records = keys.map((_, i) => i);
    expect([...sortByKey(tableOf(keys), 0, Int32Array.from(records))]).toEqual(reference(keys, records));
  });

  it('sorts a subset of the records, and tens of thousands of random keys of any length', () => {
    const rnd = seeded(42);
    const alphabet = 'abc-019zé';
    const keys = Array.from({ length: 40_000 }, () => {
      const length = 1 + Math.floor(rnd() * 14);
      let k = rnd() < 0.5 ? 'stu-' : 'stf-';
      for (let i = 0; i < length; i++) k += alphabet[Math.floor(rnd() * alphabet.length)];
      return k;
    });
    const table = tableOf(keys);
    const every = keys.map((_, i) => i);
    expect([...sortByKey(table, 0, Int32Array.from(every))]).toEqual(reference(keys, every));
    const some = every.filter(() => rnd() < 0.3).reverse();
    expect([...sortByKey(table, 0, Int32Array.from(some))]).toEqual(reference(keys, some));
  });

  it('sorts long runs of keys alike in their first packed bytes on the bytes after them', () => {
    const rnd = seeded(7);
    // Three runs of 100 keys that tie in the 8 bytes after their common prefix ("grp-").
    const keys = Array.from({ length: 300 }, (_, i) => `grp-${i % 3}-the-same-long-middle-${i}`);
    keys.push(
      'grp-0-the-same-long-middle-',
      'grp-0-the-same-long-middle-\u0000',
      'grp-0-the-same-long-middle-\u0000a',
    );
    for (let i = keys.length - 1; i > 0; i--) {
      const j = Math.floor(rnd() * (i + 1));
      [keys[i], keys[j]] = [keys[j]!, keys[i]!];
    }
    const records = keys.map((_, i) => i);
    expect([...sortByKey(tableOf(keys), 0, Int32Array.from(records))]).toEqual(reference(keys, records));
  });

  it('orders hex ids, counters with leading zeros, long common prefixes, and short keys of any character', () => {
    const rnd = seeded(3);
    const hex = (length: number) =>
      Array.from({ length }, () => '0123456789abcdef'[Math.floor(rnd() * 16)]).join('');
    const sets = [
      // Random hex ids, as a city's enrollments.
      Array.from({ length: 20_000 }, () => `enr-${hex(16)}`),
      // Counters with leading zeros, some with a suffix; a position the same in every key.
      Array.from(
        { length: 5_000 },
        (_, i) => `stu-${String((i * 7919) % 100_000).padStart(6, '0')}-x${i % 3 ? '' : i}`,
      ),
      // A long common prefix, then keys of different lengths.
      Array.from({ length: 3_000 }, () => `${'p'.repeat(45)}${hex(1 + Math.floor(rnd() * 10))}`),
      // Every printable character and a few beyond ASCII, keys of every short length, duplicates.
      Array.from({ length: 4_000 }, () =>
        Array.from({ length: 1 + Math.floor(rnd() * 4) }, () =>
          rnd() < 0.05 ? 'éß€'[Math.floor(rnd() * 3)] : String.fromCharCode(32 + Math.floor(rnd() * 95)),
        ).join(''),
      ),
    ];
    for (const keys of sets) {
      const records = keys.map((_, i) => i);
      expect([...sortByKey(tableOf(keys), 0, Int32Array.from(records))]).toEqual(reference(keys, records));
    }
  });

  it('keeps records with equal keys in record order, and sorts by another field', () => {
    const t = new RecordTable('users');
    for (const [id, name] of [
      ['u3', 'same'],
      ['u1', 'same'],
      ['u2', 'alpha'],
    ])
      t.addValues([id!, 'active', '', '', '', '', '', name!]);
    const position = 7;
    expect([...sortByKey(t, position, Int32Array.from([0, 1, 2]))]).toEqual([2, 0, 1]);
    expect([...sortByKey(t, position, Int32Array.from([1]))]).toEqual([1]);
    expect([...sortByKey(t, position, new Int32Array(0))]).toEqual([]);
  });
});
