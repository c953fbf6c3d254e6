import { spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { DirTarget } from '../../src/targets/dir.js';
import { applyOutcome, BIN, roster } from '../helpers/cli.js';
import { districtRepo, git } from '../helpers/repo.js';

const planSchema = new Ajv({ allErrors: true, strict: false, validateFormats: false }).compile(
  JSON.parse(readFileSync('schemas/plan.schema.json', 'utf8')),
);
const STACK = /\n\s+at .+:\d+:\d+/;

function planJson(dir: string, ...extra: string[]) {
  const r = roster(['plan', '--format', 'json', ...extra], { cwd: dir });
  // (Nothing on stderr but, after an apply, the incremental plan's one line.)
  expect(r.stderr.replace(/^Compared only the \d+ (line|file)\(s\) that changed.*\n/, '')).toBe('');
  const plan = JSON.parse(r.stdout);
  expect(planSchema(plan), JSON.stringify(planSchema.errors)).toBe(true);
  return plan;
}

/** The target's state and snapshot agree record for record. */
async function assertConsistent(targetDir: string) {
  const target = new DirTarget({ name: 'local', path: targetDir });
  const state = await target.readState();
  if (!state) return undefined;
  const current = await target.readCurrent(state);
  for (const entity of current.entities()) {
    expect(current.table(entity).size, entity).toBe(state.recordCounts[entity] ?? 0);
  }
  return state;
}

// Plans here read the desired roster on the worker thread, as large rosters do (small ones
// otherwise stay on one thread): the path a city takes, proven on a small district.
process.env.ROSTER_THREADS = '2';

describe('plan -> apply -> plan (a district repo in git)', () => {
  it('applies, then shows no changes, then exactly one edit, and refuses stale plans', async () => {
    const repo = districtRepo();
    const first = roster(['plan', '--detailed-exitcode'], { cwd: repo.dir });
    expect(first.status).toBe(2);
    expect(first.stdout).toContain('never applied');
    expect(first.stdout).toMatch(/Plan: \d+ to add, 0 to change, 0 to remove\./);

    const applied = roster(['apply', '--auto-approve'], { cwd: repo.dir });
    expect(applied.stderr).toBe('');
    expect(applied.status).toBe(0);
    expect(applied.stdout).toMatch(/Applied to target "local" \(serial 1\)/);
    expect(existsSync(join(repo.target, 'OneRoster.zip'))).toBe(true);

    const again = roster(['plan', '--detailed-exitcode'], { cwd: repo.dir });
    expect(again.status).toBe(0);
    expect(again.stdout).toContain('No changes.');

    const status = roster(['status'], { cwd: repo.dir });
    expect(status.stdout).toContain(`serial 1, applied`);
    expect(status.stdout).toContain(`from commit ${git(repo.dir, 'rev-parse', 'HEAD').trim().slice(0, 12)}`);
    expect(status.stdout).toContain('not locked');

    // Edit one student: exactly that update.
    repo.edit(
      'roster/schools/sch-001.yaml',
      /(sourcedId: stu-000002\n(?:.*\n)*?\s+familyName: )(\w+)/,
      '$1Renamed',
    );
    const plan = planJson(repo.dir);
    expect(plan.summary).toMatchObject({ create: 0, update: 1, delete: 0 });
    expect(plan.changes).toEqual([
      {
        action: 'update',
        entity: 'users',
        key: 'stu-000002',
        sourcedId: 'stu-000002',
        school: 'sch-001',
        reason: 'update_because_fields_differ',
        fields: [{ name: 'familyName', before: '(personal data)', after: '(personal data)' }],
      },
    ]);
    expect(planJson(repo.dir, '--show-personal-data').changes[0].fields[0].after).toBe('Renamed');
    repo.commit('Rename a student');

    // A saved plan applies exactly; after another apply it is stale.
    expect(roster(['plan', '--out', join(repo.dir, 'p1.json')], { cwd: repo.dir }).status).toBe(0);
    expect(roster(['plan', '--out', join(repo.dir, 'p2.json')], { cwd: repo.dir }).status).toBe(0);
    const exact = roster(['apply', 'p1.json'], { cwd: repo.dir });
    expect(exact.status).toBe(0);
    expect(exact.stdout).toContain('(serial 2)');
    const stale = roster(['apply', 'p2.json'], { cwd: repo.dir });
    expect(stale.status).toBe(1);
    expect(stale.stderr).toContain('Error [PLAN_STALE] the target changed since this plan was made');

    // A plan whose roster changed afterwards is stale too.
    repo.edit('roster/schools/sch-001.yaml', 'Renamed', 'RenamedAgain');
    expect(roster(['plan', '--out', join(repo.dir, 'p3.json')], { cwd: repo.dir }).status).toBe(0);
    repo.edit('roster/schools/sch-001.yaml', 'RenamedAgain', 'RenamedThrice');
    const changed = roster(['apply', 'p3.json'], { cwd: repo.dir });
    expect(changed.status).toBe(1);
    expect(changed.stderr).toContain('the roster changed since this plan was made; plan again');
    const state = await assertConsistent(repo.target);
    expect(state?.serial).toBe(2);
  });

  it('holds a mass removal until --allow-mass-change', () => {
    const repo = districtRepo();
    expect(roster(['apply', '--auto-approve'], { cwd: repo.dir }).status).toBe(0);
    rmSync(join(repo.dir, 'roster/schools/sch-003.yaml'));
    const plan = roster(['plan'], { cwd: repo.dir });
    expect(plan.stdout).toContain('HELD: apply will refuse this plan unless --allow-mass-change');
    expect(plan.stdout).toContain('MASS_DELETE');
    expect(plan.stdout).toContain('SCHOOL_ENROLLMENTS_REMOVED');
    const refused = roster(['apply', '--auto-approve'], { cwd: repo.dir });
    expect(refused.status).toBe(1);
    expect(refused.stderr).toContain('Error [PLAN_HELD]');
    expect(roster(['status'], { cwd: repo.dir }).stdout).toContain('serial 1,');
    const allowed = roster(['apply', '--auto-approve', '--allow-mass-change'], { cwd: repo.dir });
    expect(allowed.status).toBe(0);
    expect(roster(['plan', '--detailed-exitcode'], { cwd: repo.dir }).status).toBe(0);
  });

  it('refuses to plan an invalid roster, printing the diagnostics and writing nothing', () => {
    const repo = districtRepo({ git: false });
    repo.edit('roster/schools/sch-001.yaml', 'classType: homeroom', 'classType: Homeroom');
    const r = roster(['plan', '--out', join(repo.dir, 'plan.json')], { cwd: repo.dir });
    expect(r.status).toBe(1);
    expect(r.stdout).toContain('VALUE_ENUM');
    expect(r.stderr).toContain('Error [ROSTER_INVALID]');
    expect(existsSync(join(repo.dir, 'plan.json'))).toBe(false);
    expect(existsSync(repo.target)).toBe(false);
  });

  it('asks for approval: without a terminal it needs a plan file or --auto-approve', () => {
    const repo = districtRepo({ git: false });
    const r = roster(['apply'], { cwd: repo.dir });
    expect(r.status).toBe(64);
    expect(r.stderr).toContain('Error [APPROVAL_REQUIRED]');
    expect(existsSync(repo.target)).toBe(false);
  });

  it('records no commit when the roster is not in git', () => {
    const repo = districtRepo({ git: false });
    expect(roster(['apply', '--auto-approve'], { cwd: repo.dir }).status).toBe(0);
    expect(roster(['status'], { cwd: repo.dir }).stdout).toContain('(roster not in git)');
  });

  it('refuses to apply inside a blackout window unless told to', () => {
    const today = new Date().toISOString().slice(0, 10);
    const tomorrow = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);
    const repo = districtRepo({
      git: false,
      config: `roster: roster\ntargets:\n  - name: local\n    kind: dir\n    path: .roster/targets/local\n    policy:\n      blackout:\n        - { from: "${today}", to: "${tomorrow}", reason: summer rollover }\n`,
    });
    expect(roster(['plan'], { cwd: repo.dir }).stdout).toContain('inside the blackout window');
    const r = roster(['apply', '--auto-approve'], { cwd: repo.dir });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('Error [BLACKOUT]');
    expect(roster(['apply', '--auto-approve', '--ignore-blackout'], { cwd: repo.dir }).status).toBe(0);
  });
});

describe('a OneRoster CSV roster read on the worker thread', () => {
  it('plans exactly as on one thread, and reports each diagnostic once', () => {
    const repo = districtRepo({
      git: false,
      config:
        'roster: csv\ntargets:\n  - { name: local, kind: dir, path: .roster/targets/local, mode: bulk }\n',
    });
    // generate wrote roster YAML into roster/: the CSV roster the config names is converted from it.
    expect(
      roster(['convert', 'roster', '--to', 'oneroster-1.1', '--out', 'csv'], { cwd: repo.dir }).status,
    ).toBe(0);
    const plans = () =>
      ['2', '1'].map((threads) => {
        // (The plan is saved to a file: it is more JSON than the test helper takes on stdout.)
        const out = join(repo.dir, `plan-${threads}.json`);
        const r = roster(['plan', '--format', 'markdown', '--out', out], {
          cwd: repo.dir,
          env: { ROSTER_THREADS: threads },
        });
        expect(r.status, r.stderr).toBe(0);
        const { basis, ...rest } = JSON.parse(readFileSync(out, 'utf8'));
        return { ...rest, basis: { ...basis, createdAt: '' } };
      });
    const first = plans();
    expect(first[0]).toEqual(first[1]);
    expect(first[0].summary.byEntity.enrollments.create).toBeGreaterThan(0);

    // Applied, the target has a roster image to read: then this thread reads enrollments.csv
    // while the worker reads the other files (whichever comes to it first reads it).
    expect(roster(['apply', '--auto-approve'], { cwd: repo.dir }).status).toBe(0);
    expect(existsSync(join(repo.target, 'current', 'snapshot.image'))).toBe(true);
    const file = join(repo.dir, 'csv', 'enrollments.csv');
    const enrollments = readFileSync(file, 'utf8').split('\n');
    writeFileSync(file, [...enrollments.slice(0, 3), ...enrollments.slice(4)].join('\n'));
    const second = plans();
    expect(second[0]).toEqual(second[1]);
    expect(second[0].summary.byEntity.enrollments).toMatchObject({ create: 0, update: 0, delete: 1 });

    // The same diagnostics, whichever thread read which file.
    const users = join(repo.dir, 'csv', 'users.csv');
    writeFileSync(users, readFileSync(users, 'utf8').replace(/,student,/, ',Pupil,'));
    writeFileSync(file, readFileSync(file, 'utf8').replace(/,student,/, ',Student,'));
    const bad = roster(['plan'], { cwd: repo.dir, env: { ROSTER_THREADS: '2' } });
    expect(bad.status).toBe(1);
    expect(bad.stdout.concat(bad.stderr).match(/VALUE_ENUM/g)).toHaveLength(2);
    expect(roster(['plan'], { cwd: repo.dir, env: { ROSTER_THREADS: '1' } }).stdout).toBe(bad.stdout);
    writeFileSync(users, readFileSync(users, 'utf8').replace(/,Pupil,/, ',student,'));

    // A roster rule's diagnostic arrives while the plan is being computed here: the plan is dropped.
    const lines = readFileSync(file, 'utf8').replace(',Student,', ',student,').split('\n');
    const row = lines[1]!.split(',');
    row[lines[0]!.split(',').indexOf('classSourcedId')] = 'cls-gone';
    lines[1] = row.join(',');
    writeFileSync(file, lines.join('\n'));
    const out = join(repo.dir, 'plan-invalid.json');
    const broken = roster(['plan', '--out', out], { cwd: repo.dir, env: { ROSTER_THREADS: '2' } });
    expect(broken.status).toBe(1);
    expect(broken.stdout.match(/REFERENCE_MISSING/g)).toHaveLength(1);
    expect(broken.stdout).toContain('"cls-gone"');
    expect(broken.stderr).toContain('Error [ROSTER_INVALID]');
    expect(broken.stdout).not.toMatch(/to create/);
    expect(existsSync(out)).toBe(false);
  });
});

describe('locks and crashes', () => {
  it('a second apply fails at once while the lock is held, or waits with --lock-timeout', async () => {
    const repo = districtRepo({ git: false });
    const target = new DirTarget({ name: 'local', path: repo.target });
    const lock = await target.lock('apply', 0);
    const blocked = roster(['apply', '--auto-approve'], { cwd: repo.dir });
    expect(blocked.status).toBe(1);
    expect(blocked.stderr).toMatch(/Error \[LOCK_HELD\] target "local" is locked by .+ \(apply, since /);
    setTimeout(() => void target.unlock(lock), 1500);
    const waited = await run(['apply', '--auto-approve', '--lock-timeout', '20s'], repo.dir);
    expect(waited.status).toBe(0);
  });

  it('two applies at once: exactly one delivers', async () => {
    const repo = districtRepo({ git: false });
    const [a, b] = await Promise.all([
      run(['apply', '--auto-approve'], repo.dir),
      run(['apply', '--auto-approve'], repo.dir),
    ]);
    const outcomes = [a, b].map(applyOutcome);
    expect(outcomes.filter((o) => o === 'applied')).toHaveLength(1);
    expect(outcomes.every((o) => ['applied', 'locked', 'no-changes'].includes(o))).toBe(true);
    expect((await assertConsistent(repo.target))?.serial).toBe(1);
  });

  // The old delivery kept, and the new one complete; `npm run soak` adds the steps between.
  const KILL_POINTS = ['apply:before-deliver', 'dir:after-switch'];
  if (process.env.ROSTER_SOAK === '1') KILL_POINTS.push('dir:after-write', 'dir:before-switch');
  it.each(KILL_POINTS)(
    'a process killed at %s leaves the old or the new delivery and state; the next apply takes its lock over',
    async (point) => {
      const repo = districtRepo({ git: false, students: 60 });
      expect(roster(['apply', '--auto-approve'], { cwd: repo.dir }).status).toBe(0);
      repo.edit(
        'roster/schools/sch-001.yaml',
        /(sourcedId: stu-000002\n(?:.*\n)*?\s+familyName: )(\w+)/,
        '$1Killed',
      );
      const killed = roster(['apply', '--auto-approve'], { cwd: repo.dir, env: { ROSTER_FAULT: point } });
      expect(killed.status).toBeNull(); // killed by a signal

      const state = await assertConsistent(repo.target);
      const expectedSerial = point === 'dir:after-switch' ? 2 : 1;
      expect(state?.serial).toBe(expectedSerial);
      const plan = roster(['plan', '--detailed-exitcode'], { cwd: repo.dir });
      expect(plan.status).toBe(expectedSerial === 2 ? 0 : 2);

      const status = roster(['status'], { cwd: repo.dir });
      expect(status.stdout).toContain('STALE');
      // The holder ran on this host and is gone: the next apply takes its lock over, saying so.
      const next = roster(['apply', '--auto-approve'], { cwd: repo.dir });
      expect(next.status).toBe(0);
      expect(next.stderr).toMatch(
        /Note: took over the lock of .+ \(pid \d+, apply since .+\): that process is no longer running/,
      );
      expect(next.stdout + next.stderr).not.toMatch(STACK);
      expect(roster(['plan', '--detailed-exitcode'], { cwd: repo.dir }).status).toBe(0);
      await assertConsistent(repo.target);
    },
  );
});

function run(
  args: string[],
  cwd: string,
): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd, env: { ...process.env, NO_COLOR: '1' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

describe('confirmation on a terminal', () => {
  /** Runs apply under a pseudo-terminal (util-linux `script`), answering the prompt with `answer`. */
  function applyOnTty(cwd: string, answer: string): Promise<{ out: string; status: number | null }> {
    return new Promise((resolve) => {
      const child = spawn('script', ['-qec', `${process.execPath} ${BIN} apply --no-color`, '/dev/null'], {
        cwd,
        env: { ...process.env, NO_COLOR: '1' },
      });
      let out = '';
      let answered = false;
      child.stdout.on('data', (d) => {
        out += d;
        if (!answered && out.includes("Only 'yes' is accepted")) {
          answered = true;
          child.stdin.write(answer === '\x03' ? answer : `${answer}\n`);
        }
      });
      child.on('close', (status) => resolve({ out, status }));
    });
  }

  it('shows the plan and applies only after "yes"; another answer or Ctrl-C applies nothing, exits non-zero and frees the lock', async () => {
    const repo = districtRepo({ git: false, students: 20 });
    const cancelled = await applyOnTty(repo.dir, 'y');
    expect(cancelled.out).toMatch(/Plan: \d+ to add/);
    // On a terminal, a progress line on stderr (cleared before the plan is shown).
    expect(cancelled.out).toContain('reading schools/sch-001.yaml');
    expect(cancelled.out).toContain(
      'Error [CANCELLED] apply was cancelled at the prompt; nothing was applied',
    );
    expect(cancelled.status).toBe(1);
    expect(existsSync(join(repo.target, 'current'))).toBe(false);
    const interrupted = await applyOnTty(repo.dir, '\x03');
    expect(interrupted.out).toContain(
      'Error [INTERRUPTED] apply was stopped by SIGINT; nothing was delivered',
    );
    expect(interrupted.out).toContain(
      'still holds nothing from roster-as-code (never applied); its lock was released',
    );
    expect(interrupted.status).toBe(130);
    expect(existsSync(join(repo.target, 'lock.json'))).toBe(false);
    const applied = await applyOnTty(repo.dir, 'yes');
    expect(applied.out).toContain('Applied to target "local" (serial 1)');
    expect(applied.status).toBe(0);
  });
});
