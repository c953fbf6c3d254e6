/**
 * The fast path for reading CSV: a byte scanner for the files OneRoster producers actually write
 * (UTF-8, one record per line, quotes only around values with commas). It finds the fields of a
 * line in its bytes and hands their positions over without making strings, which is what lets a
 * 10M-row enrollments.csv be read at several hundred MiB/s (PapaParse, the general parser, reads
 * ~110 MiB/s; docs/csv-parser.md).
 *
 * The scanner never guesses: at the first thing outside that shape (bytes that are not UTF-8, a
 * quoted value running over a line break, a stray or unclosed quote) it stops and says so, and the
 * caller reads the file again with the general parser, which reports the problem exactly.
 */
import { isUtf8 } from 'node:buffer';
import type { Readable } from 'node:stream';

const COMMA = 0x2c;
const QUOTE = 0x22;
const LF = 0x0a;
const CR = 0x0d;

/** The fields of one line: field k is bytes [starts[k], ends[k]) of `bytes`, or `cells[k]` when given. */
export interface ScannedRow {
  bytes: Buffer;
  starts: Int32Array;
  ends: Int32Array;
  /** Number of fields. */
  count: number;
  /** Decoded values, for a line with quotes (then starts/ends are not used). */
  cells: string[] | undefined;
  /** The line holds a control character (a tab, say) or edges that need a closer look. */
  unusual: boolean;
}

export interface ScanHandler {
  /** A non-blank line (the header included), with its 1-based line number. */
  row(row: ScannedRow, line: number): void;
}

export type ScanOutcome =
  | { readonly kind: 'done'; readonly rows: number; readonly empty: boolean; readonly finalNewline: boolean }
  /** The file is not in the scanner's shape: read it with the general parser. */
  | { readonly kind: 'fallback'; readonly reason: string };

/** Splits a line with quotes (RFC 4180); undefined when a quote is out of place or unclosed. */
export function splitQuotedLine(text: string): string[] | undefined {
  const cells: string[] = [];
  let i = 0;
  for (;;) {
    if (text.charCodeAt(i) === QUOTE) {
      let value = '';
      let from = i + 1;
      for (;;) {
        const q = text.indexOf('"', from);
        if (q < 0) return undefined; // unclosed (or closed on a later line)
        if (text.charCodeAt(q + 1) === QUOTE) {
          value += text.slice(from, q + 1);
          from = q + 2;
          continue;
        }
        value += text.slice(from, q);
        i = q + 1;
        break;
      }
      cells.push(value);
      if (i === text.length) return cells;
      if (text.charCodeAt(i) !== COMMA) return undefined; // text after a closing quote
      i++;
    } else {
      const comma = text.indexOf(',', i);
      const end = comma < 0 ? text.length : comma;
      const value = text.slice(i, end);
      if (value.includes('"')) return undefined; // a quote inside an unquoted value
      cells.push(value);
      if (comma < 0) return cells;
      i = comma + 1;
    }
  }
}

/**
 * Whether splitQuotedLine takes the line in bytes [start, end): the same rule, read on the bytes
 * without making a string (a quote or a comma is never part of a longer UTF-8 character).
 */
export function quotesTaken(bytes: Uint8Array, start: number, end: number): boolean {
  let i = start;
  for (;;) {
    if (i < end && bytes[i] === QUOTE) {
      let q = i + 1;
      for (;;) {
        while (q < end && bytes[q] !== QUOTE) q++;
        if (q >= end) return false; // unclosed (or closed on a later line)
        if (q + 1 < end && bytes[q + 1] === QUOTE) {
          q += 2;
          continue;
        }
        break;
      }
      i = q + 1;
      if (i === end) return true;
      if (bytes[i] !== COMMA) return false; // text after a closing quote
      i++;
    } else {
      while (i < end && bytes[i] !== COMMA) {
        if (bytes[i] === QUOTE) return false; // a quote inside an unquoted value
        i++;
      }
      if (i >= end) return true;
      i++;
    }
  }
}

/** Scans `input` line by line. Stops (and destroys the stream) on the first fallback reason. */
export async function scanCsv(input: Readable, handler: ScanHandler): Promise<ScanOutcome> {
  const row: ScannedRow = {
    bytes: Buffer.alloc(0),
    starts: new Int32Array(64),
    ends: new Int32Array(64),
    count: 0,
    cells: undefined,
    unusual: false,
  };
  let carry: Buffer | undefined;
  const pending: Buffer[] = [];
  let pendingBytes = 0;
  let line = 1;
  let rows = 0;
  let first = true;
  let sawContent = false;
  let lastByte = -1;
  const stop = (reason: string): ScanOutcome => {
    input.destroy();
    return { kind: 'fallback', reason };
  };

  for await (const piece of input) {
    let chunk = piece as Buffer;
    if (chunk.length === 0) continue;
    lastByte = chunk[chunk.length - 1]!;
    if (first) {
      first = false;
      if ((chunk[0] === 0xff && chunk[1] === 0xfe) || (chunk[0] === 0xfe && chunk[1] === 0xff))
        return stop('UTF-16');
      if (chunk[0] === 0xef && chunk[1] === 0xbb && chunk[2] === 0xbf) chunk = chunk.subarray(3);
    }
    // A line longer than a chunk waits in pieces, joined once its end arrives: joining at every
    // chunk made one long line quadratic (12.5 MB in a zip's 16 KB pieces: 15 s).
    if (chunk.indexOf(LF) < 0) {
      pending.push(chunk);
      pendingBytes += chunk.length;
      continue;
    }
    if (pending.length > 0) {
      if (carry) pending.unshift(carry);
      carry = Buffer.concat(pending, pendingBytes + (carry?.length ?? 0));
      pending.length = 0;
      pendingBytes = 0;
    }
    const buf = carry ? Buffer.concat([carry, chunk]) : chunk;
    const lastLf = buf.lastIndexOf(LF);
    // Whole lines only: a UTF-8 sequence never spans a line break.
    if (!isUtf8(buf.subarray(0, lastLf + 1))) return stop('not UTF-8');
    let start = 0;
    while (start <= lastLf) {
      const lf = buf.indexOf(LF, start);
      const reason = scanLine(buf, start, lf > start && buf[lf - 1] === CR ? lf - 1 : lf, row);
      if (reason === 'blank') {
        // skipped, but counted as a line
      } else if (reason !== undefined) {
        return stop(reason);
      } else {
        sawContent = true;
        rows++;
        handler.row(row, line);
      }
      line++;
      start = lf + 1;
    }
    carry = lastLf + 1 < buf.length ? Buffer.from(buf.subarray(lastLf + 1)) : undefined;
  }
  if (pending.length > 0) carry = Buffer.concat(carry ? [carry, ...pending] : pending);
  if (carry && carry.length > 0) {
    if (!isUtf8(carry)) return stop('not UTF-8');
    const end = carry[carry.length - 1] === CR ? carry.length - 1 : carry.length;
    const reason = scanLine(carry, 0, end, row);
    if (reason !== undefined && reason !== 'blank') return stop(reason);
    if (reason === undefined) {
      sawContent = true;
      rows++;
      handler.row(row, line);
    }
  }
  return { kind: 'done', rows, empty: !sawContent, finalNewline: lastByte === LF };
}

/** Finds the fields of bytes [start, end). Returns 'blank', a fallback reason, or undefined. */
function scanLine(buf: Buffer, start: number, end: number, row: ScannedRow): string | undefined {
  let starts = row.starts;
  let ends = row.ends;
  let n = 0;
  let unusual = false;
  let quoted = false;
  let blank = true;
  starts[0] = start;
  for (let p = start; p < end; p++) {
    const b = buf[p]!;
    if (b === COMMA) {
      ends[n] = p;
      n++;
      if (n + 1 >= starts.length) {
        starts = grow(starts);
        ends = grow(ends);
        row.starts = starts;
        row.ends = ends;
      }
      starts[n] = p + 1;
      blank = false;
    } else if (b === QUOTE) {
      quoted = true;
      break;
    } else if (b <= 0x20) {
      // A carriage return inside a line: the general parser decides what the line breaks are.
      if (b === CR) return 'a carriage return inside a line';
      if (b !== 0x20) unusual = true;
    } else {
      blank = false;
    }
  }
  row.bytes = buf;
  if (quoted) {
    const cells = splitQuotedLine(buf.toString('utf8', start, end));
    if (!cells) return 'a quote the fast reader does not handle';
    if (cells.length === 1 && cells[0]!.trim() === '') return 'blank';
    row.cells = cells;
    row.count = cells.length;
    row.unusual = true;
    return undefined;
  }
  if (blank) return 'blank';
  // One field of non-ASCII bytes may still be only (Unicode) white space.
  if (n === 0 && buf.toString('utf8', start, end).trim() === '') return 'blank';
  ends[n] = end;
  row.count = n + 1;
  row.cells = undefined;
  row.unusual = unusual;
  return undefined;
}

function grow(a: Int32Array): Int32Array {
  const next = new Int32Array(a.length * 2);
  next.set(a);
  return next;
}
