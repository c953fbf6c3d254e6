/**
 * Bounds on a CSV file's lines, before any parser sees them:
 * - a line longer than LINE_LIMIT bytes is dropped (an empty line takes its place, so that line
 *   numbers stay right) and reported, instead of being held whole (a hostile file's 300 MB line
 *   took 15 s and 1.9 GB, and a 4.7 GB one more memory than the machine had);
 * - a header that long leaves nothing to read the rows by: the rest of the file goes with it;
 * - a quoted value still open LINE_LIMIT bytes after its quote (an unclosed quote) ends the file
 *   there: a streaming parser reads an open quote again with every chunk (40,000 rows after one
 *   took minutes), and everything after it would be one value anyway.
 * The bytes pass in runs as large as the chunks that bring them.
 */
import { Transform, type TransformCallback } from 'node:stream';

/** The longest line, and the longest open quoted value, read (1 MiB: a users.csv row is a few hundred bytes). */
export const LINE_LIMIT = 1 << 20;

const LF = 0x0a;
const QUOTE = 0x22;

/** What was not read: a line (`line`), the header (then nothing after it), or an unclosed quote. */
export type Dropped = 'line' | 'header' | 'quote';

export class LineLimit extends Transform {
  /** The start of the current line, from an earlier chunk (whole lines pass at once). */
  private held: Buffer[] = [];
  private heldBytes = 0;
  /** In a line being dropped: its bytes so far, and whether it holds an odd number of quotes. */
  private dropping = false;
  private dropped = 0;
  private oddDropped = false;
  /** Nothing more passes (a dropped header, a quote left open too long). */
  private ended = false;
  private line = 1;
  private sawHeader = false;
  /** Of the bytes passed: whether a quoted value is open, since which line, and for how many bytes. */
  private quoteOpen = false;
  private quoteLine = 0;
  private quoteBytes = 0;

  constructor(
    private readonly onDropped: (line: number, bytes: number, what: Dropped) => void,
    private readonly limit = LINE_LIMIT,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    let start = 0;
    let run = -1; // the start of the bytes of this chunk that pass, not yet pushed
    // The chunk's next quote, found once: each byte is searched once, however many lines.
    const quotes = { next: chunk.indexOf(QUOTE), chunk };
    const flush = (end: number) => {
      if (run >= 0 && end > run) this.push(chunk.subarray(run, end));
      run = -1;
    };
    while (start < chunk.length && !this.ended) {
      const lf = chunk.indexOf(LF, start);
      const end = lf < 0 ? chunk.length : lf + 1;
      if (!this.dropping && this.heldBytes + (end - start) > this.limit + 1) {
        flush(start);
        this.dropping = true;
        for (const piece of this.held) this.skip(piece, 0, piece.length);
        this.held = [];
        this.heldBytes = 0;
      }
      if (this.dropping) {
        this.skip(chunk, start, lf < 0 ? end : lf);
        if (lf >= 0) this.endDropped();
      } else if (lf < 0) {
        flush(start);
        this.held.push(chunk.subarray(start, end));
        this.heldBytes += end - start;
      } else {
        let length = end - start;
        if (this.held.length > 0) {
          for (const piece of this.held) {
            this.push(piece);
            this.countQuotesTo({ next: piece.indexOf(QUOTE), chunk: piece }, 0, piece.length);
          }
          length += this.heldBytes;
          this.held = [];
          this.heldBytes = 0;
        }
        if (run < 0) run = start;
        this.countQuotesTo(quotes, start, end);
        if (!this.sawHeader) this.sawHeader = length > 1;
        if (this.quoteOpen && this.quoteBytes > this.limit) {
          flush(end);
          this.ended = true;
          this.onDropped(this.quoteLine, this.quoteBytes, 'quote');
        }
      }
      if (lf >= 0) this.line++;
      start = end;
    }
    flush(start);
    done();
  }

  override _flush(done: TransformCallback): void {
    if (!this.ended) {
      if (this.dropping) this.onDropped(this.line, this.dropped, this.sawHeader ? 'line' : 'header');
      else for (const piece of this.held) this.push(piece);
    }
    done();
  }

  private endDropped(): void {
    if (!this.sawHeader) {
      this.onDropped(this.line, this.dropped, 'header');
      this.ended = true;
      return;
    }
    this.onDropped(this.line, this.dropped, 'line');
    // An odd number of quotes opened a quoted value that goes on past this line: keep the
    // parsers' idea of it as it was.
    this.push(Buffer.from(this.oddDropped ? '"\n' : '\n'));
    if (this.oddDropped) this.toggleQuote();
    this.dropping = false;
    this.dropped = 0;
    this.oddDropped = false;
  }

  private skip(bytes: Buffer, start: number, end: number): void {
    this.dropped += end - start;
    for (let i = bytes.indexOf(QUOTE, start); i >= 0 && i < end; i = bytes.indexOf(QUOTE, i + 1))
      this.oddDropped = !this.oddDropped;
  }

  /** Follows the quotes of bytes [start, end) that pass: how long a quoted value has been open. */
  private countQuotesTo(quotes: { next: number; readonly chunk: Buffer }, start: number, end: number): void {
    let at = start;
    while (quotes.next >= 0 && quotes.next < end) {
      if (this.quoteOpen) this.quoteBytes += quotes.next - at;
      this.toggleQuote();
      at = quotes.next + 1;
      quotes.next = quotes.chunk.indexOf(QUOTE, at);
    }
    if (this.quoteOpen) this.quoteBytes += end - at;
  }

  private toggleQuote(): void {
    this.quoteOpen = !this.quoteOpen;
    if (this.quoteOpen) {
      this.quoteLine = this.line;
      this.quoteBytes = 0;
    }
  }
}
