/**
 * `roster import --from mapped` (the Clever preset, a district's own mapping) and `--from batch`:
 * exports that are not OneRoster become a valid roster, and what cannot be mapped is reported at
 * its source file and line, with nothing written.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { generateDistrict } from '../../src/generate/generate.js';
import type { Roster } from '../../src/model/roster.js';
import { exportBatch } from '../../src/sandbox/batch.js';
import { loadRoster } from '../../src/source/load.js';
import { templateVariables } from '../../src/source/mapped-export.js';
import { cleverFiles } from '../helpers/clever.js';
import { roster as cli } from '../helpers/cli.js';
import { csv, tempDir, writeTree } from '../helpers/fixtures.js';
import { GIT_ENV, git } from '../helpers/repo.js';

const district = generateDistrict({ schools: 3, students: 60, seed: 'clever' });

let template: string | undefined;
/** A new district repo (`roster init` once, then copied: each test gets its own). */
function newRepo(): string {
  if (!template) {
    // (Kept for the whole file: a test's temporary folders go when it ends.)
    const parent = mkdtempSync(join(tmpdir(), 'roster-mapped-template-'));
    process.on('exit', () => rmSync(parent, { recursive: true, force: true }));
    expect(run(['init', 'district'], parent).status).toBe(0);
    template = join(parent, 'district');
  }
  const dir = join(tempDir('roster-mapped-'), 'district');
  cpSync(template, dir, { recursive: true });
  return dir;
}

const run = (args: string[], cwd: string) => cli(args, { cwd, env: GIT_ENV });

const records = (r: Roster, entity: Parameters<Roster['table']>[0]) =>
  new Map([...r.table(entity)].map((x) => [x.sourcedId!, x]));

describe('roster import --from mapped --mapping clever', () => {
  it("imports a generated Clever export: every person, section and enrollment, at Clever's values", async () => {
    const dir = newRepo();
    const source = writeTree(join(tempDir('roster-clever-'), 'export'), cleverFiles(district));
    const r = run(['import', '--from', 'mapped', source, '--mapping', 'clever'], dir);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain(
      `Imported 3 orgs, 1 academicSessions, ${district.table('courses').size} courses, ${district.table('classes').size} classes, `,
    );
    // What the export holds but the mapping does not read is said, not silently dropped.
    expect(r.stderr).toContain('students.csv: 1 column(s) the mapping does not read, not imported: Password');
    expect(r.stderr).toContain('note: Terms come from sections.csv');
    expect(run(['validate'], dir).status).toBe(0);

    const imported = (await loadRoster(join(dir, 'roster'))).roster;
    const users = records(imported, 'users');
    const wanted = [...district.table('users')].filter((u) => u.role === 'student' || u.role === 'teacher');
    expect(users.size).toBe(wanted.length);
    for (const u of wanted) {
      const got = users.get(u.sourcedId!)!;
      for (const f of ['role', 'givenName', 'familyName', 'email', 'username', 'orgSourcedIds'])
        expect(got[f], `${u.sourcedId} ${f}`).toBe(u[f]);
      if (u.role === 'student') expect(got.grades).toBe(u.grades);
    }
    const demographics = records(imported, 'demographics');
    for (const d of district.table('demographics')) {
      const got = demographics.get(d.sourcedId!)!;
      for (const f of ['birthDate', 'sex', 'hispanicOrLatinoEthnicity', 'white', 'asian'])
        expect(got[f], `${d.sourcedId} ${f}`).toBe(d[f]);
    }
    const classes = records(imported, 'classes');
    for (const c of district.table('classes')) {
      const got = classes.get(c.sourcedId!)!;
      expect(got.title).toBe(c.title);
      expect(got.schoolSourcedId).toBe(c.schoolSourcedId);
      expect(got.termSourcedIds).toBe('2025-2026-school-year');
      expect(got.grades).toBe(c.grades);
    }
    const term = records(imported, 'academicSessions').get('2025-2026-school-year')!;
    expect([term.startDate, term.endDate, term.schoolYear]).toEqual(['2025-08-18', '2026-06-06', '2026']);
    // Every student enrollment, and each section's teacher.
    const pairs = (r: Roster) =>
      new Set([...r.table('enrollments')].map((e) => `${e.classSourcedId} ${e.userSourcedId} ${e.role}`));
    expect(pairs(imported)).toEqual(pairs(district));
  });

  it('reports what it cannot map at the source file and line, and writes nothing', () => {
    const dir = newRepo();
    const files = cleverFiles(district);
    const students = (files['students.csv'] as string).trimEnd().split('\n');
    const header = students[0]!.split(',');
    const cells = (i: number) => students[i]!.split(','); // (no quoted commas in these files)
    // Line 3: a grade Clever does not have; line 4: no Student_id; line 5 again with another name.
    const c3 = cells(2);
    c3[header.indexOf('Grade')] = 'Fifth';
    students[2] = c3.join(',');
    const c4 = cells(3);
    c4[header.indexOf('Student_id')] = '';
    students[3] = c4.join(',');
    const c5 = cells(1);
    c5[header.indexOf('Last_name')] = 'Other';
    students.push(c5.join(','));
    files['students.csv'] = `${students.join('\n')}\n`;
    files['enrollments.csv'] = `${files['enrollments.csv']}sch-001,no-such-section,stu-000001\n`;
    const source = writeTree(join(tempDir('roster-clever-'), 'export'), files);
    const before = readFileSync(join(dir, 'roster/roster.yaml'), 'utf8');

    const r = run(['import', '--from', 'mapped', source, '--mapping', 'clever'], dir);
    expect(r.status).toBe(1);
    const out = r.stdout + r.stderr;
    const gradeColumn = header.indexOf('Grade') + 1;
    expect(out).toMatch(new RegExp(`students\\.csv:3:${gradeColumn}  error  VALUE_GRADE`));
    expect(out).toMatch(
      /students\.csv:4:2 {2}error {2}MAPPING_ID_EMPTY {2}students\.csv line 4: the users record/,
    );
    expect(out.match(/MAPPING_ID_EMPTY/g)).toHaveLength(1);
    expect(out).toContain(
      `users stu-000001: familyName is (value withheld: personal data) here but (value withheld: personal data) in students.csv line 2`,
    );
    expect(out).toMatch(
      /enrollments\.csv:\d+ {2}error {2}REFERENCE_MISSING {2}classSourcedId "no-such-section"/,
    );
    expect(out).toContain('nothing was imported');
    expect(readFileSync(join(dir, 'roster/roster.yaml'), 'utf8')).toBe(before);
  });
});

describe('roster import --from mapped --mapping FILE', () => {
  /** A SIS's own export: semicolons, Windows-1252, names joined from another file. */
  function sisExport(): string {
    const dir = join(tempDir('roster-sis-'), 'export');
    writeTree(dir, {
      'buildings.txt': csv('code;title', 'B1;Lincoln Elementary'),
      'people.csv': Buffer.from(
        csv('id,first,last,kind,building', 'p1,José,Núñez,S,B1', 'p2,Ann,Lee,T,B1'),
        'latin1',
      ),
      'sections.csv': csv('section,course,building,teacher', 'S-1,Reading 1,B1,p2'),
      'members.csv': csv('section,person', 'S-1,p1'),
    });
    return dir;
  }
  const mapping = `# A SIS export
mappingVersion: 1
files:
  buildings: { path: buildings.txt, delimiter: ";" }
  people: { path: people.csv, encoding: windows-1252 }
  sections: { path: sections.csv }
  members: { path: members.csv }
records:
  - entity: orgs
    from: buildings
    fields: { sourcedId: "{code}", name: "{title}", type: school }
  - entity: academicSessions
    from: buildings
    fields:
      sourcedId: "sy-{$schoolYear}"
      title: "{$schoolYear}"
      type: schoolYear
      startDate: "{$schoolYearStart}"
      endDate: "{$schoolYearEnd}"
      schoolYear: "{$schoolYear}"
  - entity: users
    from: people
    fields:
      sourcedId: "{id}"
      enabledUser: "true"
      orgSourcedIds: "{building}"
      role: { column: kind, map: { S: student, T: teacher } }
      username: "{id}"
      givenName: "{first}"
      familyName: "{last}"
  - entity: courses
    from: sections
    fields: { sourcedId: { template: "{building}-{course}", slug: true }, title: "{course}", orgSourcedId: "{building}" }
  - entity: classes
    from: sections
    fields:
      sourcedId: "{section}"
      title: "{course}"
      courseSourcedId: { template: "{building}-{course}", slug: true }
      classType: scheduled
      schoolSourcedId: "{building}"
      termSourcedIds: "sy-{$schoolYear}"
  - entity: enrollments
    from: sections
    fields:
      sourcedId: "{section}-{teacher}"
      classSourcedId: "{section}"
      schoolSourcedId: "{building}"
      userSourcedId: "{teacher}"
      role: teacher
  - entity: enrollments
    from: members
    fields:
      sourcedId: "{section}-{person}"
      classSourcedId: "{section}"
      schoolSourcedId: { join: { file: sections, on: section, column: building } }
      userSourcedId: "{person}"
      role: student
`;

  it('reads per-file encodings and separators, joins files, and makes ids from templates', async () => {
    const dir = newRepo();
    const file = join(tempDir('roster-map-'), 'sis.yaml');
    writeFileSync(file, mapping);
    const r = run(['import', '--from', 'mapped', sisExport(), '--mapping', file], dir);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(
      /^Imported 1 orgs, 1 academicSessions, 1 courses, 1 classes, 2 users, 2 enrollments/,
    );
    const imported = (await loadRoster(join(dir, 'roster'))).roster;
    const jose = records(imported, 'users').get('p1')!;
    expect([jose.givenName, jose.familyName, jose.role]).toEqual(['José', 'Núñez', 'student']);
    expect(records(imported, 'enrollments').get('S-1-p1')!.schoolSourcedId).toBe('B1');
    expect(records(imported, 'classes').get('S-1')!.courseSourcedId).toBe('b1-reading-1');
    const year = templateVariables(new Date()).$schoolYear;
    expect(records(imported, 'academicSessions').get(`sy-${year}`)).toBeDefined();
  });

  it('without the encoding and separator, says which flags read the files', () => {
    const dir = newRepo();
    const file = join(tempDir('roster-map-'), 'sis.yaml');
    writeFileSync(file, mapping.replace(', delimiter: ";"', '').replace(', encoding: windows-1252', ''));
    const r = run(['import', '--from', 'mapped', sisExport(), '--mapping', file], dir);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('These files look saved by a spreadsheet: import them again with');
    expect(r.stderr).toContain('--encoding windows-1252');
    expect(r.stderr).toContain("--delimiter ';'");
    const flagged = run(
      ['import', '--from', 'mapped', sisExport(), '--mapping', file, '--encoding', 'windows-1252'],
      dir,
    );
    // (--delimiter would apply to every file; the mapping sets it for the one file that needs it.)
    expect(flagged.stderr).toContain("--delimiter ';'");
    expect(flagged.stderr).not.toContain('--encoding');
  });

  it('a mistake in the mapping is named at its line, with the field it may have meant', () => {
    const dir = newRepo();
    const file = join(tempDir('roster-map-'), 'sis.yaml');
    writeFileSync(
      file,
      mapping
        .replace('givenName: "{first}"', 'givenname: "{first}"')
        .replace('from: members', 'from: member'),
    );
    const r = run(['import', '--from', 'mapped', sisExport(), '--mapping', file], dir);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('Error [MAPPING_INVALID]');
    expect(r.stderr).toMatch(
      /sis\.yaml:\d+:7: users has no field "givenname" in OneRoster 1\.1; did you mean "givenName"\?/,
    );
    expect(r.stderr).toMatch(
      /sis\.yaml:\d+:11: from "member" is not one of the files .*did you mean "members"\?/,
    );
    const unknown = run(['import', '--from', 'mapped', sisExport(), '--mapping', 'clevr'], dir);
    expect(unknown.status).toBe(64);
    expect(unknown.stderr).toContain(
      'Error [MAPPING_UNKNOWN] there is no mapping preset "clevr"; did you mean "clever"?',
    );
  });
});

describe('roster import --from batch', () => {
  it('imports the two files: every person, class and enrollment, with placeholders for what they lack', async () => {
    const dir = newRepo();
    const files = exportBatch(district);
    const source = writeTree(join(tempDir('roster-batch-'), 'export'), {
      'users-2026.csv': files.users,
      'demo.csv': files.demographics,
    });
    const r = run(
      ['import', '--from', 'batch', join(source, 'users-2026.csv'), join(source, 'demo.csv')],
      dir,
    );
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toContain('note: The batch files carry no school names');
    expect(run(['validate'], dir).status).toBe(0);
    const imported = (await loadRoster(join(dir, 'roster'))).roster;
    expect(records(imported, 'users').size).toBe(district.table('users').size);
    expect(records(imported, 'classes').size).toBe(district.table('classes').size);
    expect(imported.table('enrollments').size).toBe(district.table('enrollments').size);
    expect(records(imported, 'demographics').size).toBe(district.table('demographics').size);
    // A class's two terms are two sessions.
    const klass = [...imported.table('classes')][0]!;
    expect(klass.termSourcedIds).toBe('sy-2026-fall,sy-2026-spring');
    expect(records(imported, 'academicSessions').get('sy-2026-fall')!.type).toBe('term');

    git(dir, 'add', '-A');
    git(dir, 'commit', '-q', '-m', 'Import');
    // A DROP row is a change, not a record: said, not imported.
    writeFileSync(join(source, 'users-2026.csv'), `${files.users}DROP,,stu-000001,,,,,,,cls-x,,,,,\n`);
    const dropped = run(['import', '--from', 'batch', join(source, 'users-2026.csv')], dir);
    expect(dropped.status, dropped.stderr).toBe(0);
    expect(dropped.stderr).toMatch(/users-2026\.csv: 1 row\(s\) made no record \(the first at line \d+\)/);
  });
});
