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

  it('refuses a side that does not read cleanly (never an empty roster), and records without a sourcedId, exit 1', () => {
    const repo = districtRepo({ git: false, students: 10 });
    const broken = (name: string, edit: (text: string) => string) => {
      cpSync(join(repo.dir, 'roster'), join(repo.dir, name), { recursive: true });
      const file = join(repo.dir, name, 'schools', 'sch-001.yaml');
      writeFileSync(file, edit(readFileSync(file, 'utf8')));
      return name;
    };
    const cases = [
      [
        broken('dup', (t) => t.replace(/(\n(\s+)givenName: .*)/, '$1\n$2givenName: Again')),
        'YAML_DUPLICATE_KEY',
      ],
      [broken('syntax', (t) => t.replace('schools:', 'schools: [')), 'YAML_SYNTAX'],
      [broken('proto', (t) => t.replace(/(\n(\s+)givenName: .*)/, '$1\n$2__proto__: { x: 1 }')), 'YAML_'],
    ] as const;
    for (const [side, code] of cases) {
      // (Each side is read by its own code path: the old here, the new on the worker.)
      for (const args of side === 'dup'
        ? [
            ['roster', side],
            [side, 'roster'],
          ]
        : [['roster', side]]) {
        const r = roster(['diff', ...args], { cwd: repo.dir });
        expect(r.status, `${args.join(' ')}: ${r.stdout}`).toBe(1);
        expect(r.stdout).toBe('');
        expect(r.stderr).toContain(`Error [ROSTER_UNREADABLE] ${side} cannot be read as a roster:`);
        expect(r.stderr).toContain(code);
        expect(r.stderr).not.toMatch(/\n\s+at /);
      }
    }
    expect(
      roster(['generate', '--out', join(repo.dir, 'csv'), '--format', 'csv', '--students', '10']).status,
    ).toBe(0);
    cpSync(join(repo.dir, 'csv'), join(repo.dir, 'keyless'), { recursive: true });
    const orgs = join(repo.dir, 'keyless', 'orgs.csv');
    writeFileSync(orgs, readFileSync(orgs, 'utf8').replace(/\n[^,\n]+,/, '\n,'));
    for (const full of [[], ['--full']]) {
      const r = roster(['diff', 'csv', 'keyless', ...full], { cwd: repo.dir });
      expect(r.status).toBe(1);
      expect(r.stderr).toContain('Error [KEY_MISSING] 1 orgs have no sourcedId');
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
