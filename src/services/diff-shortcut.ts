/**
 * roster diff's shortcut for two OneRoster CSV folders or zips: only the lines that differ are
 * read as records. Each file is seen as keyed lines (src/formats/csv/keyed-lines.ts); the lines
 * of one side that the other has byte for byte are the same records, counted and never read. The
 * lines that differ, with the few records a plan looks up beside them (see markContext), are read
 * as two small packages through the same reader, and planned in a PlanScope whose old side is
 * partial too. The plan is the one the full diff makes (the tests hold both to it); anything the
 * shortcut cannot vouch for sends the diff the full way.
 */
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { Diagnostics } from '../diagnostic.js';
import {
  countValues,
  diffKeyedLines,
  findKeys,
  type KeyedLines,
  keyedLines,
  type LineChanges,
  markedLines,
  valueAt,
} from '../formats/csv/keyed-lines.js';
import { splitQuotedLine } from '../formats/csv/scan-csv.js';
import { mapHeader } from '../formats/oneroster-csv/header.js';
import { readManifest } from '../formats/oneroster-csv/manifest.js';
import { readOneRoster } from '../formats/oneroster-csv/read.js';
import { directoryFiles, memoryFiles, zipFiles } from '../formats/package-files.js';
import { ENTITIES, ENTITY_NAMES, type EntityName } from '../model/entities.js';
import { computePlan } from '../plan/compute.js';
import type { Plan, PlanScope, PlanTarget } from '../plan/plan.js';
import { PLAN_LOOKUPS, partialPlanRuledOut, partialRosterRuledOut } from '../plan/scope.js';
import type { ProgressListener } from '../progress.js';
import { readKeyedFiles } from '../source/keyed-files.js';
import { locateRoster } from '../source/load.js';

/** Past this share of the bytes changed, reading both rosters whole (on two threads) is quicker. */
const MOST_CHANGED = 0.2;
const MANIFEST = 'manifest.csv';

export interface DiffShortcutInput {
  readonly oldPath: string;
  readonly newPath: string;
  readonly target: PlanTarget;
  readonly now: Date;
  readonly showPersonalData: boolean;
  readonly progress?: ProgressListener;
  /** Past this share of the bytes changed, decline (default MOST_CHANGED; tests of tiny rosters give 1). */
  readonly mostChanged?: number;
}

/** One entity's file on both sides. */
interface FilePair {
  readonly entity: EntityName;
  readonly file: string;
  readonly before: KeyedLines;
  readonly after: KeyedLines;
  readonly changes: LineChanges;
  /** Per line: 1 changed, 2 read beside the changes (context), 0 not read. */
  readonly marksBefore: Uint8Array;
  readonly marksAfter: Uint8Array;
  /** Bytes of the changed lines, both sides. */
  readonly changedBytes: number;
}

/** A diff made from the lines that differ. */
export interface DiffShortcut {
  readonly plan: Plan;
  /** Lines that differ, both sides counted. */
  readonly changedLines: number;
}

/**
 * The diff of two OneRoster CSV folders or zips by their changed lines, or why it cannot be made
 * so.
 */
export async function diffByLines(input: DiffShortcutInput): Promise<DiffShortcut | string> {
  // (Two rosters, no target: only the policy can rule a partial plan out.)
  const ruledOut = partialPlanRuledOut(input.target.policy, { shapes: false, exportsCurrent: false });
  if (ruledOut) return ruledOut;
  const opened: Side[] = [];
  try {
    for (const path of [input.oldPath, input.newPath]) {
      let side: Side | string;
      try {
        side = await openSide(path);
      } catch {
        return 'a path is not a roster'; // (the full diff says what is wrong)
      }
      if (typeof side === 'string') return side;
      opened.push(side);
    }
    return await diffSides(input, opened[0]!, opened[1]!);
  } finally {
    for (const side of opened) await side.close();
  }
}

/** One side of a diff: a OneRoster CSV folder or zip, and its CSV files. */
interface Side {
  readonly location: string;
  /** Its CSV files' names, sorted. */
  readonly names: readonly string[];
  /** A folder's files are read by path, on two threads (see readKeyedFiles). */
  readonly folder: boolean;
  bytes(name: string): Promise<Buffer>;
  close(): Promise<void>;
}

/** The side at `path`, or why the diff cannot be made by lines (an error: the full diff reports it). */
async function openSide(path: string): Promise<Side | string> {
  const { location, format } = locateRoster(path);
  const csv = (names: readonly string[]) => names.filter((n) => n.toLowerCase().endsWith('.csv'));
  if (format === 'oneroster-csv')
    return {
      location,
      names: csv(directoryFiles(location).names),
      folder: true,
      bytes: async (name) => readFileSync(join(location, name)),
      close: async () => {},
    };
  if (format !== 'oneroster-zip') return 'not OneRoster CSV';
  const diagnostics = new Diagnostics();
  const files = await zipFiles(location, diagnostics);
  if (files.rejected || diagnostics.list.length > 0) {
    await files.close();
    return 'a zip the full diff has diagnostics on';
  }
  return {
    location,
    names: csv(files.names),
    folder: false,
    // (Inflated on the thread pool: every file of both zips at once.)
    bytes: async (name) => {
      const chunks: Buffer[] = [];
      for await (const chunk of files.open(name)) chunks.push(chunk as Buffer);
      return Buffer.concat(chunks);
    },
    close: () => files.close(),
  };
}

/** The diff of two sides by their changed lines, or why it cannot be made so. */
async function diffSides(
  input: DiffShortcutInput,
  before: Side,
  after: Side,
): Promise<DiffShortcut | string> {
  const a = before.location;
  const b = after.location;
  const names = before.names;
  if (names.join('\n') !== after.names.join('\n')) return 'the two sides hold other files';
  if (!names.includes(MANIFEST)) return 'no manifest.csv';
  // (A file that cannot be read, or not whole: the full diff says what is wrong.)
  const read = async (side: Side, name: string) => side.bytes(name).catch(() => undefined);
  const manifest = await read(before, MANIFEST);
  const manifestAfter = await read(after, MANIFEST);
  if (!manifest || !manifestAfter) return 'a file cannot be read';
  if (!manifest.equals(manifestAfter)) return 'manifest.csv differs';

  input.progress?.({ stage: 'read', detail: 'the lines that differ' });
  const entities = ENTITY_NAMES.filter((e) => names.includes(ENTITIES[e].file));
  // Both versions of every file, as keyed lines: file k of `entities` is sides 2k and 2k + 1.
  const sides = entities.flatMap((e) => [
    { side: before, file: ENTITIES[e].file },
    { side: after, file: ENTITIES[e].file },
  ]);
  let keyed: (KeyedLines | string)[];
  let bytes: number;
  if (before.folder && after.folder) {
    // Read by path, the largest first, on two threads.
    const sizes = new Map(sides.map((s) => [s, statSync(join(s.side.location, s.file)).size]));
    bytes = [...sizes.values()].reduce((n, size) => n + size, 0);
    const largestFirst = [...sides].sort((x, y) => sizes.get(y)! - sizes.get(x)!);
    const lines = await readKeyedFiles(
      largestFirst.map(({ side, file }) => ({ dir: side.location, file })),
      bytes,
    );
    keyed = sides.map((s) => lines[largestFirst.indexOf(s)]!);
  } else {
    // A zip's files are inflated in memory (on the thread pool), and seen as keyed lines here.
    const all = await Promise.all(sides.map((s) => read(s.side, s.file)));
    bytes = all.reduce((n, buffer) => n + (buffer?.length ?? 0), 0);
    keyed = all.map((buffer) => (buffer ? keyedLines(buffer) : 'it cannot be read whole'));
  }
  const keyedOf = (k: number) => keyed[k]!;
  const pairs: FilePair[] = [];
  let changedBytes = 0;
  for (const [k, entity] of entities.entries()) {
    const file = ENTITIES[entity].file;
    const before = keyedOf(2 * k);
    if (typeof before === 'string') return `${file}: ${before}`;
    const after = keyedOf(2 * k + 1);
    if (typeof after === 'string') return `${file}: ${after}`;
    if (!sameHeader(before.header, after.header)) return `the header of ${file} differs`;
    const changes = diffKeyedLines(before, after);
    if (typeof changes === 'string') return `${file}: ${changes}`;
    const pair = pairOf(entity, before, after, changes);
    changedBytes += pair.changedBytes;
    if (changedBytes > (input.mostChanged ?? MOST_CHANGED) * bytes) return 'much of the roster changed';
    pairs.push(pair);
  }
  return planPairs(input, pairs, a, b, manifest);
}

/** A file's comparison as a FilePair: its changed lines marked, and counted in bytes. */
function pairOf(entity: EntityName, before: KeyedLines, after: KeyedLines, changes: LineChanges): FilePair {
  let changedBytes = 0;
  const marksBefore = new Uint8Array(before.count);
  const marksAfter = new Uint8Array(after.count);
  for (const i of changes.removed) {
    marksBefore[i] = 1;
    changedBytes += before.starts[i + 1]! - before.starts[i]!;
  }
  for (const j of changes.added) {
    marksAfter[j] = 1;
    changedBytes += after.starts[j + 1]! - after.starts[j]!;
  }
  const file = ENTITIES[entity].file;
  return { entity, file, before, after, changes, marksBefore, marksAfter, changedBytes };
}

/** The plan of the changed lines of `pairs` (and their context), read as two small packages. */
async function planPairs(
  input: DiffShortcutInput,
  pairs: FilePair[],
  a: string,
  b: string,
  manifest: Buffer,
): Promise<DiffShortcut | string> {
  // Which columns the reader takes the key, an enrollment's school and a role's user from.
  const version =
    (await readManifest(Readable.from([manifest]), MANIFEST, new Diagnostics())).version ??
    (pairs.some((p) => p.entity === 'roles') ? '1.2' : '1.1');
  const columns = new Map<EntityName, readonly (string | null)[]>();
  for (const p of pairs) {
    const cells = splitQuotedLine(
      p.before.header
        .toString('utf8')
        .replace(/^\uFEFF/, '')
        .replace(/\r?\n$/, ''),
    );
    if (!cells) return `the header of ${p.file} cannot be split`;
    const mapped = mapHeader(p.entity, version, cells, p.file, new Diagnostics()).columns;
    if (mapped.indexOf('sourcedId') !== 0) return `sourcedId is not the first column of ${p.file}`;
    columns.set(p.entity, mapped);
  }
  markContext(pairs, columns);

  // The changed lines and their context, as two small packages read by the same reader.
  const partBefore = new Map<string, Buffer>([[MANIFEST, manifest]]);
  const partAfter = new Map<string, Buffer>([[MANIFEST, manifest]]);
  for (const p of pairs) {
    partBefore.set(p.file, markedLines(p.before, p.marksBefore));
    partAfter.set(p.file, markedLines(p.after, p.marksAfter));
  }
  const options = { checkFields: false, keepIndexes: false } as const;
  const current = (await readOneRoster(memoryFiles(a, partBefore), new Diagnostics(), options)).roster;
  const desired = (await readOneRoster(memoryFiles(b, partAfter), new Diagnostics(), options)).roster;
  if (current.version !== version) return 'the OneRoster version is read otherwise';
  const scope = {
    removed: {} as Partial<Record<EntityName, readonly number[]>>,
    unchanged: {} as Partial<Record<EntityName, number>>,
    sizes: {} as Partial<Record<EntityName, number>>,
    wholeCurrent: {
      sizes: {} as Partial<Record<EntityName, number>>,
      enrollmentsBySchool: (schools: readonly string[], enough: readonly number[]) => {
        const enrollments = pairs.find((p) => p.entity === 'enrollments');
        const column = columns.get('enrollments')?.indexOf('schoolSourcedId') ?? -1;
        return column < 0 ? schools.map(() => 0) : countValues(enrollments!.before, column, schools, enough);
      },
    },
  } satisfies PlanScope;
  const partial = partialRosterRuledOut(current) ?? partialRosterRuledOut(desired);
  if (partial) return partial;
  for (const p of pairs) {
    const removed: number[] = [];
    let read = 0;
    let context = 0;
    for (let i = 0; i < p.marksBefore.length; i++) {
      const mark = p.marksBefore[i]!;
      if (mark === 1) removed.push(read);
      if (mark === 2) context++;
      if (mark !== 0) read++;
    }
    // (Every line a record: the reader dropped none, so record k is the k-th line given.)
    if (current.table(p.entity).size !== read) return `${p.file}: the lines read as other records`;
    if (desired.table(p.entity).size !== p.changes.added.length + context)
      return `${p.file}: the lines read as other records`;
    scope.removed[p.entity] = removed;
    scope.unchanged[p.entity] = p.changes.kept - context;
    scope.sizes[p.entity] = p.after.count;
    scope.wholeCurrent.sizes[p.entity] = p.before.count;
  }

  const changed = pairs.reduce((n, p) => n + p.changes.removed.length + p.changes.added.length, 0);
  input.progress?.({ stage: 'plan', detail: `${changed} changed line(s)` });
  const plan = computePlan({
    desired,
    current,
    target: input.target,
    state: { lineage: 'diff', serial: 0 },
    commit: null,
    now: input.now,
    showPersonalData: input.showPersonalData,
    desiredFingerprint: '0'.repeat(32),
    scope,
  });
  return { plan, changedLines: changed };
}

/**
 * Marks the unchanged lines a plan of the changed ones looks up (plan/scope.ts, PLAN_LOOKUPS),
 * on both sides (an unchanged line is on both): every line of the entities read whole, and for
 * every user a changed line is about, that user's lines of the user context.
 */
function markContext(
  pairs: readonly FilePair[],
  columns: ReadonlyMap<EntityName, readonly (string | null)[]>,
): void {
  const of = (entity: EntityName) => pairs.find((p) => p.entity === entity);
  const markAll = (marks: Uint8Array) =>
    marks.forEach((m, i) => {
      if (m === 0) marks[i] = 2;
    });
  for (const entity of PLAN_LOOKUPS.whole) {
    const p = of(entity);
    if (p) for (const marks of [p.marksBefore, p.marksAfter]) markAll(marks);
  }
  /** The column naming the user a line is about (0: the line's key, its sourcedId), or -1. */
  const userColumn = (p: FilePair) => {
    const field = PLAN_LOOKUPS.aboutUser[p.entity];
    return field === undefined ? -1 : (columns.get(p.entity) ?? []).indexOf(field);
  };
  const users = new Set<string>();
  for (const p of pairs) {
    const column = userColumn(p);
    if (column < 0) continue;
    for (const i of p.changes.removed) users.add(valueAt(p.before, i, column));
    for (const j of p.changes.added) users.add(valueAt(p.after, j, column));
  }
  users.delete('');
  const mark = (marks: Uint8Array, line: number) => {
    if (line >= 0 && marks[line] === 0) marks[line] = 2;
  };
  // (In key order: each found a few steps past the one before.)
  const keys = [...users].map((id) => Buffer.from(id, 'utf8')).sort(Buffer.compare);
  for (const entity of PLAN_LOOKUPS.userContext) {
    const p = of(entity);
    const column = p ? userColumn(p) : -1;
    if (!p || column < 0) continue;
    if (column === 0) {
      // Keyed by the user: found by key.
      for (const line of findKeys(p.before, keys)) mark(p.marksBefore, line);
      for (const line of findKeys(p.after, keys)) mark(p.marksAfter, line);
      continue;
    }
    for (const [lines, marks] of [
      [p.before, p.marksBefore],
      [p.after, p.marksAfter],
    ] as const) {
      for (let i = 0; i < lines.count; i++)
        if (marks[i] === 0 && users.has(valueAt(lines, i, column))) marks[i] = 2;
    }
  }
}

/** The same header line, whatever its line break. */
function sameHeader(a: Buffer, b: Buffer): boolean {
  const end = (h: Buffer) => h.length - (h[h.length - 1] === 0x0a ? (h[h.length - 2] === 0x0d ? 2 : 1) : 0);
  return a.subarray(0, end(a)).equals(b.subarray(0, end(b)));
}
