/**
 * Manual edits from the command line, then applied at once: `--commit --apply` to a `dir` target
 * and to the sandbox portal over SFTP (the portal receives exactly the edit), `--dry-run`, and
 * usage errors.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PortalStore } from '../../src/sandbox/store.js';
import { roster, rosterAsync } from '../helpers/cli.js';
import { districtRepo, git } from '../helpers/repo.js';
import { PASSWORD, testSandbox } from '../helpers/sandbox.js';

/** A student of the repo's first school, and a class of that school the student is not in. */
function firstStudentAndClass(dir: string): { student: string; klass: string } {
  const file = join(dir, 'roster/schools', readdirSync(join(dir, 'roster/schools')).sort()[0]!);
  const text = readFileSync(file, 'utf8');
  const student = /sourcedId: (stu-\d+)/.exec(text)![1]!;
  const classes = [...text.matchAll(/^ {6}- sourcedId: (\S+)\n {8}title/gm)].map((m) => m[1]!);
  const klass = classes.find(
    (c) =>
      !new RegExp(`^ {10}- ${student}$`, 'm').test(
        text.slice(text.indexOf(`sourcedId: ${c}`)).split('\n      - ')[0]!,
      ),
  )!;
  return { student, klass };
}

describe('roster enroll, withdraw ... --commit --apply', () => {
  it('edits, commits and applies to a dir target; the next plan has no changes', () => {
    const repo = districtRepo({ students: 40 });
    const cwd = repo.dir;
    expect(roster(['apply', '--auto-approve'], { cwd }).status).toBe(0);
    const { student, klass } = firstStudentAndClass(cwd);

    const dry = roster(['enroll', student, klass, '--dry-run'], { cwd });
    expect(dry.status).toBe(0);
    expect(dry.stdout).toMatch(new RegExp(`^\\+ +- ${student}$`, 'm'));
    expect(dry.stderr).toContain('(dry run: nothing was written)');
    expect(git(cwd, 'status', '--porcelain').trim()).toBe('');

    const done = roster(['enroll', student, klass, '--commit', '--apply', 'local'], { cwd });
    expect(done.stderr).toBe('');
    expect(done.status).toBe(0);
    expect(done.stdout).toMatch(/^Committed [0-9a-f]{12}: roster: enroll /m);
    expect(done.stdout).toMatch(/Applied/);
    expect(git(cwd, 'log', '-1', '--format=%s').trim()).toBe(`roster: enroll ${student} in ${klass}`);
    expect(roster(['plan', '--detailed-exitcode'], { cwd }).status).toBe(0);

    const usage = roster(['set', `users/${student}`], { cwd });
    expect(usage.status).toBe(64);
    expect(usage.stderr).toContain('needs FIELD=VALUE');
  });

  it('withdraws a student and the sandbox portal receives exactly that', async () => {
    const sb = await testSandbox({ syncEvery: '300ms' });
    const repo = districtRepo({
      students: 30,
      config: `roster: roster\ntargets:\n  - name: portal\n    kind: sftp\n    host: 127.0.0.1\n    port: ${sb.sftp.port}\n    username: district\n    hostKey: "${sb.sftp.hostKeyFingerprint}"\n    auth: { passwordEnv: PORTAL_PASSWORD }\n    reportDir: outbox\n    reportWaitSeconds: 20\n    mode: delta\n`,
    });
    const env = { PORTAL_PASSWORD: PASSWORD };
    expect((await rosterAsync(['apply', '--auto-approve'], { cwd: repo.dir, env })).status).toBe(0);
    const { student } = firstStudentAndClass(repo.dir);
    const withdrawn = await rosterAsync(['withdraw', student, '--apply', 'portal'], { cwd: repo.dir, env });
    expect(withdrawn.stderr).toBe('');
    expect(withdrawn.status).toBe(0);
    const [latest] = new PortalStore(sb.dataDir).history();
    expect(latest!.counts.users).toMatchObject({ removed: 1, created: 0, updated: 0 });
    expect(latest!.counts.enrollments?.removed).toBeGreaterThan(0);
  });
});
