import { describe, expect, it } from 'vitest';
import { validatePath } from '../../../src/services/validate.js';

const EDFI = 'test/fixtures/oneroster/edfi-lms-toolkit-or11';

describe('the Ed-Fi LMS Toolkit OneRoster 1.1 sample (Apache-2.0)', () => {
  it('loads every record', async () => {
    const result = await validatePath(EDFI);
    const counts = Object.fromEntries(result.roster.entities().map((e) => [e, result.roster.table(e).size]));
    expect(counts).toEqual({
      orgs: 2,
      academicSessions: 3,
      courses: 2,
      classes: 2,
      users: 10,
      enrollments: 24,
      demographics: 8,
    });
  });

  it('reports exactly its known defects, and nothing valid as an error', async () => {
    const result = await validatePath(EDFI);
    const shown = result.diagnostics.map((d) => `${d.severity} ${d.code} ${d.file}:${d.line ?? ''}`);
    expect(shown).toEqual([
      // The courses' subjects and subjectCodes look swapped (PROVENANCE.md).
      'warning SUBJECTS_DIFFER_FROM_COURSE classes.csv:2',
      'warning SUBJECTS_DIFFER_FROM_COURSE classes.csv:3',
      // Some files have no final newline.
      'info CSV_NO_FINAL_NEWLINE courses.csv:3',
      'info CSV_NO_FINAL_NEWLINE demographics.csv:9',
      'info CSV_NO_FINAL_NEWLINE enrollments.csv:25',
      // manifest.version,1 (should be 1.0).
      'error MANIFEST_VERSION_INVALID manifest.csv:2',
      // users.csv rows 10-11 (the teachers) have 19 fields against 18 headers.
      'error CSV_ROW_WIDTH users.csv:10',
      'info CSV_NO_FINAL_NEWLINE users.csv:11',
      'error CSV_ROW_WIDTH users.csv:11',
    ]);
    // The five metadata.* org columns are allowed and kept.
    expect(result.roster.table('orgs').extensionFields).toEqual([
      'metadata.address1',
      'metadata.address2',
      'metadata.city',
      'metadata.postCode',
      'metadata.state',
    ]);
  });
});
