/**
 * The roster YAML writer's own emitter writes exactly the bytes the yaml library writes for the
 * same document (the library is the reference; the emitter exists for speed), on generated
 * districts and on values chosen to need quoting, and its output reads back as the same roster.
 */
import { describe, expect, it } from 'vitest';
import { Diagnostics } from '../../../src/diagnostic.js';
import { memoryFiles } from '../../../src/formats/package-files.js';
import { readRosterYaml } from '../../../src/formats/yaml/read.js';
import { writeRosterYaml } from '../../../src/formats/yaml/write.js';
import { generateDistrict, seededRandom } from '../../../src/generate/generate.js';
import { type Roster, RosterBuilder, rostersEqual } from '../../../src/model/roster.js';

function sameAsLibrary(roster: Roster, layout: 'single' | 'per-school') {
  const fast = writeRosterYaml(roster, { layout, schemaPath: 'schemas/roster.schema.json' });
  const reference = writeRosterYaml(roster, {
    layout,
    schemaPath: 'schemas/roster.schema.json',
    viaLibrary: true,
  });
  expect([...fast.keys()]).toEqual([...reference.keys()]);
  for (const [file, text] of reference) expect(fast.get(file), file).toBe(text);
  return fast;
}

/** Values a district's data can hold that YAML must quote, escape or keep as written. */
const AWKWARD = [
  '01',
  '007',
  '1e3',
  '0x1F',
  '0o17',
  '.5',
  '+1',
  '-2',
  '.inf',
  '-.Inf',
  '.NaN',
  'true',
  'False',
  'NULL',
  '~',
  'null',
  'yes',
  'No',
  'on',
  'off',
  'y',
  '2026-08-18',
  '10:30',
  'a: b',
  'a:b',
  'key #1',
  '#1',
  '@home',
  '`tick`',
  '- x',
  '-',
  '-x',
  '? q',
  ':x',
  "O'Brien",
  "'quoted'",
  '"dq"',
  'a "b" c',
  'x,y',
  '[a]',
  '{a}',
  'a[1]',
  'José Ñúñez',
  '李小龙',
  'Zoë 😀',
  'tab\there',
  'nbsp\u00a0x',
  'back\\slash',
  '%pct',
  '&anchor',
  '*alias',
  '!tag',
  '|pipe',
  '>gt',
  'a  b',
  'ends ',
  ' starts',
  'a=b',
  'a;b',
  'a?b',
  'x!',
  'a&b',
  '(1)',
  '<b>',
  '$5',
  '^x',
  '=x',
  '~x',
  '.x',
  '/x',
  '0',
  '00',
];

function awkwardRoster(version: '1.1' | '1.2', rnd: () => number): Roster {
  const b = new RosterBuilder(version);
  const pick = () => AWKWARD[Math.floor(rnd() * AWKWARD.length)]!;
  b.add('orgs', { sourcedId: 'sch-1', name: pick(), type: 'school', identifier: pick() });
  b.add('orgs', { sourcedId: 'district', name: pick(), type: 'district' });
  b.add('academicSessions', {
    sourcedId: 'sy',
    title: pick(),
    type: 'schoolYear',
    startDate: '2025-08-01',
    endDate: '2026-06-30',
    schoolYear: '2026',
  });
  b.add('courses', { sourcedId: 'crs-1', title: pick(), orgSourcedId: 'sch-1', subjects: `${pick()},Math` });
  b.add('classes', {
    sourcedId: 'cls-1',
    title: pick(),
    courseSourcedId: 'crs-1',
    classType: 'scheduled',
    schoolSourcedId: 'sch-1',
    termSourcedIds: 'sy',
    location: pick(),
    periods: '1,2',
  });
  for (let i = 0; i < 12; i++) {
    const id = `stu-${i}`;
    const user = {
      sourcedId: id,
      enabledUser: 'true',
      username: `${pick()}${i}`,
      givenName: pick(),
      familyName: pick(),
      middleName: pick(),
      grades: '09',
    };
    if (version === '1.1') b.add('users', { ...user, orgSourcedIds: 'sch-1', role: 'student' });
    else {
      b.add('users', { ...user, primaryOrgSourcedId: 'sch-1' });
      b.add('roles', {
        sourcedId: `${id}-r`,
        userSourcedId: id,
        roleType: 'primary',
        role: 'student',
        orgSourcedId: 'sch-1',
      });
    }
    b.add('enrollments', {
      sourcedId: `e-${i}`,
      classSourcedId: 'cls-1',
      schoolSourcedId: 'sch-1',
      userSourcedId: id,
      role: 'student',
    });
  }
  return b.build();
}

describe('the roster YAML emitter', () => {
  it('writes what the yaml library writes for generated districts (1.1 and 1.2, both layouts)', () => {
    for (const version of ['1.1', '1.2'] as const) {
      const roster = generateDistrict({ schools: 3, students: 150, seed: `emitter-${version}`, version });
      sameAsLibrary(roster, 'per-school');
      sameAsLibrary(roster, 'single');
    }
  });

  it('writes what the yaml library writes for values that need quoting, and they read back the same', async () => {
    const rnd = seededRandom('awkward');
    for (let round = 0; round < 20; round++) {
      const roster = awkwardRoster(round % 2 ? '1.2' : '1.1', rnd);
      const files = sameAsLibrary(roster, 'single');
      const buffers = new Map([...files].map(([name, text]) => [name, Buffer.from(text)]));
      const read = await readRosterYaml(memoryFiles('awkward', buffers), new Diagnostics());
      expect(rostersEqual(read.roster, roster)).toBe(true);
    }
  });

  it('a multi-line value is written by the library (a block scalar indented by its place)', () => {
    const b = new RosterBuilder('1.1');
    b.addNormalized('orgs', { sourcedId: 'sch-1', name: 'Two\nlines', type: 'school' });
    const roster = b.build();
    const text = sameAsLibrary(roster, 'single').get('roster.yaml')!;
    expect(text).toContain('name: |-\n      Two\n      lines\n');
  });
});
