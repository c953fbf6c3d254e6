/**
 * Compact storage for the records of one entity. A large district has ~10M enrollments; holding
 * each as a JS object (or even one JS string) would cost hundreds of bytes apiece and keep the
 * garbage collector busy, so records live as UTF-8 bytes in large buffers (an arena, outside the
 * JS heap): each record's normalized values in `fields` order, joined by U+001F (the ASCII unit
 * separator, which normalization strips from values), trailing empty values dropped. Per record
 * the table keeps only numbers in typed arrays: where its bytes are, a 32-bit hash of them, and
 * where it was read from (~22 bytes). Records are decoded on demand.
 *
 * All of it is shared memory (SharedArrayBuffer): a table read on a worker thread can be read on
 * the main one at once, while the worker goes on reading it too (see share). Once shared, a table
 * is only read; appending to it afterwards moves it to fresh memory on that side.
 */
import { compareBytes, hashBytes, hashString, mix32, sameBytes } from './byte-hash.js';
import { type EntityName, fieldNames } from './entities.js';
import { fingerprintValues } from './fingerprint.js';
import { setField } from './normalize.js';

/** A record as the rest of the code sees it: field name -> normalized string value ('' when empty). */
export type RosterRecord = Readonly<Record<string, string>>;

/** Where a record was read from. `line` is 1-based. */
export interface Origin {
  readonly file: string;
  readonly line: number;
}

/** A RecordTable as plain data over shared memory (see RecordTable.share). */
export interface TableData {
  readonly entity: EntityName;
  readonly fields: readonly string[];
  readonly count: number;
  readonly chunks: Uint8Array[];
  /** Per record, META numbers: its chunk, offset, length and hash (see RecordTable). */
  readonly meta: Uint32Array;
  readonly files: readonly string[];
  readonly originFile: Uint16Array;
  readonly originLine: Uint32Array;
  /** The table's content sums once a thread has computed them (see contentSums); absent: none. */
  readonly sums?: Int32Array;
}

/** A byte range inside one of a table's buffers (filled by RecordTable.locate). */
export interface ByteRange {
  buffer: Buffer;
  start: number;
  end: number;
}

/** An empty range, to be filled by RecordTable.locate (one per loop, reused for every record). */
export function byteRange(): ByteRange {
  return { buffer: EMPTY, start: 0, end: 0 };
}
const EMPTY = Buffer.alloc(0);

/** The separator between a record's values. */
export const SEPARATOR = 0x1f;
const SEP = '\u001f';
const CHUNK_BYTES = 4 << 20;
/** Numbers kept per record in RecordTable's `meta`. */
const META = 4;
/** Numbers in RecordTable's shared `sums`, and their first one's states (0: not computed). */
const SUMS = 4;
const SUMS_BEING_COMPUTED = 1;
const SUMS_DONE = 2;

type TypedArray = Uint8Array | Uint16Array | Uint32Array | Int32Array;
type TypedArrayKind<T> = { new (buffer: SharedArrayBuffer): T; readonly BYTES_PER_ELEMENT: number };

/** A zero-filled typed array of `length` elements in shared memory (postMessage shares it, never copies). */
export function sharedArray<T extends TypedArray>(kind: TypedArrayKind<T>, length: number): T {
  return new kind(new SharedArrayBuffer(length * kind.BYTES_PER_ELEMENT));
}

function grow<T extends Uint16Array | Uint32Array>(array: T, needed: number): T {
  if (needed <= array.length) return array;
  const kind = array.constructor as unknown as TypedArrayKind<T>;
  const next = sharedArray(kind, Math.max(needed, array.length * 2));
  next.set(array);
  return next;
}

export class RecordTable {
  readonly entity: EntityName;
  /** Model fields first, then extension columns (`metadata.*` and others) in first-seen order. */
  readonly fields: string[];
  private readonly fieldIndex = new Map<string, number>();
  private count = 0;
  private readonly chunks: Buffer[] = [];
  private chunk: Buffer = Buffer.alloc(0);
  private used = 0;
  /**
   * Per record, META numbers side by side: the chunk holding its bytes, their offset and length,
   * and a 32-bit hash of them. Together they fill 16 bytes of one cache line, so diagnostic a record
   * (a hash-table probe, at random over millions) costs one memory access here, not four.
   */
  private meta = sharedArray(Uint32Array, META * 64);
  private readonly files: string[] = [];
  private originFile = sharedArray(Uint16Array, 64);
  /** 0: no origin known. */
  private originLine = sharedArray(Uint32Array, 64);
  /** contentSums, shared by the threads the table is shared with: [state, sum A, sum B, size]. */
  private sums = sharedArray(Int32Array, SUMS);

  constructor(entity: EntityName) {
    this.entity = entity;
    this.fields = fieldNames(entity);
    for (const [i, f] of this.fields.entries()) this.fieldIndex.set(f, i);
  }

  get size(): number {
    return this.count;
  }

  /** Extension columns (not part of the OneRoster model) seen in this table. */
  get extensionFields(): string[] {
    return this.fields.slice(fieldNames(this.entity).length);
  }

  /** Makes sure a field exists (an extension column seen in a header), even when all its values are empty. */
  declareField(name: string): void {
    if (this.fieldIndex.has(name)) return;
    this.fieldIndex.set(name, this.fields.length);
    this.fields.push(name);
  }

  /** The position of `name` in `fields`, or -1. */
  fieldIndexOf(name: string): number {
    return this.fieldIndex.get(name) ?? -1;
  }

  // --- Adding records -------------------------------------------------------------------------

  /**
   * Room for a record of at most `maxBytes` bytes: write it into `writeBuffer` from the offset
   * returned, then call endRecord with where it ends. (The readers' fast path: no string is made.)
   */
  beginRecord(maxBytes: number): number {
    if (this.chunks.length === 0 || this.used + maxBytes > this.chunk.length) {
      if (this.chunks.length >= 0xffff) throw new RangeError(`${this.entity}: too many records`);
      this.chunk = Buffer.from(new SharedArrayBuffer(Math.max(CHUNK_BYTES, maxBytes)));
      this.chunks.push(this.chunk);
      this.used = 0;
    }
    return this.used;
  }

  /** The buffer beginRecord made room in. */
  get writeBuffer(): Buffer {
    return this.chunk;
  }

  /** Ends the record begun at beginRecord's offset; trailing separators are dropped. Returns its index. */
  endRecord(end: number, fileId = -1, line = 0): number {
    const start = this.used;
    const buf = this.chunk;
    while (end > start && buf[end - 1] === SEPARATOR) end--;
    const i = this.count++;
    if (META * i >= this.meta.length) this.reserve(i + 1);
    const m = META * i;
    const meta = this.meta;
    meta[m] = this.chunks.length - 1;
    meta[m + 1] = start;
    meta[m + 2] = end - start;
    meta[m + 3] = hashBytes(buf, start, end);
    if (fileId >= 0) {
      this.originFile[i] = fileId;
      this.originLine[i] = line;
    }
    this.used = end;
    return i;
  }

  private reserve(n: number): void {
    this.meta = grow(this.meta, META * n);
    this.originFile = grow(this.originFile, n);
    this.originLine = grow(this.originLine, n);
  }

  /** The id to pass to endRecord for records read from `file`. */
  fileId(file: string): number {
    let f = this.files.lastIndexOf(file);
    if (f < 0) f = this.files.push(file) - 1;
    return f;
  }

  private addJoined(text: string, origin?: Origin): number {
    const at = this.beginRecord(text.length * 3);
    const written = this.chunk.write(text, at, 'utf8');
    return this.endRecord(at + written, origin ? this.fileId(origin.file) : -1, origin?.line ?? 0);
  }

  /**
   * Adds a record given as normalized values aligned with `fields` (missing trailing values are
   * empty). No object is built for the row.
   */
  addValues(values: readonly string[], origin?: Origin): number {
    return this.addJoined(values.join(SEP), origin);
  }

  /** Adds a record whose values are already normalized. Returns its index. */
  add(record: RosterRecord, origin?: Origin): number {
    const values: string[] = new Array(this.fields.length).fill('');
    for (const [name, value] of Object.entries(record)) {
      if (value === '') continue;
      let i = this.fieldIndex.get(name);
      if (i === undefined) {
        i = this.fields.length;
        this.fields.push(name);
        this.fieldIndex.set(name, i);
        values.push('');
      }
      values[i] = value;
    }
    return this.addValues(values, origin);
  }

  /** Grows by one whenever records are taken back (what was indexed may no longer be there). */
  get generation(): number {
    return this.truncations;
  }
  private truncations = 0;

  /** Drops every record from index `size` on (a reader abandoning a file it reads again). */
  truncate(size: number): void {
    if (size >= this.count) return;
    this.truncations++;
    Atomics.store(this.sums, 0, 0); // (a table taken back to an earlier size may grow to it again)
    this.count = size;
    const m = META * (size - 1);
    const c = size === 0 ? -1 : this.meta[m]!;
    this.chunks.length = c + 1;
    this.chunk = c < 0 ? Buffer.alloc(0) : this.chunks[c]!;
    this.used = c < 0 ? 0 : this.meta[m + 1]! + this.meta[m + 2]!;
  }

  // --- Reading records ------------------------------------------------------------------------

  /**
   * Memory: the per-record numbers (typed arrays, with their spare room), the records' bytes, and
   * the buffers holding them (4 MiB each: a small table's is mostly empty).
   */
  get footprint(): { indexBytes: number; dataBytes: number; bufferBytes: number } {
    const arrays = [this.meta, this.originFile, this.originLine];
    let dataBytes = 0;
    for (let i = 0; i < this.count; i++) dataBytes += this.meta[META * i + 2]!;
    return {
      indexBytes: arrays.reduce((n, a) => n + a.byteLength, 0),
      dataBytes,
      bufferBytes: this.chunks.reduce((n, c) => n + c.length, 0),
    };
  }

  /** The buffer holding record `index`, and where in it the record starts and ends. */
  locate(index: number, out: ByteRange): ByteRange {
    if (index >= this.count) throw new RangeError(`no record ${index} in ${this.entity}`);
    const m = META * index;
    const meta = this.meta;
    out.buffer = this.chunks[meta[m]!]!;
    out.start = meta[m + 1]!;
    out.end = out.start + meta[m + 2]!;
    return out;
  }

  /**
   * Narrows `out` (a located record) to the value at field position `position`; false when the
   * record has no such value (it is empty).
   */
  static narrow(out: ByteRange, position: number): boolean {
    const { buffer } = out;
    const end = out.end;
    // A JS loop, not buffer.indexOf: records are short, and a native call per field cost more
    // than the scan (seconds over a city's references).
    let s = out.start;
    for (let k = 0; k < position; k++) {
      while (s < end && buffer[s] !== SEPARATOR) s++;
      if (s >= end) {
        out.start = end;
        return false;
      }
      s++;
    }
    let e = s;
    while (e < end && buffer[e] !== SEPARATOR) e++;
    out.start = s;
    out.end = e;
    return e > s;
  }

  private ascending: { field: string; size: number; generation: number; result: boolean } | undefined;

  /**
   * True when every record has a value at `field` and the values rise strictly in byte order
   * with the record number (a file sorted by id). Found by one pass over the records, remembered.
   */
  ascendingBy(field: string): boolean {
    const known = this.ascending;
    if (known && known.field === field && known.size === this.count && known.generation === this.truncations)
      return known.result;
    const position = this.fieldIndexOf(field);
    let result = position >= 0;
    let previous = byteRange();
    let r = byteRange();
    for (let i = 0; i < this.count && result; i++) {
      if (!RecordTable.narrow(this.locate(i, r), position)) result = false;
      else if (
        i > 0 &&
        compareBytes(previous.buffer, previous.start, previous.end, r.buffer, r.start, r.end) >= 0
      )
        result = false;
      [previous, r] = [r, previous];
    }
    this.ascending = { field, size: this.count, generation: this.truncations, result };
    return result;
  }

  /**
   * Tells the table what ascendingBy(field) answers, known from elsewhere: the incremental plan's
   * cache, bound to the very snapshot this table was read from (a city's check takes ~0.5 s).
   */
  knowAscending(field: string, result: boolean): void {
    this.ascending = { field, size: this.count, generation: this.truncations, result };
  }

  /** A 32-bit hash of the record's stored bytes. */
  hashOf(index: number): number {
    return this.meta[META * index + 3]!;
  }

  /**
   * True when record `index` is stored exactly as record `j` of `other` (same values in the same
   * field order). Two tables with the same `fields` store equal records as equal bytes.
   */
  sameStored(index: number, other: RecordTable, j: number): boolean {
    const a3 = META * index + 3;
    const b3 = META * j + 3;
    if (this.meta[a3] !== other.meta[b3] || this.meta[a3 - 1] !== other.meta[b3 - 1]) return false;
    const a = this.locate(index, scratchA);
    const b = other.locate(j, scratchB);
    return sameBytes(a.buffer, a.start, a.end, b.buffer, b.start, b.end);
  }

  /**
   * Whether record `index` and `other`'s record `j`, of the same fields in the same order, hold
   * the same values but perhaps at field position `skip` (-1: none). What equal fingerprints say
   * when dateLastModified is skipped, without hashing either.
   */
  sameValuesBut(index: number, other: RecordTable, j: number, skip: number): boolean {
    const a = this.stored(index).split(SEP);
    const b = other.stored(j).split(SEP);
    for (let k = 0, n = Math.max(a.length, b.length); k < n; k++)
      if (k !== skip && (a[k] ?? '') !== (b[k] ?? '')) return false;
    return true;
  }

  /** The record as stored (normalized values in `fields` order, trailing empties dropped). */
  stored(index: number): string {
    const r = this.locate(index, scratchA);
    return r.buffer.toString('utf8', r.start, r.end);
  }

  /** The record's values in `fields` order (trailing empty values may be missing): one split, no object. */
  values(index: number): string[] {
    return this.stored(index).split(SEP);
  }

  private sortedOrder: { names: string[]; index: number[] } | undefined;

  /** The record's fingerprint (as fingerprintRecord(get(index))), without decoding it to an object. */
  fingerprint(index: number): string {
    if (!this.sortedOrder || this.sortedOrder.index.length !== this.fields.length) {
      const index = this.fields.map((_, i) => i).sort((a, b) => (this.fields[a]! < this.fields[b]! ? -1 : 1));
      this.sortedOrder = { names: index.map((i) => this.fields[i]!), index };
    }
    const parts = this.stored(index).split(SEP);
    const { names, index: order } = this.sortedOrder;
    const values = new Array<string>(order.length);
    for (let k = 0; k < order.length; k++) values[k] = parts[order[k]!] ?? '';
    return fingerprintValues(names, values);
  }

  /**
   * Two 32-bit lanes summing, over every record, a hash of its content that does not depend on
   * the table's field order or on dateLastModified: per non-empty value, a hash of its bytes seeded
   * by its field's name. Equal records give equal sums whatever their layout or order. (What
   * fingerprintRoster is made of: ~1 ns per byte, no string per record.)
   */
  contentSums(): [number, number] {
    // Computed once for every thread the table is shared with, by whichever asks first (a city's
    // take ~2 s): a thread with nothing else to do may compute them before they are needed.
    const sums = this.sums;
    let waited = 0;
    for (;;) {
      const state = Atomics.load(sums, 0);
      if (state === SUMS_DONE && sums[3] === this.count) return [sums[1]! >>> 0, sums[2]! >>> 0];
      if (state === SUMS_BEING_COMPUTED) {
        // (Bounded: should the other thread be gone, compute them here rather than wait forever.)
        if (waited++ < 600) Atomics.wait(sums, 0, SUMS_BEING_COMPUTED, 100);
        else return this.computeContentSums();
        continue;
      }
      if (Atomics.compareExchange(sums, 0, state, SUMS_BEING_COMPUTED) !== state) continue;
      const [a, b] = this.computeContentSums();
      sums[1] = a | 0;
      sums[2] = b | 0;
      sums[3] = this.count;
      Atomics.store(sums, 0, SUMS_DONE);
      Atomics.notify(sums, 0);
      return [a, b];
    }
  }

  private computeContentSums(): [number, number] {
    // Typed arrays of seeds, the last value handled after the loop: twice as fast as plain arrays
    // and a test for the end in the loop (seconds at city scale).
    const seedA = Int32Array.from(this.fields, (f) => hashString(f, 0x243f6a88));
    const seedB = Int32Array.from(this.fields, (f) => hashString(f, 0x85a308d3));
    const skip = Uint8Array.from(this.fields, (f) => (f === 'dateLastModified' ? 1 : 0));
    let sumA = 0;
    let sumB = 0;
    const r = scratchA;
    for (let i = 0; i < this.count; i++) {
      this.locate(i, r);
      const { buffer, end } = r;
      let a = 0;
      let b = 0;
      let f = 0;
      let s = r.start;
      // Both lanes in one pass over the bytes: hashBytes(value, seedA[f]) and hashBytes(value, seedB[f]).
      let ha = seedA[0]!;
      let hb = seedB[0]!;
      for (let p = s; p < end; p++) {
        const byte = buffer[p]!;
        if (byte !== SEPARATOR) {
          ha = Math.imul(ha ^ byte, 0x01000193);
          hb = Math.imul(hb ^ byte, 0x01000193);
          continue;
        }
        if (p > s && skip[f] === 0) {
          a = (a + mix32(ha)) | 0;
          b = (b + mix32(hb)) | 0;
        }
        f++;
        s = p + 1;
        ha = seedA[f]!;
        hb = seedB[f]!;
      }
      if (end > s && skip[f] === 0) {
        a = (a + mix32(ha)) | 0;
        b = (b + mix32(hb)) | 0;
      }
      sumA = (sumA + mix32(a)) | 0;
      sumB = (sumB + mix32(b ^ 0x5bd1e995)) | 0;
    }
    return [sumA >>> 0, sumB >>> 0];
  }

  /** The record at `index`, with every field of the table present ('' when empty). */
  get(index: number): RosterRecord {
    const parts = this.stored(index).split(SEP);
    const record: Record<string, string> = {};
    for (let i = 0; i < this.fields.length; i++) record[this.fields[i]!] = parts[i] ?? '';
    const proto = this.fieldIndex.get('__proto__');
    if (proto !== undefined) setField(record, '__proto__', parts[proto] ?? '');
    return record;
  }

  /** One field of the record at `index`, without decoding the others. */
  value(index: number, field: string): string {
    const position = this.fieldIndex.get(field);
    if (position === undefined) return '';
    const r = this.locate(index, scratchA);
    if (!RecordTable.narrow(r, position)) return '';
    return r.buffer.toString('utf8', r.start, r.end);
  }

  origin(index: number): Origin | undefined {
    const line = this.originLine[index];
    if (!line || index >= this.count) return undefined;
    return { file: this.files[this.originFile[index]!]!, line };
  }

  /**
   * The table as plain data for another thread (postMessage): views of its shared memory, so
   * nothing is copied and the table stays usable here. Neither side may append to the records
   * shared (appending after this point is safe: it grows into fresh memory on that side).
   */
  share(): TableData {
    const n = this.count;
    // The next record goes to a fresh chunk: the receiving side must not see this one change.
    this.used = this.chunk.length;
    return {
      entity: this.entity,
      fields: [...this.fields],
      count: n,
      chunks: this.chunks.map((c) => new Uint8Array(c.buffer, c.byteOffset, c.length)),
      meta: this.meta.subarray(0, META * n),
      files: [...this.files],
      originFile: this.originFile.subarray(0, n),
      originLine: this.originLine.subarray(0, n),
      sums: this.sums,
    };
  }

  /** A table over share()'s data (received from another thread). */
  static fromShared(data: TableData): RecordTable {
    const table = new RecordTable(data.entity);
    for (const f of data.fields) table.declareField(f);
    table.count = data.count;
    table.chunks.push(...data.chunks.map((c) => Buffer.from(c.buffer, c.byteOffset, c.length)));
    table.chunk = table.chunks[table.chunks.length - 1] ?? Buffer.alloc(0);
    // Appending goes to a fresh buffer: the last one's free space is not known exactly here.
    table.used = table.chunk.length;
    const n = data.count;
    const view = <T>(kind: new (b: ArrayBuffer, o: number, n: number) => T, a: ArrayBufferView): T =>
      new kind(a.buffer as ArrayBuffer, a.byteOffset, n);
    table.meta = new Uint32Array(data.meta.buffer as ArrayBuffer, data.meta.byteOffset, META * n);
    table.files.push(...data.files);
    table.originFile = view(Uint16Array, data.originFile);
    table.originLine = view(Uint32Array, data.originLine);
    if (data.sums) table.sums = new Int32Array(data.sums.buffer as ArrayBuffer, data.sums.byteOffset, SUMS);
    return table;
  }

  *[Symbol.iterator](): IterableIterator<RosterRecord> {
    for (let i = 0; i < this.count; i++) yield this.get(i);
  }
}

// Reused ranges for the methods above (single-threaded: never held across calls).
const scratchA = byteRange();
const scratchB = byteRange();
