/**
 * Personal data and secrets never reach output where policy says none: a student's names,
 * username, identifier, e-mail and phone carry a marker, a secret carries another, and every
 * command, format and file a user or a CI log sees is searched for them. `--show-personal-data`
 * shows the personal ones (so the search can find a marker when it is there).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buffer } from 'node:stream/consumers';
import { describe, expect, it } from 'vitest';
import { Diagnostics } from '../../src/diagnostic.js';
import { zipFiles } from '../../src/formats/package-files.js';
import { type CliResult, roster, rosterAsync } from '../helpers/cli.js';
import { districtRepo } from '../helpers/repo.js';
import { PASSWORD, testSandbox } from '../helpers/sandbox.js';

const MARK = /zq9marker/i;
const SECRET = 'zq9secret-0123456789';
const STUDENT =
  /(sourcedId: stu-000002\n\s+enabledUser: true\n)(\s+)username: \S+\n\s+userIds: .*\n\s+givenName: \S+\n\s+familyName: \S+\n\s+identifier: \S+\n\s+email: \S+\n/;

/** A district repo whose student stu-000002 carries the marker in every personal field. */
function markedRepo(config?: string) {
  const repo = districtRepo({ students: 30, ...(config ? { config } : {}) });
  repo.edit(
    'roster/schools/sch-001.yaml',
    STUDENT,
    '$1$2username: zq9marker.user\n$2userIds: ["{SIS:0100002}"]\n$2givenName: Zq9markerGiven\n$2familyName: Zq9markerFamily\n$2identifier: ZQ9MARKER-ID\n$2email: zq9marker@students.example.org\n$2phone: "zq9marker-555"\n',
  );
  repo.commit('Marked student');
  return repo;
}

function clean(what: string, r: CliResult | string): void {
  const text = typeof r === 'string' ? r : `${r.stdout}\n${r.stderr}`;
  expect(text, what).not.toMatch(MARK);
  expect(text, what).not.toContain(SECRET);
}

async function zipText(path: string): Promise<string> {
  const files = await zipFiles(path, new Diagnostics());
  let out = '';
  for (const name of files.names) out += (await buffer(files.open(name))).toString('utf8');
  await files.close();
  return out;
}

describe('personal data and secrets in every output', () => {
  it('plan, apply, status, diff, validate and their files mask personal data; DEBUG logs too', async () => {
    const repo = markedRepo();
    const debug = { DEBUG: 'roster' };
    // (Commands that change nothing run at once.)
    const formats = ['text', 'markdown', 'json'];
    const plans = await Promise.all(
      formats.map((format) => rosterAsync(['plan', '--format', format], { cwd: repo.dir, env: debug })),
    );
    for (const [k, r] of plans.entries()) clean(`plan --format ${formats[k]}`, r);
    expect(roster(['plan', '--out', 'plan.json'], { cwd: repo.dir }).status).toBe(0);
    clean('plan file', readFileSync(join(repo.dir, 'plan.json'), 'utf8'));
    clean('apply', roster(['apply', 'plan.json'], { cwd: repo.dir, env: debug }));
    clean('state', readFileSync(join(repo.target, 'current', 'state.json'), 'utf8'));
    const statuses = await Promise.all(
      ['text', 'json'].map((format) => rosterAsync(['status', '--format', format], { cwd: repo.dir })),
    );
    for (const [k, r] of statuses.entries()) clean(`status --format ${['text', 'json'][k]}`, r);
    // (The delivery itself carries them: that is what it is for.)
    expect(await zipText(join(repo.target, 'current', 'OneRoster.zip'))).toMatch(MARK);

    // A change to the marked student, in a diff and a plan.
    repo.edit('roster/schools/sch-001.yaml', 'Zq9markerGiven', 'Zq9markerRenamed');
    repo.commit('Rename');
    const [diffs, updates] = await Promise.all([
      Promise.all(
        formats.map((f) => rosterAsync(['diff', 'HEAD~1..HEAD', '--format', f], { cwd: repo.dir })),
      ),
      Promise.all(formats.map((f) => rosterAsync(['plan', '--format', f], { cwd: repo.dir }))),
    ]);
    formats.forEach((format, k) => {
      clean(`diff --format ${format}`, diffs[k]!);
      clean(`plan --format ${format} (update)`, updates[k]!);
    });
    // Asked for, they show: the search above would have found them.
    expect(roster(['plan', '--show-personal-data'], { cwd: repo.dir }).stdout).toMatch(MARK);

    // Diagnostics on the marked fields give the place and the field, never the value.
    repo.edit('roster/schools/sch-001.yaml', 'zq9marker@students.example.org', 'zq9marker-at-example');
    repo.edit('roster/schools/sch-001.yaml', /(stu-000002[\s\S]*?birthDate: )\S+/, '$1zq9marker-date');
    const checks = ['text', 'json', 'github'];
    const validations = await Promise.all(
      checks.map((format) => rosterAsync(['validate', '--format', format], { cwd: repo.dir, env: debug })),
    );
    for (const [k, format] of checks.entries()) {
      const r = validations[k]!;
      expect(r.status).toBe(1);
      expect(r.stdout).toContain('VALUE_EMAIL');
      expect(r.stdout).toContain('VALUE_DATE');
      clean(`validate --format ${format}`, r);
    }
    const refused = roster(['plan'], { cwd: repo.dir, env: debug });
    expect(refused.status).toBe(1);
    clean('plan of an invalid roster', refused);
  });

  it('a secret never shows in errors, DEBUG logs or status, and a sandbox portal reports no personal data', async () => {
    const sb = await testSandbox();
    const repo = markedRepo(
      `roster: roster\ntargets:\n  - name: portal\n    kind: sftp\n    host: 127.0.0.1\n    port: ${sb.sftp.port}\n    username: district\n    hostKey: "${sb.sftp.hostKeyFingerprint}"\n    auth: { passwordEnv: PORTAL_PASSWORD }\n  - name: closed\n    kind: batch\n    url: http://127.0.0.1:9\n    tokenEnv: CLOSED_TOKEN\n    retries: 0\n`,
    );
    const env = { PORTAL_PASSWORD: PASSWORD, CLOSED_TOKEN: SECRET, DEBUG: 'roster' };
    // A refused connection, with the token in the environment and DEBUG on.
    const failed = await rosterAsync(['plan', '--target', 'closed'], { cwd: repo.dir, env });
    expect(failed.status).toBe(1);
    clean('a failed batch plan', failed);
    // A wrong password, then the right one.
    const wrong = await rosterAsync(['plan', '--target', 'portal'], {
      cwd: repo.dir,
      env: { ...env, PORTAL_PASSWORD: SECRET },
    });
    expect(wrong.stderr).toContain('SFTP_AUTH_FAILED');
    clean('a refused sftp login', wrong);
    const applied = await rosterAsync(['apply', '--auto-approve', '--target', 'portal'], {
      cwd: repo.dir,
      env,
    });
    expect(applied.status, applied.stderr).toBe(0);
    clean('apply over sftp', applied);
    clean('status', await rosterAsync(['status'], { cwd: repo.dir, env }));
    const [sync] = await sb.sync();
    expect(sync).toMatchObject({ status: 'succeeded' });
    const outbox = join(sb.dataDir, 'landing', 'district', 'outbox');
    for (const f of readdirSync(outbox)) clean(`sandbox report ${f}`, readFileSync(join(outbox, f), 'utf8'));
    const page = await fetch(`${sb.http.url}/`);
    clean('sandbox status page', await page.text());
  });
});
