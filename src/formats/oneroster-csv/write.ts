/**
 * Writes a Roster as a OneRoster CSV package (folder or zip) of its version: manifest.csv, then
 * one file per entity that is not absent; header in spec order (users.csv in the 1.2.1 shape),
 * extension columns at the right end, rows sorted by sourcedId. Streams rows in batches, so ten
 * million enrollments never become one string. Same Roster, same bytes.
 */
import { once } from 'node:events';
import { createWriteStream, mkdirSync, renameSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Readable, type Writable } from 'node:stream';
import yazl from 'yazl';
import { ENTITIES, type EntityName, MANIFEST_FILES, USERS_12_FINAL_COLUMNS } from '../../model/entities.js';
import type { RecordTable } from '../../model/record-table.js';
import type { Roster } from '../../model/roster.js';
import { csvLine } from '../csv/write-csv.js';
import { MANIFEST_FILE } from './manifest.js';

/** The manifest of a roster, as CSV text. */
export function manifestCsv(roster: Roster): string {
  let out = csvLine(['propertyName', 'value']);
  out += csvLine(['manifest.version', '1.0']);
  out += csvLine(['oneroster.version', roster.version]);
  for (const name of MANIFEST_FILES[roster.version]) {
    const mode = Object.hasOwn(ENTITIES, name) ? roster.mode(name as EntityName) : 'absent';
    out += csvLine([`file.${name}`, mode]);
  }
  if (roster.source.systemName) out += csvLine(['source.systemName', roster.source.systemName]);
  if (roster.source.systemCode) out += csvLine(['source.systemCode', roster.source.systemCode]);
  return out;
}

/** Entities written: those of the version whose mode is not absent. */
export function writtenEntities(roster: Roster): EntityName[] {
  return roster.entities().filter((e) => roster.mode(e) !== 'absent');
}

/** Whether any record of `table` has a value in `field`. */
function anyValue(table: RecordTable, field: string): boolean {
  for (let i = 0; i < table.size; i++) if (table.value(i, field) !== '') return true;
  return false;
}

/** Lines of one entity file, in batches of about `batch` rows. */
export function* entityCsvChunks(roster: Roster, entity: EntityName, batch = 2000): Generator<string> {
  const table = roster.table(entity);
  // 1.2 users: the 1.2 Final shape (with resourceSourcedIds) when any user has some, so that
  // nothing read is dropped; the 1.2.1 shape otherwise.
  const final =
    entity === 'users' &&
    roster.version === '1.2' &&
    table.fieldIndexOf('resourceSourcedIds') >= 0 &&
    anyValue(table, 'resourceSourcedIds');
  const columns = [
    ...(final ? USERS_12_FINAL_COLUMNS : (ENTITIES[entity].columns[roster.version] ?? [])),
    ...table.extensionFields,
  ];
  yield csvLine(columns);
  const ids: string[] = new Array(table.size);
  let sorted = true;
  for (let i = 0; i < table.size; i++) {
    ids[i] = table.value(i, 'sourcedId');
    if (i > 0 && ids[i]! < ids[i - 1]!) sorted = false;
  }
  let order: number[] | undefined;
  if (!sorted) {
    order = Array.from({ length: table.size }, (_, i) => i);
    order.sort((a, b) => (ids[a]! < ids[b]! ? -1 : ids[a]! > ids[b]! ? 1 : 0));
  }
  let chunk = '';
  let n = 0;
  for (let k = 0; k < table.size; k++) {
    const record = table.get(order ? order[k]! : k);
    chunk += csvLine(columns.map((c) => record[c] ?? ''));
    if (++n === batch) {
      yield chunk;
      chunk = '';
      n = 0;
    }
  }
  if (chunk !== '') yield chunk;
}

async function writeChunks(stream: Writable, chunks: Iterable<string>): Promise<void> {
  for (const chunk of chunks) {
    if (!stream.write(chunk)) await once(stream, 'drain');
  }
  stream.end();
  await once(stream, 'finish');
}

/** Writes the package into `dir` (created when missing). Returns the files written. */
export async function writeOneRosterDir(roster: Roster, dir: string): Promise<string[]> {
  mkdirSync(dir, { recursive: true });
  const written: string[] = [];
  await writeChunks(createWriteStream(join(dir, MANIFEST_FILE)), [manifestCsv(roster)]);
  written.push(MANIFEST_FILE);
  for (const entity of writtenEntities(roster)) {
    await writeChunks(createWriteStream(join(dir, ENTITIES[entity].file)), entityCsvChunks(roster, entity));
    written.push(ENTITIES[entity].file);
  }
  return written;
}

// A fixed local-time timestamp: zip entries carry DOS times in local time, so this gives the same bytes in any zone.
const ZIP_TIME = new Date(2000, 0, 1, 0, 0, 0);

/**
 * Writes the package as a zip at `zipPath`, atomically: to a temporary file renamed into place, so
 * a reader never sees a partial zip.
 */
export async function writeOneRosterZip(roster: Roster, zipPath: string): Promise<void> {
  mkdirSync(dirname(zipPath), { recursive: true });
  const tmp = `${zipPath}.tmp-${process.pid}`;
  const zip = new yazl.ZipFile();
  const options = { mtime: ZIP_TIME, forceDosTimestamp: true, compress: true } as const;
  zip.addBuffer(Buffer.from(manifestCsv(roster)), MANIFEST_FILE, options);
  for (const entity of writtenEntities(roster)) {
    zip.addReadStream(readableOf(entityCsvChunks(roster, entity)), ENTITIES[entity].file, options);
  }
  zip.end();
  const out = createWriteStream(tmp);
  try {
    zip.outputStream.pipe(out);
    await once(out, 'finish');
    renameSync(tmp, zipPath);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
}

function readableOf(chunks: Iterable<string>): Readable {
  return Readable.from(chunks, { objectMode: false });
}
