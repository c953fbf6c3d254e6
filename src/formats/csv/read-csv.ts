/**
 * Streaming CSV reading (RFC 4180) with the checks every OneRoster file needs: encoding (UTF-8,
 * with or without BOM), quoting, blank lines, final newline, and a 1-based line number for every
 * row. Rows are handed to a callback as they are parsed; a file is never held whole, so a 2 GB
 * users.csv streams like a small one.
 *
 * The parser is PapaParse (see docs/csv-parser.md for why: the fastest of the streaming parsers
 * measured that still reports malformed quotes).
 */
import { type Readable, Transform, type TransformCallback } from 'node:stream';
import Papa from 'papaparse';
import type { Diagnostics } from '../../diagnostic.js';

export interface CsvReadResult {
  /** Number of rows, the header included (blank lines not counted). */
  readonly rows: number;
  /** The file had no content at all (0 bytes, or only a BOM or blank lines). */
  readonly empty: boolean;
  /** Reading stopped early (bad encoding): the rows seen are incomplete. */
  readonly aborted: boolean;
}

export type RowHandler = (cells: string[], line: number) => void;

/** Guesses what a non-UTF-8 byte sequence is, for the error message. */
export function guessEncoding(bytes: Uint8Array): string {
  if (
    bytes.length >= 2 &&
    ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff))
  ) {
    return 'UTF-16';
  }
  let zeros = 0;
  let c1 = 0;
  for (const b of bytes.subarray(0, 4096)) {
    if (b === 0) zeros++;
    else if (b >= 0x80 && b <= 0x9f) c1++;
  }
  if (zeros > 0) return 'UTF-16';
  return c1 > 0 ? 'Windows-1252' : 'ISO-8859-1 (Latin-1)';
}

class EncodingError extends Error {
  constructor(
    readonly encoding: string,
    readonly byte: number,
    readonly line: number,
  ) {
    super('not UTF-8');
  }
}

/**
 * Follows RFC 4180 quoting over the decoded text, to find what PapaParse reads without a word: a
 * quote inside an unquoted value (`Le"o`), kept as a character. One call per line that has one.
 */
class StrayQuotes {
  // 0: at the start of a field; 1: in an unquoted value; 2: in a quoted value; 3: a quote in a
  // quoted value (closing it, or the first of a doubled one).
  private state = 0;
  private line = 1;
  private field = 1;
  private reported = 0;

  constructor(private readonly onStray: (line: number, field: number) => void) {}

  feed(text: string): void {
    let { state, line, field } = this;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c === 10) {
        line++;
        if (state !== 2) {
          state = 0;
          field = 1;
        }
      } else if (c === 44 /* , */) {
        if (state !== 2) {
          state = 0;
          field++;
        }
      } else if (c === 34 /* " */) {
        if (state === 0) state = 2;
        else if (state === 2) state = 3;
        else if (state === 3) state = 2;
        else if (this.reported !== line) {
          this.reported = line;
          this.onStray(line, field);
        }
      } else if (c !== 13 && state === 0) state = 1;
      else if (c !== 13 && state === 3) state = 1; // text after a closing quote: PapaParse's diagnostic
    }
    this.state = state;
    this.line = line;
    this.field = field;
  }
}

/** Decodes UTF-8 strictly (a BOM is dropped), failing with the line of the first bad byte. */
class Utf8Decoder extends Transform {
  private readonly decoder = new TextDecoder('utf-8', { fatal: true });
  private lines = 1;
  private first = true;
  lastChar = '';
  sawContent = false;

  constructor(private readonly quotes: StrayQuotes) {
    super({ decodeStrings: true, readableObjectMode: false, encoding: 'utf8' });
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    if (this.first) {
      this.first = false;
      const enc = guessEncoding(chunk);
      if (enc === 'UTF-16') {
        done(new EncodingError(enc, chunk[0] ?? 0, 1));
        return;
      }
    }
    let text: string;
    try {
      text = this.decoder.decode(chunk, { stream: true });
    } catch {
      // Find the first bad byte: decode leniently and look for the replacement character.
      const lenient = new TextDecoder('utf-8').decode(chunk);
      const at = lenient.indexOf('\ufffd');
      const before = at < 0 ? '' : lenient.slice(0, at);
      const line = this.lines + (before.match(/\n/g)?.length ?? 0);
      const byteOffset = Buffer.byteLength(before, 'utf8');
      done(new EncodingError(guessEncoding(chunk), chunk[byteOffset] ?? 0, line));
      return;
    }
    this.count(text);
    done(null, text);
  }

  override _flush(done: TransformCallback): void {
    try {
      const rest = this.decoder.decode();
      this.count(rest);
      done(null, rest);
    } catch {
      done(new EncodingError('a truncated UTF-8 sequence', 0, this.lines));
    }
  }

  private count(text: string): void {
    if (text.length === 0) return;
    this.quotes.feed(text);
    for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) this.lines++;
    this.lastChar = text[text.length - 1]!;
    if (!this.sawContent && /\S/.test(text)) this.sawContent = true;
  }
}

/**
 * Reads `input` (bytes) as CSV, calling `onRow` for each non-blank row with its first line.
 * Syntax problems become diagnostics on `file`; nothing is thrown for bad input.
 */
export function readCsv(
  input: Readable,
  file: string,
  onRow: RowHandler,
  diagnostics: Diagnostics,
): Promise<CsvReadResult> {
  return new Promise((resolve, reject) => {
    const decoder = new Utf8Decoder(
      new StrayQuotes((at, field) =>
        diagnostics.add('CSV_STRAY_QUOTE', {
          file,
          line: at,
          column: field,
          message: `${file} line ${at}, field ${field}: a quote inside an unquoted value; RFC 4180 allows quotes only in quoted values, and it is read as a character`,
        }),
      ),
    );
    let line = 1;
    let rows = 0;
    let settled = false;
    const finish = (aborted: boolean) => {
      if (settled) return;
      settled = true;
      if (!aborted && decoder.sawContent && decoder.lastChar !== '\n') {
        diagnostics.add('CSV_NO_FINAL_NEWLINE', {
          file,
          line: Math.max(1, line - 1),
          message: `${file} does not end with a line break`,
        });
      }
      resolve({ rows, empty: !decoder.sawContent, aborted });
    };
    decoder.on('error', (err: unknown) => {
      if (err instanceof EncodingError) {
        const byte = err.byte ? ` (byte 0x${err.byte.toString(16).toUpperCase().padStart(2, '0')})` : '';
        diagnostics.add('CSV_ENCODING', {
          file,
          line: err.line,
          message: `${file} is not UTF-8: line ${err.line}${byte} looks like ${err.encoding}`,
        });
        finish(true);
      } else if (!settled) {
        settled = true;
        reject(err);
      }
    });
    input.on('error', (err) => decoder.destroy(err));
    input.pipe(decoder);

    Papa.parse(decoder as unknown as File, {
      delimiter: ',',
      newline: undefined,
      quoteChar: '"',
      escapeChar: '"',
      skipEmptyLines: false,
      step: (result: Papa.ParseStepResult<string[]>) => {
        if (settled) return;
        const cells = result.data;
        const start = line;
        let breaks = 0;
        for (const cell of cells) {
          if (cell.includes('\n')) breaks += cell.split('\n').length - 1;
        }
        line += 1 + breaks;
        if (result.errors.length > 0) {
          for (const e of result.errors) {
            const what =
              e.code === 'MissingQuotes' ? 'a quoted field is never closed' : 'a quote is malformed';
            diagnostics.add('CSV_QUOTE', { file, line: start, message: `${file} line ${start}: ${what}` });
          }
          return;
        }
        if (cells.length === 1 && cells[0]!.trim() === '') return; // blank line
        rows++;
        onRow(cells, start);
      },
      complete: () => finish(false),
      error: (err: Error) => {
        if (err instanceof EncodingError) return; // reported by the decoder's error handler
        if (!settled) {
          settled = true;
          reject(err);
        }
      },
    });
  });
}
