import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Diagnostics } from '../../../src/diagnostic.js';
import { readOneRoster } from '../../../src/formats/oneroster-csv/read.js';
import { writeOneRosterDir, writeOneRosterZip } from '../../../src/formats/oneroster-csv/write.js';
import { directoryFiles, zipFiles } from '../../../src/formats/package-files.js';
import { readRosterYaml } from '../../../src/formats/yaml/read.js';
import { writeRosterYaml } from '../../../src/formats/yaml/write.js';
import { generateDistrict } from '../../../src/generate/generate.js';
import { convertVersion } from '../../../src/model/convert-version.js';
import { fingerprintRoster } from '../../../src/model/fingerprint.js';
import type { Roster } from '../../../src/model/roster.js';
import { rostersEqual, sortedRecords } from '../../../src/model/roster.js';
import { checkRoster } from '../../../src/validate/roster-rules.js';
import { tempDir, writeTree } from '../../helpers/fixtures.js';

async function csvRoundTrip(
  roster: Roster,
): Promise<{ roster: Roster; dir: string; diagnostics: Diagnostics }> {
  const dir = tempDir();
  await writeOneRosterDir(roster, dir);
  const diagnostics = new Diagnostics();
  const read = await readOneRoster(directoryFiles(dir), diagnostics);
  return { roster: read.roster, dir, diagnostics };
}

async function yamlRoundTrip(roster: Roster, layout: 'single' | 'per-school' = 'per-school') {
  const dir = writeTree(tempDir(), Object.fromEntries(writeRosterYaml(roster, { layout })));
  const diagnostics = new Diagnostics();
  const read = await readRosterYaml(directoryFiles(dir, { recursive: true }), diagnostics);
  return { roster: read.roster, diagnostics };
}

function snapshot(dir: string): Record<string, string> {
  return Object.fromEntries(
    readdirSync(dir)
      .sort()
      .map((f) => [f, readFileSync(join(dir, f), 'utf8')]),
  );
}

describe.each(['1.1', '1.2'] as const)('round trips, OneRoster %s', (version) => {
  it.each([1, 2, 3])(
    'CSV -> YAML -> CSV gives an equal roster and the same bytes (seed %i)',
    async (seed) => {
      const generated = generateDistrict({ schools: 4, students: 120, seed, version });
      const first = await csvRoundTrip(generated);
      expect(first.diagnostics.list).toEqual([]);
      expect(rostersEqual(first.roster, generated)).toBe(true);

      const viaYaml = await yamlRoundTrip(first.roster);
      expect(viaYaml.diagnostics.list).toEqual([]);
      expect(rostersEqual(viaYaml.roster, first.roster)).toBe(true);

      const second = await csvRoundTrip(viaYaml.roster);
      expect(snapshot(second.dir)).toEqual(snapshot(first.dir));
      const rules = new Diagnostics();
      checkRoster(second.roster, rules);
      expect(rules.list).toEqual([]);
    },
  );

  it('a single YAML file round-trips too', async () => {
    const generated = generateDistrict({ schools: 2, students: 40, seed: 9, version });
    const back = await yamlRoundTrip(generated, 'single');
    expect(back.diagnostics.list).toEqual([]);
    expect(rostersEqual(back.roster, generated)).toBe(true);
  });

  it('writing is deterministic: same roster, same bytes (folder, YAML and zip)', async () => {
    const a = generateDistrict({ schools: 3, students: 60, seed: 'det', version });
    const b = generateDistrict({ schools: 3, students: 60, seed: 'det', version });
    expect(writeRosterYaml(a)).toEqual(writeRosterYaml(b));
    const dir = tempDir();
    await writeOneRosterZip(a, join(dir, 'a.zip'));
    await writeOneRosterZip(b, join(dir, 'b.zip'));
    expect(readFileSync(join(dir, 'a.zip')).equals(readFileSync(join(dir, 'b.zip')))).toBe(true);
    const diagnostics = new Diagnostics();
    const fromZip = await readOneRoster(await zipFiles(join(dir, 'a.zip'), diagnostics), diagnostics);
    expect(diagnostics.list).toEqual([]);
    expect(rostersEqual(fromZip.roster, a)).toBe(true);
    expect(fingerprintRoster(fromZip.roster)).toBe(fingerprintRoster(a));
  });
});

describe('version conversion', () => {
  it('1.1 -> 1.2 makes roles rows from orgSourcedIds x role, and back', () => {
    const v11 = generateDistrict({ schools: 3, students: 30, seed: 4 });
    const v12 = convertVersion(v11, '1.2');
    const roles = sortedRecords(v12.roster, 'roles');
    expect(roles.length).toBe(v11.table('users').size);
    expect(roles.filter((r) => r.role === 'siteAdministrator').length).toBe(3);
    expect(v12.roster.table('users').get(0).role).toBe('');
    const back = convertVersion(v12.roster, '1.1');
    expect(back.notes).toEqual(['3 roles were mapped to the 1.1 role "administrator"']);
    expect(rostersEqual(back.roster, v11)).toBe(true);
  });
});

describe('extension columns', () => {
  it('survive CSV -> YAML -> CSV in order, even when empty', async () => {
    const dir = tempDir();
    const diagnostics = new Diagnostics();
    const read = await readOneRoster(
      directoryFiles('test/fixtures/oneroster/edfi-lms-toolkit-or11'),
      diagnostics,
    );
    const viaYaml = await yamlRoundTrip(read.roster);
    expect(viaYaml.diagnostics.list).toEqual([]);
    expect(viaYaml.roster.table('orgs').extensionFields).toEqual(read.roster.table('orgs').extensionFields);
    await writeOneRosterDir(viaYaml.roster, dir);
    expect(readFileSync(join(dir, 'orgs.csv'), 'utf8').split('\n')[0]).toBe(
      'sourcedId,status,dateLastModified,name,type,identifier,parentSourcedId,metadata.address1,metadata.address2,metadata.city,metadata.postCode,metadata.state',
    );
  });
});

describe('roster YAML read with few Documents held (a large district)', () => {
  it('reads the same roster and the same diagnostics as when every Document is kept', async () => {
    const district = generateDistrict({ schools: 3, students: 120, seed: 'held' });
    const tree = Object.fromEntries(writeRosterYaml(district, { layout: 'per-school' }));
    const names = Object.keys(tree).sort();
    const last = names[names.length - 1]!;
    // A later file declares an extension column and states a conflicting setting; an earlier
    // one holds an unknown field: diagnostics come from the first pass and from the expansion.
    tree[last] = `extensionColumns:\n  users: [metadata.house]\nsource:\n  systemName: Other\n${tree[last]}`;
    tree[names[1]!] = tree[names[1]!]!.replace('name:', 'nmae:');
    const dir = writeTree(tempDir(), tree);
    const read = async (keep: number) => {
      const diagnostics = new Diagnostics();
      const { roster } = await readRosterYaml(
        directoryFiles(dir, { recursive: true }),
        diagnostics,
        undefined,
        keep,
      );
      return { roster, diagnostics: diagnostics.list };
    };
    const all = await read(Number.POSITIVE_INFINITY);
    const none = await read(0);
    expect(none.diagnostics).toEqual(all.diagnostics);
    expect(all.diagnostics.map((d) => d.code).sort()).toEqual([
      'VALUE_REQUIRED',
      'YAML_CONFLICT',
      'YAML_UNKNOWN_FIELD',
    ]);
    expect(none.roster.table('users').fields).toEqual(all.roster.table('users').fields);
    expect(none.roster.table('users').fields).toContain('metadata.house');
    expect(rostersEqual(none.roster, all.roster)).toBe(true);
    expect(fingerprintRoster(none.roster)).toBe(fingerprintRoster(all.roster));
  });
});
