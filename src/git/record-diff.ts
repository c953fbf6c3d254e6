/**
 * Record-level diffs of roster files as git holds them: two versions of the files a commit
 * changed, in, records out. Records are keyed `entity/sourcedId` whatever the file, so a record
 * that moved (a file renamed, one YAML file split into one per school, CSV switched to YAML) is the
 * same record, and only a change of its values is a change.
 *
 * A CSV file changed in place is compared by lines first (formats/csv/changed-lines.ts: equal stretches
 * by native byte comparison) and only its lines that differ are read as records; anything else
 * (YAML, a new or removed file, a header that changed, quotes over line breaks) is read whole.
 */
import { basename } from 'node:path';
import { Diagnostics } from '../diagnostic.js';
import { changedLines, quotesStayOnTheirLine } from '../formats/csv/changed-lines.js';
import { memoryFiles } from '../formats/package-files.js';
import { ENTITIES, ENTITY_NAMES, type EntityName, type RosterVersion } from '../model/entities.js';
import type { RosterRecord } from '../model/record-table.js';
import type { Roster } from '../model/roster.js';

/** `entity/sourcedId`: a record's name in the history, whatever file holds it. */
export type RecordId = string;

/** A record's values, empty ones left out. */
export type RecordValues = Readonly<Record<string, string>>;

/** A roster file's bytes at one commit. */
export interface RosterFile {
  readonly path: string;
  readonly bytes: Buffer;
}

/** One record's change: absent `before` is a record that appeared, absent `after` one that went. */
export interface RecordChange {
  readonly id: RecordId;
  readonly before?: RecordValues;
  readonly after?: RecordValues;
}

/** Roster YAML files' extensions (formats/yaml/read.ts's, which is loaded only when records are read). */
const YAML_EXTENSIONS = ['.yaml', '.yml'];

const ENTITY_BY_FILE = new Map(ENTITY_NAMES.map((e) => [ENTITIES[e].file, e]));

/** The entity whose OneRoster CSV file `path` is, if it is one. */
export function csvEntityOf(path: string): EntityName | undefined {
  return ENTITY_BY_FILE.get(basename(path));
}

/** Whether `path` holds roster records: a OneRoster CSV entity file, or roster YAML. */
export function isRosterFile(path: string): boolean {
  return csvEntityOf(path) !== undefined || YAML_EXTENSIONS.some((e) => path.endsWith(e));
}

export function recordId(entity: EntityName, sourcedId: string): RecordId {
  return `${entity}/${sourcedId}`;
}

/** The entity and sourcedId of `id`. */
export function splitRecordId(id: RecordId): { entity: EntityName; sourcedId: string } {
  const slash = id.indexOf('/');
  return { entity: id.slice(0, slash) as EntityName, sourcedId: id.slice(slash + 1) };
}

/** The values of `record` that are not empty. */
export function valuesOf(record: RosterRecord): RecordValues {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(record)) if (v !== '') out[k] = v;
  return out;
}

export function sameValues(a: RecordValues, b: RecordValues): boolean {
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  return ka.every((k) => b[k] === a[k]);
}

/** The version a CSV file's header reads as (only users.csv's shape depends on it). */
function versionOf(header: string): RosterVersion {
  return /(^|,)"?(resourceSourcedIds|userMasterIdentifier|preferredFirstName)"?(,|$)/.test(header)
    ? '1.2'
    : '1.1';
}

/** Records of one CSV entity file (or part of one: a header and some lines), into `into`. */
async function readCsvRecords(
  entity: EntityName,
  bytes: Buffer,
  into: Map<RecordId, RecordValues>,
): Promise<void> {
  const lf = bytes.indexOf(0x0a);
  const header = bytes.toString('utf8', 0, lf < 0 ? bytes.length : lf);
  const file = ENTITIES[entity].file;
  // (The readers are loaded when first needed: a question the index answers alone starts sooner.)
  const { readEntityFileAlone } = await import('../formats/oneroster-csv/read.js');
  const read = await readEntityFileAlone(
    memoryFiles(file, new Map([[file, bytes]])),
    entity,
    versionOf(header),
    'bulk',
    new Diagnostics(),
    { checkFields: false, keepIndexes: false },
  );
  const table = read.table;
  for (let i = 0; i < table.size; i++) {
    const record = table.get(i);
    const key = record.sourcedId ?? '';
    if (key !== '') into.set(recordId(entity, key), valuesOf(record));
  }
}

/** Every record of `roster`, into `into`. */
function rosterRecords(roster: Roster, into: Map<RecordId, RecordValues>): void {
  for (const entity of ENTITY_NAMES) {
    const table = roster.table(entity);
    for (let i = 0; i < table.size; i++) {
      const record = table.get(i);
      const key = record.sourcedId ?? '';
      if (key !== '') into.set(recordId(entity, key), valuesOf(record));
    }
  }
}

/** How to read files that do not say everything themselves. */
export interface ReadContext {
  /**
   * The OneRoster version of roster YAML files that do not state it (a school's file: the main
   * file says it). 1.2 reads a user's role and school as its roles rows.
   */
  readonly yamlVersion?: RosterVersion;
}

/** The `oneroster:` version a roster YAML text states, if it does. */
export function statedYamlVersion(text: string): RosterVersion | undefined {
  const m = /^oneroster:\s*["']?(1\.1|1\.2)/m.exec(text);
  return m ? (m[1] as RosterVersion) : undefined;
}

/** The records of `files` (CSV entity files and roster YAML; others are left out), keyed by RecordId. */
export async function readRecords(
  files: readonly RosterFile[],
  context: ReadContext = {},
): Promise<Map<RecordId, RecordValues>> {
  const out = new Map<RecordId, RecordValues>();
  const yaml = new Map<string, Buffer>();
  for (const f of files) {
    const entity = csvEntityOf(f.path);
    if (entity) await readCsvRecords(entity, f.bytes, out);
    else if (YAML_EXTENSIONS.some((e) => f.path.endsWith(e))) yaml.set(f.path, f.bytes);
  }
  if (yaml.size > 0) {
    if (context.yamlVersion && ![...yaml.values()].some((b) => statedYamlVersion(b.toString('utf8'))))
      yaml.set('.version.yaml', Buffer.from(`oneroster: "${context.yamlVersion}"\n`));
    // (Diagnostics do not matter here: the history shows what was committed, valid or not.)
    const { readRosterYaml } = await import('../formats/yaml/read.js');
    const { roster } = await readRosterYaml(memoryFiles('history', yaml), new Diagnostics());
    rosterRecords(roster, out);
  }
  return out;
}

/** The first line of `bytes`, with its line break. */
function headerOf(bytes: Buffer): Buffer {
  const lf = bytes.indexOf(0x0a);
  return bytes.subarray(0, lf < 0 ? bytes.length : lf + 1);
}

/** `header` and the lines [start, end) of `ranges` (flat pairs) of `bytes`, as one CSV text. */
function linesText(header: Buffer, bytes: Buffer, ranges: readonly number[]): Buffer {
  const parts: Buffer[] = [header.at(-1) === 0x0a ? header : Buffer.concat([header, Buffer.from('\n')])];
  for (let k = 0; k < ranges.length; k += 2) {
    parts.push(bytes.subarray(ranges[k]!, ranges[k + 1]!), Buffer.from('\n'));
  }
  return Buffer.concat(parts);
}

/**
 * The records that differ between two versions of a set of roster files (the files a commit
 * changed, before and after; a side without a file leaves it out). Sorted by RecordId.
 */
export async function diffRecordFiles(
  before: readonly RosterFile[],
  after: readonly RosterFile[],
  context: ReadContext = {},
): Promise<RecordChange[]> {
  const old = new Map<RecordId, RecordValues>();
  const next = new Map<RecordId, RecordValues>();
  const wholeBefore: RosterFile[] = [];
  const wholeAfter: RosterFile[] = [];
  const afterByPath = new Map(after.map((f) => [f.path, f]));
  const paired = new Set<string>();
  for (const b of before) {
    const a = afterByPath.get(b.path);
    const entity = csvEntityOf(b.path);
    if (
      a &&
      entity &&
      headerOf(a.bytes).equals(headerOf(b.bytes)) &&
      quotesStayOnTheirLine(a.bytes) &&
      quotesStayOnTheirLine(b.bytes)
    ) {
      const header = headerOf(b.bytes);
      const lines = changedLines(b.bytes.subarray(header.length), a.bytes.subarray(header.length));
      if (lines) {
        const shift = (ranges: readonly number[]) => ranges.map((n) => n + header.length);
        await readCsvRecords(entity, linesText(header, b.bytes, shift(lines.removed)), old);
        await readCsvRecords(entity, linesText(header, a.bytes, shift(lines.added)), next);
        paired.add(b.path);
        continue;
      }
    }
    wholeBefore.push(b);
  }
  for (const a of after) if (!paired.has(a.path)) wholeAfter.push(a);
  for (const [id, v] of await readRecords(wholeBefore, context)) old.set(id, v);
  for (const [id, v] of await readRecords(wholeAfter, context)) next.set(id, v);

  const changes: RecordChange[] = [];
  for (const [id, b] of old) {
    const a = next.get(id);
    if (!a) changes.push({ id, before: b });
    else if (!sameValues(a, b)) changes.push({ id, before: b, after: a });
  }
  for (const [id, a] of next) if (!old.has(id)) changes.push({ id, after: a });
  return changes.sort((x, y) => (x.id < y.id ? -1 : x.id > y.id ? 1 : 0));
}

/**
 * The records of `files` that are `id` or name it (a reference field holds it): a record at one
 * commit, and the records related to it, found without reading every file whole (only the lines
 * of a CSV file, or the YAML files, that mention it).
 */
export async function recordsMentioning(
  files: readonly RosterFile[],
  sourcedId: string,
  context: ReadContext = {},
): Promise<Map<RecordId, RecordValues>> {
  const needle = Buffer.from(sourcedId);
  const out = new Map<RecordId, RecordValues>();
  const partial: RosterFile[] = [];
  for (const f of files) {
    if (f.bytes.indexOf(needle) < 0) continue;
    const entity = csvEntityOf(f.path);
    if (!entity || !quotesStayOnTheirLine(f.bytes)) {
      partial.push(f);
      continue;
    }
    const header = headerOf(f.bytes);
    const ranges: number[] = [];
    let last = -1;
    for (let at = f.bytes.indexOf(needle, header.length); at >= 0; at = f.bytes.indexOf(needle, at + 1)) {
      const start = f.bytes.lastIndexOf(0x0a, at) + 1;
      if (start === last) continue;
      last = start;
      const lf = f.bytes.indexOf(0x0a, at);
      let end = lf < 0 ? f.bytes.length : lf;
      if (end > start && f.bytes[end - 1] === 0x0d) end--;
      ranges.push(start, end);
    }
    const found = new Map<RecordId, RecordValues>();
    await readCsvRecords(entity, linesText(header, f.bytes, ranges), found);
    for (const [id, v] of found) out.set(id, v);
  }
  for (const [id, v] of await readRecords(partial, context)) out.set(id, v);
  for (const [id, v] of out)
    if (splitRecordId(id).sourcedId !== sourcedId && !refsOf(v).includes(sourcedId)) out.delete(id);
  return out;
}

/** The sourcedIds a record points at: every `...SourcedId` and `...SourcedIds` value. */
export function refsOf(values: RecordValues): string[] {
  const refs: string[] = [];
  for (const [field, value] of Object.entries(values)) {
    if (field === 'sourcedId') continue;
    if (field.endsWith('SourcedId')) refs.push(value);
    else if (field.endsWith('SourcedIds'))
      for (const v of value.split(',')) if (v.trim()) refs.push(v.trim());
  }
  return refs;
}
