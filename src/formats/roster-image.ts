/**
 * The roster image: a Roster's tables written as they are in memory (record bytes and per-record
 * numbers, see RecordTable), so that reading it back is a few large file reads instead of parsing
 * CSV. A target keeps one beside its snapshot.zip: reading a city's snapshot as CSV takes ~16 s,
 * its image ~1 s. It is a cache, never the record: whatever is wrong with an image (missing,
 * truncated, written by another version, bound to another state), the reader says so and the
 * caller reads the snapshot itself.
 *
 * Layout (format 1), integers little-endian:
 *   "RSTRIMG\n" (8 bytes), header length H (uint32), header (H bytes of JSON, see ImageHeader),
 *   then per table in header order: meta (count x 4 uint32), origin files (count x uint16),
 *   origin lines (count x uint32), then its chunks' used bytes one after another.
 */
import { closeSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import { ENTITY_NAMES, type EntityName, type RosterVersion } from '../model/entities.js';
import { RecordTable, sharedArray, type TableData } from '../model/record-table.js';
import { type FileMode, Roster, type RosterSource } from '../model/roster.js';

export const IMAGE_FORMAT = 1;
const MAGIC = Buffer.from('RSTRIMG\n', 'latin1');
/** Numbers per record in a table's meta (RecordTable's META). */
const META = 4;

/**
 * What an image belongs to (e.g. a target state's lineage and serial): read back only when the
 * caller's binding is the same, so an image can never stand for another snapshot.
 */
export type ImageBinding = Readonly<Record<string, string | number>>;

/** The image's JSON header. */
interface ImageHeader {
  readonly format: number;
  readonly binding: ImageBinding;
  readonly version: RosterVersion;
  readonly source: RosterSource;
  readonly modes: Partial<Record<EntityName, FileMode>>;
  readonly tables: readonly {
    readonly entity: EntityName;
    readonly fields: readonly string[];
    readonly count: number;
    readonly files: readonly string[];
    /** Bytes used in each chunk. */
    readonly chunks: readonly number[];
  }[];
  /** The whole file's length: a shorter file was cut off. */
  readonly bytes: number;
}

/** Writes `roster`'s image to `path` (through a temporary file and a rename: never half written). */
export function writeRosterImage(roster: Roster, path: string, binding: ImageBinding): void {
  // Every table, those of the other OneRoster version too (empty): a Roster holds them all.
  const shared = ENTITY_NAMES.map((e) => roster.table(e).share());
  const tables = shared.map((t) => ({
    entity: t.entity,
    fields: t.fields,
    count: t.count,
    files: t.files,
    chunks: usedBytes(t),
  }));
  const parts: ArrayBufferView[] = [];
  for (const [i, t] of shared.entries()) {
    parts.push(t.meta, t.originFile, t.originLine);
    for (const [c, used] of tables[i]!.chunks.entries()) parts.push(t.chunks[c]!.subarray(0, used));
  }
  const body = parts.reduce((n, p) => n + p.byteLength, 0);
  const draft: Omit<ImageHeader, 'bytes'> = {
    format: IMAGE_FORMAT,
    binding,
    version: roster.version,
    source: roster.source,
    modes: roster.explicitModes(),
    tables,
  };
  // The header states the file's length, which includes the header: settle the digits first.
  let bytes = 0;
  let header = Buffer.alloc(0);
  for (let guess = body; bytes !== guess; ) {
    bytes = guess;
    header = Buffer.from(JSON.stringify({ ...draft, bytes }), 'utf8');
    guess = MAGIC.length + 4 + header.length + body;
  }
  const length = Buffer.alloc(4);
  length.writeUInt32LE(header.length);
  const tmp = `${path}.tmp-${process.pid}`;
  const fd = openSync(tmp, 'w');
  try {
    for (const part of [MAGIC, length, header, ...parts]) writeAll(fd, part);
  } catch (err) {
    closeSync(fd);
    rmSync(tmp, { force: true });
    throw err;
  }
  closeSync(fd);
  renameSync(tmp, path);
}

/** Bytes used in each of a table's chunks (records are appended in order: a chunk's last record ends its use). */
function usedBytes(t: TableData): number[] {
  const used = t.chunks.map(() => 0);
  for (let i = 0; i < t.count; i++) {
    const m = META * i;
    const end = t.meta[m + 1]! + t.meta[m + 2]!;
    const c = t.meta[m]!;
    if (end > used[c]!) used[c] = end;
  }
  return used;
}

function writeAll(fd: number, part: ArrayBufferView): void {
  const bytes = new Uint8Array(part.buffer, part.byteOffset, part.byteLength);
  for (let done = 0; done < bytes.length; ) done += writeSync(fd, bytes, done, bytes.length - done);
}

/** Why an image was not read (for a debug line; the caller falls back to the snapshot). */
export type ImageRefusal = 'missing' | 'damaged' | 'other format' | 'other binding';

/**
 * Reads the image at `path` when it is whole, of this format, and bound to `binding`; otherwise
 * says why not. Its tables are in shared memory, as if read on another thread.
 */
export async function readRosterImage(path: string, binding: ImageBinding): Promise<Roster | ImageRefusal> {
  let file: FileHandle;
  try {
    file = await open(path, 'r');
  } catch {
    return 'missing';
  }
  try {
    // (Read asynchronously: a city's image is a gigabyte, read by the thread pool while this
    // thread compares the roster's files, say.)
    return await readOpen(file, binding);
  } catch {
    return 'damaged';
  } finally {
    await file.close();
  }
}

async function readOpen(file: FileHandle, binding: ImageBinding): Promise<Roster | ImageRefusal> {
  const { size } = await file.stat();
  let position = 0;
  const read = async (into: ArrayBufferView): Promise<void> => {
    const bytes = new Uint8Array(into.buffer, into.byteOffset, into.byteLength);
    for (let done = 0; done < bytes.length; ) {
      const { bytesRead } = await file.read(bytes, done, bytes.length - done, position);
      if (bytesRead === 0) throw new RangeError('the image ends early');
      done += bytesRead;
      position += bytesRead;
    }
  };
  const start = Buffer.alloc(MAGIC.length + 4);
  await read(start);
  if (!start.subarray(0, MAGIC.length).equals(MAGIC)) return 'damaged';
  const headerLength = start.readUInt32LE(MAGIC.length);
  if (headerLength > size - start.length) return 'damaged';
  const header = Buffer.alloc(headerLength);
  await read(header);
  const image = JSON.parse(header.toString('utf8')) as ImageHeader;
  if (image.format !== IMAGE_FORMAT) return 'other format';
  if (image.bytes !== size) return 'damaged';
  const keys = new Set([...Object.keys(binding), ...Object.keys(image.binding ?? {})]);
  for (const k of keys) if (image.binding?.[k] !== binding[k]) return 'other binding';
  // The sections the header announces must fill the file exactly (before anything is allocated).
  let body = 0;
  for (const t of image.tables) {
    if (!ENTITY_NAMES.includes(t.entity) || !Number.isSafeInteger(t.count) || t.count < 0) return 'damaged';
    body += (META * 4 + 2 + 4) * t.count + t.chunks.reduce((n, used) => n + used, 0);
  }
  if (start.length + headerLength + body !== size) return 'damaged';
  const tables = {} as Record<EntityName, RecordTable>;
  for (const t of image.tables) {
    const data: TableData = {
      entity: t.entity,
      fields: t.fields,
      count: t.count,
      files: t.files,
      meta: sharedArray(Uint32Array, META * t.count),
      originFile: sharedArray(Uint16Array, t.count),
      originLine: sharedArray(Uint32Array, t.count),
      chunks: t.chunks.map((used) => sharedArray(Uint8Array, used)),
    };
    await read(data.meta);
    await read(data.originFile);
    await read(data.originLine);
    for (const chunk of data.chunks) await read(chunk);
    if (!wellFormed(data)) return 'damaged';
    tables[t.entity] = RecordTable.fromShared(data);
  }
  if (ENTITY_NAMES.some((e) => !tables[e])) return 'damaged';
  return new Roster(image.version, tables, image.modes, image.source);
}

/** Every record's bytes lie inside its chunk and its origin names a file (a flipped bit is caught here, not mid-plan). */
function wellFormed(t: TableData): boolean {
  const lengths = t.chunks.map((c) => c.length);
  const { meta, originFile, originLine } = t;
  for (let i = 0; i < t.count; i++) {
    const m = META * i;
    const length = lengths[meta[m]!];
    if (length === undefined || meta[m + 1]! + meta[m + 2]! > length) return false;
    if (originLine[i] !== 0 && originFile[i]! >= t.files.length) return false;
  }
  return true;
}
