/**
 * The record history (roster log, roster blame) over a real git repository with a scripted
 * history: several authors, a pull request merged with a merge commit and one squashed, a record
 * removed and re-added, a switch from OneRoster CSV to one YAML file, then to one file per school,
 * a file renamed, a rebase, a shallow clone. Commits have fixed authors and dates, so their ids
 * are the same on every machine and the expected logs are golden files (UPDATE_GOLDEN=1 rewrites
 * them).
 */
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RosterError } from '../../src/errors.js';
import { writeOneRosterDir } from '../../src/formats/oneroster-csv/write.js';
import { writeRosterYaml } from '../../src/formats/yaml/write.js';
import { updateIndex } from '../../src/git/history-index.js';
import { renderBlame, renderLog } from '../../src/render/history.js';
import { recordBlame, recordLog } from '../../src/services/history.js';
import { loadRoster } from '../../src/source/load.js';

const FIXTURE = 'test/fixtures/history';
const GOLDEN = 'test/golden/history';

let repo: string;
const cleanups: (() => void)[] = [];

/** A temp folder removed after the file's tests. */
function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function git(dir: string, args: string[], env: Record<string, string> = {}): string {
  return execFileSync('git', args, {
    cwd: dir,
    encoding: 'utf8',
    env: { ...process.env, GIT_CONFIG_NOSYSTEM: '1', HOME: dir, ...env },
  }).trim();
}

/** Commits everything as `who` on `day` (UTC noon), committed by `committer` (default: the author). */
function commit(message: string, who: string, day: string, committer = who): string {
  const [name, email] = [who, `${who.toLowerCase()}@springfield.example`];
  const [cname, cemail] =
    committer === 'GitHub'
      ? ['GitHub', 'noreply@github.com']
      : [committer, `${committer.toLowerCase()}@springfield.example`];
  const date = `${day}T12:00:00Z`;
  git(repo, ['add', '-A']);
  git(repo, ['commit', '-q', '--allow-empty', '-m', message], {
    GIT_AUTHOR_NAME: name,
    GIT_AUTHOR_EMAIL: email,
    GIT_AUTHOR_DATE: date,
    GIT_COMMITTER_NAME: cname,
    GIT_COMMITTER_EMAIL: cemail,
    GIT_COMMITTER_DATE: date,
  });
  return git(repo, ['rev-parse', 'HEAD']);
}

function edit(file: string, from: string | RegExp, to: string): void {
  const path = join(repo, file);
  const text = readFileSync(path, 'utf8');
  const next = text.replace(from, to);
  if (next === text) throw new Error(`${file}: ${String(from)} not found`);
  writeFileSync(path, next);
}

const line = (file: string, start: string) =>
  readFileSync(join(repo, file), 'utf8')
    .split('\n')
    .find((l) => l.startsWith(start))!;

/** Writes the roster at `from` (a folder) as roster YAML into roster/, in `layout`. */
async function writeYaml(from: string, layout: 'single' | 'per-school'): Promise<void> {
  const { roster } = await loadRoster(from);
  rmSync(join(repo, 'roster'), { recursive: true, force: true });
  for (const [name, text] of writeRosterYaml(roster, { layout })) {
    mkdirSync(join(repo, 'roster', name, '..'), { recursive: true });
    writeFileSync(join(repo, 'roster', name), text);
  }
}

/** The golden file `name`, or (UPDATE_GOLDEN=1) write it. */
function golden(name: string, actual: string): void {
  const file = join(GOLDEN, name);
  if (process.env.UPDATE_GOLDEN) {
    mkdirSync(GOLDEN, { recursive: true });
    writeFileSync(file, actual);
  }
  if (!existsSync(file))
    throw new Error(`${file} is missing: run with UPDATE_GOLDEN=1 to write it, and review it`);
  expect(actual).toBe(readFileSync(file, 'utf8'));
}

/** The code of the RosterError `run` throws. */
async function errorOf(run: () => Promise<unknown>): Promise<RosterError> {
  try {
    await run();
  } catch (err) {
    if (err instanceof RosterError) return err;
    throw err;
  }
  throw new Error('no error');
}

beforeAll(async () => {
  const dir = tempDir('roster-history-');
  repo = join(dir, 'district');
  mkdirSync(repo);
  git(repo, ['init', '-q', '-b', 'main']);
  writeFileSync(
    join(repo, 'roster.config.yaml'),
    'roster: roster\ntargets:\n  - { name: local, kind: dir, path: .roster/targets/local }\n',
  );
  writeFileSync(join(repo, '.gitignore'), '.roster/\n');
  const { roster } = await loadRoster(FIXTURE);
  await writeOneRosterDir(roster, join(repo, 'roster'));
  commit('Import the roster from the SIS', 'Alice', '2026-08-03');

  // A pull request merged with a merge commit; main moved on meanwhile.
  git(repo, ['switch', '-q', '-c', 'fix-grades']);
  edit('roster/users.csv', /^(u1,.*),03,$/m, '$1,04,');
  commit('Ben moves up to grade 4', 'Bob', '2026-08-04');
  git(repo, ['switch', '-q', 'main']);
  edit('roster/courses.csv', 'Grade 3 Math', 'Grade 3 Mathematics');
  commit('Spell out the course title', 'Alice', '2026-08-05');
  git(
    repo,
    ['merge', '-q', '--no-ff', 'fix-grades', '-m', 'Merge pull request #7 from district/fix-grades'],
    {
      GIT_AUTHOR_NAME: 'Bob',
      GIT_AUTHOR_EMAIL: 'bob@springfield.example',
      GIT_AUTHOR_DATE: '2026-08-06T12:00:00Z',
      GIT_COMMITTER_NAME: 'GitHub',
      GIT_COMMITTER_EMAIL: 'noreply@github.com',
      GIT_COMMITTER_DATE: '2026-08-06T12:00:00Z',
    },
  );

  // A squashed pull request: Cara leaves Math 3A.
  const cara = line('roster/enrollments.csv', 'enr-7dc7d5d11168c8d6,');
  edit('roster/enrollments.csv', `${cara}\n`, '');
  commit('Drop Cara from Math 3A (#8)', 'Carol', '2026-08-10', 'GitHub');

  // Eli withdrawn, then back with a new e-mail address.
  const eli = line('roster/users.csv', 'u4,');
  const eliEnrollment = line('roster/enrollments.csv', 'enr-6bf0054e01a32b6c,');
  edit('roster/users.csv', `${eli}\n`, '');
  edit('roster/enrollments.csv', `${eliEnrollment}\n`, '');
  commit('Withdraw Eli', 'Dave', '2026-08-12');
  writeFileSync(
    join(repo, 'roster/users.csv'),
    `${readFileSync(join(repo, 'roster/users.csv'), 'utf8')}${eli.replace('eli.moore@', 'eli.moore2@')}\n`,
  );
  writeFileSync(
    join(repo, 'roster/enrollments.csv'),
    `${readFileSync(join(repo, 'roster/enrollments.csv'), 'utf8')}${eliEnrollment}\n`,
  );
  commit('Eli is back', 'Dave', '2026-08-14');

  // CSV -> one YAML file -> one file per school: records unchanged, so no record changes.
  const csv = join(dir, 'csv');
  cpSync(join(repo, 'roster'), csv, { recursive: true });
  await writeYaml(csv, 'single');
  commit('Switch the roster to YAML', 'Alice', '2026-08-20');
  await writeYaml(csv, 'per-school');
  commit('One file per school', 'Alice', '2026-08-25');

  // A school's file renamed, and Ben's e-mail address changed in the same commit.
  git(repo, ['mv', 'roster/schools/s1.yaml', 'roster/schools/lincoln.yaml']);
  edit('roster/schools/lincoln.yaml', 'ben.lee@students', 'ben.lee2@students');
  commit("Name Lincoln's file; Ben's new address", 'Bob', '2026-09-01');
});

afterAll(() => {
  for (const c of cleanups) c();
});

describe('roster log', () => {
  it('follows a record through merges, squashes, a switch to YAML, a split and a rename', async () => {
    const log = await recordLog({ repo, record: 'u1' });
    expect(log.record).toBe('users/u1');
    expect(log.index.rebuilt).toBe('new');
    expect(
      log.entries.map((e) => [
        e.commit.subject,
        e.changes.map((c) => `${c.kind} ${c.fields.map((f) => f.name).join(',')}`),
      ]),
    ).toEqual([
      ["Name Lincoln's file; Ben's new address", ['changed email']],
      ['Ben moves up to grade 4', ['changed grades']],
      ['Import the roster from the SIS', [expect.stringMatching(/^created sourcedId,/)]],
    ]);
    // The branch commit came with pull request #7 (its merge commit's subject).
    expect(log.entries[1]!.commit.pullRequest).toMatchObject({ number: 7, branch: 'district/fix-grades' });
    expect(log.entries[1]!.changes[0]!.fields).toEqual([{ name: 'grades', before: '03', after: '04' }]);
    // Personal data is masked unless asked for.
    expect(log.entries[0]!.changes[0]!.fields).toEqual([
      { name: 'email', before: '(personal data)', after: '(personal data)' },
    ]);
    golden('log-u1.txt', renderLog(log, 'text'));
    const shown = await recordLog({ repo, record: 'users/u1', showPersonalData: true });
    expect(shown.entries[0]!.changes[0]!.fields).toEqual([
      {
        name: 'email',
        before: 'ben.lee@students.springfield.example',
        after: 'ben.lee2@students.springfield.example',
      },
    ]);
    expect(shown.index.added).toBe(0); // the index was up to date
  });

  it('tells removed from re-added, and names a squashed pull request', async () => {
    const eli = await recordLog({ repo, record: 'u4' });
    expect(eli.entries.map((e) => [e.commit.subject, e.changes[0]!.kind])).toEqual([
      ['Eli is back', 're-added'],
      ['Withdraw Eli', 'removed'],
      ['Import the roster from the SIS', 'created'],
    ]);
    const cara = await recordLog({ repo, record: 'enrollments/enr-7dc7d5d11168c8d6' });
    expect(cara.entries[0]!.commit).toMatchObject({
      subject: 'Drop Cara from Math 3A (#8)',
      pullRequest: { number: 8 },
      author: { name: 'Carol' },
      committer: { name: 'GitHub' },
    });
    golden('log-u4.json', `${JSON.stringify({ ...eli, index: undefined }, null, 2)}\n`);
    const schema = new Ajv({ allErrors: true }).compile(
      JSON.parse(readFileSync('schemas/history.schema.json', 'utf8')),
    );
    for (const output of [eli, cara, await recordBlame({ repo, record: 'u1' })])
      expect(schema(JSON.parse(JSON.stringify(output))), JSON.stringify(schema.errors)).toBe(true);
  });

  it('--related adds the records that point at it, with redacted demographics', async () => {
    const log = await recordLog({ repo, record: 'u1', related: true, showPersonalData: true });
    expect(log.related).toEqual(['demographics/u1', 'enrollments/enr-86d9273e0b37a293']);
    const demographics = log.entries.at(-1)!.changes.find((c) => c.record === 'demographics/u1')!;
    expect(demographics.fields.find((f) => f.name === 'birthDate')?.after).toBe('(redacted)');
    golden('log-u1-related.md', renderLog(log, 'markdown'));
  });

  it('lists changes by school, author, entity and dates', async () => {
    const school = await recordLog({ repo, school: 's2' });
    expect(school.entries.map((e) => e.commit.subject)).toEqual(['Import the roster from the SIS']);
    expect(school.entries[0]!.changes.map((c) => c.record)).toEqual([
      'classes/k2',
      'courses/c2',
      'enrollments/enr-db4f994e448e08ad',
      'enrollments/enr-ed583ef926fb56ef',
      'orgs/s2',
      'users/t2',
      'users/u3',
    ]);
    const carol = await recordLog({ repo, author: 'CAROL' });
    expect(carol.entries.map((e) => e.commit.subject)).toEqual(['Drop Cara from Math 3A (#8)']);
    const users = await recordLog({ repo, since: new Date('2026-08-11T00:00:00Z'), entities: ['users'] });
    expect(users.entries.map((e) => e.commit.subject)).toEqual([
      "Name Lincoln's file; Ben's new address",
      'Eli is back',
      'Withdraw Eli',
    ]);
    const limited = await recordLog({ repo, until: new Date('2026-08-05T23:59:59Z'), limit: 1 });
    expect(limited.entries.map((e) => e.commit.subject)).toEqual(['Spell out the course title']);
  });

  it('reads records changed in bulk from their files: the same answers', async () => {
    const gitDir = join(repo, '.git');
    const before = await recordLog({ repo, record: 'u4', related: true, showPersonalData: true });
    rmSync(join(gitDir, 'roster'), { recursive: true, force: true });
    const head = git(repo, ['rev-parse', 'HEAD']);
    const built = await updateIndex(repo, gitDir, head, 'roster', { bulkRecords: 1 });
    expect(built.index.bulk.length).toBeGreaterThan(0);
    const after = await recordLog({ repo, record: 'u4', related: true, showPersonalData: true });
    expect(after.index.added).toBe(0); // (the bulk index was used)
    expect({ ...after, index: undefined }).toEqual({ ...before, index: undefined });
    rmSync(join(gitDir, 'roster'), { recursive: true, force: true });
  });

  it('says which record was meant, and refuses what it cannot answer', async () => {
    const missing = await errorOf(() => recordLog({ repo, record: 'u01' }));
    expect(missing.code).toBe('RECORD_NOT_IN_HISTORY');
    expect(missing.message).toBe('no record u01 in the history of roster/; did you mean u1?');
    const rev = await errorOf(() => recordLog({ repo, record: 'u1', revision: 'no-such-branch' }));
    expect(rev.code).toBe('REVISION_NOT_FOUND');
    const removed = await errorOf(() => recordBlame({ repo, record: 'enrollments/enr-7dc7d5d11168c8d6' }));
    expect(removed.code).toBe('RECORD_REMOVED');
    expect(removed.message).toContain('Carol');
  });

  it('answers as of an earlier revision', async () => {
    const log = await recordLog({ repo, record: 'u1', revision: 'HEAD~1' });
    expect(log.entries.map((e) => e.commit.subject)).toEqual([
      'Ben moves up to grade 4',
      'Import the roster from the SIS',
    ]);
  });
});

describe('roster blame', () => {
  it("names, per field, the commit that set today's value", async () => {
    const blame = await recordBlame({ repo, record: 'u1' });
    const by = Object.fromEntries(blame.fields.map((f) => [f.name, f.commit.subject]));
    expect(by).toMatchObject({
      sourcedId: 'Import the roster from the SIS',
      email: "Name Lincoln's file; Ben's new address",
      grades: 'Ben moves up to grade 4',
      givenName: 'Import the roster from the SIS',
    });
    expect(blame.fields.find((f) => f.name === 'givenName')?.value).toBe('(personal data)');
    golden('blame-u1.txt', renderBlame(blame, 'text'));
  });
});

describe('the index', () => {
  it('grows with new commits, and is built again when history is rewritten', async () => {
    await recordLog({ repo, record: 'u1' });
    edit('roster/schools/lincoln.yaml', 'givenName: Ben', 'givenName: Benjamin');
    commit('Ben goes by Benjamin', 'Bob', '2026-09-02');
    const grown = await recordLog({ repo, record: 'u1', showPersonalData: true });
    expect(grown.index).toMatchObject({ added: 1 });
    expect(grown.index.rebuilt).toBeUndefined();
    expect(grown.entries[0]!.changes[0]!.fields).toEqual([
      { name: 'givenName', before: 'Ben', after: 'Benjamin' },
    ]);
    // A rebase rewrites the last commit: the index no longer describes HEAD's history.
    edit('roster/schools/lincoln.yaml', 'givenName: Benjamin', 'givenName: Benji');
    git(repo, ['add', '-A']);
    git(repo, ['commit', '-q', '--amend', '-m', 'Ben goes by Benji'], {
      GIT_COMMITTER_DATE: '2026-09-03T12:00:00Z',
      GIT_AUTHOR_NAME: 'Bob',
      GIT_AUTHOR_EMAIL: 'bob@springfield.example',
      GIT_COMMITTER_NAME: 'Bob',
      GIT_COMMITTER_EMAIL: 'bob@springfield.example',
    });
    const rebuilt = await recordLog({ repo, record: 'u1', showPersonalData: true });
    expect(rebuilt.index.rebuilt).toBe('rewritten');
    expect(rebuilt.entries[0]!.changes[0]!.fields).toEqual([
      { name: 'givenName', before: 'Ben', after: 'Benji' },
    ]);
    expect(rebuilt.entries.map((e) => e.commit.subject)).not.toContain('Ben goes by Benjamin');
  });

  it('refuses a shallow clone, and a folder outside git', async () => {
    const dir = tempDir('roster-shallow-');
    execFileSync('git', ['clone', '-q', '--depth', '2', `file://${repo}`, join(dir, 'shallow')]);
    const shallow = await errorOf(() => recordLog({ repo: join(dir, 'shallow'), record: 'u1' }));
    expect(shallow.code).toBe('HISTORY_SHALLOW');
    expect(shallow.hint).toContain('git fetch --unshallow');
    cpSync(repo, join(dir, 'plain'), {
      recursive: true,
      filter: (src) => !src.includes('.git') || src.endsWith('.gitignore'),
    });
    const plain = await errorOf(() => recordLog({ repo: join(dir, 'plain'), record: 'u1' }));
    expect(plain.code).toBe('NOT_A_GIT_REPO');
  });
});
