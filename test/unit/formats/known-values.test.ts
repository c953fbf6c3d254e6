import { describe, expect, it } from 'vitest';
import { KnownValues } from '../../../src/formats/oneroster-csv/known-values.js';

const bytes = (text: string) => Buffer.from(`,${text},`);
const has = (known: KnownValues, text: string) => known.has(bytes(text), 1, 1 + Buffer.byteLength(text));
const add = (known: KnownValues, text: string) => known.add(bytes(text), 1, 1 + Buffer.byteLength(text));

describe("KnownValues (a column's few values, by their bytes)", () => {
  it('recognizes exactly the values added, as copies', () => {
    const known = new KnownValues();
    const row = bytes('student');
    known.add(row, 1, 8);
    row.write('teacher', 1); // the row's buffer is reused for the next row
    expect(has(known, 'student')).toBe(true);
    expect(has(known, 'teacher')).toBe(false);
    expect(has(known, 'students')).toBe(false);
    expect(has(known, 'Student')).toBe(false);
    expect(has(known, '')).toBe(false);
    add(known, 'élève');
    expect(has(known, 'élève')).toBe(true);
  });

  it('holds a few short values only', () => {
    const known = new KnownValues();
    add(known, 'x'.repeat(49));
    expect(has(known, 'x'.repeat(49))).toBe(false);
    for (let i = 0; i < 20; i++) add(known, `v${i}`);
    expect(has(known, 'v15')).toBe(true);
    expect(has(known, 'v16')).toBe(false);
  });

  it('stops looking up a column whose values are mostly new', () => {
    const known = new KnownValues();
    add(known, 'same');
    for (let i = 0; i < 5000; i++) has(known, `2026-01-01T00:00:${i}`);
    expect(has(known, 'same')).toBe(false);
    const busy = new KnownValues();
    add(busy, 'same');
    for (let i = 0; i < 5000; i++) has(busy, i % 4 === 0 ? `new ${i}` : 'same');
    expect(has(busy, 'same')).toBe(true);
  });
});
