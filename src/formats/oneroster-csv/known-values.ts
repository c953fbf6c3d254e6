/**
 * KnownValues: the few distinct values of a column (roles, booleans, statuses) that have already
 * been looked at, recognized by their bytes. The reader asks it before making a string of a value
 * to check or normalize: on a city's ten million rows a string per value costs seconds, and most
 * such columns hold a handful of spellings. A column with many distinct values (timestamps) stops
 * being looked up once it is clear that it rarely helps.
 */
import { sameBytes } from '../../model/byte-hash.js';

/** Values remembered per column. */
const MAX_VALUES = 16;
/** Longer values are not remembered (ids and names are not what this is for). */
const MAX_BYTES = 48;
/** After this many lookups, a column whose values are mostly new is no longer looked up. */
const TRIAL_LOOKUPS = 4096;

export class KnownValues {
  private readonly values: Buffer[] = [];
  private lookups = 0;
  private hits = 0;
  private enabled = true;

  /** True when the bytes from `start` to `end` are one of the values added. */
  has(bytes: Uint8Array, start: number, end: number): boolean {
    if (!this.enabled) return false;
    if (++this.lookups === TRIAL_LOOKUPS && this.hits * 2 < this.lookups) this.enabled = false;
    for (const v of this.values) {
      if (sameBytes(v, 0, v.length, bytes, start, end)) {
        this.hits++;
        return true;
      }
    }
    return false;
  }

  /** Remembers the bytes from `start` to `end` (a copy), while there is room. */
  add(bytes: Uint8Array, start: number, end: number): void {
    if (!this.enabled || this.values.length >= MAX_VALUES || end - start > MAX_BYTES) return;
    this.values.push(Buffer.from(bytes.subarray(start, end)));
  }
}
