import { describe, expect, it } from 'vitest';
import { Diagnostics } from '../../src/diagnostic.js';
import { readOneRoster } from '../../src/formats/oneroster-csv/read.js';
import { writeOneRosterDir } from '../../src/formats/oneroster-csv/write.js';
import { directoryFiles } from '../../src/formats/package-files.js';
import { generateDistrict } from '../../src/generate/generate.js';
import type { ProgressEvent } from '../../src/progress.js';
import { progressLine } from '../../src/render/progress.js';
import { tempDir } from '../helpers/fixtures.js';

describe('progress', () => {
  it('readers report each file and every 50,000 rows', async () => {
    const dir = tempDir();
    await writeOneRosterDir(generateDistrict({ schools: 3, students: 20_000, seed: 'p' }), dir);
    const events: ProgressEvent[] = [];
    await readOneRoster(directoryFiles(dir), new Diagnostics(), { progress: (e) => events.push(e) });
    expect(events.filter((e) => e.rows === undefined).map((e) => e.detail)).toEqual([
      'orgs.csv',
      'academicSessions.csv',
      'courses.csv',
      'classes.csv',
      'users.csv',
      'enrollments.csv',
      'demographics.csv',
    ]);
    expect(events).toContainEqual({ stage: 'read', detail: 'enrollments.csv', rows: 50_000 });
  });

  it('renders one line', () => {
    expect(progressLine({ stage: 'read', detail: 'enrollments.csv', rows: 1_200_000 })).toBe(
      'reading enrollments.csv: 1,200,000 rows',
    );
    expect(progressLine({ stage: 'deliver', detail: 'to sftp://x' })).toBe('delivering to sftp://x');
  });
});
