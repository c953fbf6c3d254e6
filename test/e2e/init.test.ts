/**
 * Onboarding: `roster init` makes a district repo that validates, plans from any folder inside it,
 * and never lets `git add -A` stage what was delivered.
 */
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import Papa from 'papaparse';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { writeOneRosterZip } from '../../src/formats/oneroster-csv/write.js';
import { generateDistrict } from '../../src/generate/generate.js';
import { PortalStore } from '../../src/sandbox/store.js';
import { roster, rosterAsync } from '../helpers/cli.js';
import { tempDir, writeTree } from '../helpers/fixtures.js';
import { districtRepo, GIT_ENV, git } from '../helpers/repo.js';
import { TOKEN, testSandbox } from '../helpers/sandbox.js';

const FILES = [
  'roster.config.yaml',
  'roster/roster.yaml',
  '.gitignore',
  '.github/workflows/roster-plan.yml',
  '.github/workflows/roster-apply.yml',
  'README.md',
];

describe('roster init', () => {
  it('makes a district repo that validates, plans from its roster folder and keeps deliveries out of git', () => {
    const parent = tempDir('roster-init-');
    const made = roster(['init', 'lincoln-ps', '--name', 'Lincoln Public Schools'], {
      cwd: parent,
      env: GIT_ENV,
    });
    expect(made.stderr).toBe('');
    expect(made.status).toBe(0);
    expect(made.stdout).toContain('Created a district repo in lincoln-ps (git init, first commit):');
    const dir = join(parent, 'lincoln-ps');
    for (const f of FILES) expect(existsSync(join(dir, f)), f).toBe(true);
    expect(existsSync(join(dir, '.git'))).toBe(true);
    expect(readFileSync(join(dir, 'roster/roster.yaml'), 'utf8')).toContain('name: "Lincoln Public Schools"');

    // Each $schema line points at a schema that exists.
    for (const f of ['roster.config.yaml', 'roster/roster.yaml']) {
      const path = /\$schema=(\S+)/.exec(readFileSync(join(dir, f), 'utf8'))![1]!;
      expect(existsSync(resolve(dirname(join(dir, f)), path)), `${f}: ${path}`).toBe(true);
    }
    // The workflows name the config's target.
    const apply = parse(readFileSync(join(dir, '.github/workflows/roster-apply.yml'), 'utf8'));
    expect(apply.jobs.apply.strategy.matrix.target).toEqual(['local']);

    expect(roster(['validate'], { cwd: dir }).status).toBe(0);
    // From inside the repo, as git does: the config is found above.
    const plan = roster(['plan'], { cwd: join(dir, 'roster') });
    expect(plan.stderr).toBe('');
    expect(plan.stdout).toContain('Plan: 1 to add, 0 to change, 0 to remove.');
    expect(roster(['apply', '--auto-approve'], { cwd: join(dir, 'roster') }).status).toBe(0);
    expect(git(dir, 'ls-files').trim().split('\n').sort()).toEqual([...FILES].sort());
    // The delivery under .roster/ is never staged.
    git(dir, 'add', '-A');
    expect(git(dir, 'status', '--porcelain')).toBe('');
  });

  it('refuses to replace any file, writing nothing; inside a repository it runs no git init', () => {
    const repo = tempDir('roster-init-');
    git(repo, 'init', '-q');
    const dir = join(repo, 'district');
    mkdirSync(dir);
    writeFileSync(join(dir, 'README.md'), 'Ours.\n');
    const refused = roster(['init', 'district'], { cwd: repo });
    expect(refused.status).toBe(64);
    expect(refused.stderr).toContain(
      'Error [INIT_WOULD_OVERWRITE] district already has README.md; nothing was written',
    );
    expect(existsSync(join(dir, 'roster.config.yaml'))).toBe(false);
    expect(readFileSync(join(dir, 'README.md'), 'utf8')).toBe('Ours.\n');

    const sub = join(repo, 'other');
    const made = roster(['init', 'other'], { cwd: repo });
    expect(made.status).toBe(0);
    expect(made.stdout).not.toContain('git init');
    expect(existsSync(join(sub, '.git'))).toBe(false);
  });

  it('a command outside any district repo says how to make one', () => {
    const r = roster(['plan'], { cwd: tempDir('roster-nowhere-') });
    expect(r.status).toBe(64);
    expect(r.stderr).toMatch(
      /Error \[CONFIG_NOT_FOUND\] this folder has no roster\.config\.yaml, nor any folder above it/,
    );
    expect(r.stderr).toContain('roster init');
  });
});

describe('roster import --from oneroster', () => {
  function newDistrict(): string {
    const parent = tempDir('roster-import-');
    expect(roster(['init', 'district'], { cwd: parent, env: GIT_ENV }).status).toBe(0);
    return join(parent, 'district');
  }
  /** The example district as a OneRoster zip, made once for these tests. */
  let zip: string | undefined;
  const zipDir = mkdtempSync(join(tmpdir(), 'roster-export-'));
  afterAll(() => rmSync(zipDir, { recursive: true, force: true }));
  function exportZip(): string {
    if (zip) return zip;
    zip = join(zipDir, 'OneRoster.zip');
    expect(roster(['convert', 'examples/springfield', '--to', 'oneroster-1.1', '--out', zip]).status).toBe(0);
    return zip;
  }

  it('fills the roster folder of a new repo from a OneRoster zip: valid, reviewable, then planned', () => {
    const dir = newDistrict();
    const r = roster(['import', '--from', 'oneroster', exportZip()], { cwd: dir });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(
      /^Imported 4 orgs, 3 academicSessions, 48 courses, 48 classes, 343 users, 1218 enrollments, 320 demographics into roster \(4 file\(s\)\)\./,
    );
    expect(existsSync(join(dir, 'roster/schools'))).toBe(true);
    expect(readFileSync(join(dir, 'roster/roster.yaml'), 'utf8')).not.toContain('Add schools in');
    expect(roster(['validate'], { cwd: dir }).status).toBe(0);
    expect(roster(['plan'], { cwd: dir }).stdout).toContain('Plan: 1984 to add, 0 to change, 0 to remove.');
    // --format csv: the repo keeps OneRoster CSV instead, and no YAML is left beside it.
    git(dir, 'add', '-A');
    git(dir, 'commit', '-q', '-m', 'Import');
    expect(
      roster(['import', '--from', 'oneroster', exportZip(), '--format', 'csv'], { cwd: dir }).status,
    ).toBe(0);
    const files = readdirSync(join(dir, 'roster'), { recursive: true }) as string[];
    expect(files.filter((f) => /\.ya?ml$/.test(f))).toEqual([]);
    expect(files).toContain('users.csv');
    expect(roster(['plan'], { cwd: dir }).stdout).toContain('Plan: 1984 to add, 0 to change, 0 to remove.');
  });

  it('never replaces uncommitted work (unless --force), nor writes an invalid roster (unless --allow-invalid)', () => {
    const dir = newDistrict();
    writeFileSync(
      join(dir, 'roster/roster.yaml'),
      `${readFileSync(join(dir, 'roster/roster.yaml'), 'utf8')}# mine\n`,
    );
    const refused = roster(['import', '--from', 'oneroster', exportZip()], { cwd: dir });
    expect(refused.status).toBe(64);
    expect(refused.stderr).toContain(
      'Error [IMPORT_UNCOMMITTED] roster has uncommitted changes (roster/roster.yaml); nothing was imported',
    );
    expect(readFileSync(join(dir, 'roster/roster.yaml'), 'utf8')).toContain('# mine');
    expect(roster(['import', '--from', 'oneroster', exportZip(), '--force'], { cwd: dir }).status).toBe(0);
    git(dir, 'add', '-A');
    git(dir, 'commit', '-q', '-m', 'Import');

    const before = readFileSync(join(dir, 'roster/roster.yaml'), 'utf8');
    const invalid = roster(
      ['import', '--from', 'oneroster', resolve('test/fixtures/oneroster/edfi-lms-toolkit-or11')],
      { cwd: dir },
    );
    expect(invalid.status).toBe(1);
    expect(invalid.stdout).toContain('MANIFEST_VERSION_INVALID');
    expect(invalid.stderr).toMatch(
      /Error \[ROSTER_INVALID\] the roster has \d+ error\(s\); nothing was imported/,
    );
    expect(readFileSync(join(dir, 'roster/roster.yaml'), 'utf8')).toBe(before);

    const anyway = roster(
      [
        'import',
        '--from',
        'oneroster',
        resolve('test/fixtures/oneroster/edfi-lms-toolkit-or11'),
        '--allow-invalid',
      ],
      { cwd: dir },
    );
    expect(anyway.status).toBe(1);
    expect(anyway.stdout).toContain('its report is in .roster/import-report.json');
    expect(JSON.parse(readFileSync(join(dir, '.roster/import-report.json'), 'utf8')).valid).toBe(false);
    git(dir, 'add', '-A');
    expect(git(dir, 'diff', '--cached', '--name-only')).not.toContain('.roster');
  });
});

describe('roster import of files saved by a spreadsheet', () => {
  /** The example district as OneRoster CSV files, with a student renamed José Ñúñez. */
  function export11(): string {
    const dir = join(tempDir('roster-sheet-'), 'export');
    expect(roster(['convert', 'examples/springfield', '--to', 'oneroster-1.1', '--out', dir]).status).toBe(0);
    const users = readFileSync(join(dir, 'users.csv'), 'utf8').split('\n');
    const header = users[0]!.split(',');
    const row = users[1]!.split(',');
    row[header.indexOf('givenName')] = 'José';
    row[header.indexOf('familyName')] = 'Ñúñez';
    users[1] = row.join(',');
    writeFileSync(join(dir, 'users.csv'), users.join('\n'));
    return dir;
  }

  it('a Windows-1252 file: the error suggests --encoding, which imports it right', () => {
    const dir = newRepo();
    const source = export11();
    // As Excel saves "CSV": é, Ñ, ú one byte each, and the apostrophe ’ as 0x92 (Windows-1252 only).
    const text = readFileSync(join(source, 'users.csv'), 'utf8').replace('Ñúñez', 'D~Angelo-Ñúñez');
    const bytes = Buffer.from(text, 'latin1');
    bytes[bytes.indexOf('~')] = 0x92;
    writeFileSync(join(source, 'users.csv'), bytes);
    const refused = roster(['import', '--from', 'oneroster', source], { cwd: dir });
    expect(refused.status).toBe(1);
    expect(refused.stdout).toContain('CSV_ENCODING');
    expect(refused.stderr).toContain('import them again with --encoding windows-1252');
    const imported = roster(['import', '--from', 'oneroster', source, '--encoding', 'windows-1252'], {
      cwd: dir,
    });
    expect(imported.status, imported.stderr).toBe(0);
    const yaml = readdirSync(join(dir, 'roster/schools'))
      .map((f) => readFileSync(join(dir, 'roster/schools', f), 'utf8'))
      .join('\n');
    expect(yaml).toMatch(/givenName: José\n\s+familyName: "?D’Angelo-Ñúñez"?\n/);
  });

  it('semicolon-separated files: the error suggests --delimiter, which imports them right', () => {
    const dir = newRepo();
    const source = export11();
    for (const name of readdirSync(source).filter((f) => f.endsWith('.csv'))) {
      const rows = Papa.parse<string[]>(readFileSync(join(source, name), 'utf8'), {
        skipEmptyLines: true,
      }).data;
      writeFileSync(join(source, name), `${Papa.unparse(rows, { delimiter: ';' })}\r\n`);
    }
    const refused = roster(['import', '--from', 'oneroster', source], { cwd: dir });
    expect(refused.status).toBe(1);
    expect(refused.stderr).toContain("import them again with --delimiter ';'");
    const imported = roster(['import', '--from', 'oneroster', source, '--delimiter', ';'], { cwd: dir });
    expect(imported.status, imported.stderr).toBe(0);
    expect(imported.stdout).toMatch(
      /^Imported 4 orgs, 3 academicSessions, 48 courses, 48 classes, 343 users/,
    );
    expect(roster(['plan'], { cwd: dir }).stdout).toContain('Plan: 1984 to add, 0 to change, 0 to remove.');
  });

  function newRepo(): string {
    const parent = tempDir('roster-sheet-repo-');
    expect(roster(['init', 'district'], { cwd: parent, env: GIT_ENV }).status).toBe(0);
    return join(parent, 'district');
  }
});

describe('roster import --from-target', () => {
  it('adopts what roster-as-code last delivered to a target: the first plan against it is empty', () => {
    const portal = join(tempDir('roster-portal-'), 'drop');
    const target = `  - { name: portal, kind: dir, path: ${portal} }\n`;
    const first = districtRepo({ students: 40, config: `roster: roster\ntargets:\n${target}` });
    expect(roster(['apply', '--auto-approve'], { cwd: first.dir }).status).toBe(0);

    // The repo is lost; a new one adopts what the portal was sent.
    const parent = tempDir('roster-adopt-');
    expect(roster(['init', 'district'], { cwd: parent, env: GIT_ENV }).status).toBe(0);
    const dir = join(parent, 'district');
    const config = readFileSync(join(dir, 'roster.config.yaml'), 'utf8').replace(
      /^targets:.*\n/m,
      `targets:\n${target}`,
    );
    writeFileSync(join(dir, 'roster.config.yaml'), config);
    git(dir, 'commit', '-q', '-am', 'The portal');
    expect(roster(['import', '--from-target', 'local'], { cwd: dir }).stderr).toContain(
      'Error [IMPORT_TARGET_EMPTY] target "local"',
    );
    const adopted = roster(['import', '--from-target', 'portal'], { cwd: dir });
    expect(adopted.status, adopted.stderr).toBe(0);
    expect(roster(['diff', first.dir, dir]).stdout).toContain('No differences.');
    const plan = roster(['plan', '--target', 'portal', '--detailed-exitcode'], { cwd: dir });
    expect(plan.stdout).toContain('No changes.');
    expect(plan.status).toBe(0);

    const usage = roster(['import'], { cwd: dir });
    expect(usage.status).toBe(64);
    expect(usage.stderr).toContain('Error [USAGE] roster import needs --from and a SOURCE');
  });

  it('adopts what a batch portal holds (its export): the first plan against it is empty', async () => {
    // The portal already holds the district (synced from a OneRoster drop before roster-as-code).
    const sb = await testSandbox();
    const zip = join(tempDir('roster-portal-'), 'OneRoster.zip');
    await writeOneRosterZip(generateDistrict({ schools: 2, students: 40, seed: 'portal' }), zip);
    writeTree(new PortalStore(sb.dataDir).landingDir('district'), { 'OneRoster.zip': readFileSync(zip) });
    await sb.sync();

    const parent = tempDir('roster-adopt-');
    expect(roster(['init', 'district'], { cwd: parent, env: GIT_ENV }).status).toBe(0);
    const dir = join(parent, 'district');
    const config = readFileSync(join(dir, 'roster.config.yaml'), 'utf8').replace(
      /^targets:.*\n/m,
      `targets:\n  - { name: vendor, kind: batch, url: "${sb.http.url}", tokenEnv: VENDOR_TOKEN }\n`,
    );
    writeFileSync(join(dir, 'roster.config.yaml'), config);
    git(dir, 'commit', '-q', '-am', 'The portal');
    const env = { ...GIT_ENV, VENDOR_TOKEN: TOKEN };
    const adopted = await rosterAsync(['import', '--from-target', 'vendor'], { cwd: dir, env });
    expect(adopted.status, adopted.stderr).toBe(0);
    expect(adopted.stderr).toContain('note: The batch files carry no school names');
    const plan = await rosterAsync(['plan', '--target', 'vendor', '--detailed-exitcode'], { cwd: dir, env });
    expect(plan.stdout, plan.stderr).toContain('No changes.');
    expect(plan.status).toBe(0);
  });
});
