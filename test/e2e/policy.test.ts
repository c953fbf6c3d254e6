/**
 * A target's policy cannot leak: every field name is checked (a typo is a config error, never a
 * field silently sent), patterns are expanded and shown in the plan, and what is withheld never
 * reaches the delivered files. Also: what apply records about git, and where it keeps data.
 */
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buffer } from 'node:stream/consumers';
import { describe, expect, it } from 'vitest';
import { Diagnostics } from '../../src/diagnostic.js';
import { zipFiles } from '../../src/formats/package-files.js';
import { roster } from '../helpers/cli.js';
import { tempDir } from '../helpers/fixtures.js';
import { districtRepo, git } from '../helpers/repo.js';

const MARKER = 'LEAKMARKER';

/** Every file of a zip, as text. */
async function zipText(path: string): Promise<Record<string, string>> {
  const files = await zipFiles(path, new Diagnostics());
  const out: Record<string, string> = {};
  for (const name of files.names) out[name] = (await buffer(files.open(name))).toString('utf8');
  await files.close();
  return out;
}

/** A OneRoster CSV district repo whose users carry a password and an SSN-like extension column. */
function csvRepoWithSecrets(policy: string) {
  const dir = tempDir('roster-policy-');
  expect(
    roster(['generate', '--out', join(dir, 'roster'), '--format', 'csv', '--students', '20']).status,
  ).toBe(0);
  const usersFile = join(dir, 'roster', 'users.csv');
  const [header, ...rows] = readFileSync(usersFile, 'utf8').trimEnd().split('\n');
  writeFileSync(
    usersFile,
    `${[
      `${header},metadata.ssn`,
      ...rows.map((r, i) => `${r.replace(/,$/, `,pw-${MARKER}-${i}`)},ssn-${MARKER}-${i}`),
    ].join('\n')}\n`,
  );
  writeFileSync(
    join(dir, 'roster.config.yaml'),
    `roster: roster\ntargets:\n  - name: vendor\n    kind: dir\n    path: .roster/targets/vendor\n    policy:\n${policy}`,
  );
  return dir;
}

describe('policy field names', () => {
  it('a typo, a OneRoster 1.0 name or a case slip in withhold, redact or ids is a config error with file:line', () => {
    const dir = csvRepoWithSecrets(
      '      share:\n        withhold: { users: [pasword, "metadata.*"], demographics: [birthdate] }\n      redact: [Phone]\n      ids: { classes: Title }\n',
    );
    const plan = roster(['plan'], { cwd: dir });
    expect(plan.status).toBe(1);
    expect(plan.stdout).toBe('');
    expect(plan.stderr).toContain('Error [CONFIG_INVALID] roster.config.yaml names fields that do not exist');
    expect(plan.stderr).toMatch(
      /roster\.config\.yaml:8:\d+: targets\.0\.policy\.share\.withhold\.users\.0 "pasword" is not a field of users; did you mean "password"\?/,
    );
    expect(plan.stderr).toMatch(
      /roster\.config\.yaml:8:\d+: .*demographics\.0 "birthdate" is the OneRoster 1\.0 name; did you mean "birthDate"\?/,
    );
    expect(plan.stderr).toMatch(
      /:9:\d+: targets\.0\.policy\.redact\.0 "Phone" is not a field of any entity; did you mean "phone"\?/,
    );
    expect(plan.stderr).toMatch(
      /:10:\d+: targets\.0\.policy\.ids\.classes "Title" is not a field of classes; did you mean "title"\?/,
    );
    // Nothing was delivered, of course.
    expect(roster(['apply', '--auto-approve'], { cwd: dir }).status).toBe(1);
  });

  it('what is withheld (patterns expanded in the plan) never reaches the delivered files', async () => {
    const dir = csvRepoWithSecrets(
      '      share:\n        entities: [orgs, academicSessions, courses, classes, users, enrollments]\n        withhold: { users: [password, "metadata.*"] }\n',
    );
    const json = roster(['plan', '--format', 'json'], { cwd: dir });
    expect(json.status, json.stderr).toBe(0);
    expect(JSON.parse(json.stdout).withheld).toEqual({
      users: ['password', 'metadata.ssn'],
      demographics: ['*'],
    });
    expect(json.stdout).not.toContain(MARKER);
    const text = roster(['plan'], { cwd: dir });
    expect(text.stdout).toContain(
      'Never sent to this target (policy): users: password, metadata.ssn; demographics (not shared).',
    );
    expect(roster(['plan', '--format', 'markdown'], { cwd: dir }).stdout).toContain(
      'users: password, metadata.ssn',
    );
    const applied = roster(['apply', '--auto-approve'], { cwd: dir });
    expect(applied.status, applied.stderr).toBe(0);
    const delivered = await zipText(join(dir, '.roster/targets/vendor/current/OneRoster.zip'));
    expect(Object.keys(delivered)).not.toContain('demographics.csv');
    expect(delivered['users.csv']).toBeDefined();
    // (OneRoster's own password column stays in the header, every value empty.)
    expect(delivered['users.csv']!.split('\n')[0]).not.toContain('metadata.ssn');
    for (const [name, text] of Object.entries(delivered)) expect(text, name).not.toContain(MARKER);
    // Nor any file the target keeps (snapshot, state).
    for (const f of ['snapshot.zip', 'state.json']) {
      const path = join(dir, '.roster/targets/vendor/current', f);
      const body = f.endsWith('.zip')
        ? Object.values(await zipText(path)).join('\n')
        : readFileSync(path, 'utf8');
      expect(body, f).not.toContain(MARKER);
    }
  });
});

describe('what apply records and keeps', () => {
  it('records uncommitted roster edits as dirty, and keeps .roster/ out of `git add -A` even without a .gitignore', () => {
    const repo = districtRepo({ students: 20 });
    git(repo.dir, 'rm', '-q', '--cached', '.gitignore');
    writeFileSync(join(repo.dir, '.gitignore'), '');
    git(repo.dir, 'commit', '-qam', 'no ignore rules');
    repo.edit('roster/schools/sch-001.yaml', /givenName: \w+/, 'givenName: Uncommitted');
    expect(roster(['apply', '--auto-approve'], { cwd: repo.dir }).status).toBe(0);
    const state = JSON.parse(readFileSync(join(repo.target, 'current', 'state.json'), 'utf8'));
    expect(state.appliedDirty).toBe(true);
    git(repo.dir, 'add', '-A');
    const staged = git(repo.dir, 'diff', '--cached', '--name-only');
    expect(staged).not.toContain('.roster');
    expect(staged).toContain('roster/schools/sch-001.yaml');
    expect(statSync(join(repo.dir, '.roster')).mode & 0o777).toBe(0o700);
    const status = roster(['status'], { cwd: repo.dir });
    expect(status.stdout).toContain('(with uncommitted changes)');
    // Committed: the next apply records a clean tree.
    repo.commit('Rename');
    repo.edit('roster/schools/sch-001.yaml', 'Uncommitted', 'Committed');
    repo.commit('Rename again');
    expect(roster(['apply', '--auto-approve'], { cwd: repo.dir }).status).toBe(0);
    const next = JSON.parse(readFileSync(join(repo.target, 'current', 'state.json'), 'utf8'));
    expect(next.appliedDirty).toBe(false);
    expect(next.appliedCommit).toBe(git(repo.dir, 'rev-parse', 'HEAD').trim());
  });
});
