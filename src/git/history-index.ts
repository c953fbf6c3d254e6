/**
 * The record history index: one pass over git's history finds, for every commit, the roster
 * records it created, changed or removed, and keeps that under `.git/roster/` (never committed,
 * never pushed). `roster log` and `roster blame` then read a few kilobytes instead of diffing
 * years of commits. The index follows HEAD: new commits are added to it; a HEAD that does not
 * descend from the indexed one (a rebase, a force push, another branch) builds it again.
 *
 * Records of a commit that changed more than BULK_RECORDS of one entity (the first import, a new
 * school year) are not listed one by one: the index keeps the counts and the files' blobs, and a
 * question about one record reads its lines from them (recordsMentioning). So the index stays a
 * small fraction of `.git` while every record's history is still exact.
 */
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import type { EntityName, RosterVersion } from '../model/entities.js';
import {
  BlobReader,
  type CommitInfo,
  type ComparedPair,
  changedFiles,
  type FileChange,
  isAncestor,
  listCommits,
} from './plumbing.js';
import {
  csvEntityOf,
  diffRecordFiles,
  isRosterFile,
  type RecordChange,
  type RecordId,
  type RecordValues,
  type RosterFile,
  refsOf,
  splitRecordId,
  statedYamlVersion,
} from './record-diff.js';

/** The index file's own format: raise it whenever what it holds, or means, changes (an old index is then built again). */
export const HISTORY_INDEX_FORMAT = 1;
/** More changed records of one entity in one commit than this: kept as a bulk change. */
export const BULK_RECORDS = 2000;

/** 'c': the record appeared (all its values); 'u': values changed (name → [before, after]); 'd': it went. */
export type EventOp = 'c' | 'u' | 'd';
/** [commit (index into commits), op, values, the sourcedIds the record points at]. */
export type StoredEvent =
  | [commit: number, op: 'c', values: RecordValues, refs: string[]]
  | [commit: number, op: 'u', fields: Record<string, [string, string]>, refs: string[]]
  | [commit: number, op: 'd', values: 0, refs: string[]];

/** A commit's changes of one entity, too many to list: what a question about one record reads again. */
export interface BulkChange {
  readonly commit: number;
  readonly entity: EntityName;
  readonly created: number;
  readonly changed: number;
  readonly removed: number;
  /** The files the commit changed, before (on its first parent) and after: [path, blob]. */
  readonly before: readonly (readonly [string, string])[];
  readonly after: readonly (readonly [string, string])[];
}

export interface HistoryIndex {
  readonly format: number;
  readonly tool: 'roster-as-code';
  /** The roster's path from the repo's top ('.' for all of it), as indexed. */
  readonly rosterPath: string;
  /** The commit the index reaches: every commit it can reach is indexed. */
  readonly head: string;
  /** Every commit of HEAD's history, parents before children. */
  readonly commits: CommitInfo[];
  readonly events: Record<RecordId, StoredEvent[]>;
  readonly bulk: BulkChange[];
  /** The version the roster's YAML last stated (a school's file alone does not say it). */
  readonly yamlVersion?: RosterVersion;
}

/** What bringing the index up to date did. */
export interface IndexUpdate {
  readonly index: HistoryIndex;
  /** Commits added to the index by this update. */
  readonly added: number;
  /** Set when the index was built from nothing, with why. */
  readonly rebuilt?: 'new' | 'rewritten' | 'format' | 'roster-path';
}

const INDEX_FILE = 'history.json.gz';

/** The index file in `gitDir` (the repository's common git folder). */
export function indexPath(gitDir: string): string {
  return join(gitDir, 'roster', INDEX_FILE);
}

/** The stored index, or undefined when there is none, or one this version cannot use. */
export function loadIndex(gitDir: string): HistoryIndex | undefined {
  try {
    const index = JSON.parse(gunzipSync(readFileSync(indexPath(gitDir))).toString('utf8')) as HistoryIndex;
    return index.tool === 'roster-as-code' ? index : undefined;
  } catch {
    return undefined; // (none yet, or damaged: built again)
  }
}

/** Writes the index atomically (a temporary file renamed into place); leftovers of killed runs go. */
function saveIndex(gitDir: string, index: HistoryIndex): void {
  const dir = join(gitDir, 'roster');
  mkdirSync(dir, { recursive: true });
  for (const name of readdirSync(dir))
    if (name.startsWith(`${INDEX_FILE}.tmp-`)) rmSync(join(dir, name), { force: true });
  const tmp = join(dir, `${INDEX_FILE}.tmp-${process.pid}`);
  writeFileSync(tmp, gzipSync(JSON.stringify(index), { level: 6 }));
  renameSync(tmp, indexPath(gitDir));
}

export interface UpdateOptions {
  /** Told of each commit read (built from nothing, a long history takes a while). */
  readonly progress?: (done: number, total: number) => void;
  readonly signal?: AbortSignal;
  /** BULK_RECORDS, unless a test asks for another (the answers must not depend on it). */
  readonly bulkRecords?: number;
}

/**
 * Brings the index of the repo at `top` (git folder `gitDir`) up to `head`, for the roster at
 * `rosterPath` (from the top), and saves it.
 */
export async function updateIndex(
  top: string,
  gitDir: string,
  head: string,
  rosterPath: string,
  options: UpdateOptions = {},
): Promise<IndexUpdate> {
  const stored = loadIndex(gitDir);
  if (stored && stored.format === HISTORY_INDEX_FORMAT && stored.rosterPath === rosterPath) {
    if (stored.head === head) return { index: stored, added: 0 };
    if (await isAncestor(top, stored.head, head)) {
      const commits = await listCommits(top, head, [stored.head]);
      const index = await extend(top, { ...stored, head }, commits, options);
      saveIndex(gitDir, index);
      return { index, added: commits.length };
    }
  }
  const rebuilt = !stored
    ? 'new'
    : stored.format !== HISTORY_INDEX_FORMAT
      ? 'format'
      : stored.rosterPath !== rosterPath
        ? 'roster-path'
        : 'rewritten';
  const commits = await listCommits(top, head);
  const empty: HistoryIndex = {
    format: HISTORY_INDEX_FORMAT,
    tool: 'roster-as-code',
    rosterPath,
    head,
    commits: [],
    events: {},
    bulk: [],
  };
  const index = await extend(top, empty, commits, options);
  saveIndex(gitDir, index);
  return { index, added: commits.length, rebuilt };
}

/** `index` with `commits` (parents before children, none of them indexed yet) added. */
async function extend(
  top: string,
  index: HistoryIndex,
  commits: readonly CommitInfo[],
  options: UpdateOptions,
): Promise<HistoryIndex> {
  const all = [...index.commits, ...commits];
  const number = new Map(all.map((c, i) => [c.sha, i]));
  const events: Record<RecordId, StoredEvent[]> = { ...index.events };
  const bulk = [...index.bulk];
  // Every comparison at once: a commit with each of its parents (a root commit with nothing).
  const pairs = commits.flatMap((c): ComparedPair[] =>
    c.parents.length === 0
      ? [{ commit: c.sha, parent: undefined }]
      : c.parents.map((p) => ({ commit: c.sha, parent: p })),
  );
  const pathspec = index.rosterPath;
  const files = await changedFiles(top, pairs, pathspec);
  const perCommit: FileChange[][][] = [];
  let at = 0;
  for (const c of commits) {
    const n = Math.max(1, c.parents.length);
    perCommit.push(files.slice(at, at + n).map((f) => f.filter((x) => isRosterFile(x.path))));
    at += n;
  }
  const blobs = new BlobReader(top);
  let yamlVersion = index.yamlVersion;
  try {
    const read = (changes: readonly FileChange[], side: 'before' | 'after'): Promise<RosterFile[]> =>
      Promise.all(
        changes
          .filter((f) => f[side] !== undefined)
          .map(async (f) => ({ path: f.path, bytes: await blobs.read(f[side]!) })),
      );
    // A merge changed records only where it differs from every parent (a conflict resolved by
    // hand); what one parent brought in is that parent's commits' change.
    const touched = (k: number) => perCommit[k]!.length > 0 && perCommit[k]!.every((f) => f.length > 0);
    const load = (k: number) =>
      touched(k)
        ? perCommit[k]!.map(async (f) => ({ before: await read(f, 'before'), after: await read(f, 'after') }))
        : [];
    let next = load(0);
    for (const [k, commit] of commits.entries()) {
      options.signal?.throwIfAborted();
      const sides = next;
      // (The next commit's blobs are asked for while this one's records are compared.)
      next = k + 1 < commits.length ? load(k + 1) : [];
      options.progress?.(k + 1, commits.length);
      if (sides.length === 0) continue;
      const c = number.get(commit.sha)!;
      const bulkRecords = options.bulkRecords ?? BULK_RECORDS;
      const compared = await Promise.all(
        sides.map(async (s, parent) => {
          let { before, after } = await s;
          // A CSV file added or removed whole, of more records than are listed: counted, not read
          // (the first import of a city is a million records).
          if (sides.length === 1) {
            const whole = wholeFiles(before, after, bulkRecords);
            for (const w of whole) bulk.push(bulkChange(c, w.entity, w, perCommit[k]![parent]!));
            const skip = new Set(whole.map((w) => w.path));
            before = before.filter((f) => !skip.has(f.path));
            after = after.filter((f) => !skip.has(f.path));
          }
          // (The main YAML file states the version; a commit that changes only a school's file does not.)
          for (const f of after) {
            if (csvEntityOf(f.path)) continue;
            const stated = statedYamlVersion(f.bytes.toString('utf8', 0, Math.min(f.bytes.length, 4096)));
            if (stated) yamlVersion = stated;
          }
          return diffRecordFiles(before, after, yamlVersion ? { yamlVersion } : {});
        }),
      );
      let changes = compared[0]!;
      if (compared.length > 1) {
        const inAll = compared.slice(1).map((c) => new Set(c.map((x) => x.id)));
        changes = changes.filter((x) => inAll.every((s) => s.has(x.id)));
      }
      record(c, changes, events, bulk, perCommit[k]![0]!, bulkRecords);
    }
  } finally {
    blobs.close();
  }
  return { ...index, commits: all, events, bulk, ...(yamlVersion ? { yamlVersion } : {}) };
}

/** Adds commit `c`'s record changes to `events`, or to `bulk` where an entity has too many. */
function record(
  c: number,
  changes: readonly RecordChange[],
  events: Record<RecordId, StoredEvent[]>,
  bulk: BulkChange[],
  files: readonly FileChange[],
  bulkRecords: number,
): void {
  const byEntity = new Map<EntityName, RecordChange[]>();
  for (const change of changes) {
    const { entity } = splitRecordId(change.id);
    let list = byEntity.get(entity);
    if (!list) {
      list = [];
      byEntity.set(entity, list);
    }
    list.push(change);
  }
  for (const [entity, list] of byEntity) {
    if (list.length > bulkRecords) {
      const counts = {
        created: list.filter((x) => !x.before).length,
        changed: list.filter((x) => x.before && x.after).length,
        removed: list.filter((x) => !x.after).length,
      };
      bulk.push(bulkChange(c, entity, counts, files));
      continue;
    }
    for (const change of list) {
      let list = events[change.id];
      if (!list) {
        list = [];
        events[change.id] = list;
      }
      list.push(storedEvent(c, change));
    }
  }
}

function bulkChange(
  c: number,
  entity: EntityName,
  counts: { created: number; changed?: number; removed: number },
  files: readonly FileChange[],
): BulkChange {
  return {
    commit: c,
    entity,
    created: counts.created,
    changed: counts.changed ?? 0,
    removed: counts.removed,
    before: files.filter((f) => f.before && holds(f.path)).map((f) => [f.path, f.before!] as const),
    after: files.filter((f) => f.after && holds(f.path)).map((f) => [f.path, f.after!] as const),
  };
  // (Only files that can hold the entity's records: its CSV file, and YAML.)
  function holds(path: string): boolean {
    const of = csvEntityOf(path);
    return of === undefined || of === entity;
  }
}

/**
 * CSV entity files a commit added (or removed) whole, with more than `limit` records, where no
 * other file on the other side can hold that entity's records (no file of it, no YAML): every
 * record of such a file was created (or removed), so its lines are counted, never read.
 */
function wholeFiles(
  before: readonly RosterFile[],
  after: readonly RosterFile[],
  limit: number,
): { path: string; entity: EntityName; created: number; removed: number }[] {
  const out: { path: string; entity: EntityName; created: number; removed: number }[] = [];
  const yaml = (files: readonly RosterFile[]) => files.some((f) => csvEntityOf(f.path) === undefined);
  for (const [side, other, created] of [
    [after, before, true],
    [before, after, false],
  ] as const) {
    if (yaml(other)) continue;
    for (const f of side) {
      const entity = csvEntityOf(f.path);
      if (!entity || other.some((o) => csvEntityOf(o.path) === entity)) continue;
      if (side.some((g) => g !== f && csvEntityOf(g.path) === entity)) continue;
      const n = dataLines(f.bytes);
      if (n > limit) out.push({ path: f.path, entity, created: created ? n : 0, removed: created ? 0 : n });
    }
  }
  return out;
}

/** Lines after the header that are not blank. */
function dataLines(bytes: Buffer): number {
  let n = 0;
  let start = bytes.indexOf(0x0a) + 1;
  if (start === 0) return 0;
  while (start < bytes.length) {
    const lf = bytes.indexOf(0x0a, start);
    const end = lf < 0 ? bytes.length : lf;
    if (end > start && !(end === start + 1 && bytes[start] === 0x0d)) n++;
    start = end + 1;
  }
  return n;
}

/** A change as the index keeps it. */
export function storedEvent(c: number, change: RecordChange): StoredEvent {
  if (!change.before) return [c, 'c', change.after!, refsOf(change.after!)];
  if (!change.after) return [c, 'd', 0, refsOf(change.before)];
  const fields: Record<string, [string, string]> = {};
  for (const name of new Set([...Object.keys(change.before), ...Object.keys(change.after)])) {
    const b = change.before[name] ?? '';
    const a = change.after[name] ?? '';
    if (a !== b) fields[name] = [b, a];
  }
  return [c, 'u', fields, refsOf(change.after)];
}
