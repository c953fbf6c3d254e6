import { describe, expect, it } from 'vitest';
import { roster } from '../helpers/cli.js';
import { districtRepo } from '../helpers/repo.js';

describe('roster diff (built CLI)', () => {
  it('diffs two paths in different formats and row orders, and two git revisions', () => {
    const repo = districtRepo({ students: 30 });
    expect(
      roster(['convert', 'roster', '--to', 'oneroster-1.1', '--out', 'csv'], { cwd: repo.dir }).status,
    ).toBe(0);
    const same = roster(['diff', 'roster', 'csv', '--exit-code'], { cwd: repo.dir });
    expect(same.status).toBe(0);
    expect(same.stdout).toContain('No differences.');

    repo.edit(
      'roster/schools/sch-001.yaml',
      /(sourcedId: stu-000002\n(?:.*\n)*?\s+familyName: )(\w+)/,
      '$1Diffed',
    );
    const changed = roster(['diff', 'csv', 'roster', '--format', 'json', '--exit-code'], { cwd: repo.dir });
    expect(changed.status).toBe(2);
    const plan = JSON.parse(changed.stdout);
    expect(plan.summary).toMatchObject({ create: 0, update: 1, delete: 0 });
    expect(plan.summary.byEntity.users).toMatchObject({ update: 1 });

    repo.commit('Rename a student');
    const revs = roster(['diff', 'HEAD~1..HEAD'], { cwd: repo.dir });
    expect(revs.status).toBe(0);
    expect(revs.stdout).toContain('~ users stu-000002');
    expect(revs.stdout).toContain('Plan: 0 to add, 1 to change, 0 to remove.');
    const bad = roster(['diff', 'nope..HEAD'], { cwd: repo.dir });
    expect(bad.status).toBe(64);
    expect(bad.stderr).toContain('Error [REVISION_NOT_FOUND]');
  });

  it('reports a side that cannot be read as the same typed error from the reading thread, or without one', () => {
    const repo = districtRepo({ students: 10 });
    // ROSTER_THREADS=2: the worker even for a small roster.
    for (const env of [{ ROSTER_THREADS: '2' }, { ROSTER_THREADS: '1' }]) {
      // The new side is read on the other thread, the old one here.
      for (const args of [
        ['roster', 'no-such-folder'],
        ['no-such-folder', 'roster'],
      ]) {
        const missing = roster(['diff', ...args], { cwd: repo.dir, env });
        expect(missing.status).toBe(64);
        expect(missing.stderr).toContain('Error [PATH_NOT_FOUND] no-such-folder does not exist');
        expect(missing.stderr).not.toMatch(/\n\s+at /); // no stack trace
      }
    }
  });
});
