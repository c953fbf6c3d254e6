/**
 * Fingerprints. A record's fingerprint is stable across formats, versions, column order and list
 * order: SHA-1 (first 16 hex digits) over `name=value` pairs of its non-empty normalized fields,
 * sorted by name, excluding `dateLastModified` (a delivery timestamp, not content). The roster's
 * fingerprint combines every record's, independent of record order. Format version 1.
 */
import { createHash, hash } from 'node:crypto';
import type { RosterRecord } from './record-table.js';
import type { Roster } from './roster.js';

export const FINGERPRINT_VERSION = 1;

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

/** A fingerprint of the whole roster: equal rosters (in any order) give equal fingerprints. */
export function fingerprintRoster(roster: Roster): string {
  const digest = createHash('sha256');
  digest.update(`v${FINGERPRINT_VERSION} ${roster.version}\n`);
  for (const entity of roster.entities()) {
    const table = roster.table(entity);
    // Order-independent: add the records' fingerprints as 2 x 32-bit lanes, modulo 2^32 each.
    let a = 0;
    let b = 0;
    for (let i = 0; i < table.size; i++) {
      const fp = table.fingerprint(i);
      a = (a + Number.parseInt(fp.slice(0, 8), 16)) >>> 0;
      b = (b + Number.parseInt(fp.slice(8, 16), 16)) >>> 0;
    }
    digest.update(`${entity} ${roster.mode(entity)} ${table.size} ${a.toString(16)} ${b.toString(16)}\n`);
  }
  return digest.digest('hex').slice(0, 32);
}
