import { cpSync, createWriteStream, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import yazl from 'yazl';
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

  it('diffs two CSV folders (or zips) by the lines that differ, on one thread or two, as --full does', async () => {
    const repo = districtRepo({ students: 60 });
    expect(
      roster(['convert', 'roster', '--to', 'oneroster-1.1', '--out', 'old'], { cwd: repo.dir }).status,
    ).toBe(0);
    cpSync(join(repo.dir, 'old'), join(repo.dir, 'new'), { recursive: true });
    // A student gone (with their enrollments staying: a diff reports, it does not validate), a
    // class renamed, an enrollment added at the end.
    const edit = (file: string, change: (lines: string[]) => string[]) => {
      const path = join(repo.dir, 'new', file);
      const lines = readFileSync(path, 'utf8').trimEnd().split('\n');
      writeFileSync(path, `${change(lines).join('\n')}\n`);
    };
    edit('users.csv', (lines) => lines.filter((_, i) => i !== 5));
    edit('classes.csv', (lines) =>
      lines.map((l, i) => (i === 2 ? l.replace(' - Section ', ' - Renamed ') : l)),
    );
    edit('enrollments.csv', (lines) => [...lines, lines[1]!.replace(/^[^,]+/, 'enr-zz-added')]);

    const outputs = [{ ROSTER_THREADS: '2' }, { ROSTER_THREADS: '1' }].map((env) => {
      const r = roster(['diff', 'old', 'new', '--format', 'json'], { cwd: repo.dir, env });
      expect(r.status).toBe(0);
      expect(r.stderr).toMatch(/Read only the \d+ line\(s\) that differ between the two rosters/);
      return r.stdout.replace(/"createdAt": "[^"]*"/, '');
    });
    const full = roster(['diff', 'old', 'new', '--format', 'json', '--full'], { cwd: repo.dir });
    expect(full.stderr).not.toContain('Read only');
    expect(outputs[0]).toBe(full.stdout.replace(/"createdAt": "[^"]*"/, ''));
    expect(outputs[1]).toBe(outputs[0]);
    const plan = JSON.parse(full.stdout);
    expect(plan.summary.byEntity.users).toMatchObject({ delete: 1 });
    expect(plan.summary.byEntity.enrollments).toMatchObject({ create: 1 });
    expect(plan.summary.byEntity.classes).toMatchObject({ update: 1 });
    expect(roster(['diff', 'old', 'new', '--quiet'], { cwd: repo.dir }).stderr).toBe('');

    // The same two rosters as zips (an SIS export), and a zip against a folder.
    for (const side of ['old', 'new']) {
      const zip = new yazl.ZipFile();
      for (const f of readdirSync(join(repo.dir, side)))
        zip.addBuffer(readFileSync(join(repo.dir, side, f)), f);
      zip.end();
      await pipeline(zip.outputStream, createWriteStream(join(repo.dir, `${side}.zip`)));
    }
    for (const args of [
      ['old.zip', 'new.zip'],
      ['old.zip', 'new'],
    ]) {
      const zipped = roster(['diff', ...args, '--format', 'json'], { cwd: repo.dir });
      expect(zipped.status).toBe(0);
      expect(zipped.stderr).toMatch(/Read only the \d+ line\(s\) that differ/);
      expect(zipped.stdout.replace(/"createdAt": "[^"]*"/, '')).toBe(outputs[0]);
    }
  });
});
