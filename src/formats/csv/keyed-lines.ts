/**
 * Keyed lines: a OneRoster CSV file seen as lines keyed by their first value (the sourcedId),
 * without reading a field. Two versions of a file are then compared line by line: a line with
 * the same bytes on both sides is the same record, and only the lines that differ need to be read
 * as records (roster diff reads a few percent of two rosters this way).
 *
 * That holds only for files in the byte scanner's shape (UTF-8, one record per line) whose keys
 * need no normalizing and are each there once: `keyedLines` says why not otherwise, and the
 * caller reads the files whole. It never guesses.
 */
import { isUtf8 } from 'node:buffer';
import { compareBytes, hashBytes, sameBytes } from '../../model/byte-hash.js';
import { gallop, OrderedSearch } from '../../model/gallop.js';
import { sortByKeys } from '../../model/key-sort.js';
import { normalizeValue } from '../../model/normalize.js';
import { type ByteRange, byteRange } from '../../model/record-table.js';
import { quotesTaken, splitQuotedLine } from './scan-csv.js';

const LF = 0x0a;
const CR = 0x0d;
const COMMA = 0x2c;
const QUOTE = 0x22;
const SPACE = 0x20;
const KEY_COLUMN = Buffer.from('sourcedId');

/** A CSV file's lines after its header, each keyed by its first value. */
export interface KeyedLines {
  /** The whole file. */
  readonly bytes: Buffer;
  /** The header line, with its line break. */
  readonly header: Buffer;
  /** Lines after the header. */
  readonly count: number;
  /** Line i (0: the first after the header) is bytes [starts[i], starts[i + 1]), line break included. */
  readonly starts: Int32Array;
  /** Line i's key (its sourcedId) is bytes [starts[i], keyEnds[i]). */
  readonly keyEnds: Int32Array;
  /** Line indexes in ascending key order; undefined when the lines already are in that order. */
  readonly order: Int32Array | undefined;
  /**
   * With `order`, position by position: where line order[k] starts, where its key ends and where
   * it ends. (Walked in key order, these are read in sequence, not at random over the file.)
   */
  readonly sorted: Positions | undefined;
  /**
   * With `order`, when most lines are in key order and a few are not (rows added at the end of a
   * file): lateBefore[k] is how many of order[0..k) are such lines. Where none is, lines that
   * follow each other in `order` and in the file can be compared as one byte range.
   */
  readonly lateBefore: Int32Array | undefined;
  /** False for a file sorted whole, whose keys diffKeyedLines checks are each there once. */
  readonly keysChecked: boolean;
}

/** Lines by position: [starts[k], keyEnds[k]) is a key, [starts[k], ends[k]) a line with its break. */
interface Positions {
  readonly starts: Int32Array;
  readonly keyEnds: Int32Array;
  readonly ends: Int32Array;
}

/** The lines of a CSV file as KeyedLines, or why they cannot be (the caller reads it whole). */
export function keyedLines(bytes: Buffer): KeyedLines | string {
  if ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff)) return 'UTF-16';
  if (!isUtf8(bytes)) return 'not UTF-8';
  // (Where the byte scanner would hand the file to the general parser, lines are not records.)
  for (let r = bytes.indexOf(CR); r >= 0; r = bytes.indexOf(CR, r + 1))
    if (r + 1 < bytes.length && bytes[r + 1] !== LF) return 'a carriage return inside a line';
  const bom = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0;
  const lf = bytes.indexOf(LF);
  const headerEnd = lf < 0 ? bytes.length : lf + 1;
  const firstComma = bytes.indexOf(COMMA, bom);
  if (
    firstComma < 0 ||
    firstComma > headerEnd ||
    bytes.compare(KEY_COLUMN, 0, KEY_COLUMN.length, bom, firstComma) !== 0
  )
    return 'sourcedId is not the first column';
  const length = bytes.length;
  // (About 60 bytes a line in a roster: grown when there are more.)
  let starts: Int32Array = new Int32Array(Math.max(16, ((length - headerEnd) >>> 5) + 2));
  let keyEnds: Int32Array = new Int32Array(starts.length);
  let count = 0;
  // Lines whose key is above every key before are in order; the others are late.
  let late: number[] = [];
  let highest = -1;
  let highestEnd = -1;
  let quote = bytes.indexOf(QUOTE);
  let headerText = bytes.toString('utf8', bom, lf < 0 ? bytes.length : lf);
  if (headerText.endsWith('\r')) headerText = headerText.slice(0, -1);
  if (quote >= 0 && quote < headerEnd && !splitQuotedLine(headerText))
    return 'a quote the byte scanner does not take';
  for (let s = headerEnd; s < length; ) {
    const at = bytes.indexOf(LF, s);
    const next = at < 0 ? length : at + 1;
    let end = at < 0 ? length : at;
    if (end > s && bytes[end - 1] === CR) end--;
    if (quote >= 0 && quote < s) quote = bytes.indexOf(QUOTE, s);
    if (quote >= 0 && quote < end) {
      // A line with quotes: decoded as the byte scanner does (a quote it does not take: not here).
      if (!quotesTaken(bytes, s, end)) return 'a quote the byte scanner does not take';
      quote = bytes.indexOf(QUOTE, next);
    }
    // The key, read up to its comma while compared with the highest key so far (one pass).
    let k = s;
    let h = highest;
    let order = highest < 0 ? 1 : 0; // the key's order to the highest: undecided while 0
    while (k < end) {
      const c = bytes[k]!;
      if (c === COMMA) break;
      // (A quoted key or a control character: the reader decodes or strips them.)
      if (c < SPACE || c === QUOTE) return 'a sourcedId that needs decoding';
      if (order === 0) {
        if (h === highestEnd)
          order = 1; // (the highest is a prefix of this key)
        else order = c - bytes[h++]!;
      }
      k++;
    }
    if (k === s) return 'a line without a sourcedId (or a blank line)';
    // (Spaces at an edge are trimmed; a non-ASCII character there may be a Unicode space.)
    const first = bytes[s]!;
    const last = bytes[k - 1]!;
    if (first === SPACE || first >= 0x80 || last === SPACE || last >= 0x80)
      return 'a sourcedId that needs trimming';
    if (order <= 0)
      late.push(count); // (equal, or a prefix of the highest: not above it)
    else {
      highest = s;
      highestEnd = k;
    }
    if (count + 2 > starts.length) {
      starts = grown(starts);
      keyEnds = grown(keyEnds);
    }
    starts[count] = s;
    keyEnds[count] = k;
    count++;
    s = next;
  }
  starts[count] = length;
  const lines: KeyedLines = {
    bytes,
    header: bytes.subarray(0, headerEnd),
    count,
    starts: starts.subarray(0, count + 1),
    keyEnds: keyEnds.subarray(0, count),
    order: undefined,
    sorted: undefined,
    lateBefore: undefined,
    keysChecked: true,
  };
  if (late.length === 0) return lines; // (each key above the one before: none twice)
  const source = {
    keyOf: (i: number, out: ByteRange) => {
      out.buffer = bytes;
      out.start = lines.starts[i]!;
      out.end = lines.keyEnds[i]!;
    },
  };
  if (late.length > count / 4) {
    // In no particular order: all of it sorted (keys twice are found while walking it).
    const all = new Int32Array(count);
    for (let i = 0; i < count; i++) all[i] = i;
    const order = sortByKeys(source, all);
    return { ...lines, order, sorted: gather(lines, order), keysChecked: false };
  }
  // In order but for a few: those are sorted, and each put where it belongs among the others.
  const inOrder = new Int32Array(count - late.length);
  for (let i = 0, k = 0, l = 0; i < count; i++) {
    if (l < late.length && late[l] === i)
      l++; // (late lines were noted in file order)
    else inOrder[k++] = i;
  }
  const sortedLate = sortByKeys(source, Int32Array.from(late));
  late = [];
  const order = new Int32Array(count);
  const lateBefore = new Int32Array(count + 1);
  let placed = 0;
  let taken = 0; // in-order lines placed so far
  for (let k = 0; k < sortedLate.length; k++) {
    const line = sortedLate[k]!;
    if (k > 0 && compareLines(lines, sortedLate[k - 1]!, line) === 0) return 'a sourcedId twice';
    // The first in-order line with a key not below this one's (they ascend): looked for from the
    // last one placed by growing steps, then halving (nearby lines: not a cache miss each).
    const low = gallop(taken, inOrder.length, (i) => compareLines(lines, inOrder[i]!, line) < 0);
    if (low < inOrder.length && compareLines(lines, inOrder[low]!, line) === 0) return 'a sourcedId twice';
    // (The in-order lines up to it copied at once: a city's file has millions.)
    order.set(inOrder.subarray(taken, low), placed);
    lateBefore.fill(k, placed + 1, placed + 1 + low - taken);
    placed += low - taken;
    taken = low;
    order[placed] = line;
    lateBefore[placed + 1] = k + 1;
    placed++;
  }
  order.set(inOrder.subarray(taken), placed);
  lateBefore.fill(sortedLate.length, placed + 1);
  return { ...lines, order, sorted: gather(lines, order), lateBefore };
}

/** The lines' positions in `order`. */
function gather(lines: KeyedLines, order: Int32Array): Positions {
  const n = order.length;
  const starts = new Int32Array(n);
  const keyEnds = new Int32Array(n);
  const ends = new Int32Array(n);
  for (let k = 0; k < n; k++) {
    const i = order[k]!;
    starts[k] = lines.starts[i]!;
    keyEnds[k] = lines.keyEnds[i]!;
    ends[k] = lines.starts[i + 1]!;
  }
  return { starts, keyEnds, ends };
}

/** Key order of lines i and j of one file. */
function compareLines(lines: KeyedLines, i: number, j: number): number {
  const { bytes, starts, keyEnds } = lines;
  return compareBytes(bytes, starts[i]!, keyEnds[i]!, bytes, starts[j]!, keyEnds[j]!);
}

/** The positions of lines in key order (the file's own when it is in that order). */
function positions(lines: KeyedLines): Positions {
  return lines.sorted ?? { starts: lines.starts, keyEnds: lines.keyEnds, ends: lines.starts.subarray(1) };
}

function grown(array: Int32Array): Int32Array<ArrayBuffer> {
  const next = new Int32Array(array.length * 2);
  next.set(array);
  return next;
}

/** What changed between two versions of a file, line by line. */
export interface LineChanges {
  /** Lines of the old version that are not in the new one (removed, or changed), ascending. */
  readonly removed: Int32Array;
  /** Lines of the new version that are not in the old one (added, or changed), ascending. */
  readonly added: Int32Array;
  /** Lines in both, byte for byte. */
  readonly kept: number;
}

/**
 * The lines that differ between `before` and `after`, matched by key: a line whose key is on both
 * sides with other bytes is removed and added (the records decide whether that is an update).
 * Both are walked in key order, side by side; or why not (a key twice).
 */
export function diffKeyedLines(before: KeyedLines, after: KeyedLines): LineChanges | string {
  const removed: number[] = [];
  const added: number[] = [];
  let kept = 0;
  const na = before.count;
  const nb = after.count;
  const oa = before.order;
  const ob = after.order;
  const x = before.bytes;
  const y = after.bytes;
  const { starts: sa, keyEnds: ka, ends: ea } = positions(before);
  const { starts: sb, keyEnds: kb, ends: eb } = positions(after);
  // Runs of equal lines are matched by growing, then halving, the range compared at once (a run
  // of 25 lines costs about ten comparisons, not 25), where the lines follow each other in key
  // order as in the file (not in a file sorted whole).
  const gallop = (!oa || before.lateBefore !== undefined) && (!ob || after.lateBefore !== undefined);
  // A file sorted whole has its keys checked here, each against the one before, one step at a
  // time (no runs then), while its bytes are at hand.
  const checkA = !before.keysChecked;
  const checkB = !after.keysChecked;
  const twice = (bytes: Buffer, s: Int32Array, k: Int32Array, at: number) =>
    compareBytes(bytes, s[at - 1]!, k[at - 1]!, bytes, s[at]!, k[at]!) === 0;
  let run = 1;
  let i = 0;
  let j = 0;
  while (i < na && j < nb) {
    const n = Math.min(run, na - i, nb - j);
    if (n > 1 && !(inFileOrder(before, i, n) && inFileOrder(after, j, n))) {
      run = n >> 1;
      continue;
    }
    if (sameBytes(x, sa[i]!, ea[i + n - 1]!, y, sb[j]!, eb[j + n - 1]!)) {
      i += n;
      j += n;
      kept += n;
      if (gallop) run = n * 2;
    } else if (n > 1) {
      run = n >> 1;
      continue;
    } else {
      const order = compareBytes(x, sa[i]!, ka[i]!, y, sb[j]!, kb[j]!);
      if (order <= 0) removed.push(oa ? oa[i++]! : i++);
      if (order >= 0) added.push(ob ? ob[j++]! : j++);
    }
    if (checkA && i < na && twice(x, sa, ka, i)) return 'a sourcedId twice';
    if (checkB && j < nb && twice(y, sb, kb, j)) return 'a sourcedId twice';
  }
  for (; i < na; i++) {
    if (checkA && i > 0 && twice(x, sa, ka, i)) return 'a sourcedId twice';
    removed.push(oa ? oa[i]! : i);
  }
  for (; j < nb; j++) {
    if (checkB && j > 0 && twice(y, sb, kb, j)) return 'a sourcedId twice';
    added.push(ob ? ob[j]! : j);
  }
  return {
    removed: Int32Array.from(removed).sort(),
    added: Int32Array.from(added).sort(),
    kept,
  };
}

/** True when the lines at order positions [k, k + n) are lines order[k].. of the file, in file order. */
function inFileOrder(lines: KeyedLines, k: number, n: number): boolean {
  const { order, lateBefore } = lines;
  if (!order) return true;
  if (!lateBefore || lateBefore[k + n] !== lateBefore[k]) return false;
  // (No late line among them: lines in order ascend, so n of them spanning n lines are those.)
  return order[k + n - 1]! - order[k]! === n - 1;
}

/** The lines of `keys` (-1: none); keys in ascending order take a few steps each (OrderedSearch). */
export function findKeys(lines: KeyedLines, keys: readonly Buffer[]): Int32Array {
  const { order, bytes } = lines;
  const { starts, keyEnds } = positions(lines);
  const search = new OrderedSearch();
  return Int32Array.from(keys, (key) => {
    const at = search.find(lines.count, (k) =>
      compareBytes(bytes, starts[k]!, keyEnds[k]!, key, 0, key.length),
    );
    return at < 0 || !order ? at : order[at]!;
  });
}

/** Line i without its line break. */
export function lineBytes(lines: KeyedLines, i: number): Buffer {
  let end = lines.starts[i + 1]!;
  if (end > lines.starts[i]! && lines.bytes[end - 1] === LF) end--;
  if (end > lines.starts[i]! && lines.bytes[end - 1] === CR) end--;
  return lines.bytes.subarray(lines.starts[i]!, end);
}

/** Value `column` (0-based) of line i as the reader reads it (trimmed, control characters dropped). */
export function valueAt(lines: KeyedLines, i: number, column: number): string {
  const range = byteRange();
  if (plainField(lines, i, column, range)) return lines.bytes.toString('utf8', range.start, range.end);
  const cells = splitQuotedLine(lineBytes(lines, i).toString('utf8'));
  return normalizeValue(undefined, cells?.[column] ?? '');
}

/**
 * How many lines have each of `values` at `column` (0-based), as the reader would read it
 * (trimmed, control characters dropped), counting each value no further than `enough` of it.
 */
export function countValues(
  lines: KeyedLines,
  column: number,
  values: readonly string[],
  enough: readonly number[],
): number[] {
  const tally = values.map(() => 0);
  if (values.length === 0) return tally;
  const wanted = values.map((v) => Buffer.from(v, 'utf8'));
  const byHash = new Map<number, number[]>();
  for (const [k, bytes] of wanted.entries()) {
    const h = hashBytes(bytes, 0, bytes.length);
    byHash.set(h, [...(byHash.get(h) ?? []), k]);
  }
  let open = values.length;
  const { bytes } = lines;
  const range = byteRange();
  const add = (k: number) => {
    tally[k]!++;
    if (tally[k] === enough[k]) open--;
  };
  for (let i = 0; i < lines.count && open > 0; i++) {
    if (!plainField(lines, i, column, range)) {
      // A quote, a control character or white space at an edge: decoded and normalized as read.
      const k = values.indexOf(valueAt(lines, i, column));
      if (k >= 0) add(k);
      continue;
    }
    const candidates = byHash.get(hashBytes(bytes, range.start, range.end));
    if (!candidates) continue;
    for (const k of candidates) {
      const w = wanted[k]!;
      if (compareBytes(w, 0, w.length, bytes, range.start, range.end) === 0) add(k);
    }
  }
  return tally;
}

/** Finds value `column` of line i in `range`; false when it needs decoding or normalizing. */
function plainField(
  lines: KeyedLines,
  i: number,
  column: number,
  range: { start: number; end: number },
): boolean {
  const { bytes, starts } = lines;
  let at = starts[i]!;
  let end = starts[i + 1]!;
  if (end > at && bytes[end - 1] === LF) end--;
  if (end > at && bytes[end - 1] === CR) end--;
  for (let c = 0; c < column; c++) {
    while (at < end && bytes[at] !== COMMA) {
      if (bytes[at] === QUOTE) return false;
      at++;
    }
    if (at >= end) {
      range.start = range.end = at; // fewer values than that: an empty one
      return true;
    }
    at++;
  }
  const from = at;
  while (at < end) {
    const c = bytes[at]!;
    if (c === COMMA) break;
    if (c < SPACE || c === QUOTE) return false;
    at++;
  }
  if (
    at > from &&
    (bytes[from] === SPACE || bytes[from]! >= 0x80 || bytes[at - 1] === SPACE || bytes[at - 1]! >= 0x80)
  )
    return false;
  range.start = from;
  range.end = at;
  return true;
}

/** The header, then the lines, each ending in a line break. */
export function linesOf(header: Buffer, lines: readonly Buffer[]): Buffer {
  const parts: Buffer[] = [header];
  if (header.length > 0 && header[header.length - 1] !== 0x0a) parts.push(NEWLINE);
  for (const line of lines) parts.push(line, NEWLINE);
  return Buffer.concat(parts);
}
const NEWLINE = Buffer.from('\n');

/**
 * As linesOf(lines.header, the lines i with marks[i] !== 0, in file order), copied straight
 * from the file's bytes (roster diff packages tens of thousands of lines).
 */
export function markedLines(lines: KeyedLines, marks: Uint8Array): Buffer {
  const { bytes, header, starts } = lines;
  const headerBreak = header.length > 0 && header[header.length - 1] !== LF ? 1 : 0;
  // (A line without its break, CR LF or LF; then a LF.)
  const contentEnd = (i: number) => {
    let end = starts[i + 1]!;
    if (end > starts[i]! && bytes[end - 1] === LF) end--;
    if (end > starts[i]! && bytes[end - 1] === CR) end--;
    return end;
  };
  let size = header.length + headerBreak;
  for (let i = 0; i < marks.length; i++) if (marks[i] !== 0) size += contentEnd(i) - starts[i]! + 1;
  const out = Buffer.allocUnsafe(size);
  let at = header.copy(out, 0);
  if (headerBreak) out[at++] = LF;
  for (let i = 0; i < marks.length; i++) {
    if (marks[i] === 0) continue;
    // (Byte by byte: a line is short, and Buffer.copy costs more per call than copying it.)
    for (let k = starts[i]!, end = contentEnd(i); k < end; k++) out[at++] = bytes[k]!;
    out[at++] = LF;
  }
  return out;
}
