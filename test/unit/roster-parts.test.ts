import { describe, expect, it } from 'vitest';
import { sortedRecords } from '../../src/model/roster.js';
import { loadRoster } from '../../src/source/load.js';
import { validateRoster } from '../../src/validate/validate.js';
import { csv, package11, tempDir, writeTree } from '../helpers/fixtures.js';

describe('a OneRoster CSV roster read in two parts (two threads)', () => {
  it('gives the same roster and the same findings, each once, as reading it whole', async () => {
    const p = package11();
    const dir = writeTree(tempDir(), {
      ...p,
      // Findings in the package (an unknown file), in enrollments.csv and in another file.
      'extra.csv': csv('a,b', '1,2'),
      'enrollments.csv': csv(
        ...p['enrollments.csv']!.toString().trim().split('\n'),
        'e9,,,k1,s1,u1,Student,,,',
      ),
      'users.csv': csv(
        ...p['users.csv']!.toString().trim().split('\n'),
        'u9,,,TRUE,s1,student,x9,,X,Y,,,,,,,03,',
      ),
    });
    const whole = await loadRoster(dir);
    validateRoster(whole.roster, whole.diagnostics);

    const entities = ['enrollments'] as const;
    const others = await loadRoster(dir, { part: { entities, role: 'others' } });
    const these = await loadRoster(dir, { part: { entities, role: 'these' } });
    expect(others.roster.table('enrollments').size).toBe(0);
    expect(these.roster.table('users').size).toBe(0);
    const roster = others.roster.withTablesOf(these.roster, entities);
    const diagnostics = others.diagnostics;
    diagnostics.list.push(...these.diagnostics.list);
    validateRoster(roster, diagnostics);

    for (const e of whole.roster.entities())
      expect(sortedRecords(roster, e)).toEqual(sortedRecords(whole.roster, e));
    expect(roster.explicitModes()).toEqual(whole.roster.explicitModes());
    const codes = (d: typeof diagnostics) => d.sorted().map((x) => `${x.code}@${x.file}:${x.line ?? ''}`);
    expect(codes(diagnostics)).toEqual(codes(whole.diagnostics));
    expect(codes(diagnostics)).toEqual(
      expect.arrayContaining([
        'FILE_UNKNOWN@extra.csv:',
        'VALUE_ENUM@enrollments.csv:5',
        'VALUE_BOOLEAN@users.csv:5',
      ]),
    );
  });
});
