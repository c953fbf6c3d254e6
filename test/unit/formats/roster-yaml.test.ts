import { describe, expect, it } from 'vitest';
import { derivedEnrollmentId, derivedRoleId } from '../../../src/model/derived-ids.js';
import { sortedRecords } from '../../../src/model/roster.js';
import { codes, diagnostics, validateTree } from '../../helpers/fixtures.js';

const ROSTER = `oneroster: "1.1"
orgs:
  - sourcedId: d1
    name: Springfield Public Schools
    type: district
academicSessions:
  - sourcedId: fall25
    title: Fall 2025
    type: semester
    startDate: 2025-08-18
    endDate: 2026-01-10
    schoolYear: 2026
`;
const SCHOOL = `schools:
  - sourcedId: s1
    name: Lincoln Elementary
    parentSourcedId: d1
    courses:
      - sourcedId: c1
        title: Grade 3 Math
        grades: ["03"]
    staff:
      - sourcedId: t1
        enabledUser: true
        role: teacher
        username: ana.diaz
        givenName: Ana
        familyName: Diaz
    students:
      - sourcedId: "007"
        enabledUser: true
        username: ben.lee
        givenName: Ben
        familyName: Lee
        grades: ["03"]
        demographics:
          birthDate: 2017-03-04
          sex: male
    classes:
      - sourcedId: k1
        title: Math 3A
        courseSourcedId: c1
        classType: scheduled
        termSourcedIds: [fall25]
        teachers:
          - userSourcedId: t1
            primary: true
        students:
          - "007"
`;

describe('roster YAML', () => {
  it('reads records grouped by school, with implied fields filled in', async () => {
    const result = await validateTree({ 'roster.yaml': ROSTER, 'schools/s1.yaml': SCHOOL });
    expect(result.diagnostics).toEqual([]);
    const r = result.roster;
    expect(r.table('orgs').get(1)).toMatchObject({ sourcedId: 's1', type: 'school', parentSourcedId: 'd1' });
    expect(r.table('courses').get(0).orgSourcedId).toBe('s1');
    expect(sortedRecords(r, 'users')).toEqual([
      {
        sourcedId: '007',
        enabledUser: 'true',
        orgSourcedIds: 's1',
        role: 'student',
        username: 'ben.lee',
        givenName: 'Ben',
        familyName: 'Lee',
        grades: '03',
      },
      {
        sourcedId: 't1',
        enabledUser: 'true',
        orgSourcedIds: 's1',
        role: 'teacher',
        username: 'ana.diaz',
        givenName: 'Ana',
        familyName: 'Diaz',
      },
    ]);
    expect(r.table('classes').get(0).schoolSourcedId).toBe('s1');
    expect(sortedRecords(r, 'enrollments')).toEqual(
      [
        {
          sourcedId: derivedEnrollmentId('k1', 't1', 'teacher'),
          classSourcedId: 'k1',
          schoolSourcedId: 's1',
          userSourcedId: 't1',
          role: 'teacher',
          primary: 'true',
        },
        {
          sourcedId: derivedEnrollmentId('k1', '007', 'student'),
          classSourcedId: 'k1',
          schoolSourcedId: 's1',
          userSourcedId: '007',
          role: 'student',
        },
      ].sort((a, b) => (a.sourcedId < b.sourcedId ? -1 : 1)),
    );
    expect(r.table('demographics').get(0)).toMatchObject({
      sourcedId: '007',
      birthDate: '2017-03-04',
      sex: 'male',
    });
  });

  it('keeps values exactly as written: leading zeros, "no", dates', async () => {
    const result = await validateTree({
      'roster.yaml': `${ROSTER}  - sourcedId: 0042\n    title: no\n    type: term\n    startDate: 2025-08-18\n    endDate: 2026-01-10\n    schoolYear: 2026\n`,
    });
    const session = result.roster.table('academicSessions').get(1);
    expect(session.sourcedId).toBe('0042');
    expect(session.title).toBe('no');
  });

  it('derives enrollment ids when omitted and keeps them when given', async () => {
    const school = SCHOOL.replace(
      '          - "007"\n',
      '          - userSourcedId: "007"\n            sourcedId: SIS-ENR-1\n',
    );
    const result = await validateTree({ 'roster.yaml': ROSTER, 'schools/s1.yaml': school });
    const ids = sortedRecords(result.roster, 'enrollments').map((e) => e.sourcedId);
    expect(ids).toContain('SIS-ENR-1');
    expect(ids).toContain(derivedEnrollmentId('k1', 't1', 'teacher'));
  });

  it('reports a syntax error with its line and column', async () => {
    const result = await validateTree({
      'roster.yaml': 'oneroster: "1.1"\norgs:\n  - sourcedId: d1\n    name: [unclosed\n',
    });
    expect(codes(result)).toEqual(['YAML_SYNTAX']);
    expect(result.diagnostics[0]?.line).toBeGreaterThanOrEqual(4);
  });

  it('reports duplicate keys', async () => {
    const result = await validateTree({
      'roster.yaml':
        'oneroster: "1.1"\norgs:\n  - sourcedId: d1\n    name: A\n    name: B\n    type: district\n',
    });
    expect(diagnostics(result)).toEqual(['YAML_DUPLICATE_KEY roster.yaml:5']);
  });

  it('refuses a file that is not UTF-8 (Latin-1 José would be delivered as Jos\uFFFD), naming the line and the encoding', async () => {
    const latin1 = Buffer.from(SCHOOL.replace('givenName: Ben', 'givenName: José'), 'latin1');
    const result = await validateTree({ 'roster.yaml': ROSTER, 'schools/s1.yaml': latin1 });
    expect(diagnostics(result)).toEqual(['YAML_ENCODING schools/s1.yaml:20']);
    expect(result.diagnostics[0]!.message).toBe(
      'schools/s1.yaml is not UTF-8: line 20 looks like ISO-8859-1 (Latin-1)',
    );
    // The same text in UTF-8 reads.
    const utf8 = await validateTree({
      'roster.yaml': ROSTER,
      'schools/s1.yaml': Buffer.from(SCHOOL.replace('givenName: Ben', 'givenName: José')),
    });
    expect(utf8.diagnostics).toEqual([]);
    expect(utf8.roster.table('users').get(1).givenName).toBe('José');
  });

  it('reports 32,000 unknown keys in linear time, each at its own line (it was quadratic: 19.7 s)', async () => {
    const keys = Array.from({ length: 32_000 }, (_, i) => `    k${i}: v`);
    const text = `oneroster: "1.1"\norgs:\n  - sourcedId: d1\n    name: D\n    type: district\n${keys.join('\n')}\n`;
    const started = performance.now();
    const result = await validateTree({ 'roster.yaml': text });
    expect(performance.now() - started).toBeLessThan(8000); // ~1 s linear
    expect(codes(result).filter((c) => c === 'YAML_UNKNOWN_FIELD')).toHaveLength(32_000);
    expect(diagnostics(result).slice(0, 2)).toEqual([
      'YAML_UNKNOWN_FIELD roster.yaml:6',
      'YAML_UNKNOWN_FIELD roster.yaml:7',
    ]);
  });

  it('refuses alias bombs', async () => {
    const lines = ['oneroster: "1.1"', 'a: &a ["x","x","x","x","x","x","x","x","x","x"]'];
    for (let i = 1; i < 9; i++)
      lines.push(
        `${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [*${String.fromCharCode(96 + i)},*${String.fromCharCode(96 + i)},*${String.fromCharCode(96 + i)},*${String.fromCharCode(96 + i)},*${String.fromCharCode(96 + i)},*${String.fromCharCode(96 + i)},*${String.fromCharCode(96 + i)},*${String.fromCharCode(96 + i)},*${String.fromCharCode(96 + i)},*${String.fromCharCode(96 + i)}]`,
      );
    const result = await validateTree({ 'roster.yaml': `${lines.join('\n')}\n` });
    expect(codes(result)).toEqual(['YAML_ALIAS_LIMIT']);
  });

  it('reports an unknown field where it stands, with a suggestion', async () => {
    const result = await validateTree({
      'roster.yaml': ROSTER,
      'schools/s1.yaml': SCHOOL.replace('givenName: Ben', 'givenname: Ben'),
    });
    // The file is still read, without the unknown field: its other records are checked, and a
    // roster that names a field wrongly is never read as empty.
    expect(diagnostics(result)).toEqual([
      'VALUE_REQUIRED schools/s1.yaml:17',
      'YAML_UNKNOWN_FIELD schools/s1.yaml:20',
    ]);
    expect(result.diagnostics[1]).toMatchObject({
      column: 9,
      hint: 'Did you mean "givenName"? Field names are case-sensitive.',
    });
    expect(result.roster.table('users').size).toBe(2);
    expect(result.roster.table('courses').size).toBe(1);
  });

  it('runs the same field and roster rules as CSV, pointing at the YAML value', async () => {
    const school = SCHOOL.replace(
      'grades: ["03"]\n        demographics',
      'grades: ["3"]\n        demographics',
    ).replace('courseSourcedId: c1', 'courseSourcedId: c9');
    const result = await validateTree({ 'roster.yaml': ROSTER, 'schools/s1.yaml': school });
    expect(diagnostics(result)).toEqual([
      'VALUE_GRADE schools/s1.yaml:22',
      'REFERENCE_MISSING schools/s1.yaml:27',
    ]);
    expect(result.diagnostics[0]?.column).toBe(17);
    expect(result.diagnostics[1]?.message).toBe('courseSourcedId "c9" matches no record in courses');
  });

  it('points a diagnostic on an enrollment written as a bare user id at that id', async () => {
    const result = await validateTree({
      'roster.yaml': ROSTER,
      'schools/s1.yaml': SCHOOL.replace(
        '        students:\n          - "007"',
        '        students:\n          - ""',
      ),
    });
    const required = result.diagnostics.find((d) => d.code === 'VALUE_REQUIRED');
    expect(required).toMatchObject({ file: 'schools/s1.yaml', line: 36, column: 13 });
    // (Roster YAML has no enrollments.csv: diagnostics name the entity.)
    expect(required?.message).toBe('userSourcedId is required in enrollments');
  });

  it('reports duplicate sourcedIds across files', async () => {
    const other = SCHOOL.replace(/sourcedId: s1/, 'sourcedId: s2')
      .replace(/sourcedId: c1/, 'sourcedId: c2')
      .replace(/sourcedId: k1/, 'sourcedId: k2')
      .replace('courseSourcedId: c1', 'courseSourcedId: c2')
      .replace('sourcedId: "007"', 'sourcedId: "008"')
      .replace('- "007"', '- "008"');
    const result = await validateTree({
      'roster.yaml': ROSTER,
      'schools/s1.yaml': SCHOOL,
      'schools/s2.yaml': other,
    });
    expect(diagnostics(result)).toEqual(['DUPLICATE_SOURCED_ID schools/s2.yaml:10']);
  });

  it('needs a OneRoster version, and files that agree on it', async () => {
    expect(codes(await validateTree({ 'roster.yaml': ROSTER.replace('oneroster: "1.1"\n', '') }))).toEqual([
      'YAML_SCHEMA',
    ]);
    expect(
      codes(await validateTree({ 'roster.yaml': ROSTER, 'schools/s1.yaml': `oneroster: "1.2"\n${SCHOOL}` })),
    ).toContain('YAML_CONFLICT');
  });

  it('in 1.2, turns role + orgSourcedIds into roles rows with derived ids', async () => {
    const result = await validateTree({
      'roster.yaml': ROSTER.replace('"1.1"', '"1.2"'),
      'schools/s1.yaml': SCHOOL.replace('role: teacher', 'role: teacher\n        orgSourcedIds: [s1, d1]'),
    });
    expect(result.diagnostics).toEqual([]);
    const roles = sortedRecords(result.roster, 'roles');
    expect(roles).toContainEqual({
      sourcedId: derivedRoleId('t1', 's1', 'teacher'),
      userSourcedId: 't1',
      roleType: 'primary',
      role: 'teacher',
      orgSourcedId: 's1',
    });
    expect(roles).toContainEqual({
      sourcedId: derivedRoleId('t1', 'd1', 'teacher'),
      userSourcedId: 't1',
      roleType: 'secondary',
      role: 'teacher',
      orgSourcedId: 'd1',
    });
    expect(roles).toContainEqual({
      sourcedId: derivedRoleId('007', 's1', 'student'),
      userSourcedId: '007',
      roleType: 'primary',
      role: 'student',
      orgSourcedId: 's1',
    });
    expect(result.roster.table('users').get(0).role).toBe('');
  });
});
