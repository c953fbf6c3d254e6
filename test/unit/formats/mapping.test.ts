/** Import mappings: what the format says (docs/import.md), on small in-memory exports. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Diagnostics } from '../../../src/diagnostic.js';
import { parseMapping } from '../../../src/formats/mapped/mapping.js';
import type { EntityName } from '../../../src/model/entities.js';
import { mapExport, readSourceTable, type SourceTable } from '../../../src/source/mapped-export.js';

const SCHEMA = readFileSync('schemas/import-mapping.schema.json', 'utf8');
const NOW = new Date('2026-12-06T12:00:00Z');

function table(file: string, text: string): SourceTable {
  const t = readSourceTable(file, Buffer.from(text), {}, new Set(), new Diagnostics());
  if (!t) throw new Error(`${file} was not read`);
  return t;
}

/** Maps `files` (name -> CSV text) with a mapping whose files are named as given. */
function map(records: string, files: Record<string, string>) {
  const yaml = `mappingVersion: 1\nfiles:\n${Object.keys(files)
    .map((f) => `  ${f}: { path: ${f}.csv }\n`)
    .join('')}records:\n${records}`;
  const mapping = parseMapping('test.yaml', yaml, SCHEMA);
  const tables = new Map(Object.entries(files).map(([n, text]) => [n, table(`${n}.csv`, text)]));
  const diagnostics = new Diagnostics();
  const { roster } = mapExport(mapping, tables, new Set(), diagnostics, NOW);
  const rows = (e: EntityName) => [...roster.table(e)].map((r) => ({ ...r }));
  return { rows, diagnostics: diagnostics.list };
}

describe('mapping values', () => {
  it('templates: columns, the first of alternatives, variables, escaped braces; default when every column is empty', () => {
    const { rows } = map(
      `  - entity: orgs
    from: s
    fields:
      sourcedId: { template: "{id}", default: "org-{$schoolYear}" }
      name: "{nick|name} {{{code}}}"
      type: school
      identifier: { template: "{code}-{zip}", default: none }
`,
      { s: 'id,name,nick,code,zip\nA,Alpha,,a1,\n,Beta,B,,\n' },
    );
    expect(rows('orgs')).toEqual([
      expect.objectContaining({ sourcedId: 'A', name: 'Alpha {a1}', identifier: 'a1-' }),
      expect.objectContaining({ sourcedId: 'org-2027', name: 'B {}', identifier: 'none' }),
    ]);
  });

  it('transforms: map with otherwise, dates (ISO kept, others reported), split lists, slug and case', () => {
    const { rows, diagnostics } = map(
      `  - entity: academicSessions
    from: t
    fields:
      sourcedId: { column: name, slug: true }
      title: { column: name, case: upper }
      type: { column: kind, map: { T: term, Y: schoolYear }, otherwise: gradingPeriod }
      startDate: { column: start, date: D.M.YY }
      endDate: { column: end, date: MM/DD/YYYY }
      schoolYear: { column: end, date: { from: MM/DD/YYYY, to: YYYY } }
  - entity: courses
    from: t
    fields:
      sourcedId: "c-{$item}"
      title: "{name}"
      orgSourcedId: org
      grades: { column: grades, split: ";", map: { K: KG, "1": "01" } }
    forEach: { column: codes, split: "/" }
`,
      {
        t: 'name,kind,start,end,grades,codes\nFall Term 2026!,T,1.8.26,12/23/2026,K;1,x/y\nYear,Q,2026-07-01,31/12/2026,,\n',
      },
    );
    const [fall, year] = rows('academicSessions');
    expect(fall).toMatchObject({
      sourcedId: 'fall-term-2026',
      title: 'FALL TERM 2026!',
      type: 'term',
      startDate: '2026-08-01',
      endDate: '2026-12-23',
      schoolYear: '2026',
    });
    // ISO dates pass; a date that matches neither is kept, and validation says where it stands.
    expect(year).toMatchObject({ type: 'gradingPeriod', startDate: '2026-07-01', endDate: '31/12/2026' });
    expect(diagnostics.map((d) => `${d.code} ${d.file}:${d.line}:${d.column}`)).toContain(
      'VALUE_DATE t.csv:3:4',
    );
    // One course per item of the forEach column; split lists mapped item by item.
    expect(rows('courses').map((c) => [c.sourcedId, c.grades])).toEqual([
      ['c-x', '01,KG'],
      ['c-y', '01,KG'],
    ]);
  });

  it('joins another file on a key, and filters rows with when, require and absent', () => {
    const { rows, diagnostics } = map(
      `  - entity: enrollments
    from: m
    when: { kind: [S, T] }
    require: [person]
    absent: [left]
    fields:
      sourcedId: "{section}-{person}"
      classSourcedId: "{section}"
      schoolSourcedId: { join: { file: sec, on: section, to: id, column: school } }
      userSourcedId: "{person}"
      role: { column: kind, map: { S: student, T: teacher } }
`,
      {
        m: 'section,person,kind,left\nS1,p1,S,\nS1,p2,T,\nS2,p3,S,2026-10-01\nS2,,S,\nS2,p4,X,\n',
        sec: 'id,school\nS1,sch-1\nS2,sch-2\n',
      },
    );
    expect(rows('enrollments').map((e) => [e.sourcedId, e.schoolSourcedId, e.role])).toEqual([
      ['S1-p1', 'sch-1', 'student'],
      ['S1-p2', 'sch-1', 'teacher'],
    ]);
    expect(diagnostics.find((d) => d.code === 'MAPPING_ROWS_UNUSED')?.message).toBe(
      'm.csv: 3 row(s) made no record (the first at line 4): no rule of the mapping takes them',
    );
  });
});

describe('rows that make the same record', () => {
  const rule = `  - entity: users
    from: u
    skipEmpty: true
    fields:
      sourcedId: "{id}"
      orgSourcedIds: "{school}"
      givenName: "{name}"
      grades: "{grade}"
`;
  it('are merged: lists add up, an empty value takes the other', () => {
    const { rows, diagnostics } = map(rule, {
      u: 'id,school,name,grade\nt1,sch-1,,\nt1,sch-2,Ann,\nt1,sch-1,Ann,05\n',
    });
    expect(rows('users')).toEqual([
      expect.objectContaining({
        sourcedId: 't1',
        orgSourcedIds: 'sch-1,sch-2',
        givenName: 'Ann',
        grades: '05',
      }),
    ]);
    expect(diagnostics.filter((d) => d.code.startsWith('MAPPING'))).toEqual([]);
  });

  it('that disagree are a conflict naming both lines, without quoting personal data', () => {
    const { diagnostics } = map(rule, { u: 'id,school,name,grade\nt1,sch-1,Ann,\nt1,sch-1,Anne,\n,,,\n' });
    const conflict = diagnostics.find((d) => d.code === 'MAPPING_CONFLICT')!;
    expect(conflict).toMatchObject({ file: 'u.csv', line: 3, column: 3, recordId: 't1', field: 'givenName' });
    expect(conflict.message).toBe(
      'users t1: givenName is (value withheld: personal data) here but (value withheld: personal data) in u.csv line 2',
    );
    expect(diagnostics.find((d) => d.code === 'MAPPING_ID_EMPTY')).toMatchObject({ line: 4, column: 1 });
  });

  it('a row with nothing but an id makes no record when skipEmpty', () => {
    const { rows } = map(rule, { u: 'id,school,name,grade\nt1,,,\n' });
    expect(rows('users')).toEqual([]);
  });
});

describe('the mapping itself', () => {
  it('every problem at its line: unknown settings, entities and fields, a value without a source', () => {
    const yaml = `mappingVersion: 1
files:
  u: { path: u.csv, encodng: latin1 }
records:
  - entity: users
    from: u
    fields:
      sourcedId: { map: { a: b } }
      givenNme: "{x}"
      familyName: { column: x, otherwise: y }
`;
    expect(() => parseMapping('m.yaml', yaml, SCHEMA)).toThrow(
      'm.yaml is not valid:\n  m.yaml:3:21: files.u has an unknown setting "encodng"',
    );
    try {
      parseMapping('m.yaml', yaml.replace(', encodng: latin1', ''), SCHEMA);
      expect.unreachable();
    } catch (e) {
      expect((e as Error).message).toBe(
        [
          'm.yaml is not valid:',
          '  m.yaml:8:18: sourcedId needs one of column, template or join (it has 0)',
          '  m.yaml:9:7: users has no field "givenNme" in OneRoster 1.1; did you mean "givenName"?',
          '  m.yaml:10:32: otherwise goes with map',
        ].join('\n'),
      );
    }
  });

  it('the shipped presets are valid mappings', () => {
    for (const name of ['clever', 'batch'])
      expect(
        parseMapping(name, readFileSync(`mappings/${name}.yaml`, 'utf8'), SCHEMA).records.length,
      ).toBeGreaterThan(5);
  });
});
