/**
 * The audit commands as a user runs them: roster log names the apply that delivered each version,
 * roster applies lists a target's applies, roster git-setup makes git diff show records (and
 * --remove undoes it). The built CLI on a generated district repo with real git.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { roster } from '../helpers/cli.js';
import { districtRepo, git } from '../helpers/repo.js';

describe('roster log, applies and git-setup', () => {
  it('answers "when did the vendor get it" and shows record-level git diffs', () => {
    const repo = districtRepo({ students: 40 });
    const cwd = repo.dir;
    const school = join(cwd, 'roster/schools', readdirSync(join(cwd, 'roster/schools'))[0]!);
    const text = readFileSync(school, 'utf8');
    const id = /sourcedId: (stu-\d+)/.exec(text)![1]!;
    const at = text.indexOf('grades: ', text.indexOf(`sourcedId: ${id}`));
    expect(roster(['apply', '--auto-approve'], { cwd }).status).toBe(0);
    writeFileSync(school, `${text.slice(0, at)}grades: ["12"]${text.slice(text.indexOf('\n', at))}`);
    const changed = repo.commit(`Move ${id} to grade 12 (#31)`);
    const notYet = roster(['log', id, '--format', 'json'], { cwd });
    expect(notYet.status).toBe(0);
    expect(JSON.parse(notYet.stdout).entries[0].changes[0].deliveredBy).toEqual([]);
    expect(roster(['apply', '--auto-approve'], { cwd }).status).toBe(0);

    const log = roster(['log', id], { cwd });
    expect(log.status).toBe(0);
    expect(log.stdout).toContain(`commit ${changed.slice(0, 12)}`);
    expect(log.stdout).toMatch(/grades: \S+ → 12\n\s+delivered: local serial 2 \(/);
    expect(log.stdout).toMatch(/created\n[\s\S]*delivered: local serial 1 \(/);
    expect(log.stderr).toBe(''); // (the index was built by the first log)

    const applies = roster(['applies', '--format', 'json'], { cwd });
    expect(applies.status).toBe(0);
    const [local] = JSON.parse(applies.stdout).targets;
    expect(
      local.applies.map((a: { serial: number; appliedCommit: string }) => [a.serial, a.appliedCommit]),
    ).toEqual([
      [2, changed],
      [1, git(cwd, 'rev-parse', 'HEAD~1').trim()],
    ]);
    expect(local.applies[0].planned.users).toEqual({ create: 0, update: 1, delete: 0 });
    expect(roster(['applies'], { cwd }).stdout).toMatch(
      /^ {2}2 +\S+ +[0-9a-f]{12}\.\.[0-9a-f]{12} +bulk +\+0 ~1 -0/m,
    );

    // git diff, record by record: the hunk is headed by the record, the change is one field.
    const setup = roster(['git-setup'], { cwd });
    expect(setup.status).toBe(0);
    expect(roster(['git-setup'], { cwd }).stdout).toMatch(/^Already set up/);
    const diff = git(cwd, 'show', '--format=', 'HEAD', '--', 'roster/schools');
    expect(diff).toContain(`@@ users/${id}`);
    expect(diff).toMatch(/^-\tgrades: \S+\n\+\tgrades: 12$/m);
    expect(roster(['git-setup', '--remove'], { cwd }).status).toBe(0);
    expect(existsSync(join(cwd, '.gitattributes'))).toBe(false);
    expect(git(cwd, 'show', '--format=', 'HEAD', '--', 'roster/schools')).toMatch(/^\+\s+grades: \["12"\]/m);

    const wrong = roster(['log', 'no-such-id'], { cwd });
    expect(wrong.status).toBe(64);
    expect(wrong.stderr).toContain('[RECORD_NOT_IN_HISTORY] no record no-such-id in the history of roster/');
  });
});
