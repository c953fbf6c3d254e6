/**
 * Onboarding: `roster init` makes a district repo that validates, plans from any folder inside it,
 * and never lets `git add -A` stage what was delivered.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { roster } from '../helpers/cli.js';
import { tempDir } from '../helpers/fixtures.js';
import { git } from '../helpers/repo.js';

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
    const made = roster(['init', 'lincoln-ps', '--name', 'Lincoln Public Schools'], { cwd: parent });
    expect(made.stderr).toBe('');
    expect(made.status).toBe(0);
    expect(made.stdout).toContain('Created a district repo in lincoln-ps (git init):');
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
    git(dir, 'add', '-A');
    const staged = git(dir, 'diff', '--cached', '--name-only').trim().split('\n');
    expect(staged.sort()).toEqual([...FILES].sort());
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
