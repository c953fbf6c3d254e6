/**
 * Acceptance against the public OneRoster samples in ../shared/data/oneroster (see its
 * PROVENANCE.md). The GPL-licensed sets are read in place, never copied here. Run with
 * `npm run acceptance`; skipped when the folder is not present.
 */
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { validatePath } from '../../src/services/validate.js';

const ROOT = '../shared/data/oneroster';
const present = existsSync(ROOT);

async function check(set: string) {
  const result = await validatePath(`${ROOT}/${set}`);
  const has = (code: string, file?: string) =>
    result.diagnostics.some((d) => d.code === code && (file === undefined || d.file === file));
  return { result, has };
}

describe.skipIf(!present)('public OneRoster samples: every known defect is reported', () => {
  it('edfi-lms-toolkit-or11 (1.1 bulk): manifest.version 1, 19-field teacher rows, swapped subjects; metadata allowed', async () => {
    const { result, has } = await check('edfi-lms-toolkit-or11');
    expect(has('MANIFEST_VERSION_INVALID')).toBe(true);
    expect(result.diagnostics.filter((d) => d.code === 'CSV_ROW_WIDTH').map((d) => d.line)).toEqual([10, 11]);
    expect(has('SUBJECTS_DIFFER_FROM_COURSE')).toBe(true);
    expect(has('CSV_NO_FINAL_NEWLINE')).toBe(true);
    expect(has('HEADER_UNKNOWN', 'orgs.csv') || has('HEADER_EXTENSION_POSITION', 'orgs.csv')).toBe(false);
    expect(result.errors).toBe(3);
  });

  it('moodle oneroster_test_data (1.2 delta): only enabledUser TRUE', async () => {
    const { result } = await check('moodle-enrol-oneroster/oneroster_test_data');
    const errors = result.diagnostics.filter((d) => d.severity === 'error');
    expect(errors.map((d) => `${d.code} ${d.field}`)).toEqual(['VALUE_BOOLEAN enabledUser']);
  });

  it('moodle v1p2_full_dataset (1.2 bulk): its many known defects', async () => {
    const { has } = await check('moodle-enrol-oneroster/v1p2_full_dataset');
    expect(has('STATUS_IN_BULK')).toBe(true); // status and dates filled in bulk
    expect(has('MANIFEST_MODE_INVALID')).toBe(true); // 3 blank modes
    expect(has('VALUE_ENUM', 'classes.csv')).toBe(true); // Scheduled
    expect(has('VALUE_BOOLEAN', 'users.csv')).toBe(true); // TRUE
    expect(has('HEADER_MISSPELLED', 'users.csv')).toBe(true); // prefferedGivenName
    expect(has('VALUE_DATETIME', 'users.csv')).toBe(true); // 1/05/2023
    expect(has('FILE_UNKNOWN', 'userprofiles.csv')).toBe(true); // wrong case, holds roles
    expect(has('HEADER_MISSPELLED', 'roles.csv')).toBe(true); // dataLastModified
    expect(has('HEADER_EMPTY', 'roles.csv')).toBe(true); // two empty header names
    expect(has('REFERENCE_WRONG_TYPE')).toBe(true); // department used as school
    expect(has('REFERENCE_FILE_MISSING', 'classes.csv')).toBe(true); // classes without courses.csv
    expect(has('REFERENCE_MISSING', 'orgs.csv') || has('REFERENCE_MISSING', 'academicSessions.csv')).toBe(
      true,
    ); // dangling parents
  });

  it.each(['Test_full_data_set', 'Test_minimal_data_set'])('moodle %s (1.1 bulk)', async (set) => {
    const { has } = await check(`moodle-enrol-oneroster/${set}`);
    expect(has('VALUE_ENUM', 'classes.csv')).toBe(true); // Scheduled
    expect(has('VALUE_BOOLEAN', 'users.csv')).toBe(true); // TRUE
    expect(has('REFERENCE_FILE_MISSING', 'classes.csv')).toBe(true); // courses missing
    if (set === 'Test_full_data_set') {
      expect(has('STATUS_IN_BULK')).toBe(true);
      expect(has('STATUS_INACTIVE') || has('STATUS_IN_BULK')).toBe(true);
    } else {
      expect(has('STATUS_IN_BULK')).toBe(false);
      expect(has('REFERENCE_WRONG_TYPE')).toBe(true); // department org
    }
  });

  it('oat-sa-or11-base (a 1.0/1.1 hybrid)', async () => {
    const { result, has } = await check('oat-sa-or11-base');
    expect(has('HEADER_LEGACY', 'users.csv')).toBe(true); // userId, agents
    expect(has('HEADER_LEGACY', 'demographics.csv')).toBe(true); // userSourcedId, birthdate
    expect(has('HEADER_ORDER', 'enrollments.csv')).toBe(true); // 1.0 order
    expect(has('HEADER_UNKNOWN', 'users.csv')).toBe(true); // ext_* columns
    expect(has('HEADER_MISSING_COLUMN', 'academicSessions.csv')).toBe(true); // no schoolYear
    expect(
      result.diagnostics
        .filter((d) => d.code === 'CSV_HEADER_ONLY')
        .map((d) => d.file)
        .sort(),
    ).toEqual(['academicSessions.csv', 'courses.csv', 'demographics.csv']);
    expect(result.diagnostics.some((d) => d.code === 'VALUE_DATETIME' && d.file === 'orgs.csv')).toBe(true); // 2017-05-06 08:01:05
    expect(has('VALUE_BOOLEAN', 'users.csv')).toBe(true); // TRUE
    expect(has('VALUE_REQUIRED', 'classes.csv')).toBe(true); // blank courseSourcedId
    expect(has('REFERENCE_MISSING', 'classes.csv')).toBe(true); // termSourcedIds 1
  });
});
