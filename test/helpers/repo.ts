/** A district repo in a temp folder: a generated roster, a roster.config.yaml, and git. */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { roster } from './cli.js';
import { tempDir } from './fixtures.js';

export const GIT_ENV = {
  GIT_AUTHOR_NAME: 'Test',
  GIT_AUTHOR_EMAIL: 'test@example.org',
  GIT_COMMITTER_NAME: 'Test',
  GIT_COMMITTER_EMAIL: 'test@example.org',
};

export function git(dir: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd: dir, env: { ...process.env, ...GIT_ENV }, encoding: 'utf8' });
}

export interface DistrictRepo {
  readonly dir: string;
  readonly target: string;
  edit(file: string, from: string | RegExp, to: string): void;
  commit(message: string): string;
}

/** Rosters made by `roster generate`, once per size in this test process, then copied. */
const generated = new Map<number, string>();
let generatedRoot: string | undefined;

function generatedRoster(students: number): string {
  const known = generated.get(students);
  if (known) return known;
  if (!generatedRoot) {
    const root = mkdtempSync(join(tmpdir(), 'roster-generated-'));
    process.on('exit', () => rmSync(root, { recursive: true, force: true }));
    generatedRoot = root;
  }
  const out = join(generatedRoot, String(students));
  const gen = roster([
    'generate',
    '--out',
    out,
    '--schools',
    '3',
    '--students',
    String(students),
    '--seed',
    'repo',
  ]);
  if (gen.status !== 0) throw new Error(gen.stderr);
  generated.set(students, out);
  return out;
}

export function districtRepo(
  options: { students?: number; config?: string; git?: boolean } = {},
): DistrictRepo {
  const dir = tempDir('roster-repo-');
  cpSync(generatedRoster(options.students ?? 120), join(dir, 'roster'), { recursive: true });
  writeFileSync(
    join(dir, 'roster.config.yaml'),
    options.config ??
      'roster: roster\ntargets:\n  - name: local\n    kind: dir\n    path: .roster/targets/local\n    mode: bulk\n',
  );
  writeFileSync(join(dir, '.gitignore'), '.roster/\n');
  if (options.git !== false) {
    git(dir, 'init', '-q', '-b', 'main');
    git(dir, 'add', '-A');
    git(dir, 'commit', '-q', '-m', 'Initial roster');
  }
  return {
    dir,
    target: join(dir, '.roster/targets/local'),
    edit(file, from, to) {
      const path = join(dir, file);
      const text = readFileSync(path, 'utf8');
      const next = text.replace(from, to);
      if (next === text) throw new Error(`edit did not change ${file}`);
      writeFileSync(path, next);
    },
    commit(message) {
      git(dir, 'add', '-A');
      git(dir, 'commit', '-q', '-m', message);
      return git(dir, 'rev-parse', 'HEAD').trim();
    },
  };
}
