/**
 * Sorting records by key bytes, fast enough for a city: a roster whose rows are in no order is
 * matched against a target sorted by key by sorting the roster's keys and walking both side by
 * side (see plan/compute.ts), instead of looking ten million keys up at random in an index
 * (~1 us each: cache and TLB misses). A comparison sort of 8M keys in JavaScript takes seconds;
 * this one packs the 8 bytes after the keys' common prefix into two numbers, radix-sorts those
 * (LSD, 11-bit digits: passes over typed arrays, no comparisons), and compares whole keys only
 * where the packed bytes tie.
 */
import { compareBytes } from './byte-hash.js';
import { type ByteRange, byteRange, RecordTable } from './record-table.js';

const DIGIT_BITS = 11;
const BUCKETS = 1 << DIGIT_BITS;
const MASK = BUCKETS - 1;
/** 64 bits in 11-bit digits. */
const PASSES = 6;

/** Where the key of item `i` is: fills `out` with its byte range. */
export interface KeySource {
  keyOf(i: number, out: ByteRange): void;
}

/**
 * Sorts `records` (indexes into `table`, each with a value at field `position`) in place, in
 * ascending byte order of that value (compareBytes order), equal values by record index; returns
 * it.
 */
export function sortByKey(table: RecordTable, position: number, records: Int32Array): Int32Array {
  return sortByKeys(
    { keyOf: (record, out) => void RecordTable.narrow(table.locate(record, out), position) },
    records,
  );
}

/** Sorts `items` in place by the keys `source` gives, as sortByKey does; returns it. */
export function sortByKeys(source: KeySource, items: Int32Array): Int32Array {
  sortRun(source, items, -1);
  return items;
}

/** Runs of tied records shorter than this are settled by comparing whole keys. */
const SMALL_RUN = 16;

/**
 * Sorts `records` in place. `known`: how many leading bytes a caller already found them to
 * share (-1: none known); a run that shares no more than that is settled by whole-key comparison.
 */
function sortRun(source: KeySource, records: Int32Array, known: number): void {
  const n = records.length;
  if (n < 2) return;
  const r = byteRange();
  const first = byteRange();
  // The bytes every key starts with carry no order: pack the 8 after them.
  source.keyOf(records[0]!, first);
  let common = first.end - first.start;
  for (let k = 1; k < n && common > 0; k++) {
    source.keyOf(records[k]!, r);
    const limit = Math.min(common, r.end - r.start);
    let same = 0;
    while (same < limit && r.buffer[r.start + same] === first.buffer[first.start + same]) same++;
    common = same;
  }
  if (common <= known) {
    sortWhole(source, records);
    return;
  }
  let index: Int32Array = records;
  let hi = new Uint32Array(n);
  let lo = new Uint32Array(n);
  for (let k = 0; k < n; k++) {
    source.keyOf(index[k]!, r);
    const { buffer, end } = r;
    const s = r.start + common;
    // Big-endian, missing bytes as 0: packed order never contradicts byte order (ties are settled below).
    hi[k] =
      (byteAt(buffer, s, end) << 24) |
      (byteAt(buffer, s + 1, end) << 16) |
      (byteAt(buffer, s + 2, end) << 8) |
      byteAt(buffer, s + 3, end);
    lo[k] =
      (byteAt(buffer, s + 4, end) << 24) |
      (byteAt(buffer, s + 5, end) << 16) |
      (byteAt(buffer, s + 6, end) << 8) |
      byteAt(buffer, s + 7, end);
  }
  // Least significant digit first; a stable pass keeps what earlier passes ordered. Every pass's
  // counts come from one read of the packed keys (a pass moves keys, it does not change them).
  const counts = new Int32Array(PASSES * BUCKETS);
  for (let k = 0; k < n; k++) {
    const h = hi[k]!;
    const l = lo[k]!;
    counts[l & MASK]!++;
    counts[BUCKETS + ((l >>> 11) & MASK)]!++;
    counts[2 * BUCKETS + (((l >>> 22) | (h << 10)) & MASK)]!++;
    counts[3 * BUCKETS + ((h >>> 1) & MASK)]!++;
    counts[4 * BUCKETS + ((h >>> 12) & MASK)]!++;
    counts[5 * BUCKETS + ((h >>> 23) & MASK)]!++;
  }
  let nextIndex: Int32Array = new Int32Array(n);
  let nextHi = new Uint32Array(n);
  let nextLo = new Uint32Array(n);
  for (let pass = 0; pass < PASSES; pass++) {
    const at = pass * BUCKETS;
    let every = false; // every key has this digit: the pass would change nothing
    let sum = 0;
    for (let b = at; b < at + BUCKETS; b++) {
      const c = counts[b]!;
      if (c === n) every = true;
      counts[b] = sum;
      sum += c;
    }
    if (every) continue;
    // (The digit of bits pass*11 .. pass*11+10 of hi:lo; the third straddles the two words.)
    const bit = pass * DIGIT_BITS;
    for (let k = 0; k < n; k++) {
      const h = hi[k]!;
      const l = lo[k]!;
      const digit =
        bit < 22
          ? (l >>> bit) & MASK
          : bit === 22
            ? ((l >>> 22) | (h << 10)) & MASK
            : (h >>> (bit - 32)) & MASK;
      const to = counts[at + digit]!++;
      nextIndex[to] = index[k]!;
      nextHi[to] = h;
      nextLo[to] = l;
    }
    [index, nextIndex] = [nextIndex, index];
    [hi, nextHi] = [nextHi, hi];
    [lo, nextLo] = [nextLo, lo];
  }
  if (index !== records) records.set(index);
  // Keys alike in their packed bytes (in record order so far): sorted on the bytes after them.
  for (let k = 0; k < n; ) {
    let end = k + 1;
    while (end < n && hi[end] === hi[k] && lo[end] === lo[k]) end++;
    const run = records.subarray(k, end);
    if (end - k >= SMALL_RUN) sortRun(source, run, common);
    else if (end - k > 1) sortWhole(source, run);
    k = end;
  }
}

/** Sorts `records` in place by comparing whole keys (few records, or keys alike in every packed byte). */
function sortWhole(source: KeySource, records: Int32Array): void {
  const a = byteRange();
  const b = byteRange();
  records.sort((x, y) => {
    source.keyOf(x, a);
    source.keyOf(y, b);
    return compareBytes(a.buffer, a.start, a.end, b.buffer, b.start, b.end) || x - y;
  });
}

function byteAt(buffer: Uint8Array, at: number, end: number): number {
  return at < end ? buffer[at]! : 0;
}
