/**
 * `roster import --from oneroster-api` against the sandbox's OneRoster REST API (1.1 and 1.2):
 * many small pages, a token that expires mid-import, 429s with Retry-After. The portal was filled
 * by an apply of a district repo; a new repo imports it and plans no changes against that portal.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { rosterAsync } from '../helpers/cli.js';
import { tempDir } from '../helpers/fixtures.js';
import { districtRepo, GIT_ENV, git } from '../helpers/repo.js';
import { PASSWORD, testSandbox } from '../helpers/sandbox.js';

describe('roster import --from oneroster-api', () => {
  it('reads every page of the portal (token renewed, 429s waited out); the first plan against it is empty', async () => {
    const sb = await testSandbox({
      syncEvery: '300ms',
      limits: { tokenSeconds: 1, restRequestsPerSecond: 25 },
    });
    const target = `  - name: portal\n    kind: sftp\n    host: 127.0.0.1\n    port: ${sb.sftp.port}\n    username: district\n    hostKey: "${sb.sftp.hostKeyFingerprint}"\n    auth: { passwordEnv: PORTAL_PASSWORD }\n    reportDir: outbox\n    reportWaitSeconds: 20\n`;
    const source = districtRepo({ git: false, students: 30, config: `roster: roster\ntargets:\n${target}` });
    const env = { PORTAL_PASSWORD: PASSWORD, SIS_ID: 'reader', SIS_SECRET: 'reader-secret-123', ...GIT_ENV };
    expect((await rosterAsync(['apply', '--auto-approve'], { cwd: source.dir, env })).status).toBe(0);

    // A new district repo, pointed at the same portal, imports what the portal serves.
    const parent = tempDir('roster-import-api-');
    expect((await rosterAsync(['init', 'district'], { cwd: parent, env })).status).toBe(0);
    const dir = join(parent, 'district');
    const config = readFileSync(join(dir, 'roster.config.yaml'), 'utf8').replace(
      /^targets:.*\n/m,
      `targets:\n${target}`,
    );
    writeFileSync(join(dir, 'roster.config.yaml'), config);
    git(dir, 'commit', '-q', '-am', 'The portal as a target');
    const started = Date.now();
    const imported = await rosterAsync(
      [
        'import',
        '--from',
        'oneroster-api',
        `${sb.http.url}/ims/oneroster/v1p1`,
        '--client-id-env',
        'SIS_ID',
        '--client-secret-env',
        'SIS_SECRET',
        '--page-size',
        '10',
      ],
      { cwd: dir, env },
    );
    expect(imported.status, imported.stderr).toBe(0);
    // 25 requests a second and a 1 s token: the import waited, and renewed its token.
    const stats =
      /^Read (\d+) page\(s\) from the service; waited out its rate limit (\d+) time\(s\); renewed an expired token (\d+) time\(s\)\.$/m.exec(
        imported.stderr,
      );
    expect(stats, imported.stderr).not.toBeNull();
    expect(Number(stats![1])).toBeGreaterThan(25);
    expect(Number(stats![2])).toBeGreaterThan(0);
    expect(Number(stats![3])).toBeGreaterThan(0);
    expect(Date.now() - started).toBeGreaterThan(1000);
    expect(imported.stdout).toMatch(
      /^Imported 4 orgs, 3 academicSessions, \d+ courses, \d+ classes, \d+ users, \d+ enrollments, 30 demographics into roster/,
    );
    expect((await rosterAsync(['validate'], { cwd: dir })).status).toBe(0);
    const diff = await rosterAsync(['diff', source.dir, dir], { cwd: dir });
    expect(diff.stdout, diff.stdout.slice(0, 3000)).toContain('No differences.');
    const plan = await rosterAsync(['plan', '--target', 'portal', '--detailed-exitcode'], { cwd: dir, env });
    expect(plan.stdout).toContain('No changes.');
    expect(plan.status).toBe(0);

    // The same portal through the 1.2 API: the same records, with 1.2's roles.
    git(dir, 'add', '-A');
    git(dir, 'commit', '-q', '-m', 'Import 1.1');
    const v12 = await rosterAsync(
      [
        'import',
        '--from',
        'oneroster-api',
        `${sb.http.url}/ims/oneroster/rostering/v1p2`,
        '--client-id-env',
        'SIS_ID',
        '--client-secret-env',
        'SIS_SECRET',
        '--format',
        'csv',
      ],
      { cwd: dir, env },
    );
    expect(v12.status, v12.stderr).toBe(0);
    expect(v12.stdout).toMatch(/ \d+ roles, /);
    expect(readFileSync(join(dir, 'roster/manifest.csv'), 'utf8')).toContain('manifest.version,1.0');
    expect((await rosterAsync(['validate'], { cwd: dir })).stdout).toMatch(
      /^✔ valid: OneRoster 1\.2 \(oneroster-csv\)/,
    );
  }, 120_000);

  it('says which environment variable is missing, and what the service answered', async () => {
    const sb = await testSandbox();
    const dir = districtRepo({ students: 5 }).dir;
    const missing = await rosterAsync(
      [
        'import',
        '--from',
        'oneroster-api',
        `${sb.http.url}/ims/oneroster/v1p1`,
        '--client-id-env',
        'NOPE_ID',
        '--client-secret-env',
        'NOPE_SECRET',
      ],
      { cwd: dir },
    );
    expect(missing.status).toBe(64);
    expect(missing.stderr).toContain(
      'Error [SECRET_MISSING] the environment variable NOPE_ID (--client-id-env) is not set',
    );
    const refused = await rosterAsync(
      [
        'import',
        '--from',
        'oneroster-api',
        `${sb.http.url}/ims/oneroster/v1p1`,
        '--client-id-env',
        'ID',
        '--client-secret-env',
        'SECRET',
      ],
      { cwd: dir, env: { ID: 'reader', SECRET: 'wrong' } },
    );
    expect(refused.status).toBe(1);
    expect(refused.stderr).toMatch(
      /Error \[ONEROSTER_API_AUTH\] the token endpoint .*\/oauth\/token refused the client \(HTTP 401\)/,
    );
  });
});
