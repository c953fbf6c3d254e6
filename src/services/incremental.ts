/**
 * The incremental plan (docs/performance.md, "Incremental plan"): when the roster's last plan
 * found nothing to do, the target holds exactly that roster. That plan leaves a copy of the
 * roster's files in the plan cache; the next plan compares the files with it (bytes, natively),
 * reads and checks only the lines that changed, and compares only their records with the target.
 * A city where one school changed: a few seconds instead of twenty.
 *
 * Whenever something is not as the shortcut needs (another target serial, other settings, a
 * header or the manifest changed, a diagnostic in the changed lines, too much changed...), the plan
 * reads everything as always. The answer is the same plan either way; tests compare the two.
 */
import { createHash } from 'node:crypto';
import {
  closeSync,
  constants,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  renameSync,
  rmSync,
  type Stats,
  statSync,
  writeFileSync,
} from 'node:fs';
import { copyFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { basename, dirname, join } from 'node:path';
import { CONFIG_FILE, type RosterConfig, type TargetConfig } from '../config/config.js';
import { Diagnostics } from '../diagnostic.js';
import {
  diffFiles,
  fileQuotesStayOnTheirLines,
  quotesStayOnTheirLine,
} from '../formats/csv/changed-lines.js';
import { linesOf } from '../formats/csv/keyed-lines.js';
import type { RosterFormat } from '../formats/format.js';
import { readOneRoster } from '../formats/oneroster-csv/read.js';
import { directoryFiles, memoryFiles } from '../formats/package-files.js';
import { readRosterYaml, YAML_EXTENSIONS } from '../formats/yaml/read.js';
import type { EntityName } from '../model/entities.js';
import { fingerprintFromSums, type TableSums } from '../model/fingerprint.js';
import { type Roster, RosterBuilder } from '../model/roster.js';
import { computePlan } from '../plan/compute.js';
import type { Plan, PlanScope } from '../plan/plan.js';
import { partialPlanRuledOut, partialRosterRuledOut } from '../plan/scope.js';
import type { ProgressListener } from '../progress.js';
import type { LoadedRoster } from '../source/load.js';
import type { TargetState } from '../targets/state.js';
import type { Target } from '../targets/target.js';
import {
  checkIncrementally,
  type ReferenceTallies,
  referenceTallies,
  userEmailHashes,
} from '../validate/incremental.js';

/** The plan cache's own format version (cache.json): raise it whenever what the cache holds, or means, changes. */
export const PLAN_CACHE_FORMAT = 1;
const CACHE_FILE = 'cache.json';
/** More than this share of the roster's bytes changed: reading everything is as quick. */
const MOST_CHANGED = share(process.env.ROSTER_MOST_CHANGED) ?? 0.02;

/** A share between 0 and 1 from the environment; undefined when absent or not one. */
function share(value: string | undefined): number | undefined {
  const n = value === undefined || value.trim() === '' ? Number.NaN : Number(value);
  return n >= 0 && n <= 1 ? n : undefined;
}

const TOOL_VERSION: string = (createRequire(import.meta.url)('../../package.json') as { version: string })
  .version;

/**
 * A roster file as copied. Its stat says whether it may have changed since: size, times (the
 * change time cannot be set back by a tool that keeps modification times, e.g. rsync -a or cp -p)
 * and inode (a file replaced by another).
 */
interface CachedFile {
  readonly name: string;
  readonly size: number;
  readonly mtimeMs: number;
  readonly ctimeMs: number;
  readonly ino: number;
  /** Roster YAML: the file states settings of the whole roster (read with any change). */
  readonly settings?: boolean;
}

/** The file at `path` is as it was when copied (else it is compared with its copy). */
function sameStat(file: CachedFile, stat: Stats): boolean {
  return (
    stat.size === file.size &&
    stat.mtimeMs === file.mtimeMs &&
    stat.ctimeMs === file.ctimeMs &&
    stat.ino === file.ino
  );
}

/** cache.json: what the copied files were, and what the target held then. */
interface PlanCache {
  readonly format: number;
  readonly tool: string;
  /** A hash of the config file, the roster's location and the target's name. */
  readonly settings: string;
  readonly lineage: string;
  readonly serial: number;
  readonly version: Roster['version'];
  /** The roster's format: OneRoster CSV (compared line by line) or roster YAML (file by file). */
  readonly rosterFormat: RosterFormat;
  readonly files: readonly CachedFile[];
  /** The files' bytes, all told. */
  readonly bytes: number;
  /** The roster's fingerprint parts (fingerprintFromSums), in its entity order. */
  readonly tables: readonly TableSums[];
  /** Entities whose table at the target was sorted by sourcedId (RecordTable.ascendingBy). */
  readonly ascending: readonly EntityName[];
  /** The ReferenceTallies' fields (`entity.field`), each in tallies/<field>.u32; e-mails in tallies/emails.u32. */
  readonly tallies: readonly string[];
}

/** Where a target's plan cache is: `.roster/cache/<target>/plan` in the district repo (never committed). */
export function planCacheDir(config: RosterConfig, target: TargetConfig): string {
  return join(config.root, '.roster', 'cache', target.name, 'plan');
}

function settingsHash(config: RosterConfig, target: TargetConfig): string {
  const digest = createHash('sha256');
  digest.update(readFileSync(join(config.root, CONFIG_FILE)));
  digest.update(`\0${config.rosterPath}\0${target.name}`);
  return digest.digest('hex');
}

/** Why this target and config can never take the shortcut (undefined: they can): plan/scope.ts. */
function unsupported(target: Target, targetConfig: TargetConfig): string | undefined {
  return partialPlanRuledOut(targetConfig.policy, {
    shapes: target.shape !== undefined,
    exportsCurrent: target.exportCurrent !== undefined,
  });
}

/** The roster's files as its reader sees them (no hidden ones), sorted: relative paths. */
function rosterFiles(location: string, format: RosterFormat): string[] {
  if (format === 'yaml')
    return directoryFiles(location, { recursive: true }).names.filter((n) =>
      YAML_EXTENSIONS.some((e) => n.endsWith(e)),
    );
  return readdirSync(location, { withFileTypes: true })
    .filter(
      (e) =>
        (e.isFile() || e.isSymbolicLink()) &&
        !e.name.startsWith('.') &&
        e.name.toLowerCase().endsWith('.csv'),
    )
    .map((e) => e.name)
    .sort();
}

/** A roster YAML file that states something of the whole roster (version, source, modes, columns). */
const SETTINGS = /^(oneroster|source|files|extensionColumns)\s*:|^\{/m;

export interface IncrementalInput {
  readonly config: RosterConfig;
  readonly targetConfig: TargetConfig;
  readonly target: Target;
  readonly state: TargetState | undefined;
  readonly commit: string | null;
  readonly now: Date;
  readonly showPersonalData: boolean;
  readonly progress?: ProgressListener;
}

export interface IncrementalPlan {
  readonly plan: Plan;
  /** The records of the lines that changed (the part of the roster compared). */
  readonly changed: Roster;
  readonly current: Roster;
  /** What was read again: lines (OneRoster CSV, added and removed) or files (roster YAML). */
  readonly read: { readonly count: number; readonly unit: 'line' | 'file' };
}

/** Why the shortcut was not taken, and what the target holds if it was read on the way. */
export interface NoShortcut {
  readonly why: string;
  /** The target's roster, being read (the full plan takes it rather than reading it again). */
  readonly current?: Promise<Roster>;
}

/**
 * The plan by the shortcut, or why not (a reason for the progress line). Never throws for what
 * the full plan would report: any doubt is a "why not".
 */
export async function planIncrementally(input: IncrementalInput): Promise<IncrementalPlan | NoShortcut> {
  const reading: { current?: Promise<Roster> } = {};
  const outcome = await shortcut(input, reading);
  return typeof outcome === 'string' ? { why: outcome, ...reading } : outcome;
}

async function shortcut(
  input: IncrementalInput,
  started: { current?: Promise<Roster> },
): Promise<IncrementalPlan | string> {
  const { config, targetConfig, target, state } = input;
  const why = unsupported(target, targetConfig);
  if (why) return why;
  const dir = planCacheDir(config, targetConfig);
  const cache = readCache(dir);
  if (!cache) return 'no plan cache yet';
  if (cache.tool !== TOOL_VERSION || cache.settings !== settingsHash(config, targetConfig))
    return 'the config or the tool changed';
  if (!state || state.lineage !== cache.lineage || state.serial !== cache.serial || state.rejected.length > 0)
    return 'the target changed';
  const location = config.rosterPath;
  if (!existsSync(location) || !statSync(location).isDirectory()) return 'the roster is not a folder';
  const names = rosterFiles(location, cache.rosterFormat);
  if (names.join('\n') !== cache.files.map((f) => f.name).join('\n')) return 'files were added or removed';

  // Start reading what the target holds (I/O) while the files are compared (CPU).
  const reading = target.readCurrent(state);
  reading.catch(() => {}); // (awaited below, or by the full plan, which reports a failure)
  started.current = reading;
  const read =
    cache.rosterFormat === 'yaml'
      ? await changedYaml(location, dir, cache)
      : await changedLines(location, dir, cache);
  if (typeof read === 'string') return read;
  const { lines } = read;
  input.progress?.({
    stage: 'read',
    detail: `${lines} changed ${cache.rosterFormat === 'yaml' ? 'file' : 'line'}(s)`,
  });
  // Records that went away and came back the same (a line moved, a file's unchanged part) are neither.
  const { removed: removedRoster, added: addedRoster } = withoutUnchanged(read.removed, read.added);
  if (addedRoster.version !== cache.version) return 'the OneRoster version changed';
  const partial = partialRosterRuledOut(addedRoster);
  if (partial) return partial;

  const current = await reading;
  if (current.version !== cache.version) return 'the target holds another OneRoster version';
  for (const entity of current.entities())
    current.table(entity).knowAscending('sourcedId', cache.ascending.includes(entity));
  const check = checkIncrementally(current, removedRoster, addedRoster, readTallies(dir, cache));
  if (!check.clean) return check.reason;

  // The plan of the changed records; every other record equals what the target holds.
  const scope = scopeOf(current, addedRoster, check.removed);
  const tables = cache.tables.map((t): TableSums => {
    const entity = t.entity as EntityName;
    const [ra, rb] = removedRoster.table(entity).contentSums();
    const [aa, ab] = addedRoster.table(entity).contentSums();
    return {
      ...t,
      size: scope.sizes[entity] ?? t.size,
      sums: [(t.sums[0] - ra + aa) >>> 0, (t.sums[1] - rb + ab) >>> 0],
    };
  });
  input.progress?.({ stage: 'plan', detail: `target "${targetConfig.name}"` });
  const plan = computePlan({
    desired: addedRoster,
    current,
    target: targetConfig,
    state,
    commit: input.commit,
    now: input.now,
    showPersonalData: input.showPersonalData,
    scope,
    desiredFingerprint: fingerprintFromSums(cache.version, tables),
  });
  return {
    plan,
    changed: addedRoster,
    current,
    read: { count: lines, unit: cache.rosterFormat === 'yaml' ? 'file' : 'line' },
  };
}

interface ChangedRecords {
  /** The records of what went away (lines, or files as they were) and of what came. */
  readonly removed: Roster;
  readonly added: Roster;
  /** Lines (CSV) or files (YAML) that changed. */
  readonly lines: number;
}

/** OneRoster CSV: the lines that changed, read as two small packages. */
async function changedLines(
  location: string,
  dir: string,
  cache: PlanCache,
): Promise<ChangedRecords | string> {
  const added = new Map<string, Buffer>();
  const removed = new Map<string, Buffer>();
  let changedBytes = 0;
  let lines = 0;
  for (const file of cache.files) {
    const path = join(location, file.name);
    if (sameStat(file, statSync(path))) continue;
    const copy = join(dir, 'files', file.name);
    const diff = await diffFiles(copy, path, MOST_CHANGED * cache.bytes - changedBytes);
    if (!diff) return 'much of the roster changed';
    if (diff.added.length + diff.removed.length === 0) continue;
    if (file.name.toLowerCase() === 'manifest.csv') return 'manifest.csv changed';
    if (diff.headerChanged) return `the header of ${file.name} changed`;
    for (const line of diff.added) {
      if (!quotesStayOnTheirLine(line)) return `a quoted value over a line break in ${file.name}`;
      changedBytes += line.length;
    }
    for (const line of diff.removed) changedBytes += line.length;
    lines += diff.added.length + diff.removed.length;
    const header = firstLine(path);
    added.set(file.name, linesOf(header, diff.added));
    removed.set(file.name, linesOf(header, diff.removed));
  }
  // The changed lines as small packages, with the unchanged files' headers and the manifest.
  for (const file of cache.files) {
    if (added.has(file.name)) continue;
    const copy = join(dir, 'files', file.name);
    const header = file.name.toLowerCase() === 'manifest.csv' ? readFileSync(copy) : firstLine(copy);
    added.set(file.name, header);
    removed.set(file.name, header);
  }
  const diagnostics = new Diagnostics(['CSV_HEADER_ONLY']);
  const addedRoster = (await readOneRoster(memoryFiles(location, added), diagnostics, { keepIndexes: false }))
    .roster;
  if (diagnostics.sorted().length > 0) return 'diagnostics in the changed lines';
  const removedRoster = (
    await readOneRoster(memoryFiles(join(dir, 'files'), removed), new Diagnostics(), {
      checkFields: false,
      keepIndexes: false,
    })
  ).roster;
  return { removed: removedRoster, added: addedRoster, lines };
}

/**
 * Roster YAML: the files that changed, read as two small rosters (as they were, and as they are),
 * each with the files that state the roster's settings. A change to one of those: the full plan.
 */
async function changedYaml(
  location: string,
  dir: string,
  cache: PlanCache,
): Promise<ChangedRecords | string> {
  const now = new Map<string, Buffer>();
  const before = new Map<string, Buffer>();
  let changedBytes = 0;
  for (const file of cache.files) {
    const path = join(location, file.name);
    const copy = join(dir, 'files', file.name);
    if (file.settings) {
      // (Read whole with either side: it holds what every file's records depend on.)
      const text = readFileSync(copy);
      if (!sameStat(file, statSync(path)) && !readFileSync(path).equals(text))
        return `${file.name} states settings of the whole roster, and changed`;
      now.set(file.name, text);
      before.set(file.name, text);
      continue;
    }
    if (sameStat(file, statSync(path))) continue;
    const text = readFileSync(path);
    const old = readFileSync(copy);
    if (text.equals(old)) continue;
    if (SETTINGS.test(text.toString('utf8'))) return `${file.name} now states settings of the whole roster`;
    changedBytes += text.length + old.length;
    // (Each changed file is read twice, as it was and as it is: past half the roster, read it all.)
    if (changedBytes > cache.bytes) return 'much of the roster changed';
    now.set(file.name, text);
    before.set(file.name, old);
  }
  const changed = [...now.keys()].filter((n) => !cache.files.find((f) => f.name === n)?.settings).length;
  const diagnostics = new Diagnostics();
  const added = (await readRosterYaml(memoryFiles(location, now), diagnostics)).roster;
  if (diagnostics.sorted().length > 0) return 'diagnostics in the changed files';
  const removed = (await readRosterYaml(memoryFiles(join(dir, 'files'), before), new Diagnostics())).roster;
  return { removed, added, lines: changed };
}

/**
 * Leaves out the records found the same in both rosters (same sourcedId, same fingerprint): what
 * went away and came back unchanged (a moved line, the untouched part of a changed YAML file).
 */
function withoutUnchanged(removed: Roster, added: Roster): { removed: Roster; added: Roster } {
  const keepRemoved = new RosterBuilder(removed.version);
  const keepAdded = new RosterBuilder(added.version);
  for (const [builder, roster] of [
    [keepRemoved, removed],
    [keepAdded, added],
  ] as const) {
    builder.source = roster.source;
    for (const [e, m] of Object.entries(roster.explicitModes())) builder.modes[e as EntityName] = m;
  }
  for (const entity of added.entities()) {
    const before = removed.table(entity);
    const after = added.table(entity);
    for (const f of before.extensionFields) keepRemoved.table(entity).declareField(f);
    for (const f of after.extensionFields) keepAdded.table(entity).declareField(f);
    // sourcedId -> fingerprint of the records that went away (a sourcedId twice: kept apart).
    const gone = new Map<string, string | null>();
    for (let i = 0; i < before.size; i++) {
      const id = before.value(i, 'sourcedId');
      gone.set(id, gone.has(id) ? null : before.fingerprint(i));
    }
    const same = new Set<string>();
    const seen = new Set<string>();
    for (let i = 0; i < after.size; i++) {
      const id = after.value(i, 'sourcedId');
      if (seen.has(id)) same.delete(id);
      else if (gone.get(id) === after.fingerprint(i)) same.add(id);
      seen.add(id);
    }
    for (let i = 0; i < before.size; i++)
      if (!same.has(before.value(i, 'sourcedId'))) keepRemoved.addNormalized(entity, before.get(i));
    for (let i = 0; i < after.size; i++)
      if (!same.has(after.value(i, 'sourcedId'))) keepAdded.addNormalized(entity, after.get(i));
  }
  return { removed: keepRemoved.build(), added: keepAdded.build() };
}

/** The first line of a file with its line break (a header: never near a megabyte). */
function firstLine(path: string): Buffer {
  const fd = openSync(path, 'r');
  try {
    const buffer = Buffer.alloc(1 << 20);
    const n = readSync(fd, buffer, 0, buffer.length, 0);
    const lf = buffer.subarray(0, n).indexOf(0x0a);
    return lf < 0 ? buffer.subarray(0, n) : buffer.subarray(0, lf + 1);
  } finally {
    closeSync(fd);
  }
}

/** The plan's scope: the target's records of the removed lines (found by the check), and sizes. */
function scopeOf(
  current: Roster,
  added: Roster,
  gone: ReadonlyMap<EntityName, readonly number[]>,
): PlanScope {
  const scope = { removed: {}, unchanged: {}, sizes: {} } as {
    removed: Partial<Record<EntityName, readonly number[]>>;
    unchanged: Partial<Record<EntityName, number>>;
    sizes: Partial<Record<EntityName, number>>;
  };
  for (const entity of added.entities()) {
    const currentSize = current.table(entity).size;
    const removed = gone.get(entity) ?? [];
    scope.removed[entity] = removed;
    scope.unchanged[entity] = currentSize - removed.length;
    scope.sizes[entity] = currentSize - removed.length + added.table(entity).size;
  }
  return scope;
}

function readTallies(dir: string, cache: PlanCache): ReferenceTallies | undefined {
  try {
    const load = (name: string) => {
      const bytes = readFileSync(join(dir, 'tallies', `${name}.u32`));
      const hashes = new Uint32Array(bytes.length >>> 2);
      new Uint8Array(hashes.buffer).set(bytes.subarray(0, hashes.byteLength));
      return hashes;
    };
    return {
      fields: new Map(cache.tallies.map((f) => [f, load(f)])),
      emails: load('emails'),
      userEmails: load('user-emails'),
    };
  } catch {
    return undefined; // (then the check reads the tables instead: slower, same answer)
  }
}

function readCache(dir: string): PlanCache | undefined {
  try {
    const cache = JSON.parse(readFileSync(join(dir, CACHE_FILE), 'utf8')) as PlanCache;
    return cache.format === PLAN_CACHE_FORMAT ? cache : undefined;
  } catch {
    return undefined;
  }
}

export interface PrimeInput {
  readonly config: RosterConfig;
  readonly targetConfig: TargetConfig;
  readonly target: Target;
  readonly state: TargetState | undefined;
  readonly loaded: LoadedRoster;
  /** What the target holds, in the order it holds it. */
  readonly current: Roster | undefined;
  /**
   * The target holds exactly the roster: a full plan found nothing to do (no change, nothing
   * unmanaged), or an apply just delivered it whole (nothing rejected).
   */
  readonly holdsRoster: boolean;
  /** When the roster was about to be read (Date.now()): files changed since may have changed while being read. */
  readonly startedAt: number;
}

/**
 * After a full plan that found nothing to do, or an apply, on a clean roster (the target holds
 * exactly the roster): keeps a copy of the roster's files for the next plan. A cache left by an
 * earlier plan stays otherwise. Best effort: a cache that cannot be written is no error (the next
 * plan reads everything).
 */
export async function primePlanCache(input: PrimeInput): Promise<void> {
  const { config, targetConfig, target, state, loaded, current, holdsRoster, startedAt } = input;
  const dir = planCacheDir(config, targetConfig);
  const usable =
    state !== undefined &&
    current !== undefined &&
    state.rejected.length === 0 &&
    (loaded.format === 'oneroster-csv' || loaded.format === 'yaml') &&
    unsupported(target, targetConfig) === undefined &&
    holdsRoster &&
    loaded.diagnostics.sorted().length === 0 &&
    partialRosterRuledOut(loaded.roster) === undefined;
  // (A cache left by an earlier plan stays: while the target's serial is the same, it still says
  // what the target holds. One bound to an older serial is never used, and replaced in time.)
  if (!usable) return;
  // (A folder of its own: two plans filling the cache at once never write into each other's.)
  const next = `${dir}.new-${process.pid}`;
  try {
    const existing = readCache(dir);
    if (
      existing &&
      existing.serial === state.serial &&
      existing.lineage === state.lineage &&
      fresh(existing, loaded)
    )
      return;
    const names = rosterFiles(loaded.location, loaded.format);
    removeAbandoned(dir);
    rmSync(next, { recursive: true, force: true });
    mkdirSync(join(next, 'files'), { recursive: true });
    writeFileSync(join(next, '.gitignore'), '*\n');
    // The files are copied by the thread pool (a copy-on-write clone where the file system can)
    // while this thread tallies the roster.
    const copying = Promise.all(
      names.map(async (name): Promise<CachedFile | undefined> => {
        const from = join(loaded.location, name);
        const stat = statSync(from);
        mkdirSync(dirname(join(next, 'files', name)), { recursive: true });
        await copyFile(from, join(next, 'files', name), constants.COPYFILE_FICLONE);
        const after = statSync(from);
        // The copy must be what was read: not written since the plan began (with a margin for
        // the file system's coarse clock), nor while being copied.
        const settled =
          Math.max(stat.mtimeMs, stat.ctimeMs) < startedAt - 50 &&
          sameStat(
            { name, size: stat.size, mtimeMs: stat.mtimeMs, ctimeMs: stat.ctimeMs, ino: stat.ino },
            after,
          );
        if (!settled) return undefined;
        const file = { name, size: stat.size, mtimeMs: stat.mtimeMs, ctimeMs: stat.ctimeMs, ino: stat.ino };
        if (loaded.format !== 'yaml') return file;
        return { ...file, settings: SETTINGS.test(readFileSync(join(next, 'files', name), 'utf8')) };
      }),
    );
    copying.catch(() => {}); // (awaited below)
    const roster = loaded.roster;
    const userEmails = userEmailHashes(current.table('users'));
    const tallies = referenceTallies(roster, userEmails);
    const copied = await copying;
    // Each line of each file must be a record (no quoted value over a line break).
    const csv = loaded.format === 'oneroster-csv';
    if (
      copied.some((f) => f === undefined || (csv && !fileQuotesStayOnTheirLines(join(next, 'files', f.name))))
    )
      return void rmSync(next, { recursive: true, force: true });
    const files = copied as CachedFile[];
    const cache: PlanCache = {
      format: PLAN_CACHE_FORMAT,
      tool: TOOL_VERSION,
      settings: settingsHash(config, targetConfig),
      lineage: state.lineage,
      serial: state.serial,
      version: roster.version,
      rosterFormat: loaded.format,
      files,
      bytes: files.reduce((n, f) => n + f.size, 0),
      tables: roster.entities().map((entity) => {
        const table = roster.table(entity);
        return { entity, mode: roster.mode(entity), size: table.size, sums: table.contentSums() };
      }),
      ascending: current.entities().filter((e) => current.table(e).ascendingBy('sourcedId')),
      tallies: [...tallies.fields.keys()],
    };
    mkdirSync(join(next, 'tallies'));
    const save = (name: string, hashes: Uint32Array) =>
      writeFileSync(
        join(next, 'tallies', `${name}.u32`),
        new Uint8Array(hashes.buffer, hashes.byteOffset, hashes.byteLength),
      );
    for (const [field, hashes] of tallies.fields) save(field, hashes);
    save('emails', tallies.emails);
    save('user-emails', userEmails);
    writeFileSync(join(next, CACHE_FILE), `${JSON.stringify(cache, null, 2)}\n`);
    rmSync(dir, { recursive: true, force: true });
    renameSync(next, dir);
  } catch {
    // Best effort (a full disk, a read-only checkout, another plan's cache put in place first):
    // the next plan reads everything.
    try {
      rmSync(next, { recursive: true, force: true });
    } catch {
      // (left behind: removed by a later plan once this process is gone)
    }
  }
}

/** Removes the unfinished caches of processes that are gone (killed while filling one): each holds a copy of the roster. */
function removeAbandoned(dir: string): void {
  const parent = dirname(dir);
  const prefix = `${basename(dir)}.new-`;
  for (const name of existsSync(parent) ? readdirSync(parent) : []) {
    if (!name.startsWith(prefix)) continue;
    const pid = Number(name.slice(prefix.length));
    if (!Number.isInteger(pid) || pid === process.pid || alive(pid)) continue;
    rmSync(join(parent, name), { recursive: true, force: true });
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'; // (alive, another user's)
  }
}

/** The cache copied the roster's files as they are now (same names, sizes and times). */
function fresh(cache: PlanCache, loaded: LoadedRoster): boolean {
  if (cache.rosterFormat !== loaded.format) return false;
  const names = rosterFiles(loaded.location, loaded.format);
  if (names.join('\n') !== cache.files.map((f) => f.name).join('\n')) return false;
  return cache.files.every((f) => sameStat(f, statSync(join(loaded.location, f.name))));
}
