import { readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readRosterImage, writeRosterImage } from '../../../src/formats/roster-image.js';
import { generateDistrict } from '../../../src/generate/generate.js';
import { convertVersion } from '../../../src/model/convert-version.js';
import { ENTITY_NAMES } from '../../../src/model/entities.js';
import { type Roster, RosterBuilder, rostersEqual } from '../../../src/model/roster.js';
import { tempDir } from '../../helpers/fixtures.js';

const binding = { lineage: 'l-1', serial: 3 };

async function roundTrip(roster: Roster): Promise<Roster> {
  const file = join(tempDir(), 'snapshot.image');
  writeRosterImage(roster, file, binding);
  const back = await readRosterImage(file, binding);
  if (typeof back === 'string') throw new Error(`image refused: ${back}`);
  return back;
}

/** Everything a table holds, record by record: stored bytes, hash and origin. */
function tableDump(roster: Roster) {
  return ENTITY_NAMES.map((e) => {
    const t = roster.table(e);
    return {
      entity: e,
      fields: t.fields,
      records: Array.from({ length: t.size }, (_, i) => [t.stored(i), t.hashOf(i), t.origin(i)]),
    };
  });
}

describe('roster image', () => {
  it('reads back the same tables: fields, stored bytes, hashes, origins, modes and source', async () => {
    const b = new RosterBuilder('1.1');
    b.source = { systemName: 'SIS', systemCode: 'x1' };
    b.modes.users = 'delta';
    const district = generateDistrict({ schools: 2, students: 40, seed: 7 });
    for (const e of district.entities()) {
      const t = district.table(e);
      for (let i = 0; i < t.size; i++) b.addNormalized(e, t.get(i), { file: `${e}.csv`, line: i + 2 });
    }
    // An extension column, non-ASCII text, and a record with trailing empty values.
    b.addNormalized(
      'users',
      { sourcedId: 'u-zoë', givenName: 'Zoë 😀', familyName: 'Ngô', 'metadata.lunch': 'free' },
      { file: 'users.csv', line: 999 },
    );
    const roster = b.build();
    const back = await roundTrip(roster);
    expect(tableDump(back)).toEqual(tableDump(roster));
    expect(rostersEqual(back, roster)).toBe(true);
    expect(back.explicitModes()).toEqual({ ...roster.explicitModes() });
    expect(back.source).toEqual(roster.source);
    expect(back.table('users').value(back.table('users').size - 1, 'metadata.lunch')).toBe('free');
  });

  it('reads back a OneRoster 1.2 roster', async () => {
    const roster = convertVersion(generateDistrict({ schools: 1, students: 10, seed: 2 }), '1.2').roster;
    const back = await roundTrip(roster);
    expect(back.version).toBe('1.2');
    expect(rostersEqual(back, roster)).toBe(true);
    expect(back.table('roles').size).toBe(roster.table('roles').size);
  });

  it('keeps tables of several partly used buffers, and a table read back can grow', async () => {
    const b = new RosterBuilder('1.1');
    const t = b.table('enrollments');
    const add = (i: number) =>
      t.addValues([`e${String(i).padStart(7, '0')}`, 'active', '', `c${i % 97}`, 'sch', `u${i}`, 'student']);
    for (let i = 0; i < 10; i++) add(i);
    // Sharing leaves the rest of the first buffer unused: the next record starts a new one.
    t.share();
    for (let i = 10; i < 120_000; i++) add(i); // ~5 MB: more than one 4 MiB buffer
    const roster = b.build();
    expect(t.footprint.bufferBytes).toBe(3 * (4 << 20)); // 10 records, a full buffer, a partly used one
    const back = await roundTrip(roster);
    expect(tableDump(back)).toEqual(tableDump(roster));
    const table = back.table('enrollments');
    const i = table.addValues(['e-new', 'active', '', 'c1', 'sch', 'u1', 'student']);
    expect(table.get(i).sourcedId).toBe('e-new');
    expect(table.get(0).sourcedId).toBe('e0000000');
    expect(table.size).toBe(120_001);
  });

  it('says why it is not read: missing, cut off, foreign bytes, another format or binding', async () => {
    const dir = tempDir();
    const file = join(dir, 'snapshot.image');
    expect(await readRosterImage(file, binding)).toBe('missing');
    writeRosterImage(generateDistrict({ schools: 1, students: 5, seed: 1 }), file, binding);
    expect(typeof (await readRosterImage(file, binding))).toBe('object');
    expect(await readRosterImage(file, { ...binding, serial: 4 })).toBe('other binding');
    expect(await readRosterImage(file, { lineage: 'l-1' })).toBe('other binding');
    const whole = readFileSync(file);
    writeFileSync(file, Buffer.from(whole.toString('latin1').replace('"format":1', '"format":9'), 'latin1'));
    expect(await readRosterImage(file, binding)).toBe('other format');
    writeFileSync(file, whole);
    truncateSync(file, whole.length - 1);
    expect(await readRosterImage(file, binding)).toBe('damaged');
    writeFileSync(file, Buffer.concat([whole, Buffer.from('x')]));
    expect(await readRosterImage(file, binding)).toBe('damaged');
    // A record pointing past its buffer (one flipped bit in its offset).
    const flipped = Buffer.from(whole);
    const headerEnd = 12 + flipped.readUInt32LE(8);
    const tables = JSON.parse(flipped.subarray(12, headerEnd).toString()).tables as { count: number }[];
    const orgsAt = headerEnd; // orgs come first; its first record's offset is the meta's second number
    expect(tables[0]!.count).toBeGreaterThan(0);
    flipped.writeUInt32LE(flipped.readUInt32LE(orgsAt + 4) | 0x40000000, orgsAt + 4);
    writeFileSync(file, flipped);
    expect(await readRosterImage(file, binding)).toBe('damaged');
    // A header announcing more than the file holds, or an absurd header length.
    const lying = Buffer.from(whole.toString('latin1').replace(/"count":(\d)/, '"count":9$1'), 'latin1');
    writeFileSync(file, lying);
    expect(await readRosterImage(file, binding)).toBe('damaged');
    const absurd = Buffer.from(whole);
    absurd.writeUInt32LE(0xfffffff0, 8);
    writeFileSync(file, absurd);
    expect(await readRosterImage(file, binding)).toBe('damaged');
    writeFileSync(file, Buffer.from('PK\u0003\u0004 not an image at all'));
    expect(await readRosterImage(file, binding)).toBe('damaged');
    writeFileSync(file, '');
    expect(await readRosterImage(file, binding)).toBe('damaged');
  });
});
