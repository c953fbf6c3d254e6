/**
 * Fingerprints. A record's fingerprint is stable across formats, versions, column order and list
 * order: SHA-1 (first 16 hex digits) over `name=value` pairs of its non-empty normalized fields,
 * sorted by name, excluding `dateLastModified` (a delivery timestamp, not content). Format version 1.
 * The roster's fingerprint (version 2) is independent of record order, made of faster hashes.
 */
import { createHash, hash } from 'node:crypto';
import type { RosterRecord } from './record-table.js';
import type { Roster } from './roster.js';

export const FINGERPRINT_VERSION = 1;
/** The roster fingerprint's own version (see fingerprintRoster). */
export const ROSTER_FINGERPRINT_VERSION = 2;

export function fingerprintRecord(record: RosterRecord): string {
  const names = Object.keys(record).sort();
  return fingerprintValues(
    names,
    names.map((n) => record[n]!),
  );
}

/**
 * The same fingerprint from parallel arrays of field names (sorted by name) and values: what
 * RecordTable uses to fingerprint a stored record without building an object for it.
 */
export function fingerprintValues(sortedNames: readonly string[], values: readonly string[]): string {
  let text = '';
  for (let i = 0; i < sortedNames.length; i++) {
    const value = values[i];
    const name = sortedNames[i]!;
    if (value === undefined || value === '' || name === 'dateLastModified') continue;
    text += text === '' ? `${name}=${value}` : `\n${name}=${value}`;
  }
  return hash('sha1', text, 'hex').slice(0, 16);
}

/**
 * A fingerprint of the whole roster: equal rosters (in any record or column order, from any
 * format) give equal fingerprints. Roster fingerprint version 2: per entity, the mode, the record
 * count and RecordTable.contentSums (fast hashes of the stored values) instead of version 1's
 * SHA-1 of every record, which took seconds at city scale.
 */
export function fingerprintRoster(roster: Roster): string {
  return fingerprintFromSums(
    roster.version,
    roster.entities().map((entity) => {
      const table = roster.table(entity);
      const [a, b] = table.contentSums();
      return { entity, mode: roster.mode(entity), size: table.size, sums: [a, b] };
    }),
  );
}

/** What fingerprintRoster is made of, per entity (in the roster's entity order). */
export interface TableSums {
  readonly entity: string;
  readonly mode: string;
  readonly size: number;
  /** RecordTable.contentSums: sums, so a changed part can be taken out and put in. */
  readonly sums: readonly [number, number];
}

/** fingerprintRoster from the tables' sums (the incremental plan updates them rather than reading every record). */
export function fingerprintFromSums(version: string, tables: readonly TableSums[]): string {
  const digest = createHash('sha256');
  digest.update(`v${ROSTER_FINGERPRINT_VERSION} ${version}\n`);
  for (const { entity, mode, size, sums } of tables)
    digest.update(`${entity} ${mode} ${size} ${sums[0].toString(16)} ${sums[1].toString(16)}\n`);
  return digest.digest('hex').slice(0, 32);
}
