/**
 * JsonBytes: JSON text built as UTF-8 bytes in a growing buffer. A city's first plan is gigabytes
 * of JSON; writing its values straight from the records' bytes, instead of making a string of
 * each and encoding the joined text again, takes a fraction of the time.
 */
export class JsonBytes {
  private buffer: Buffer;
  /** Bytes written so far. */
  length = 0;

  constructor(capacity = 1 << 20) {
    this.buffer = Buffer.allocUnsafe(capacity);
  }

  private room(bytes: number): Buffer {
    if (this.length + bytes > this.buffer.length) {
      const next = Buffer.allocUnsafe(Math.max(this.buffer.length * 2, this.length + bytes));
      this.buffer.copy(next, 0, 0, this.length);
      this.buffer = next;
    }
    return this.buffer;
  }

  /** Appends `text` as it is (JSON syntax, or a value already in JSON). */
  text(text: string): void {
    const buffer = this.room(text.length * 3);
    this.length += buffer.write(text, this.length, 'utf8');
  }

  /** Appends bytes as they are. */
  raw(bytes: Uint8Array): void {
    this.room(bytes.length).set(bytes, this.length);
    this.length += bytes.length;
  }

  /**
   * Appends the UTF-8 bytes from `start` to `end` of `source` as a JSON string, exactly as
   * JSON.stringify writes that text: quoted, with `"`, `\` and control characters escaped.
   */
  string(source: Uint8Array, start: number, end: number): void {
    for (let k = start; k < end; k++) {
      const b = source[k]!;
      if (b < 0x20 || b === 0x22 || b === 0x5c) {
        this.text(
          JSON.stringify(
            Buffer.from(source.buffer, source.byteOffset, source.length).toString('utf8', start, end),
          ),
        );
        return;
      }
    }
    const buffer = this.room(end - start + 2);
    let at = this.length;
    buffer[at++] = 0x22;
    for (let k = start; k < end; k++) buffer[at++] = source[k]!;
    buffer[at++] = 0x22;
    this.length = at;
  }

  /** Drops the last `bytes` bytes written. */
  drop(bytes: number): void {
    this.length -= bytes;
  }

  /** What was written (a copy), and starts again empty. */
  take(): Buffer {
    const out = Buffer.from(this.buffer.subarray(0, this.length));
    this.length = 0;
    return out;
  }
}
