/**
 * `roster log`, `roster blame` and `roster applies`: the audit trail git already holds, record by
 * record (src/git/history-index.ts), with what each target was delivered (the targets' state
 * history). Values are masked as in plans unless personal data is asked for; redacted fields always.
 */
import { readFileSync, realpathSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import { loadRepoConfig, type RosterConfig, selectTarget } from '../config/config.js';
import { RosterError, UsageError } from '../errors.js';
import { type HistoryIndex, updateIndex } from '../git/history-index.js';
import { BlobReader, type CommitInfo, gitText } from '../git/plumbing.js';
import { type RecordId, splitRecordId } from '../git/record-diff.js';
import {
  type BulkEvent,
  type FieldValues,
  type HistoryFilter,
  type RecordEvent,
  RecordHistory,
} from '../git/record-history.js';
import { ENTITIES, type EntityName } from '../model/entities.js';
import { PERSONAL, REDACTED } from '../plan/compute.js';
import { DEFAULT_REDACT, matchesField } from '../plan/policy.js';
import {
  type AppliesResult,
  type BlameResult,
  type ChangeView,
  type CommitView,
  type DeliveryView,
  HISTORY_FORMAT_VERSION,
  type IndexInfo,
  type LogEntry,
  type LogResult,
  type TargetApplies,
} from '../render/history.js';
import { historyAfter } from '../targets/state.js';

export interface HistoryOptions {
  /** A folder inside the district repo. */
  readonly repo: string;
  /** History up to this revision (default HEAD). */
  readonly revision?: string;
  readonly showPersonalData?: boolean;
  readonly progress?: (done: number, total: number) => void;
  readonly signal?: AbortSignal;
}

export interface LogOptions extends HistoryOptions, HistoryFilter {
  readonly record?: string;
  readonly related?: boolean;
  /** At most this many entries (newest). */
  readonly limit?: number;
}

/** The repo's history, its index brought up to date. */
interface OpenHistory {
  readonly config: RosterConfig;
  readonly history: RecordHistory;
  readonly info: IndexInfo;
  /** Commits reachable from the revision asked for (undefined: all of HEAD's). */
  readonly reachable: Uint8Array | undefined;
  readonly rosterPath: string;
  close(): void;
}

async function git(top: string, args: string[]): Promise<string> {
  return (await gitText(top, args)).trim();
}

async function openHistory(options: HistoryOptions): Promise<OpenHistory> {
  const config = loadRepoConfig(options.repo);
  // One git for the facts (top, shallow, git folder, HEAD); when it fails, one question at a time
  // says which is missing.
  let top: string;
  let shallow: string;
  let gitDir: string;
  let head: string;
  try {
    [top, shallow, gitDir, head] = (
      await git(config.root, [
        'rev-parse',
        '--show-toplevel',
        '--is-shallow-repository',
        '--path-format=absolute',
        '--git-common-dir',
        '--verify',
        'HEAD^{commit}',
      ])
    ).split('\n') as [string, string, string, string];
  } catch {
    try {
      await git(config.root, ['rev-parse', '--show-toplevel']);
    } catch {
      throw new UsageError(
        'NOT_A_GIT_REPO',
        `${config.root} is not in a git repository: there is no history to read`,
        "roster log, blame and git-setup read the roster folder's git history. Run `git init` and commit the roster (roster init does both).",
      );
    }
    throw new UsageError(
      'NO_COMMITS',
      `${config.root} has no commits yet`,
      'Commit the roster first: git add -A && git commit.',
    );
  }
  const rosterPath = relative(realpathSync(top), realpathSync(config.rosterPath)) || '.';
  if (shallow === 'true') {
    const cut = readFileSync(resolve(gitDir, 'shallow'), 'utf8').split('\n')[0] ?? '';
    throw new UsageError(
      'HISTORY_SHALLOW',
      `the history of this clone is cut at ${cut.slice(0, 12) || 'a shallow commit'}: the audit would miss everything before it`,
      'Fetch the whole history first: git fetch --unshallow (in GitHub Actions: actions/checkout with fetch-depth: 0).',
    );
  }
  let at: string | undefined;
  if (options.revision !== undefined) {
    try {
      at = await git(top, ['rev-parse', '--verify', '--end-of-options', `${options.revision}^{commit}`]);
    } catch {
      throw new UsageError(
        'REVISION_NOT_FOUND',
        `there is no revision "${options.revision}" in ${top}`,
        'Give a commit, branch or tag of this repository (git log --oneline lists commits).',
      );
    }
  }
  const update = await updateIndex(top, gitDir, head, rosterPath, {
    ...(options.progress ? { progress: options.progress } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
  });
  const blobs = new BlobReader(top);
  const history = new RecordHistory(update.index, blobs);
  let reachable: Uint8Array | undefined;
  if (at !== undefined && at !== head) {
    const n = history.numberOf(at);
    if (n === undefined) {
      blobs.close();
      throw new UsageError(
        'REVISION_NOT_IN_HISTORY',
        `revision "${options.revision}" is not in the history of the checked-out commit`,
        'Check out the branch that holds it first (git switch), then ask again.',
      );
    }
    reachable = ancestry(update.index, n);
  }
  return {
    config,
    history,
    info: {
      commits: update.index.commits.length,
      added: update.added,
      ...(update.rebuilt ? { rebuilt: update.rebuilt } : {}),
    },
    reachable,
    rosterPath,
    close: () => blobs.close(),
  };
}

/** Commit `n` and its ancestors, as marks over the index's commits. */
function ancestry(index: HistoryIndex, n: number): Uint8Array {
  const number = new Map(index.commits.map((c, i) => [c.sha, i]));
  const marks = new Uint8Array(index.commits.length);
  const stack = [n];
  while (stack.length > 0) {
    const k = stack.pop()!;
    if (marks[k]) continue;
    marks[k] = 1;
    for (const p of index.commits[k]!.parents) {
      const q = number.get(p);
      if (q !== undefined) stack.push(q);
    }
  }
  return marks;
}

/** Masks values as plans do: the union of the targets' `redact` always, personal data unless asked. */
function masker(config: RosterConfig, showPersonalData: boolean) {
  const redact =
    config.targets.length === 0
      ? DEFAULT_REDACT
      : [...new Set(config.targets.flatMap((t) => t.policy.redact))];
  const mask = (entity: EntityName, field: string, value: string | undefined): string | undefined => {
    if (value === undefined) return undefined;
    if (matchesField(redact, field) || (entity === 'demographics' && matchesField(redact, 'demographics')))
      return REDACTED;
    if (ENTITIES[entity]?.fields[field]?.pii && !showPersonalData) return PERSONAL;
    return value;
  };
  return (id: RecordId, fields: readonly FieldValues[]): FieldValues[] => {
    const { entity } = splitRecordId(id);
    return fields.map((f) => {
      const before = mask(entity, f.name, f.before);
      const after = mask(entity, f.name, f.after);
      return {
        name: f.name,
        ...(before !== undefined ? { before } : {}),
        ...(after !== undefined ? { after } : {}),
      };
    });
  };
}

function commitView(history: RecordHistory, n: number): CommitView {
  const c: CommitInfo = history.commit(n);
  const pr = history.pullRequestOf(n);
  const differs = c.committer !== c.author || c.committerEmail !== c.authorEmail;
  return {
    sha: c.sha,
    date: c.authorDate,
    author: { name: c.author, email: c.authorEmail },
    ...(differs ? { committer: { name: c.committer, email: c.committerEmail, date: c.committerDate } } : {}),
    subject: c.subject,
    ...(pr ? { pullRequest: pr } : {}),
  };
}

export async function readApplies(config: RosterConfig, targetName?: string): Promise<TargetApplies[]> {
  const targets = targetName ? [selectTarget(config, targetName)] : config.targets;
  const out: TargetApplies[] = [];
  // (Loaded when asked: the targets bring SFTP and HTTP clients with them.)
  const { createTarget } = await import('../targets/create.js');
  for (const t of targets) {
    const target = createTarget(t);
    try {
      const state = await target.readState();
      out.push({ target: t.name, kind: t.kind, applies: historyAfter(state) });
    } catch (err) {
      if (!(err instanceof RosterError)) throw err;
      out.push({
        target: t.name,
        kind: t.kind,
        applies: [],
        error: { code: err.code, message: err.message, ...(err.hint ? { hint: err.hint } : {}) },
      });
    } finally {
      await target.close?.();
    }
  }
  return out;
}

/** `roster applies`: each target's applies, newest first. */
export async function listApplies(options: { repo: string; target?: string }): Promise<AppliesResult> {
  const config = loadRepoConfig(options.repo);
  const targets = (await readApplies(config, options.target)).map((t) => ({
    ...t,
    applies: [...t.applies].reverse(),
  }));
  return { formatVersion: HISTORY_FORMAT_VERSION, kind: 'applies', targets };
}

/**
 * For each record version, the first apply of each target that delivered it: an apply whose
 * commit has the version's commit in its history and not the record's next change.
 */
function deliveries(index: HistoryIndex, history: RecordHistory, targets: readonly TargetApplies[]) {
  const reach = new Map<number, Uint8Array>();
  const reachOf = (n: number) => {
    let marks = reach.get(n);
    if (!marks) {
      marks = ancestry(index, n);
      reach.set(n, marks);
    }
    return marks;
  };
  const applies = targets.flatMap((t) =>
    t.applies.flatMap((a) => {
      const n = a.appliedCommit ? history.numberOf(a.appliedCommit) : undefined;
      return n === undefined ? [] : [{ target: t.target, apply: a, n }];
    }),
  );
  return (commit: number, nextCommit: number | undefined): DeliveryView[] => {
    const first = new Map<string, DeliveryView>();
    for (const { target, apply, n } of applies) {
      if (first.has(target)) continue;
      const marks = reachOf(n);
      if (!marks[commit] || (nextCommit !== undefined && marks[nextCommit])) continue;
      first.set(target, {
        target,
        serial: apply.serial,
        appliedAt: apply.appliedAt,
        commit: apply.appliedCommit,
        dirty: apply.appliedDirty,
      });
    }
    return [...first.values()];
  };
}

/** A record query's answer, or a clear error naming the record and what is close to it. */
async function resolveRecord(open: OpenHistory, query: string): Promise<RecordId> {
  const id = await open.history.resolve(query);
  if (id) return id;
  const near = await open.history.suggest(query);
  throw new UsageError(
    'RECORD_NOT_IN_HISTORY',
    `no record ${query} in the history of ${open.rosterPath === '.' ? 'the repository' : `${open.rosterPath}/`}${near.length ? `; did you mean ${near.join(', ')}?` : ''}`,
    'Give a sourcedId (stu-000131) or entity/sourcedId (enrollments/enr-88) of a record that was ever committed.',
  );
}

/** `roster log`: one record's history (and its related records'), or a filtered listing. */
export async function recordLog(options: LogOptions): Promise<LogResult> {
  const open = await openHistory(options);
  try {
    const { history, reachable } = open;
    const mask = masker(open.config, options.showPersonalData ?? false);
    const inRange = (n: number) => !reachable || reachable[n] === 1;
    const filter: HistoryFilter = {
      ...(options.since ? { since: options.since } : {}),
      ...(options.until ? { until: options.until } : {}),
      ...(options.author ? { author: options.author } : {}),
      ...(options.school ? { school: options.school } : {}),
      ...(options.entities ? { entities: options.entities } : {}),
    };
    // Each change with the record's next change (what an apply delivered lies between them).
    let events: { event: RecordEvent; next: number | undefined }[] = [];
    let bulk: BulkEvent[] = [];
    let record: RecordId | undefined;
    let related: RecordId[] | undefined;
    const withNext = (list: readonly RecordEvent[]) => {
      const live = list.filter((e) => inRange(e.commit));
      return live.map((event, k) => ({ event, next: live[k + 1]?.commit }));
    };
    if (options.record !== undefined) {
      record = await resolveRecord(open, options.record);
      events = withNext(await history.eventsOf(record));
      if (options.related) {
        related = await history.relatedIds(splitRecordId(record).sourcedId, record);
        for (const id of related) events.push(...withNext(await history.eventsOf(id)));
      }
      events = events.filter((e) => history.passes(e.event, filter));
    } else {
      const listed = history.list(filter);
      // (Within a revision's history, the next change is the next one in it.)
      events = listed.events.map(({ event, next }) => ({
        event,
        next: next !== undefined && inRange(next) ? next : undefined,
      }));
      bulk = listed.bulk;
    }
    events = events.filter((e) => inRange(e.event.commit));
    bulk = bulk.filter((b) => inRange(b.commit));

    const targets = open.config.targets.length > 0 ? await readApplies(open.config) : [];
    const deliveredBy = deliveries(history.index, history, targets);
    const byCommit = new Map<number, ChangeView[]>();
    for (const { event: e, next } of events) {
      let list = byCommit.get(e.commit);
      if (!list) {
        list = [];
        byCommit.set(e.commit, list);
      }
      list.push({
        record: e.id,
        kind: e.kind,
        fields: mask(e.id, e.fields),
        deliveredBy: deliveredBy(e.commit, next),
      });
    }
    // Newest first, as git log: by commit date, then children before parents.
    const when = (n: number) => Date.parse(history.commit(n).committerDate);
    let entries: LogEntry[] = [...byCommit.entries()]
      .sort((a, b) => when(b[0]) - when(a[0]) || b[0] - a[0])
      .map(([n, changes]) => ({ commit: commitView(history, n), changes }));
    if (options.limit !== undefined) entries = entries.slice(0, options.limit);
    return {
      formatVersion: HISTORY_FORMAT_VERSION,
      kind: 'log',
      ...(record ? { record } : {}),
      ...(related ? { related } : {}),
      entries,
      bulk: bulk
        .sort((a, b) => b.commit - a.commit)
        .map((b) => ({ ...b, commit: commitView(history, b.commit) })),
      unreadTargets: targets
        .filter((t) => t.error)
        .map((t) => ({ target: t.target, message: t.error!.message })),
      index: open.info,
    };
  } finally {
    open.close();
  }
}

/** `roster blame`: for each field of the record's current version, the commit that set it. */
export async function recordBlame(options: HistoryOptions & { record: string }): Promise<BlameResult> {
  const open = await openHistory(options);
  try {
    const { history, reachable } = open;
    const id = await resolveRecord(open, options.record);
    const events = (await history.eventsOf(id)).filter((e) => !reachable || reachable[e.commit] === 1);
    const set = new Map<string, { value: string; commit: number }>();
    let removedAt: number | undefined;
    for (const e of events) {
      if (e.kind === 'removed') {
        set.clear();
        removedAt = e.commit;
        continue;
      }
      removedAt = undefined;
      if (e.kind !== 'changed') set.clear();
      for (const f of e.fields) {
        if (f.after === undefined) set.delete(f.name);
        else set.set(f.name, { value: f.after, commit: e.commit });
      }
    }
    if (removedAt !== undefined || events.length === 0) {
      const when = removedAt !== undefined ? history.commit(removedAt) : undefined;
      throw new UsageError(
        'RECORD_REMOVED',
        `${id} is not in the roster${when ? `: commit ${when.sha.slice(0, 12)} (${when.authorDate}, ${when.author}) removed it` : ''}`,
        `Its history: roster log ${id}`,
      );
    }
    const mask = masker(open.config, options.showPersonalData ?? false);
    const fields = [...set.entries()]
      .sort(([a], [b]) => fieldOrder(id, a) - fieldOrder(id, b) || (a < b ? -1 : 1))
      .map(([name, { value, commit }]) => ({
        name,
        value: mask(id, [{ name, after: value }])[0]!.after ?? '',
        commit: commitView(history, commit),
      }));
    return { formatVersion: HISTORY_FORMAT_VERSION, kind: 'blame', record: id, fields, index: open.info };
  } finally {
    open.close();
  }
}

/** A field's place in its entity's spec (extension fields after). */
function fieldOrder(id: RecordId, name: string): number {
  const names = Object.keys(ENTITIES[splitRecordId(id).entity]?.fields ?? {});
  const at = names.indexOf(name);
  return at < 0 ? names.length : at;
}
