/**
 * Matching the records of two tables by a key field: the roster's records (`desired`) against what
 * the target holds (`current`). One call, matchRecords, yields every matched pair and tells which of
 * the target's records no roster record matched; how it finds them is its own business:
 *
 * - `current` sorted by key (as exports, and so our snapshots, usually are): both sides are walked
 *   side by side, not looked up one by one (millions of cache misses at city scale, and an index
 *   of 130+ MB); roster records out of key order (added at the end of a file, or all of them) are
 *   radix-sorted and walked again;
 * - sorted, and only a few roster records to match (an incremental plan's scope): each is found by
 *   halving (SortedFinder);
 * - not sorted: a typed-array index on the key bytes (KeyIndex: no string per record, no Map over
 *   8M entries), tried after a walk at the roster's own place (AlignedWalk: a target holds what the
 *   last apply sent, in the roster's order).
 *
 * Pure and synchronous; knows nothing of plans, policies or changes.
 */
import { compareBytes, sameBytes } from '../model/byte-hash.js';
import { OrderedSearch } from '../model/gallop.js';
import { KeyIndex } from '../model/key-index.js';
import { sortByKey } from '../model/key-sort.js';
import { type ByteRange, byteRange, RecordTable } from '../model/record-table.js';

/** What matchRecords found besides the pairs. */
export interface Matching {
  /** The sourcedIds of roster records without the key field (they cannot be matched). */
  readonly keyless: readonly string[];
  /**
   * Whether current record `i` was matched by a roster record, or another current record with
   * the same key was (several may share one: the one found speaks for all).
   */
  matched(i: number): boolean;
}

/**
 * Matches `desired`'s records to `current`'s by `field`. Calls `pair(i, found)` once for every roster
 * record i that has the key (found: the current record holding it, -1: none), in an order of its
 * choosing. `few`: only some of the roster's records are compared (an incremental plan): found by
 * halving rather than walked past millions.
 */
export function matchRecords(
  desired: RecordTable,
  current: RecordTable | undefined,
  field: string,
  few: boolean,
  pair: (desiredIndex: number, currentIndex: number) => void,
): Matching {
  const sorted = current?.ascendingBy(field) === true;
  const currentIndex = current && !sorted ? KeyIndex.of(current, field) : undefined;
  const desiredKey = desired.fieldIndexOf(field);
  const currentKey = current ? current.fieldIndexOf(field) : -1;
  // Which current records the roster still has: one byte per record, not a second key map.
  const matched = new Uint8Array(current?.size ?? 0);
  const keyless: string[] = [];
  const settle = (i: number, found: number) => {
    if (found >= 0) matched[found] = 1;
    pair(i, found);
  };
  const range = byteRange();
  const walk = sorted && !few ? new SortedWalk(current!, currentKey) : undefined;
  const finder = sorted && few ? new SortedFinder(current!, currentKey) : undefined;
  const aligned = currentIndex?.unique ? new AlignedWalk(current!, currentKey) : undefined;
  // Records out of key order (a typed array: a city's 8M in no order would be 70 MB as numbers).
  let late: Int32Array | undefined;
  let lateCount = 0;
  for (let i = 0; i < desired.size; i++) {
    if (desiredKey < 0 || !RecordTable.narrow(desired.locate(i, range), desiredKey)) {
      keyless.push(desired.value(i, 'sourcedId'));
      continue;
    }
    if (walk) {
      if (walk.accepts(range)) settle(i, walk.find(range));
      else {
        late ??= new Int32Array(desired.size - i);
        late[lateCount++] = i;
      }
    } else if (finder) settle(i, finder.find(range));
    else if (!currentIndex) settle(i, -1);
    else {
      const at = aligned ? aligned.find(range) : -1;
      settle(i, at >= 0 ? at : currentIndex.findBytes(range.buffer, range.start, range.end));
    }
  }
  if (late) {
    // Sorted by key (a radix sort: a city's 8M in well under a second), and walked again.
    const again = new SortedWalk(current!, currentKey);
    for (const i of sortByKey(desired, desiredKey, late.subarray(0, lateCount))) {
      RecordTable.narrow(desired.locate(i, range), desiredKey);
      settle(i, again.find(range));
    }
  }
  return {
    keyless,
    matched(i: number): boolean {
      if (matched[i] === 1) return true;
      // (Sorted keys are all different; in an index, the record it holds for a key speaks for all.)
      const first = !currentIndex ? -1 : currentIndex.findFrom(current!, i, currentKey);
      return first >= 0 && matched[first] === 1;
    },
  };
}

/**
 * Finds the records of a table sorted by key (RecordTable.ascendingBy), for keys asked mostly in
 * key order (a plan's changed records): a few steps each (OrderedSearch).
 */
class SortedFinder {
  private readonly search = new OrderedSearch();
  private readonly probe = byteRange();

  constructor(
    private readonly table: RecordTable,
    private readonly position: number,
  ) {}

  /** The record holding `key`; -1: none. */
  find(key: ByteRange): number {
    return this.search.find(this.table.size, (record) => this.compare(record, key));
  }

  private compare(record: number, key: ByteRange): number {
    const probe = this.probe;
    RecordTable.narrow(this.table.locate(record, probe), this.position);
    return compareBytes(probe.buffer, probe.start, probe.end, key.buffer, key.start, key.end);
  }
}

/**
 * Finds the records of a table sorted by key (RecordTable.ascendingBy) for keys given in key
 * order, by walking the table once from the start.
 */
class SortedWalk {
  private next = 0;
  private found = -1;
  private readonly last = byteRange();
  private readonly held = byteRange();

  constructor(
    private readonly table: RecordTable,
    private readonly position: number,
  ) {}

  /** True when `key` does not come before the last key looked for (find may be asked). */
  accepts(key: ByteRange): boolean {
    const { last } = this;
    return (
      last.end === last.start ||
      compareBytes(last.buffer, last.start, last.end, key.buffer, key.start, key.end) <= 0
    );
  }

  /** The record holding `key` (-1: none). Keys must come in order (see accepts). */
  find(key: ByteRange): number {
    const { last, table } = this;
    if (last.end > last.start && sameBytes(last.buffer, last.start, last.end, key.buffer, key.start, key.end))
      return this.found; // the same key again (a roster holding it twice)
    last.buffer = key.buffer;
    last.start = key.start;
    last.end = key.end;
    this.found = -1;
    for (; this.next < table.size; this.next++) {
      const k = table.locate(this.next, this.held);
      RecordTable.narrow(k, this.position);
      const order = compareBytes(k.buffer, k.start, k.end, key.buffer, key.start, key.end);
      if (order < 0) continue;
      if (order === 0) this.found = this.next++;
      break;
    }
    return this.found;
  }
}

/**
 * Finds the records of a table whose keys are all different (KeyIndex.unique) for keys given in
 * about the table's own order: at the walk's place, or a few records on (the ones passed over were
 * removed or moved). Says -1 otherwise, for the caller to look the key up; gives up for good when
 * the orders turn out unrelated. With unique keys, a record found here is the one an index finds.
 */
class AlignedWalk {
  private next = 0;
  private tries = 0;
  private misses = 0;
  private readonly held = byteRange();

  constructor(
    private readonly table: RecordTable,
    private readonly position: number,
  ) {}

  find(key: ByteRange): number {
    if (this.misses > 1000 && this.misses * 2 > this.tries) return -1; // unrelated orders
    this.tries++;
    const { table, held } = this;
    const last = Math.min(table.size, this.next + ALIGNED_LOOKAHEAD);
    for (let j = this.next; j < last; j++) {
      RecordTable.narrow(table.locate(j, held), this.position);
      if (sameBytes(held.buffer, held.start, held.end, key.buffer, key.start, key.end)) {
        this.next = j + 1;
        return j;
      }
    }
    this.misses++;
    return -1;
  }
}

/** How far past its place an AlignedWalk looks (records removed in a row). */
const ALIGNED_LOOKAHEAD = 8;
