/**
 * The Roster: a normalized snapshot of OneRoster entities, each record keyed by `sourcedId`.
 * Every format reads into it and writes from it. Build one with RosterBuilder; a built Roster is
 * not changed afterwards.
 */
import { ENTITY_NAMES, type EntityName, entitiesOf, type RosterVersion } from './entities.js';
import { type IndexData, KeyIndex } from './key-index.js';
import { normalizeRecord } from './normalize.js';
import { type Origin, RecordTable, type RosterRecord, type TableData } from './record-table.js';

/** How a file's records are meant (manifest.csv `file.*`): replace, change, or not sent. */
export type FileMode = 'bulk' | 'delta' | 'absent';

/** `source.*` properties of the manifest, kept for round trips. */
export interface RosterSource {
  readonly systemName?: string;
  readonly systemCode?: string;
}

export class Roster {
  readonly version: RosterVersion;
  readonly source: RosterSource;
  private readonly modes: Partial<Record<EntityName, FileMode>>;
  private readonly tables: Record<EntityName, RecordTable>;

  constructor(
    version: RosterVersion,
    tables: Record<EntityName, RecordTable>,
    modes: Partial<Record<EntityName, FileMode>>,
    source: RosterSource,
  ) {
    this.version = version;
    this.tables = tables;
    this.modes = modes;
    this.source = source;
  }

  table(entity: EntityName): RecordTable {
    return this.tables[entity];
  }

  /** Entities of this roster's version, in dependency order. */
  entities(): EntityName[] {
    return entitiesOf(this.version);
  }

  /** The file mode: as the source said, else `bulk` when records exist and `absent` when none. */
  mode(entity: EntityName): FileMode {
    return this.modes[entity] ?? (this.tables[entity].size > 0 ? 'bulk' : 'absent');
  }

  /** Modes stated explicitly by the source (a manifest, or `files:` in roster YAML). */
  explicitModes(): Partial<Record<EntityName, FileMode>> {
    return { ...this.modes };
  }

  /** Total number of records. */
  get size(): number {
    return ENTITY_NAMES.reduce((n, e) => n + this.tables[e].size, 0);
  }

  /**
   * The roster as plain data for another thread (postMessage): views of its tables' and indexes'
   * shared memory, so nothing is copied and it stays usable here (both sides only read it).
   */
  share(): RosterData {
    const tables = ENTITY_NAMES.map((e) => this.tables[e].share());
    // The indexes built while reading go along (a city's take seconds to build again).
    const indexes = ENTITY_NAMES.map((e) => KeyIndex.shareFor(this.tables[e]));
    return { version: this.version, source: this.source, modes: this.modes, tables, indexes };
  }

  /** A roster over share()'s data (received from another thread). */
  static fromShared(data: RosterData): Roster {
    const tables = Object.fromEntries(
      data.tables.map((t, i) => {
        const table = RecordTable.fromShared(t);
        KeyIndex.fromShared(table, data.indexes[i] ?? []);
        return [t.entity, table];
      }),
    ) as Record<EntityName, RecordTable>;
    return new Roster(data.version, tables, data.modes, data.source);
  }
}

/** A Roster as plain data over shared memory (see Roster.share). */
export interface RosterData {
  readonly version: RosterVersion;
  readonly source: RosterSource;
  readonly modes: Partial<Record<EntityName, FileMode>>;
  readonly tables: TableData[];
  /** Per table (same order): its KeyIndexes. */
  readonly indexes: IndexData[][];
}

export class RosterBuilder {
  version: RosterVersion;
  source: RosterSource = {};
  readonly modes: Partial<Record<EntityName, FileMode>> = {};
  private readonly tables = Object.fromEntries(ENTITY_NAMES.map((e) => [e, new RecordTable(e)])) as Record<
    EntityName,
    RecordTable
  >;

  constructor(version: RosterVersion) {
    this.version = version;
  }

  /** Normalizes and adds a record; returns its index in the entity's table. */
  add(entity: EntityName, record: Readonly<Record<string, string>>, origin?: Origin): number {
    return this.tables[entity].add(normalizeRecord(entity, record), origin);
  }

  /** Adds a record already normalized (as read from another Roster). */
  addNormalized(entity: EntityName, record: RosterRecord, origin?: Origin): number {
    return this.tables[entity].add(record, origin);
  }

  table(entity: EntityName): RecordTable {
    return this.tables[entity];
  }

  /** Takes `table` (of a new RosterBuilder's entity, e.g. read on another thread) as its entity's table. */
  adopt(table: RecordTable): void {
    this.tables[table.entity] = table;
  }

  build(): Roster {
    return new Roster(this.version, this.tables, { ...this.modes }, { ...this.source });
  }
}

/** Two rosters are equal when version, modes and every record (in sourcedId order) are equal. */
export function rostersEqual(a: Roster, b: Roster): boolean {
  if (a.version !== b.version) return false;
  for (const e of ENTITY_NAMES) {
    if (a.mode(e) !== b.mode(e)) return false;
    if (JSON.stringify(sortedRecords(a, e)) !== JSON.stringify(sortedRecords(b, e))) return false;
  }
  return true;
}

/** Records of one entity as plain objects without empty values, sorted by sourcedId (for tests and diffs). */
export function sortedRecords(roster: Roster, entity: EntityName): Record<string, string>[] {
  const out: Record<string, string>[] = [];
  for (const r of roster.table(entity)) {
    out.push(Object.fromEntries(Object.entries(r).filter(([, v]) => v !== '')));
  }
  return out.sort((x, y) => (x.sourcedId! < y.sourcedId! ? -1 : x.sourcedId! > y.sourcedId! ? 1 : 0));
}
