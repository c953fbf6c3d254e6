/**
 * Edits of a OneRoster CSV file in place, as a person would make them by hand: only the rows
 * edited are written, every other byte stays as it was (BOM, line endings, quoting, column order,
 * the final newline or its absence). A changed row keeps the quoting of each cell it does not
 * change; a new row copies the quoting of its neighbour and goes where the file's order puts it
 * (by sourcedId when the rows are in that order, else at the end).
 */
import { compareBytes } from '../../model/byte-hash.js';
import { quotesStayOnTheirLine } from './changed-lines.js';
import { csvCell } from './write-csv.js';

const LF = 0x0a;
const CR = 0x0d;
const QUOTE = 0x22;
const COMMA = 0x2c;

/** What to do to a file's rows, by their key (the first column, sourcedId). */
export interface CsvEdit {
  /** Rows to change: key → column → new value ('' empties it). */
  readonly set?: ReadonlyMap<string, Readonly<Record<string, string>>>;
  /** Rows to add: column → value (columns the header lacks are an error). */
  readonly add?: readonly Readonly<Record<string, string>>[];
  /** Keys of rows to remove. */
  readonly remove?: ReadonlySet<string>;
}

/** A row: [start, end) its bytes without the line break, `next` where the next row starts. */
interface Row {
  readonly start: number;
  readonly end: number;
  readonly next: number;
}

/** Why an edit cannot be made (the caller says so and writes nothing). */
export class CsvEditError extends Error {}

/** The file's rows after the header (quote-aware: a quoted value may hold a line break). */
function rowsOf(bytes: Buffer, from: number): Row[] {
  const rows: Row[] = [];
  const simple = quotesStayOnTheirLine(bytes, from);
  let start = from;
  while (start < bytes.length) {
    let lf: number;
    if (simple) lf = bytes.indexOf(LF, start);
    else {
      let quoted = false;
      lf = -1;
      for (let i = start; i < bytes.length; i++) {
        const c = bytes[i]!;
        if (c === QUOTE) quoted = !quoted;
        else if (c === LF && !quoted) {
          lf = i;
          break;
        }
      }
    }
    const next = lf < 0 ? bytes.length : lf + 1;
    let end = lf < 0 ? bytes.length : lf;
    if (end > start && bytes[end - 1] === CR) end--;
    if (end > start) rows.push({ start, end, next });
    start = next;
  }
  return rows;
}

/** The raw cells of a row's text (quotes kept), or undefined when its quoting is broken. */
function rawCells(text: string): string[] | undefined {
  const cells: string[] = [];
  let i = 0;
  for (;;) {
    if (text[i] === '"') {
      let q = i + 1;
      for (;;) {
        q = text.indexOf('"', q);
        if (q < 0) return undefined;
        if (text[q + 1] === '"') {
          q += 2;
          continue;
        }
        break;
      }
      cells.push(text.slice(i, q + 1));
      i = q + 1;
      if (i === text.length) return cells;
      if (text[i] !== ',') return undefined;
      i++;
    } else {
      const comma = text.indexOf(',', i);
      cells.push(text.slice(i, comma < 0 ? text.length : comma));
      if (comma < 0) return cells;
      i = comma + 1;
    }
  }
}

const isQuoted = (raw: string) => raw.length >= 2 && raw.startsWith('"') && raw.endsWith('"');
const quoted = (value: string) => `"${value.replace(/"/g, '""')}"`;

/** The value of a raw cell. */
function cellValue(raw: string): string {
  return isQuoted(raw) ? raw.slice(1, -1).replace(/""/g, '"') : raw;
}

/** The key (first cell's value) of a row. */
function keyOf(bytes: Buffer, row: Row): Buffer {
  if (bytes[row.start] !== QUOTE) {
    const comma = bytes.indexOf(COMMA, row.start);
    return bytes.subarray(row.start, comma < 0 || comma > row.end ? row.end : comma);
  }
  const cells = rawCells(bytes.toString('utf8', row.start, row.end));
  return Buffer.from(cellValue(cells?.[0] ?? ''));
}

/** How new rows quote their cells: as the neighbour does (every cell, the non-empty ones, or as needed). */
type QuoteStyle = 'all' | 'filled' | 'needed';

function styleOf(cells: readonly string[] | undefined): QuoteStyle {
  if (!cells || cells.length === 0) return 'needed';
  if (cells.every(isQuoted)) return 'all';
  if (cells.every((c) => c === '' || isQuoted(c)) && cells.some(isQuoted)) return 'filled';
  return 'needed';
}

function encode(value: string, style: QuoteStyle): string {
  if (style === 'all' || (style === 'filled' && value !== '')) return quoted(value);
  return csvCell(value);
}

/** The header's column names. */
export function headerColumns(bytes: Buffer): string[] {
  const bom = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0;
  const lf = bytes.indexOf(LF);
  let text = bytes.toString('utf8', bom, lf < 0 ? bytes.length : lf);
  if (text.endsWith('\r')) text = text.slice(0, -1);
  return (rawCells(text) ?? text.split(',')).map((c) => cellValue(c).trim());
}

/**
 * `bytes` with `edit` made. Throws CsvEditError when a row to change or remove is not there, a
 * row to add is there already, or a column is not in the header.
 */
export function editCsv(bytes: Buffer, edit: CsvEdit): Buffer {
  const columns = headerColumns(bytes);
  if (columns[0] !== 'sourcedId') throw new CsvEditError('sourcedId is not the first column');
  const lf = bytes.indexOf(LF);
  const headerEnd = lf < 0 ? bytes.length : lf + 1;
  const newline = lf > 0 && bytes[lf - 1] === CR ? '\r\n' : '\n';
  const rows = rowsOf(bytes, headerEnd);
  const wanted = new Set<string>([...(edit.set?.keys() ?? []), ...(edit.remove ?? [])]);
  const adding = new Map((edit.add ?? []).map((r) => [r.sourcedId ?? '', r]));
  for (const row of [...(edit.add ?? [])]) {
    for (const name of Object.keys(row))
      if (!columns.includes(name)) throw new CsvEditError(`the header has no column ${name}`);
  }
  for (const [, fields] of edit.set ?? [])
    for (const name of Object.keys(fields))
      if (!columns.includes(name)) throw new CsvEditError(`the header has no column ${name}`);

  // Replacements: [start, end) of the file → new bytes, in order.
  const splices: { start: number; end: number; text: string }[] = [];
  const found = new Set<string>();
  let sorted = true;
  let previous: Buffer | undefined;
  const keys: Buffer[] = [];
  for (const row of rows) {
    const key = keyOf(bytes, row);
    keys.push(key);
    if (previous && compareBytes(previous, 0, previous.length, key, 0, key.length) >= 0) sorted = false;
    previous = key;
    if (wanted.size === 0 && adding.size === 0) continue;
    const k = key.toString('utf8');
    if (adding.has(k)) throw new CsvEditError(`a row ${k} is there already`);
    if (!wanted.has(k)) continue;
    found.add(k);
    if (edit.remove?.has(k)) {
      splices.push({ start: row.start, end: row.next, text: '' });
      continue;
    }
    const cells = rawCells(bytes.toString('utf8', row.start, row.end));
    if (!cells) throw new CsvEditError(`the quotes of row ${k} are broken`);
    const fields = edit.set!.get(k)!;
    while (cells.length < columns.length) cells.push('');
    for (const [name, value] of Object.entries(fields)) {
      const at = columns.indexOf(name);
      const raw = cells[at]!;
      if (cellValue(raw) === value) continue;
      cells[at] = isQuoted(raw) ? quoted(value) : csvCell(value);
    }
    splices.push({ start: row.start, end: row.end, text: cells.join(',') });
  }
  for (const k of wanted) if (!found.has(k)) throw new CsvEditError(`there is no row ${k}`);

  // New rows: where the order of keys puts them, else at the end; quoted as their neighbour.
  for (const [k, record] of [...adding].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const key = Buffer.from(k);
    let at = rows.length;
    if (sorted) {
      let lo = 0;
      let hi = rows.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        const m = keys[mid]!;
        if (compareBytes(m, 0, m.length, key, 0, key.length) < 0) lo = mid + 1;
        else hi = mid;
      }
      at = lo;
    }
    const neighbour = rows[at - 1] ?? rows[at];
    const style = styleOf(neighbour && rawCells(bytes.toString('utf8', neighbour.start, neighbour.end)));
    const line = columns.map((c) => encode(record[c] ?? '', style)).join(',');
    if (at < rows.length)
      splices.push({ start: rows[at]!.start, end: rows[at]!.start, text: `${line}${newline}` });
    else {
      // At the end: after the last row's line break (one is added when the file ends without).
      const end = rows.length ? rows[rows.length - 1]!.next : headerEnd;
      const last = end === bytes.length && bytes[end - 1] !== LF;
      splices.push({ start: end, end, text: last ? `${newline}${line}` : `${line}${newline}` });
    }
  }
  splices.sort((a, b) => a.start - b.start || a.end - b.end);
  const parts: Buffer[] = [];
  let at = 0;
  for (const s of splices) {
    parts.push(bytes.subarray(at, s.start), Buffer.from(s.text));
    at = s.end;
  }
  parts.push(bytes.subarray(at));
  return Buffer.concat(parts);
}
