/**
 * Installing roster-as-code into a district's own project, as the README says: the `npm pack`
 * tarball installed into an empty project, then `npx roster` there. Offline: the project's lock
 * pins the same dependencies as ours, which `npm ci` has already put in npm's cache (loopback is
 * the only network the tests use).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/fixtures.js';

const npm = (args: string[], cwd: string) =>
  spawnSync('npm', args, {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, npm_config_audit: 'false', npm_config_fund: 'false' },
  });

describe('installing the packed package into a district project', () => {
  it('npm install of the tarball, then npx roster init, validate and plan there', () => {
    const work = tempDir('roster-install-');
    const packed = npm(['pack', '--ignore-scripts', '--pack-destination', work, resolve('.')], work);
    expect(packed.status, packed.stderr).toBe(0);
    const tarball = packed.stdout.trim().split('\n').pop()!;
    const project = join(work, 'district');
    execFileSync('mkdir', ['-p', project]);
    const ours = JSON.parse(readFileSync('package.json', 'utf8'));
    const lock = JSON.parse(readFileSync('package-lock.json', 'utf8')) as {
      packages: Record<string, { dev?: boolean; link?: boolean }>;
    };
    const spec = `file:../${tarball}`;
    const packages: Record<string, unknown> = {
      '': { name: 'district', devDependencies: { 'roster-as-code': spec } },
      'node_modules/roster-as-code': {
        version: ours.version,
        resolved: spec,
        dev: true,
        dependencies: ours.dependencies,
        bin: { roster: 'bin/run.js' },
      },
    };
    for (const [path, entry] of Object.entries(lock.packages))
      if (path && !entry.dev && !entry.link) packages[path] = { ...entry, dev: true };
    writeFileSync(
      join(project, 'package.json'),
      JSON.stringify({ name: 'district', private: true, devDependencies: { 'roster-as-code': spec } }),
    );
    writeFileSync(
      join(project, 'package-lock.json'),
      JSON.stringify({ name: 'district', lockfileVersion: 3, requires: true, packages }),
    );
    const installed = npm(['ci', '--offline', '--ignore-scripts'], project);
    expect(installed.status, installed.stderr).toBe(0);
    expect(existsSync(join(project, 'node_modules/.bin/roster'))).toBe(true);

    const npx = (args: string[]) =>
      spawnSync('npx', ['--offline', 'roster', ...args], { cwd: project, encoding: 'utf8' });
    const init = npx(['init', '.', '--name', 'Lincoln Public Schools']);
    expect(init.status, init.stderr).toBe(0);
    // The config's $schema points into node_modules, where the package now is.
    expect(readFileSync(join(project, 'roster.config.yaml'), 'utf8')).toMatch(
      /^# yaml-language-server: \$schema=node_modules\/roster-as-code\/schemas\/config\.schema\.json$/m,
    );
    expect(npx(['validate']).status).toBe(0);
    // The district's roster arrives (here: the example district's).
    cpSync('examples/springfield/roster', join(project, 'roster'), { recursive: true });
    expect(npx(['validate']).stdout).toMatch(/^✔ valid: OneRoster 1\.1 \(yaml\)/);
    const plan = npx(['plan']);
    expect(plan.status, plan.stderr).toBe(0);
    expect(plan.stdout).toContain('Plan: 1984 to add, 0 to change, 0 to remove.');
    // The mapping presets ship in the package: the two-file batch imports through one.
    writeFileSync(
      join(project, 'users.csv'),
      'action,org_sis_id,user_sis_id,role,username,firstName,lastName,userEmail,userGrade,class_sis_id,className,classGrade,course_sis_id,term_sis_id,primary_teacher\n' +
        'ADD,sch-1,stu-1,student,ana.ruiz,Ana,Ruiz,,09,cls-1,Algebra I,09,crs-alg1,fall,\n',
    );
    const imported = npx(['import', '--from', 'batch', 'users.csv', '--force']);
    expect(imported.status, imported.stderr).toBe(0);
    expect(imported.stdout).toContain(
      'Imported 1 orgs, 1 academicSessions, 1 courses, 1 classes, 1 users, 1 enrollments',
    );
  }, 120_000);
});
