/**
 * Questions to the record history index (history-index.ts): the changes of one record, of the
 * records that point at it, of a school's records over a time; which commit set each value; which
 * pull request a commit came with. Records changed in bulk are read from the blobs the index names.
 */
import { editDistance } from '../formats/oneroster-csv/header.js';
import { ENTITY_NAMES, type EntityName } from '../model/entities.js';
import type { BulkChange, HistoryIndex, StoredEvent } from './history-index.js';
import { storedEvent } from './history-index.js';
import type { BlobReader, CommitInfo } from './plumbing.js';
import {
  type RecordId,
  type RecordValues,
  type RosterFile,
  recordId,
  recordsMentioning,
  splitRecordId,
} from './record-diff.js';

/** What a commit did to a record. Stable strings (JSON output). */
export type ChangeKind = 'created' | 'changed' | 'removed' | 're-added';

/** A field's values around a change; absent: empty. */
export interface FieldValues {
  readonly name: string;
  readonly before?: string;
  readonly after?: string;
}

/** One commit's change of one record. */
export interface RecordEvent {
  readonly id: RecordId;
  /** The commit's number in the index (parents before children). */
  readonly commit: number;
  readonly kind: ChangeKind;
  /** created / re-added: every value; changed: the fields that differ; removed: none. */
  readonly fields: readonly FieldValues[];
  /** The sourcedIds the record points at in this version (the one before, for a removal). */
  readonly refs: readonly string[];
}

/** The pull request a commit came with, as far as its history tells. */
export interface PullRequestRef {
  readonly number?: number;
  readonly branch?: string;
  /** The merge commit that brought it in, when that is not the commit itself. */
  readonly mergedBy?: string;
}

/** A commit's changes of an entity too many to list one by one (history-index.ts, BULK_RECORDS). */
export interface BulkEvent {
  readonly commit: number;
  readonly entity: EntityName;
  readonly created: number;
  readonly changed: number;
  readonly removed: number;
}

/** What a listing asks for (roster log without a record). */
export interface HistoryFilter {
  readonly since?: Date;
  readonly until?: Date;
  /** Part of an author's name or e-mail address, any case (as git log --author). */
  readonly author?: string;
  /** Records of this school: the school itself, and records that name it. */
  readonly school?: string;
  readonly entities?: readonly EntityName[];
}

const MERGE_PR = /^Merge pull request #(\d+) from (\S+)/;
const SQUASH_PR = /\(#(\d+)\)\s*$/;
const MERGE_BRANCH = /^Merge (?:remote-tracking )?branch '([^']+)'/;

export class RecordHistory {
  private readonly number: Map<string, number>;
  private pullRequests: (PullRequestRef | undefined)[] | undefined;
  private readonly bulkRecords = new Map<
    string,
    Promise<Map<RecordId, { before?: RecordValues; after?: RecordValues }>>
  >();
  private reverse: Map<string, RecordId[]> | undefined;

  constructor(
    readonly index: HistoryIndex,
    private readonly blobs: BlobReader,
  ) {
    this.number = new Map(index.commits.map((c, i) => [c.sha, i]));
  }

  commit(n: number): CommitInfo {
    return this.index.commits[n]!;
  }

  /** The index number of `sha`, if indexed. */
  numberOf(sha: string): number | undefined {
    return this.number.get(sha);
  }

  /** The pull request commit `n` came with: its own subject, or the merge that brought it to HEAD's first-parent line. */
  pullRequestOf(n: number): PullRequestRef | undefined {
    this.pullRequests ??= this.findPullRequests();
    return this.pullRequests[n];
  }

  private findPullRequests(): (PullRequestRef | undefined)[] {
    const commits = this.index.commits;
    const out: (PullRequestRef | undefined)[] = commits.map((c) => ownPullRequest(c.subject));
    // The first-parent line from HEAD; each merge on it brings in what its other parents reach
    // and the line does not (oldest merge first: what an earlier merge brought is taken).
    const mainline: number[] = [];
    for (let n = this.number.get(this.index.head); n !== undefined; ) {
      mainline.push(n);
      const first = commits[n]!.parents[0];
      n = first === undefined ? undefined : this.number.get(first);
    }
    const taken = new Uint8Array(commits.length);
    for (const n of mainline) taken[n] = 1;
    for (const m of mainline.reverse()) {
      const merge = commits[m]!;
      if (merge.parents.length < 2) continue;
      const pr = out[m] ?? { branch: merge.subject };
      const stack = merge.parents.slice(1).map((p) => this.number.get(p));
      while (stack.length > 0) {
        const n = stack.pop();
        if (n === undefined || taken[n]) continue;
        taken[n] = 1;
        if (!out[n]) out[n] = { ...pr, mergedBy: merge.sha };
        for (const p of commits[n]!.parents) stack.push(this.number.get(p));
      }
    }
    return out;
  }

  /** Every stored change of `id` and the bulk changes that touched it, oldest first, with their kinds. */
  async eventsOf(id: RecordId): Promise<RecordEvent[]> {
    const stored = [...(this.index.events[id] ?? [])];
    const { entity, sourcedId } = splitRecordId(id);
    for (const b of this.index.bulk) {
      if (b.entity !== entity) continue;
      const change = (await this.bulkRecordsOf(b, sourcedId)).get(id);
      if (change) stored.push(storedEvent(b.commit, { id, ...change }));
    }
    return withKinds(
      id,
      stored.sort((x, y) => x[0] - y[0]),
    );
  }

  /** Records that point at `sourcedId` (its enrollments, ...) or share it (its demographics), as ever indexed. */
  async relatedIds(sourcedId: string, self: RecordId): Promise<RecordId[]> {
    if (!this.reverse) {
      this.reverse = new Map();
      for (const [id, events] of Object.entries(this.index.events)) {
        const refs = new Set(events.flatMap((e) => e[3]));
        refs.add(splitRecordId(id).sourcedId);
        for (const r of refs) {
          let list = this.reverse.get(r);
          if (!list) {
            list = [];
            this.reverse.set(r, list);
          }
          list.push(id);
        }
      }
    }
    const ids = new Set(this.reverse.get(sourcedId) ?? []);
    for (const b of this.index.bulk)
      for (const id of (await this.bulkRecordsOf(b, sourcedId)).keys()) ids.add(id);
    ids.delete(self);
    return [...ids].sort();
  }

  /** The records of bulk change `b` that are or name `sourcedId`, before and after it. */
  private bulkRecordsOf(
    b: BulkChange,
    sourcedId: string,
  ): Promise<Map<RecordId, { before?: RecordValues; after?: RecordValues }>> {
    const key = `${b.commit}\0${b.entity}\0${sourcedId}`;
    let found = this.bulkRecords.get(key);
    if (!found) {
      found = (async () => {
        const read = (files: BulkChange['before']): Promise<RosterFile[]> =>
          Promise.all(files.map(async ([path, blob]) => ({ path, bytes: await this.blobs.read(blob) })));
        const context = this.index.yamlVersion ? { yamlVersion: this.index.yamlVersion } : {};
        const before = await recordsMentioning(await read(b.before), sourcedId, context);
        const after = await recordsMentioning(await read(b.after), sourcedId, context);
        const out = new Map<RecordId, { before?: RecordValues; after?: RecordValues }>();
        for (const [id, v] of before) if (splitRecordId(id).entity === b.entity) out.set(id, { before: v });
        for (const [id, v] of after)
          if (splitRecordId(id).entity === b.entity) out.set(id, { ...out.get(id), after: v });
        for (const [id, { before: x, after: y }] of out)
          if (x && y && JSON.stringify(sorted(x)) === JSON.stringify(sorted(y))) out.delete(id);
        return out;
      })();
      this.bulkRecords.set(key, found);
    }
    return found;
  }

  /** Whether `event` passes `filter`. */
  passes(event: RecordEvent, filter: HistoryFilter): boolean {
    const { entity, sourcedId } = splitRecordId(event.id);
    if (filter.entities && !filter.entities.includes(entity)) return false;
    if (filter.school && sourcedId !== filter.school && !event.refs.includes(filter.school)) return false;
    return commitPasses(this.commit(event.commit), filter);
  }

  /**
   * Every record's indexed changes (oldest first within a record), each with the record's next
   * change (undefined: none since), that pass `filter`; and the bulk changes in its range.
   */
  list(filter: HistoryFilter): {
    events: { event: RecordEvent; next: number | undefined }[];
    bulk: BulkEvent[];
  } {
    const events: { event: RecordEvent; next: number | undefined }[] = [];
    for (const [id, stored] of Object.entries(this.index.events)) {
      if (filter.entities && !filter.entities.includes(splitRecordId(id).entity)) continue;
      const all = withKinds(id, stored);
      for (const [k, e] of all.entries())
        if (this.passes(e, filter)) events.push({ event: e, next: all[k + 1]?.commit });
    }
    events.sort((x, y) => x.event.commit - y.event.commit || (x.event.id < y.event.id ? -1 : 1));
    const bulk = this.index.bulk
      .filter(
        (b) =>
          commitPasses(this.commit(b.commit), filter) &&
          (!filter.entities || filter.entities.includes(b.entity)),
      )
      .map(({ commit, entity, created, changed, removed }) => ({
        commit,
        entity,
        created,
        changed,
        removed,
      }));
    return { events, bulk };
  }

  /**
   * Which record `query` names: `entity/sourcedId` as given, or a bare sourcedId's record (users
   * before the entities that share their ids). Undefined when the history never had it.
   */
  async resolve(query: string): Promise<RecordId | undefined> {
    const slash = query.indexOf('/');
    const candidates =
      slash > 0 && ENTITY_NAMES.includes(query.slice(0, slash) as EntityName)
        ? [query]
        : ENTITY_NAMES.map((e) => recordId(e, query));
    for (const id of candidates) {
      if (this.index.events[id]) return id;
    }
    for (const id of candidates) {
      const { entity, sourcedId } = splitRecordId(id);
      for (const b of this.index.bulk)
        if (b.entity === entity && (await this.bulkRecordsOf(b, sourcedId)).has(id)) return id;
    }
    return undefined;
  }

  /** Record names of the history close to `query` (a typo, a lost zero), for "did you mean". */
  async suggest(query: string): Promise<string[]> {
    const bare = query.includes('/') ? query.slice(query.indexOf('/') + 1) : query;
    const names = new Set(Object.keys(this.index.events).map((id) => splitRecordId(id).sourcedId));
    // Records only ever changed in bulk: their keys, read from the bulk changes' files (CSV:
    // each line's first value; YAML: `sourcedId:` values).
    for (const b of this.index.bulk) {
      for (const [path, blob] of b.after) {
        const text = (await this.blobs.read(blob)).toString('utf8');
        const keys = path.endsWith('.csv')
          ? text.split('\n').map((line) => line.slice(0, line.indexOf(',')))
          : [...text.matchAll(/sourcedId:\s*"?([^"\s]+)/g)].map((m) => m[1]!);
        for (const k of keys) if (k) names.add(k);
      }
    }
    const scored = [...names]
      .map((n) => [n, closeness(bare, n)] as const)
      .filter(([, d]) => d <= Math.max(1, Math.floor(bare.length / 4)))
      .sort((a, b) => a[1] - b[1] || (a[0] < b[0] ? -1 : 1));
    return scored.slice(0, 3).map(([n]) => n);
  }
}

/** A commit's own pull request, from its subject (a merge or squash commit of a pull request). */
export function ownPullRequest(subject: string): PullRequestRef | undefined {
  const merge = MERGE_PR.exec(subject);
  if (merge) return { number: Number(merge[1]), branch: merge[2]! };
  const squash = SQUASH_PR.exec(subject);
  if (squash) return { number: Number(squash[1]) };
  const branch = MERGE_BRANCH.exec(subject);
  if (branch) return { branch: branch[1]! };
  return undefined;
}

function commitPasses(c: CommitInfo, filter: HistoryFilter): boolean {
  const when = Date.parse(c.committerDate);
  if (filter.since && when < filter.since.getTime()) return false;
  if (filter.until && when > filter.until.getTime()) return false;
  if (filter.author) {
    const a = filter.author.toLowerCase();
    if (!`${c.author} <${c.authorEmail}>`.toLowerCase().includes(a)) return false;
  }
  return true;
}

/** The record's stored events (oldest first) as RecordEvents: kinds decided by what came before. */
function withKinds(id: RecordId, stored: readonly StoredEvent[]): RecordEvent[] {
  let removedBefore = false;
  return stored.map((e) => {
    const [commit, op, , refs] = e;
    if (op === 'd') {
      removedBefore = true;
      return { id, commit, kind: 'removed', fields: [], refs };
    }
    if (op === 'c') {
      const fields = Object.entries(e[2]).map(([name, after]) => ({ name, after }));
      return { id, commit, kind: removedBefore ? 're-added' : 'created', fields, refs };
    }
    const fields = Object.entries(e[2]).map(([name, [before, after]]) => ({
      name,
      ...(before !== '' ? { before } : {}),
      ...(after !== '' ? { after } : {}),
    }));
    return { id, commit, kind: 'changed', fields, refs };
  });
}

function sorted(v: RecordValues): [string, string][] {
  return Object.entries(v).sort(([a], [b]) => (a < b ? -1 : 1));
}

/**
 * How far apart two ids are: the edit distance, or 1 when they differ only in zero padding
 * (stu-9, stu-09).
 */
function closeness(a: string, b: string): number {
  if (a === b) return 0;
  const unpad = (s: string) => s.replace(/(^|[^0-9])0+(?=[0-9])/g, '$1');
  if (unpad(a) === unpad(b)) return 1;
  if (Math.abs(a.length - b.length) > 3) return 99;
  return editDistance(a, b);
}
