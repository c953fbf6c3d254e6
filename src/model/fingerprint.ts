/**
 * Fingerprints. A record's fingerprint is stable across formats, versions, column order and list
 * order: SHA-1 (first 16 hex digits) over `name=value` pairs of its non-empty normalized fields,
 * sorted by name, excluding `dateLastModified` (a delivery timestamp, not content). The roster's
 * fingerprint combines every record's, independent of record order. Format version 1.
 */
import { createHash } from 'node:crypto';
import type { RosterRecord } from './record-table.js';
import type { Roster } from './roster.js';

export const FINGERPRINT_VERSION = 1;

export function fingerprintRecord(record: RosterRecord): string {
  const parts: string[] = [];
  for (const name of Object.keys(record).sort()) {
    const value = record[name]!;
    if (value === '' || name === 'dateLastModified') continue;
    parts.push(`${name}=${value}`);
  }
  return createHash('sha1').update(parts.join('\n')).digest('hex').slice(0, 16);
}

/** A fingerprint of the whole roster: equal rosters (in any order) give equal fingerprints. */
export function fingerprintRoster(roster: Roster): string {
  const hash = createHash('sha256');
  hash.update(`v${FINGERPRINT_VERSION} ${roster.version}\n`);
  for (const entity of roster.entities()) {
    const table = roster.table(entity);
    // Order-independent: add the records' fingerprints as 2 x 32-bit lanes, modulo 2^32 each.
    let a = 0;
    let b = 0;
    for (const record of table) {
      const fp = fingerprintRecord(record);
      a = (a + Number.parseInt(fp.slice(0, 8), 16)) >>> 0;
      b = (b + Number.parseInt(fp.slice(8, 16), 16)) >>> 0;
    }
    hash.update(`${entity} ${roster.mode(entity)} ${table.size} ${a.toString(16)} ${b.toString(16)}\n`);
  }
  return hash.digest('hex').slice(0, 32);
}
