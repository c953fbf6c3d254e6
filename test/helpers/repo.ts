/** A district repo in a temp folder: a generated roster, a roster.config.yaml, and git. */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { roster } from './cli.js';
import { tempDir } from './fixtures.js';

const GIT_ENV = {
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

export function districtRepo(
  options: { students?: number; config?: string; git?: boolean } = {},
): DistrictRepo {
  const dir = tempDir('roster-repo-');
  const gen = roster([
    'generate',
    '--out',
    join(dir, 'roster'),
    '--schools',
    '3',
    '--students',
    String(options.students ?? 120),
    '--seed',
    'repo',
  ]);
  if (gen.status !== 0) throw new Error(gen.stderr);
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
