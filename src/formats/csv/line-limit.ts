/**
 * A bound on the length of a CSV file's lines, before any parser sees them: a line longer than
 * LINE_LIMIT bytes is dropped (an empty line takes its place, so that line numbers stay right) and
 * reported, instead of being held whole. No roster value comes near it; a hostile file's 300 MB
 * line otherwise took 15 s and 1.9 GB, and a 4.7 GB one more memory than the machine had.
 */
import { Transform, type TransformCallback } from 'node:stream';

/** The longest line read (1 MiB: a users.csv row is a few hundred bytes). */
export const LINE_LIMIT = 1 << 20;

const LF = 0x0a;
const QUOTE = 0x22;

/** Passes the bytes of each line up to `limit`; calls `onDropped(line, bytes)` for each longer one. */
export class LineLimit extends Transform {
  /** The current line's bytes so far (whole lines pass at once; only a line's start waits). */
  private held: Buffer[] = [];
  private heldBytes = 0;
  /** In a line being dropped: its bytes so far, and whether it holds an odd number of quotes. */
  private dropping = false;
  private dropped = 0;
  private oddQuotes = false;
  private line = 1;

  constructor(
    private readonly onDropped: (line: number, bytes: number) => void,
    private readonly limit = LINE_LIMIT,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    let start = 0;
    while (start < chunk.length) {
      const lf = chunk.indexOf(LF, start);
      const end = lf < 0 ? chunk.length : lf + 1;
      if (this.dropping) this.skip(chunk, start, lf < 0 ? end : lf);
      else if (this.heldBytes + (end - start) > this.limit + 1) {
        this.dropping = true;
        for (const piece of this.held) this.skip(piece, 0, piece.length);
        this.held = [];
        this.heldBytes = 0;
        this.skip(chunk, start, lf < 0 ? end : lf);
      } else if (lf < 0) {
        this.held.push(chunk.subarray(start, end));
        this.heldBytes += end - start;
      } else {
        for (const piece of this.held) this.push(piece);
        this.held = [];
        this.heldBytes = 0;
        this.push(chunk.subarray(start, end));
      }
      if (lf >= 0) {
        if (this.dropping) {
          this.onDropped(this.line, this.dropped);
          // An odd number of quotes opened a quoted value that goes on past this line: keep the
          // parsers' idea of it as it was.
          this.push(Buffer.from(this.oddQuotes ? '"\n' : '\n'));
          this.dropping = false;
          this.dropped = 0;
          this.oddQuotes = false;
        }
        this.line++;
      }
      start = end;
    }
    done();
  }

  override _flush(done: TransformCallback): void {
    if (this.dropping) this.onDropped(this.line, this.dropped);
    else for (const piece of this.held) this.push(piece);
    done();
  }

  private skip(bytes: Buffer, start: number, end: number): void {
    this.dropped += end - start;
    for (let i = bytes.indexOf(QUOTE, start); i >= 0 && i < end; i = bytes.indexOf(QUOTE, i + 1))
      this.oddQuotes = !this.oddQuotes;
  }
}
