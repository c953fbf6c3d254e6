import { existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { roster } from '../helpers/cli.js';
import { csv, package11, tempDir, writeTree } from '../helpers/fixtures.js';

const EDFI = 'test/fixtures/oneroster/edfi-lms-toolkit-or11';
const STACK = /\n\s+at .+:\d+:\d+/;

describe('roster validate (built CLI)', () => {
  it('passes the bundled example district: exit 0', () => {
    const r = roster(['validate', 'examples/springfield']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^✔ valid: OneRoster 1\.1 \(yaml\): 4 orgs, 3 academicSessions, \d+ courses/);
  });

  it('reads the repo of the current folder by default', () => {
    const r = roster(['validate'], { cwd: 'examples/springfield' });
    expect(r.status).toBe(0);
  });

  it('reports every problem with file:line:col, code, message and hint: exit 1', () => {
    const r = roster(['validate', EDFI]);
    expect(r.status).toBe(1);
    expect(r.stdout).toContain(
      `${EDFI}/manifest.csv:2:2  error  MANIFEST_VERSION_INVALID  manifest.version is "1", not "1.0"\n    hint: Write "manifest.version,1.0".`,
    );
    expect(r.stdout).toContain(`${EDFI}/users.csv:10  error  CSV_ROW_WIDTH`);
    expect(r.stdout.trimEnd().split('\n').at(-1)).toBe(
      '✖ 3 errors, 2 warnings: OneRoster 1.1 (oneroster-csv): 2 orgs, 3 academicSessions, 2 courses, 2 classes, 10 users, 24 enrollments, 8 demographics',
    );
  });

  it('writes a JSON report that matches schemas/validation-report.schema.json', () => {
    const r = roster(['validate', EDFI, '--format', 'json']);
    expect(r.status).toBe(1);
    const report = JSON.parse(r.stdout);
    const ajv = new Ajv({ allErrors: true });
    const validate = ajv.compile(JSON.parse(readFileSync('schemas/validation-report.schema.json', 'utf8')));
    expect(validate(report), JSON.stringify(validate.errors)).toBe(true);
    expect(report).toMatchObject({
      formatVersion: '1.1',
      valid: false,
      errors: 3,
      warnings: 2,
      oneRosterVersion: '1.1',
    });
    expect(report.diagnostics[5]).toMatchObject({
      code: 'MANIFEST_VERSION_INVALID',
      file: `${EDFI}/manifest.csv`,
      line: 2,
      column: 2,
    });
  });

  it('writes GitHub workflow annotations', () => {
    const r = roster(['validate', EDFI, '--format', 'github']);
    expect(r.status).toBe(1);
    expect(r.stdout).toContain(
      `::error file=${EDFI}/manifest.csv,line=2,col=2,title=MANIFEST_VERSION_INVALID::manifest.version is "1", not "1.0"%0AWrite "manifest.version,1.0".`,
    );
    expect(r.stdout).toContain(
      `::warning file=${EDFI}/classes.csv,line=2,title=SUBJECTS_DIFFER_FROM_COURSE::`,
    );
  });

  it.each([
    [
      'an unbalanced quote',
      { 'users.csv': `${package11()['users.csv']}u9,,,true,s1,student,"x,{S:1},A,B,,,,,,,03,\n` },
      'CSV_QUOTE',
    ],
    ['an empty file', { 'courses.csv': '' }, 'CSV_EMPTY_FILE'],
    [
      'a non-UTF-8 file',
      {
        'orgs.csv': Buffer.from(
          csv(
            'sourcedId,status,dateLastModified,name,type,identifier,parentSourcedId',
            'd1,,,Distrito Peña,district,,',
            's1,,,Lincoln Elementary,school,0042,d1',
          ),
          'latin1',
        ),
      },
      'CSV_ENCODING',
    ],
  ])('explains %s without a stack trace: exit 1', (_name, files, code) => {
    const dir = writeTree(tempDir(), { ...package11(), ...files });
    const r = roster(['validate', dir]);
    expect(r.status).toBe(1);
    expect(r.stdout).toContain(code);
    expect(r.stdout + r.stderr).not.toMatch(STACK);
  });

  it('a path that does not exist is a usage error: exit 64', () => {
    const r = roster(['validate', 'no/such/folder']);
    expect(r.status).toBe(64);
    expect(r.stderr).toBe(
      'Error [PATH_NOT_FOUND] no/such/folder does not exist\nhint: Give a district repo, a roster folder or a OneRoster zip.\n',
    );
  });

  it('an unknown flag is a usage error: exit 64', () => {
    const r = roster(['validate', '--frmat', 'json']);
    expect(r.status).toBe(64);
    expect(r.stderr).toContain('Error [USAGE]');
    expect(r.stderr).not.toMatch(STACK);
  });

  it('follows symbolic links in a roster folder, through a link back up the tree', () => {
    const root = tempDir();
    const exports = writeTree(join(root, 'exports'), package11());
    const folder = join(root, 'roster');
    mkdirSync(folder);
    for (const name of Object.keys(package11())) symlinkSync(join(exports, name), join(folder, name));
    symlinkSync(root, join(folder, 'loop'));
    const r = roster(['validate', folder]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it('a folder with no roster says so: exit 1', () => {
    const r = roster(['validate', tempDir()]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('Error [ROSTER_NOT_FOUND]');
  });
});

describe('roster generate and convert (built CLI)', () => {
  it('generates a district deterministically, converts it to CSV and a zip, and back', () => {
    const dir = tempDir();
    const gen = (out: string) =>
      roster(['generate', '--out', join(dir, out), '--schools', '2', '--students', '50', '--seed', 'e2e']);
    expect(gen('a').status).toBe(0);
    expect(gen('b').status).toBe(0);
    expect(readFileSync(join(dir, 'a/schools/sch-001.yaml'), 'utf8')).toBe(
      readFileSync(join(dir, 'b/schools/sch-001.yaml'), 'utf8'),
    );
    expect(readFileSync(join(dir, 'a/roster.yaml'), 'utf8')).toMatch(
      /^# yaml-language-server: \$schema=.*schemas\/roster\.schema\.json\noneroster: "1\.1"\n/,
    );

    const toCsv = roster(['convert', join(dir, 'a'), '--to', 'oneroster-1.2', '--out', join(dir, 'csv')]);
    expect(toCsv.stderr).toBe('');
    expect(toCsv.status).toBe(0);
    expect(readdirSync(join(dir, 'csv')).sort()).toEqual([
      'academicSessions.csv',
      'classes.csv',
      'courses.csv',
      'demographics.csv',
      'enrollments.csv',
      'manifest.csv',
      'orgs.csv',
      'roles.csv',
      'users.csv',
    ]);
    expect(roster(['validate', join(dir, 'csv')]).status).toBe(0);

    const toZip = roster([
      'convert',
      join(dir, 'csv'),
      '--to',
      'oneroster-1.2',
      '--out',
      join(dir, 'OneRoster.zip'),
    ]);
    expect(toZip.status).toBe(0);
    expect(roster(['validate', join(dir, 'OneRoster.zip')]).status).toBe(0);

    const back = roster(['convert', join(dir, 'OneRoster.zip'), '--to', 'yaml', '--out', join(dir, 'yaml')]);
    expect(back.status).toBe(0);
    expect(roster(['validate', join(dir, 'yaml')]).status).toBe(0);
  });

  it('carries 1.2 Final users.resourceSourcedIds through a conversion, and says what it does not carry', () => {
    const dir = tempDir();
    expect(
      roster(['generate', '--out', join(dir, 'in'), '--format', 'csv', '--version', '1.2', '--students', '5'])
        .status,
    ).toBe(0);
    const users = join(dir, 'in', 'users.csv');
    const [header, ...rows] = readFileSync(users, 'utf8').trimEnd().split('\n');
    const at = header!.split(',').indexOf('userMasterIdentifier') + 1;
    const insert = (line: string, value: string) => {
      const cells = line.split(',');
      cells.splice(at, 0, value);
      return cells.join(',');
    };
    writeFileSync(
      users,
      `${[insert(header!, 'resourceSourcedIds'), ...rows.map((r, i) => insert(r, i === 0 ? 'res-1' : ''))].join('\n')}\n`,
    );
    writeFileSync(
      join(dir, 'in', 'categories.csv'),
      'sourcedId,status,dateLastModified,title\ncat1,,,Homework\n',
    );
    const manifest = join(dir, 'in', 'manifest.csv');
    writeFileSync(
      manifest,
      readFileSync(manifest, 'utf8').replace('file.categories,absent', 'file.categories,bulk'),
    );
    const converted = roster([
      'convert',
      join(dir, 'in'),
      '--to',
      'oneroster-1.2',
      '--out',
      join(dir, 'out'),
    ]);
    expect(converted.status, converted.stderr).toBe(0);
    expect(converted.stderr).toContain(
      'note: categories.csv is not carried: roster-as-code converts the rostering files only',
    );
    const out = readFileSync(join(dir, 'out', 'users.csv'), 'utf8').split('\n');
    expect(out[0]!.split(',')[at]).toBe('resourceSourcedIds');
    expect(out.filter((l) => l.split(',')[at] === 'res-1')).toHaveLength(1);
    expect(roster(['validate', join(dir, 'out')]).status).toBe(0);
  });

  it('refuses to convert an invalid roster, writing nothing: exit 1', () => {
    const out = join(tempDir(), 'out');
    const r = roster(['convert', EDFI, '--to', 'yaml', '--out', out]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('MANIFEST_VERSION_INVALID');
    expect(r.stderr).toContain('Nothing was written');
    expect(existsSync(out)).toBe(false);
  });

  it('refuses roster YAML too large for the JavaScript heap, clearly and writing nothing: exit 64', () => {
    // A small heap stands for a city: the YAML writer holds the roster as objects.
    const env = { NODE_OPTIONS: '--max-old-space-size=150' };
    const dir = tempDir();
    const yaml = roster(['generate', '--out', join(dir, 'yaml'), '--students', '10000'], { env });
    expect(yaml.status).toBe(64);
    expect(yaml.stderr).toMatch(
      /Error \[YAML_TOO_LARGE\] [\d,]+ records are too many to write as roster YAML/,
    );
    expect(yaml.stderr).toContain('--format csv');
    expect(existsSync(join(dir, 'yaml'))).toBe(false);
    const csvOut = join(dir, 'csv');
    expect(
      roster(['generate', '--out', csvOut, '--students', '10000', '--format', 'csv'], { env }).status,
    ).toBe(0);
    const converted = roster(['convert', csvOut, '--to', 'yaml', '--out', join(dir, 'back')], { env });
    expect(converted.status).toBe(64);
    expect(converted.stderr).toContain('Error [YAML_TOO_LARGE]');
  });

  it('refuses to overwrite roster files unless --force: exit 64', () => {
    const dir = tempDir();
    expect(roster(['generate', '--out', dir, '--students', '10']).status).toBe(0);
    const again = roster(['generate', '--out', dir, '--students', '10']);
    expect(again.status).toBe(64);
    expect(again.stderr).toContain('Error [OUTPUT_EXISTS]');
    expect(roster(['generate', '--out', dir, '--students', '10', '--force']).status).toBe(0);
  });

  it('lists its commands in --help', () => {
    const r = roster(['--help']);
    expect(r.status).toBe(0);
    for (const c of ['validate', 'convert', 'generate']) expect(r.stdout).toContain(c);
  });

  it('answers `help`, `help CMD` and -h; an unknown command is a usage error (64, never 2)', () => {
    const all = roster(['help']);
    expect(all.status).toBe(0);
    expect(all.stdout).toBe(roster(['--help']).stdout);
    const plan = roster(['help', 'plan']);
    expect(plan.status).toBe(0);
    expect(plan.stdout).toContain('$ roster plan');
    expect(roster(['plan', '-h']).stdout).toBe(plan.stdout);
    expect(roster(['help', 'sandbox', 'sync']).stdout).toContain('$ roster sandbox sync');
    const unknown = roster(['plna']);
    expect(unknown.status).toBe(64);
    expect(unknown.stderr).toBe(
      'Error [USAGE] command plna not found\nhint: Run `roster help` for the commands.\n',
    );
  });
});
