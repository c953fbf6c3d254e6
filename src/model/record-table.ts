/**
 * Compact storage for the records of one entity. A large district has ~10M enrollments; holding
 * each as a JS object would cost hundreds of bytes apiece, so each record is kept as one string
 * (its values joined by U+001F, the ASCII unit separator, which normalization strips from values)
 * and decoded on demand. Where each record came from (file, line) is kept alongside for diagnostics.
 */
import { type EntityName, fieldNames } from './entities.js';
import { fingerprintValues } from './fingerprint.js';

/** A record as the rest of the code sees it: field name -> normalized string value ('' when empty). */
export type RosterRecord = Readonly<Record<string, string>>;

/** Where a record was read from. `line` is 1-based. */
export interface Origin {
  readonly file: string;
  readonly line: number;
}

const SEP = '\u001f';

export class RecordTable {
  readonly entity: EntityName;
  /** Model fields first, then extension columns (`metadata.*` and others) in first-seen order. */
  readonly fields: string[];
  private readonly fieldIndex = new Map<string, number>();
  private readonly rows: string[] = [];
  private readonly files: string[] = [];
  private readonly originFile: number[] = [];
  private readonly originLine: number[] = [];

  constructor(entity: EntityName) {
    this.entity = entity;
    this.fields = fieldNames(entity);
    for (const [i, f] of this.fields.entries()) this.fieldIndex.set(f, i);
  }

  get size(): number {
    return this.rows.length;
  }

  /** Extension columns (not part of the OneRoster model) seen in this table. */
  get extensionFields(): string[] {
    return this.fields.slice(fieldNames(this.entity).length);
  }

  private sortedOrder: { names: string[]; index: number[] } | undefined;

  /** The record's fingerprint (as fingerprintRecord(get(index))), without decoding it to an object. */
  fingerprint(index: number): string {
    if (!this.sortedOrder || this.sortedOrder.index.length !== this.fields.length) {
      const index = this.fields.map((_, i) => i).sort((a, b) => (this.fields[a]! < this.fields[b]! ? -1 : 1));
      this.sortedOrder = { names: index.map((i) => this.fields[i]!), index };
    }
    const parts = this.rows[index]!.split(SEP);
    const { names, index: order } = this.sortedOrder;
    const values = new Array<string>(order.length);
    for (let k = 0; k < order.length; k++) values[k] = parts[order[k]!] ?? '';
    return fingerprintValues(names, values);
  }

  /** Makes sure a field exists (an extension column seen in a header), even when all its values are empty. */
  declareField(name: string): void {
    if (this.fieldIndex.has(name)) return;
    this.fieldIndex.set(name, this.fields.length);
    this.fields.push(name);
  }

  /**
   * The record as stored (normalized values in `fields` order, trailing empties dropped). Two
   * tables with the same `fields` store equal records as equal strings: a cheap first comparison.
   */
  stored(index: number): string {
    return this.rows[index]!;
  }

  /** The position of `name` in `fields`, or -1. */
  fieldIndexOf(name: string): number {
    return this.fieldIndex.get(name) ?? -1;
  }

  /**
   * Adds a record given as normalized values aligned with `fields` (missing trailing values are
   * empty). The fast path of the readers: no object is built for the row.
   */
  addValues(values: string[], origin?: Origin): number {
    let end = values.length;
    while (end > 1 && (values[end - 1] ?? '') === '') end--;
    if (end < values.length) values.length = end;
    this.rows.push(values.join(SEP));
    if (origin) this.setOrigin(this.rows.length - 1, origin);
    return this.rows.length - 1;
  }

  private setOrigin(index: number, origin: Origin): void {
    let f = this.files.lastIndexOf(origin.file);
    if (f < 0) f = this.files.push(origin.file) - 1;
    this.originFile[index] = f;
    this.originLine[index] = origin.line;
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
    let end = values.length;
    while (end > 1 && values[end - 1] === '') end--;
    this.rows.push(values.slice(0, end).join(SEP));
    if (origin) this.setOrigin(this.rows.length - 1, origin);
    return this.rows.length - 1;
  }

  /** The record at `index`, with every field of the table present ('' when empty). */
  get(index: number): RosterRecord {
    const raw = this.rows[index];
    if (raw === undefined) throw new RangeError(`no record ${index} in ${this.entity}`);
    const parts = raw.split(SEP);
    const record: Record<string, string> = {};
    for (let i = 0; i < this.fields.length; i++) record[this.fields[i]!] = parts[i] ?? '';
    return record;
  }

  /** One field of the record at `index`, without decoding the others. */
  value(index: number, field: string): string {
    const i = this.fieldIndex.get(field);
    if (i === undefined) return '';
    const raw = this.rows[index]!;
    let start = 0;
    for (let k = 0; k < i; k++) {
      start = raw.indexOf(SEP, start);
      if (start < 0) return '';
      start++;
    }
    const end = raw.indexOf(SEP, start);
    return end < 0 ? raw.slice(start) : raw.slice(start, end);
  }

  origin(index: number): Origin | undefined {
    const f = this.originFile[index];
    if (f === undefined) return undefined;
    return { file: this.files[f]!, line: this.originLine[index]! };
  }

  *[Symbol.iterator](): IterableIterator<RosterRecord> {
    for (let i = 0; i < this.rows.length; i++) yield this.get(i);
  }
}
