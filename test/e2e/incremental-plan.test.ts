/**
 * The incremental plan, end to end: after a plan that found nothing to do, `roster plan` compares
 * only the lines that changed. Whatever the edit (valid or not, one school or scattered, a header
 * or an org changed), its answer must be exactly the full plan's (`--full`): same output, same
 * exit code. Edits the shortcut cannot prove clean must fall back to the full plan, which reports
 * them.
 */
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seededRandom } from '../../src/generate/generate.js';
import { roster } from '../helpers/cli.js';

const SHORTCUT = /Compared only the (\d+) line\(s\) that changed/;

let dir: string;
let pristine: string;

/** A CSV file of the roster as header names and rows of cells (the generated files quote nothing). */
function table(name: string) {
  const [header, ...rows] = readFileSync(join(dir, 'roster', name), 'utf8')
    .trimEnd()
    .split('\n');
  const fields = header!.split(',');
  return {
    fields,
    rows: rows.map((r) => r.split(',')),
    col: (field: string) => fields.indexOf(field),
    save(rows: string[][], headerLine = header!) {
      writeFileSync(
        join(dir, 'roster', name),
        `${[headerLine, ...rows.map((r) => r.join(','))].join('\n')}\n`,
      );
    },
  };
}

/** Puts the roster back as it was applied (new file times: the files are compared again). */
function restore() {
  cpSync(pristine, join(dir, 'roster'), { recursive: true });
}

/**
 * restore(), and a full plan that finds nothing to do: the cache holds these files again (any
 * such plan refills it, e.g. after an edit that only reformatted the files).
 */
function reset() {
  restore();
  expect(roster(['plan', '--full', '--quiet'], { cwd: dir }).stdout).toContain('No changes.');
}

/** Runs plan incrementally and in full; they must say the same. Returns the incremental run. */
function bothPlans(format: 'json' | 'text' = 'json') {
  const quick = roster(['plan', '--format', format], { cwd: dir });
  const full = roster(['plan', '--format', format, '--full', '--quiet'], { cwd: dir });
  const strip = (s: string) => s.replace(/"createdAt": "[^"]*"/, '');
  expect(quick.status).toBe(full.status);
  expect(strip(quick.stdout)).toBe(strip(full.stdout));
  // The shortcut says so on stderr, and nothing else; otherwise both say the same there too.
  if (SHORTCUT.test(quick.stderr))
    expect(quick.stderr).toMatch(
      /^Compared only the \d+ line\(s\) that changed since the last plan that found nothing to do \(roster plan --full compares everything\)\.\n$/,
    );
  else expect(quick.stderr).toBe(full.stderr);
  return quick;
}

beforeAll(() => {
  // One district for the whole file (each test puts its roster back as applied).
  dir = mkdtempSync(join(tmpdir(), 'roster-incremental-'));
  const gen = roster([
    'generate',
    '--format',
    'csv',
    '--out',
    join(dir, 'roster'),
    '--students',
    '300',
    '--seed',
    'inc',
  ]);
  expect(gen.status).toBe(0);
  writeFileSync(
    join(dir, 'roster.config.yaml'),
    'roster: roster\ntargets:\n  - name: local\n    kind: dir\n    path: .roster/targets/local\n    mode: bulk\n',
  );
  pristine = join(dir, 'pristine');
  cpSync(join(dir, 'roster'), pristine, { recursive: true });
  // The apply fills the plan cache: the target now holds the roster.
  expect(roster(['apply', '--auto-approve', '--quiet'], { cwd: dir }).status).toBe(0);
  expect(existsSync(join(dir, '.roster/cache/local/plan/cache.json'))).toBe(true);
  expect(readFileSync(join(dir, '.roster/cache/local/plan/.gitignore'), 'utf8')).toBe('*\n');
  const first = roster(['plan'], { cwd: dir });
  expect(first.stdout).toContain('No changes.');
  expect(first.stderr).toMatch(/Compared only the 0 line\(s\)/);
}, 60_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('roster plan after a plan that found nothing to do', () => {
  it('compares only the lines of a school that changed, and says so', () => {
    reset();
    const users = table('users.csv');
    const school = 'sch-002';
    const mine = users.rows.filter(
      (r) => r[users.col('orgSourcedIds')] === school && r[0]!.startsWith('stu-'),
    );
    // Three names changed, one student gone (with enrollments and demographics), one new.
    for (const r of mine.slice(0, 3)) r[users.col('givenName')] = `${r[users.col('givenName')]}x`;
    const gone = mine[3]![0]!;
    const newcomer = [...mine[4]!];
    newcomer[0] = 'stu-new-1';
    newcomer[users.col('username')] = 'new.student1';
    newcomer[users.col('email')] = 'new.student1@hillcrest.k12.example';
    users.save([...users.rows.filter((r) => r[0] !== gone), newcomer]);
    const enrollments = table('enrollments.csv');
    const user = enrollments.col('userSourcedId');
    const template = [...enrollments.rows.find((r) => r[user] === mine[4]![0])!];
    template[0] = 'enr-new-1';
    template[user] = 'stu-new-1';
    const rows = enrollments.rows.filter((r) => r[user] !== gone);
    rows[5]![enrollments.col('endDate')] = '2027-06-30';
    enrollments.save([...rows, template]);
    const demographics = table('demographics.csv');
    demographics.save(demographics.rows.filter((r) => r[0] !== gone));

    const quick = bothPlans();
    expect(quick.status).toBe(0);
    expect(Number(quick.stderr.match(SHORTCUT)?.[1])).toBeGreaterThan(5);
    const plan = JSON.parse(quick.stdout);
    expect(plan.summary.byEntity.users).toMatchObject({ create: 1, update: 3, delete: 1 });
    expect(plan.summary.byEntity.enrollments.create).toBe(1);
    expect(plan.summary.byEntity.enrollments.update).toBe(1);
    expect(plan.summary.byEntity.demographics.delete).toBe(1);
    expect(bothPlans('text').stdout).toContain('to add');
  });

  it('finds no change in lines that only moved', () => {
    reset();
    const enrollments = table('enrollments.csv');
    const rows = enrollments.rows;
    enrollments.save([...rows.slice(400, 430), ...rows.slice(0, 400), ...rows.slice(430)]);
    const quick = bothPlans('text');
    expect(quick.stderr).toMatch(SHORTCUT);
    expect(quick.stdout).toContain('No changes.');
  });

  it('stays exact over random edits of scattered lines', () => {
    const rnd = seededRandom(5);
    // (One round in `npm test`; `npm run soak` runs three.)
    for (let round = 0; round < (process.env.ROSTER_SOAK ? 3 : 1); round++) {
      reset();
      const enrollments = table('enrollments.csv');
      const rows: string[][] = [];
      for (const r of enrollments.rows) {
        const x = rnd();
        // (Up to 2% of the roster's bytes: past that, the full plan is taken.)
        if (x < 0.002) continue; // removed
        if (x < 0.005) r[enrollments.col('beginDate')] = '2026-09-01';
        rows.push(r);
        if (x > 0.997) rows.push([`enr-copy-${rows.length}`, ...r.slice(1)]);
      }
      enrollments.save(rows);
      const users = table('users.csv');
      for (const r of users.rows) if (rnd() < 0.005) r[users.col('middleName')] = 'M';
      users.save(users.rows);
      expect(bothPlans().stderr).toMatch(SHORTCUT);
    }
  });

  it('reads everything when the changed lines may break a roster rule, and reports it as the full plan does', () => {
    const cases: [string, () => void][] = [
      [
        'a student removed, an enrollment kept',
        () => {
          const users = table('users.csv');
          const enrollments = table('enrollments.csv');
          const kept = enrollments.rows[0]![enrollments.col('userSourcedId')];
          users.save(users.rows.filter((r) => r[0] !== kept));
        },
      ],
      [
        'a sourcedId twice',
        () => {
          const users = table('users.csv');
          const copy = [...users.rows[10]!];
          copy[users.col('givenName')] = 'Other';
          users.save([...users.rows, copy]);
        },
      ],
      [
        "a new user with another person's e-mail address",
        () => {
          const users = table('users.csv');
          const copy = [...users.rows[10]!];
          copy[0] = 'stu-new-2';
          copy[users.col('username')] = 'someone.else';
          users.save([...users.rows, copy]);
          const demographics = table('demographics.csv');
          demographics.save(demographics.rows);
        },
      ],
      [
        "a course's subjects no longer those of its classes",
        () => {
          const courses = table('courses.csv');
          courses.rows[0]![courses.col('subjectCodes')] = '99999';
          courses.save(courses.rows);
        },
      ],
      [
        'a class removed, its enrollments kept',
        () => {
          const classes = table('classes.csv');
          const enrollments = table('enrollments.csv');
          const kept = enrollments.rows[0]![enrollments.col('classSourcedId')];
          classes.save(classes.rows.filter((r) => r[0] !== kept));
        },
      ],
      [
        'a bad value',
        () => {
          const enrollments = table('enrollments.csv');
          enrollments.rows[3]![enrollments.col('role')] = 'wizard';
          enrollments.save(enrollments.rows);
        },
      ],
    ];
    // (`npm test` runs a reference, a duplicate and a value case; `npm run soak` runs them all.)
    for (const [name, edit] of cases.filter((_, k) => process.env.ROSTER_SOAK || [0, 1, 5].includes(k))) {
      reset();
      edit();
      const quick = bothPlans('text');
      expect(quick.stderr, name).not.toMatch(SHORTCUT);
    }
  });

  it('reads everything when a header, an org or the manifest changed', () => {
    const cases: (() => void)[] = [
      () => {
        const users = table('users.csv');
        const [a, b] = [users.col('givenName'), users.col('familyName')];
        const swap = (r: string[]) => r.map((c, k) => (k === a ? r[b]! : k === b ? r[a]! : c));
        users.save(users.rows.map(swap), swap(users.fields).join(','));
      },
      () => {
        const orgs = table('orgs.csv');
        orgs.rows[1]![orgs.col('name')] = 'Renamed School';
        orgs.save(orgs.rows);
      },
      () =>
        writeFileSync(
          join(dir, 'roster', 'manifest.csv'),
          `${readFileSync(join(pristine, 'manifest.csv'), 'utf8')}\n`,
        ),
    ];
    for (const edit of cases) {
      reset();
      edit();
      expect(bothPlans().stderr).not.toMatch(SHORTCUT);
    }
  });

  it('reads everything when its cache cannot be trusted; without its tallies it reads the tables instead', () => {
    const cache = join(dir, '.roster/cache/local/plan');
    const editUsers = () => {
      const users = table('users.csv');
      users.rows[9]![users.col('familyName')] = 'Changed';
      users.save(users.rows);
    };
    // A cache left unfinished by a process that is gone (killed) is removed when one is filled;
    // one of a live process (this one's) is not.
    const abandoned = join(dir, '.roster/cache/local/plan.new-999999');
    const live = join(dir, `.roster/cache/local/plan.new-${process.pid}`);
    for (const d of [abandoned, live]) {
      mkdirSync(d, { recursive: true });
      writeFileSync(join(d, 'users.csv'), 'a copy\n');
    }
    // A copy gone: the shortcut gives up (the full plan is the same).
    reset();
    expect(existsSync(abandoned)).toBe(false);
    expect(existsSync(live)).toBe(true);
    rmSync(live, { recursive: true });
    rmSync(join(cache, 'files', 'users.csv'));
    editUsers();
    expect(bothPlans().stderr).not.toMatch(SHORTCUT);
    // The config changed (a comment): the cache is not for these settings.
    reset();
    const config = join(dir, 'roster.config.yaml');
    const settings = readFileSync(config, 'utf8');
    writeFileSync(config, `# a comment\n${settings}`);
    editUsers();
    expect(bothPlans().stderr).not.toMatch(SHORTCUT);
    writeFileSync(config, settings);
    // The tallies gone: still the shortcut, the tables read record by record.
    reset();
    rmSync(join(cache, 'tallies'), { recursive: true });
    const users = table('users.csv');
    users.save(users.rows.filter((r) => r[0] !== 'stu-000001'));
    const enrollments = table('enrollments.csv');
    enrollments.save(enrollments.rows.filter((r) => r[enrollments.col('userSourcedId')] !== 'stu-000001'));
    const demographics = table('demographics.csv');
    demographics.save(demographics.rows.filter((r) => r[0] !== 'stu-000001'));
    expect(bothPlans().stderr).toMatch(SHORTCUT);
  });

  it('compares only the roster YAML files that changed, and reads everything when a settings file changed', () => {
    const yaml = mkdtempSync(join(tmpdir(), 'roster-incremental-yaml-'));
    try {
      const run = (...args: string[]) => roster(args, { cwd: yaml });
      expect(run('generate', '--out', 'roster', '--students', '90', '--seed', 'inc').status).toBe(0);
      writeFileSync(
        join(yaml, 'roster.config.yaml'),
        'roster: roster\ntargets:\n  - { name: local, kind: dir, path: .roster/targets/local }\n',
      );
      expect(run('apply', '--auto-approve', '--quiet').status).toBe(0);
      const school = join(yaml, 'roster', 'schools', 'sch-002.yaml');
      const original = readFileSync(school, 'utf8');
      const same = (expectShortcut: boolean) => {
        const quick = run('plan', '--format', 'json');
        const full = run('plan', '--format', 'json', '--full', '--quiet');
        expect(quick.status).toBe(full.status);
        expect(quick.stdout.replace(/"createdAt": "[^"]*"/, '')).toBe(
          full.stdout.replace(/"createdAt": "[^"]*"/, ''),
        );
        if (expectShortcut) expect(quick.stderr).toMatch(/^Compared only the 1 file\(s\) that changed/);
        else expect(quick.stderr).toBe(full.stderr);
        return quick;
      };
      // A name changed, a student's enrollment gone: one file compared.
      const first = original.match(/givenName: (\w+)/)![1]!;
      const enrolled = original.match(/\n {10}- (stu-\d+)\n/)![0];
      writeFileSync(
        school,
        original.replace(`givenName: ${first}`, 'givenName: Renamed').replace(enrolled, '\n'),
      );
      const plan = JSON.parse(same(true).stdout);
      expect(plan.summary.byEntity.users.update).toBe(1);
      expect(plan.summary.byEntity.enrollments.delete).toBe(1);
      // The same student twice (once in another school's file): the full plan reports it.
      const other = readFileSync(join(yaml, 'roster', 'schools', 'sch-001.yaml'), 'utf8');
      const student = other.match(/\n {6}- sourcedId: (stu-\d+)\n/)![1]!;
      writeFileSync(school, original.replace(/sourcedId: stu-\d+/, `sourcedId: ${student}`));
      expect(same(false).status).toBe(1);
      // The file with the roster's settings changed: everything is read.
      writeFileSync(school, original);
      const main = join(yaml, 'roster', 'roster.yaml');
      writeFileSync(
        main,
        readFileSync(main, 'utf8').replace('systemName: roster-as-code generator', 'systemName: Edited'),
      );
      same(false);
    } finally {
      rmSync(yaml, { recursive: true, force: true });
    }
  });

  it('a saved incremental plan applies, and the apply fills the cache again', () => {
    reset();
    const users = table('users.csv');
    users.rows[7]![users.col('givenName')] = 'Renamed';
    users.save(users.rows);
    const saved = roster(['plan', '--out', join(dir, 'plan.json')], { cwd: dir });
    expect(saved.stderr).toMatch(SHORTCUT);
    const applied = roster(['apply', join(dir, 'plan.json'), '--auto-approve'], { cwd: dir });
    expect(applied.stderr).toBe('');
    expect(applied.status).toBe(0);
    // The target moved on (serial 2); the apply left a cache for it.
    expect(JSON.parse(readFileSync(join(dir, '.roster/cache/local/plan/cache.json'), 'utf8')).serial).toBe(2);
    const next = roster(['plan'], { cwd: dir });
    expect(next.stderr).toMatch(/Compared only the 0 line\(s\)/);
    expect(next.stdout).toContain('No changes.');
    // Without that cache, a full plan (nothing to do) fills it.
    rmSync(join(dir, '.roster/cache'), { recursive: true });
    expect(roster(['plan'], { cwd: dir }).stderr).not.toMatch(SHORTCUT);
    expect(roster(['plan'], { cwd: dir }).stderr).toMatch(SHORTCUT);
    // (Put the roster of serial 1 back for the other tests: apply it.)
    restore();
    expect(roster(['apply', '--auto-approve', '--quiet'], { cwd: dir }).status).toBe(0);
    expect(roster(['plan', '--quiet'], { cwd: dir }).stdout).toContain('No changes.');
  });
});
