/**
 * KeyIndex: finds a table's records by the bytes of one field (sourcedId, or the key a target
 * uses), without making a string per record. An open-addressing hash table (linear probing) held
 * in one typed array: per slot the record's index and, beside it (one cache line, one memory
 * access), the key's 32-bit hash, so a probe compares bytes only when the hashes agree. At most
 * 70% full, it costs 11-23 bytes per record, has no entry limit below 2^30 (V8's Map and Set stop
 * at 2^24 entries on Node 20, 2^23 on Node 24), and leaves nothing for the garbage collector to
 * trace. Like its table, it lives in shared memory and goes to another thread with it (shareFor).
 */
import { compareBytes, hashBytes, sameBytes } from './byte-hash.js';
import { type ByteRange, byteRange, RecordTable, sharedArray } from './record-table.js';

export type ByteHash = (bytes: Uint8Array, start: number, end: number) => number;

/** A KeyIndex as plain data over shared memory (see KeyIndex.shareFor). */
export interface IndexData {
  readonly field: string;
  readonly position: number;
  /** Per slot: record index (-1: free), then the key's hash. */
  readonly slots: Int32Array;
  readonly count: number;
  /** See KeyIndex.unique. */
  readonly unique?: boolean;
}

export interface KeyIndexOptions {
  /** Initial number of slots (rounded up to a power of two). */
  readonly capacity?: number;
  /** The hash function (tests give a poor one to force collisions). */
  readonly hash?: ByteHash;
}

const MAX_LOAD = 0.7;
/** KeyIndex.bulk inserts keys region by region: 2^15 slots (256 KiB), which stay in the cache. */
const REGION_BITS = 15;

/**
 * Indexes made from a table, per field, handed out again while the table has neither grown nor
 * been truncated since (what KeyIndex.of and InlineKeyIndex.of build once).
 */
class BuiltIndexes<T> {
  private readonly byTable = new WeakMap<
    RecordTable,
    Map<string, { index: T; covered: number; generation: number }>
  >();

  get(table: RecordTable, field: string): T | undefined {
    const known = this.byTable.get(table)?.get(field);
    return known && known.covered === table.size && known.generation === table.generation
      ? known.index
      : undefined;
  }

  /** Keeps `index`, covering every record of `table` now. */
  set(table: RecordTable, field: string, index: T): void {
    let byField = this.byTable.get(table);
    if (!byField) {
      byField = new Map();
      this.byTable.set(table, byField);
    }
    byField.set(field, { index, covered: table.size, generation: table.generation });
  }

  delete(table: RecordTable, field: string): void {
    this.byTable.get(table)?.delete(field);
  }

  /** The fields of `table` with a current index. */
  fields(table: RecordTable): string[] {
    return [...(this.byTable.get(table)?.keys() ?? [])].filter((f) => this.get(table, f) !== undefined);
  }
}

const built = new BuiltIndexes<KeyIndex>();

/** Diagnostic records by key: by bytes (each index its own way), by string, or by another table's value. */
abstract class KeyLookup {
  private readonly probe = byteRange();

  /** The record whose key is these bytes, or -1. */
  abstract findBytes(bytes: Uint8Array, start: number, end: number): number;

  /** The record whose key is `key`, or -1. */
  find(key: string): number {
    const bytes = Buffer.from(key, 'utf8');
    return this.findBytes(bytes, 0, bytes.length);
  }

  /** The record whose key equals the value at field `position` of record `j` of `other`, or -1. */
  findFrom(other: RecordTable, j: number, position: number): number {
    const r = other.locate(j, this.probe);
    if (!RecordTable.narrow(r, position)) return -1;
    return this.findBytes(r.buffer, r.start, r.end);
  }
}

export class KeyIndex extends KeyLookup {
  /** Slot s: [2s] the record (-1 when free), [2s + 1] its key's 32-bit hash. */
  private slots: Int32Array;
  private mask: number;
  private count = 0;
  /**
   * True when no two records of the table hold the same key (known when the index was built in
   * bulk); false when some do, or it is not known.
   */
  unique = false;
  private readonly hash: ByteHash;
  private readonly key = byteRange();
  private readonly held = byteRange();

  /** Indexes records of `table` by the field at `position` (records are added with add()). */
  constructor(
    readonly table: RecordTable,
    readonly position: number,
    options: KeyIndexOptions = {},
  ) {
    super();
    let capacity = 16;
    while (capacity < (options.capacity ?? 16)) capacity *= 2;
    this.slots = freeSlots(capacity);
    this.mask = capacity - 1;
    this.hash = options.hash ?? hashBytes;
  }

  /**
   * An index of every record of `table` by `field`; with duplicates, the first record is found.
   * Built once per table and field (readers, rules and the plan engine share it).
   */
  static of(table: RecordTable, field: string): KeyIndex {
    const known = built.get(table, field);
    if (known) return known;
    let index = KeyIndex.bulk(table, field);
    if (!index) {
      // A key held twice: one by one, so that the first record holding it is the one found.
      index = new KeyIndex(table, table.fieldIndexOf(field), { capacity: (table.size / MAX_LOAD) * 1.01 });
      for (let i = 0; i < table.size; i++) index.add(i);
    }
    KeyIndex.remember(index, field);
    return index;
  }

  /**
   * An index of every record of `table` by `field`, built all at once, or undefined when two
   * records hold the same key (the caller then goes record by record, to know which came first).
   *
   * Adding ten million keys one by one costs a cache miss each (slots at random over 100+ MB).
   * Here the keys are hashed in record order, grouped by the region of slots they fall in (a
   * counting sort), and inserted region by region, so each region's slots stay in the cache:
   * several times faster at city scale.
   */
  static bulk(table: RecordTable, field: string, options: { hash?: ByteHash } = {}): KeyIndex | undefined {
    const n = table.size;
    const position = table.fieldIndexOf(field);
    const index = new KeyIndex(table, position, { ...options, capacity: (n / MAX_LOAD) * 1.01 });
    const { mask } = index;
    const hashes = new Int32Array(n);
    const keyed = new Uint8Array(n);
    const r = byteRange();
    let count = 0;
    for (let i = 0; i < n; i++) {
      if (!RecordTable.narrow(table.locate(i, r), position)) continue;
      hashes[i] = index.hash(r.buffer, r.start, r.end) | 0;
      keyed[i] = 1;
      count++;
    }
    // Regions of 2^REGION_BITS slots (256 KiB).
    const shift = Math.max(0, Math.log2(mask + 1) - REGION_BITS);
    const starts = new Int32Array(((mask + 1) >>> shift) + 1);
    for (let i = 0; i < n; i++) if (keyed[i] === 1) starts[((hashes[i]! & mask) >>> shift) + 1]!++;
    for (let g = 1; g < starts.length; g++) starts[g]! += starts[g - 1]!;
    const order = new Int32Array(count);
    for (let i = 0; i < n; i++) if (keyed[i] === 1) order[starts[(hashes[i]! & mask) >>> shift]!++] = i;
    const { slots } = index;
    const key = index.key;
    for (let k = 0; k < count; k++) {
      const i = order[k]!;
      const h = hashes[i]!;
      let slot = h & mask;
      for (let held = slots[2 * slot]!; held !== -1; held = slots[2 * slot]!) {
        if (slots[2 * slot + 1] === h) {
          const a = index.keyOf(held, index.held);
          const b = index.keyOf(i, key);
          if (sameBytes(a.buffer, a.start, a.end, b.buffer, b.start, b.end)) return undefined;
        }
        slot = (slot + 1) & mask;
      }
      slots[2 * slot] = i;
      slots[2 * slot + 1] = h;
    }
    index.count = count;
    index.unique = true;
    return index;
  }

  /** Keeps `index` (covering every record of its table now) for KeyIndex.of to hand out. */
  static remember(index: KeyIndex, field: string): void {
    built.set(index.table, field, index);
  }

  /** Drops the index KeyIndex.of would hand out for `table` and `field` (its memory can go). */
  static forget(table: RecordTable, field: string): void {
    built.delete(table, field);
  }

  get size(): number {
    return this.count;
  }

  /**
   * The indexes KeyIndex.of would hand out for `table`, as plain data for another thread (views of
   * their shared memory: nothing is copied, and they stay usable here). A shared index is only
   * read: adding to it after sharing would change what the other thread reads.
   */
  static shareFor(table: RecordTable): IndexData[] {
    const data: IndexData[] = [];
    for (const field of built.fields(table)) {
      const { position, slots, count, unique } = built.get(table, field)!;
      data.push({ field, position, slots, count, unique });
    }
    return data;
  }

  /** Takes shareFor's data for `table` (received from another thread). */
  static fromShared(table: RecordTable, data: readonly IndexData[]): void {
    for (const d of data) {
      const index = new KeyIndex(table, d.position);
      index.slots = d.slots;
      index.mask = d.slots.length / 2 - 1;
      index.count = d.count;
      index.unique = d.unique === true;
      KeyIndex.remember(index, d.field);
    }
  }

  /** Memory held by the index. */
  get byteLength(): number {
    return this.slots.byteLength;
  }

  /** Slots in use and free (for tests and the memory figures). */
  get capacity(): number {
    return this.mask + 1;
  }

  /**
   * Adds record `index` under its key. Returns -1 when added, or the record already holding that
   * key (the new one is then not added). Records with an empty key are not indexed (-1).
   */
  add(index: number): number {
    const key = this.keyOf(index, this.key);
    if (key.end === key.start) return -1;
    const h = this.hash(key.buffer, key.start, key.end) | 0;
    const found = this.lookup(key.buffer, key.start, key.end, h);
    if (found >= 0) return found;
    if ((this.count + 1) / (this.mask + 1) > MAX_LOAD) this.rehash((this.mask + 1) * 2);
    const slots = this.slots;
    let slot = h & this.mask;
    while (slots[2 * slot] !== -1) slot = (slot + 1) & this.mask;
    slots[2 * slot] = index;
    slots[2 * slot + 1] = h;
    this.count++;
    return -1;
  }

  /** The record whose key is these bytes, or -1. */
  findBytes(bytes: Uint8Array, start: number, end: number): number {
    if (end === start) return -1;
    return this.lookup(bytes, start, end, this.hash(bytes, start, end) | 0);
  }

  private keyOf(index: number, out: ByteRange): ByteRange {
    this.table.locate(index, out);
    RecordTable.narrow(out, this.position);
    return out;
  }

  private lookup(bytes: Uint8Array, start: number, end: number, h: number): number {
    const { held, slots } = this;
    for (let slot = h & this.mask; ; slot = (slot + 1) & this.mask) {
      const record = slots[2 * slot]!;
      if (record === -1) return -1;
      if (slots[2 * slot + 1] !== h) continue;
      const k = this.keyOf(record, held);
      if (sameBytes(k.buffer, k.start, k.end, bytes, start, end)) return record;
    }
  }

  private rehash(capacity: number): void {
    const old = this.slots;
    const slots = freeSlots(capacity);
    const mask = capacity - 1;
    for (let s = 0; s < old.length; s += 2) {
      const record = old[s]!;
      if (record === -1) continue;
      const h = old[s + 1]!;
      let slot = h & mask;
      while (slots[2 * slot] !== -1) slot = (slot + 1) & mask;
      slots[2 * slot] = record;
      slots[2 * slot + 1] = h;
    }
    this.slots = slots;
    this.mask = mask;
  }
}

/** `capacity` free slots (record -1), in shared memory. */
function freeSlots(capacity: number): Int32Array {
  const slots = sharedArray(Int32Array, 2 * capacity);
  for (let s = 0; s < slots.length; s += 2) slots[s] = -1;
  return slots;
}

/**
 * InlineKeyIndex: a read-only index of a table by one field that holds a copy of every key in
 * its slot, beside the record number and the key's hash. A lookup then reads one place in memory
 * instead of three (slot, the record's place, the record's bytes). That matters for the tables
 * that are looked up at random millions of times, as users and classes are by a city's
 * enrollments: each of those reads misses the CPU caches (and, in a VM, the TLB), and the
 * reference check took twice as long with a KeyIndex. The copies cost memory (a slot of 32 or 48
 * bytes for the usual ids), so it is built only where that pays: see InlineKeyIndex.of.
 *
 * Keys longer than MAX_INLINE_KEY bytes (rare: ids are short) are compared in the table instead.
 */
const SLOT_HEAD = 9; // record (4), hash (4), key length (1)
const MAX_INLINE_KEY = 55;
const LONG_KEY = 0xff;
const inlineBuilt = new BuiltIndexes<InlineKeyIndex>();

export class InlineKeyIndex extends KeyLookup {
  private readonly words: Int32Array;
  private readonly bytes: Uint8Array;
  /** Bytes per slot (a multiple of 16). */
  private readonly stride: number;
  private readonly mask: number;
  private readonly held = byteRange();

  private constructor(
    readonly table: RecordTable,
    readonly position: number,
    longest: number,
  ) {
    super();
    this.stride = Math.ceil((SLOT_HEAD + Math.min(longest, MAX_INLINE_KEY)) / 16) * 16;
    let capacity = 16;
    while (capacity < (table.size / MAX_LOAD) * 1.01) capacity *= 2;
    this.mask = capacity - 1;
    const buffer = new SharedArrayBuffer(capacity * this.stride);
    this.words = new Int32Array(buffer);
    this.bytes = new Uint8Array(buffer);
    for (let s = 0; s < capacity; s++) this.words[(s * this.stride) >>> 2] = -1;
  }

  /**
   * The index of every record of `table` by `field` (the first record, with duplicates), built
   * once per table and field.
   */
  static of(table: RecordTable, field: string): InlineKeyIndex {
    const known = inlineBuilt.get(table, field);
    if (known) return known;
    const position = table.fieldIndexOf(field);
    const r = byteRange();
    let longest = 0;
    for (let i = 0; i < table.size; i++) {
      if (RecordTable.narrow(table.locate(i, r), position)) longest = Math.max(longest, r.end - r.start);
    }
    const index = new InlineKeyIndex(table, position, longest);
    for (let i = 0; i < table.size; i++) {
      if (RecordTable.narrow(table.locate(i, r), position)) index.add(i, r);
    }
    inlineBuilt.set(table, field, index);
    return index;
  }

  /** Memory held by the index. */
  get byteLength(): number {
    return this.words.byteLength;
  }

  private add(record: number, key: ByteRange): void {
    const { buffer, start, end } = key;
    const h = hashBytes(buffer, start, end) | 0;
    if (this.lookup(buffer, start, end, h) >= 0) return; // a duplicate: the first one stays
    const { words, bytes, stride, mask } = this;
    let slot = h & mask;
    while (words[(slot * stride) >>> 2] !== -1) slot = (slot + 1) & mask;
    const at = slot * stride;
    words[at >>> 2] = record;
    words[(at >>> 2) + 1] = h;
    const length = end - start;
    if (length + SLOT_HEAD > stride) {
      bytes[at + 8] = LONG_KEY;
      return;
    }
    bytes[at + 8] = length;
    for (let k = 0; k < length; k++) bytes[at + SLOT_HEAD + k] = buffer[start + k]!;
  }

  /** The record whose key is these bytes, or -1. */
  findBytes(key: Uint8Array, start: number, end: number): number {
    if (end === start) return -1;
    return this.lookup(key, start, end, hashBytes(key, start, end) | 0);
  }

  private lookup(key: Uint8Array, start: number, end: number, h: number): number {
    const { words, bytes, stride, mask } = this;
    const length = end - start;
    for (let slot = h & mask; ; slot = (slot + 1) & mask) {
      const at = slot * stride;
      const record = words[at >>> 2]!;
      if (record === -1) return -1;
      if (words[(at >>> 2) + 1] !== h) continue;
      const held = bytes[at + 8]!;
      if (held === LONG_KEY) {
        const k = this.table.locate(record, this.held);
        RecordTable.narrow(k, this.position);
        if (sameBytes(k.buffer, k.start, k.end, key, start, end)) return record;
        continue;
      }
      if (held !== length) continue;
      let same = true;
      for (let k = 0; k < length; k++) {
        if (bytes[at + SLOT_HEAD + k] !== key[start + k]) {
          same = false;
          break;
        }
      }
      if (same) return record;
    }
  }
}

/** Finds records of a table by key: the index of the record holding it, or -1. */
export type Finder = (key: string) => number;

/**
 * A Finder on `field` of `table`: by halving when the table is sorted by it (a snapshot usually
 * is: no index to build for a few lookups among a million), else through its KeyIndex.
 */
export function keyFinder(table: RecordTable, field: string): Finder {
  if (!table.ascendingBy(field)) {
    const index = KeyIndex.of(table, field);
    return (key) => index.find(key);
  }
  const position = table.fieldIndexOf(field);
  const probe = byteRange();
  return (key) => {
    const bytes = Buffer.from(key, 'utf8');
    let low = 0;
    let high = table.size - 1;
    while (low <= high) {
      const middle = (low + high) >>> 1;
      RecordTable.narrow(table.locate(middle, probe), position);
      const order = compareBytes(probe.buffer, probe.start, probe.end, bytes, 0, bytes.length);
      if (order === 0) return middle;
      if (order < 0) low = middle + 1;
      else high = middle - 1;
    }
    return -1;
  };
}
