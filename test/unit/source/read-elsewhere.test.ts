import { describe, expect, it } from 'vitest';
import { Diagnostics } from '../../../src/diagnostic.js';
import {
  type EntityFileRead,
  type ReadElsewhere,
  readEntityFileAlone,
  readOneRoster,
} from '../../../src/formats/oneroster-csv/read.js';
import { directoryFiles } from '../../../src/formats/package-files.js';
import type { RosterVersion } from '../../../src/model/entities.js';
import { KeyIndex } from '../../../src/model/key-index.js';
import type { FileMode, Roster } from '../../../src/model/roster.js';
import { package11, tempDir, withLine, withLines, writeTree } from '../../helpers/fixtures.js';

// A package with diagnostics before, in and after enrollments.csv (a bad value, a duplicate
// sourcedId, no final line break), so that their order shows where the file's diagnostics went.
const base = package11();
const users = base['users.csv'] as string;

function writePackage(): string {
  return writeTree(tempDir(), {
    ...base,
    'users.csv': withLine(users, 2, users.split('\n')[2]!.replace('student', 'Student')),
    'enrollments.csv': withLines(
      base['enrollments.csv'] as string,
      'e2,,,k1,s1,u2,student,,,',
      'e4,,,k1,s1,u2,pupil,,,',
    ).trimEnd(),
    'demographics.csv': withLines(base['demographics.csv'] as string, 'u2,,,2017-13-04,female,,,,,,,,,,,'),
  });
}

async function read(dir: string, elsewhere?: ReadElsewhere) {
  const diagnostics = new Diagnostics();
  const result = await readOneRoster(directoryFiles(dir), diagnostics, elsewhere ? { elsewhere } : {});
  return { ...result, diagnostics: diagnostics.list };
}

const dump = (roster: Roster) =>
  roster.entities().map((e) => [e, [...roster.table(e)].map((r) => JSON.stringify(r)), roster.mode(e)]);

describe('reading one entity file elsewhere (ReadElsewhere)', () => {
  it('gives the same roster, diagnostics in the same order, and duplicates, whoever reads the file', async () => {
    const dir = writePackage();
    const alone = await read(dir);
    expect(alone.diagnostics.map((d) => `${d.code} ${d.file}:${d.line}`)).toEqual([
      'VALUE_ENUM users.csv:3',
      'DUPLICATE_SOURCED_ID enrollments.csv:5',
      'VALUE_ENUM enrollments.csv:6',
      'CSV_NO_FINAL_NEWLINE enrollments.csv:6',
      'VALUE_DATE demographics.csv:3',
    ]);

    // Nobody takes it: read at the end, its diagnostics still where the file stands.
    const offers: [RosterVersion, FileMode][] = [];
    const kept = await read(dir, {
      entity: 'enrollments',
      offer: (v, m) => offers.push([v, m]),
      claim: () => undefined,
    });
    expect(offers).toEqual([['1.1', 'bulk']]);
    expect(kept.diagnostics).toEqual(alone.diagnostics);
    expect(dump(kept.roster)).toEqual(dump(alone.roster));
    expect(kept.duplicates).toEqual(alone.duplicates);

    // Taken: read on its own (as another thread does), then handed back.
    let taken: Promise<EntityFileRead> | undefined;
    const handed = await read(dir, {
      entity: 'enrollments',
      offer: (version, mode) => {
        taken = readEntityFileAlone(directoryFiles(dir), 'enrollments', version, mode, new Diagnostics());
      },
      claim: () => taken,
    });
    expect(handed.diagnostics).toEqual(alone.diagnostics);
    expect(dump(handed.roster)).toEqual(dump(alone.roster));
    expect(handed.duplicates).toEqual(alone.duplicates);
    expect(handed.roster.table('enrollments').origin(2)).toEqual({ file: 'enrollments.csv', line: 4 });
    // The index built while reading it comes along, as it does when read in place.
    expect(KeyIndex.of(handed.roster.table('enrollments'), 'sourcedId').find('e3')).toBe(2);
  });

  it('offers nothing when the package has no such file', async () => {
    const bare = writeTree(tempDir(), package11({ 'enrollments.csv': null }));
    const offers: string[] = [];
    const diagnostics = new Diagnostics();
    await readOneRoster(directoryFiles(bare), diagnostics, {
      elsewhere: { entity: 'enrollments', offer: (v) => offers.push(v), claim: () => undefined },
    });
    expect(offers).toEqual([]);
  });
});
