/** `roster apply` to real portals: OpenSSH sshd, the sandbox's SFTP landing zone and batch API. */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PortalStore } from '../../src/sandbox/store.js';
import { rosterAsync } from '../helpers/cli.js';
import { districtRepo } from '../helpers/repo.js';
import { PASSWORD, TOKEN, testSandbox } from '../helpers/sandbox.js';
import { startSshd } from '../helpers/sshd.js';

describe('apply through OpenSSH sshd', () => {
  it('delivers, then plans no changes, then a changed school file from the plan cache; a connection dropped mid-upload leaves nothing half-done', async () => {
    const sshd = await startSshd();
    const env = { ROSTER_SFTP_KEY: sshd.privateKey };
    const repo = districtRepo({
      git: false,
      students: 40,
      config: `roster: roster\ntargets:\n  - name: vendor # comment kept by trust-host\n    kind: sftp\n    host: 127.0.0.1\n    port: ${sshd.port}\n    username: ${sshd.username}\n    hostKey: "SHA256:${'A'.repeat(43)}"\n    auth: { privateKeyEnv: ROSTER_SFTP_KEY }\n    remoteDir: ${sshd.root}\n`,
    });
    // The pinned key is wrong: refused, with the real fingerprint in the message.
    const refused = await rosterAsync(['plan'], { cwd: repo.dir, env });
    expect(refused.status).toBe(1);
    expect(refused.stderr).toContain(
      `Error [HOST_KEY_MISMATCH] the host key of sftp://127.0.0.1:${sshd.port} is ${sshd.hostKeyFingerprint}`,
    );
    // trust-host pins it, keeping the file's comments.
    const trust = await rosterAsync(['trust-host', '127.0.0.1', '--port', String(sshd.port)], {
      cwd: repo.dir,
    });
    expect(trust.stdout).toContain(`host key ${sshd.hostKeyFingerprint}`);
    const config = readFileSync(join(repo.dir, 'roster.config.yaml'), 'utf8');
    expect(config).toContain(`hostKey: "${sshd.hostKeyFingerprint}"`);
    expect(config).toContain('# comment kept by trust-host');

    // A connection dropped mid-upload: the file is never renamed into place, the state not advanced.
    const killed = await rosterAsync(['apply', '--auto-approve'], {
      cwd: repo.dir,
      env: { ...env, ROSTER_FAULT: 'sftp:after-upload' },
    });
    expect(killed.status).toBeNull();
    expect(existsSync(join(sshd.root, 'OneRoster.zip'))).toBe(false);
    expect((await rosterAsync(['status'], { cwd: repo.dir, env })).stdout).toContain('never applied');
    expect((await rosterAsync(['unlock', 'vendor', '--force'], { cwd: repo.dir, env })).status).toBe(0);

    const applied = await rosterAsync(['apply', '--auto-approve'], { cwd: repo.dir, env });
    expect(applied.stderr).toBe('');
    expect(applied.stdout).toContain('Applied to target "vendor" (serial 1)');
    expect(existsSync(join(sshd.root, 'OneRoster.zip'))).toBe(true);
    expect(readdirSync(join(sshd.root, '.roster', 'vendor')).sort()).toEqual([
      'snapshot-000001.zip',
      'state-000001.json',
    ]);
    const again = await rosterAsync(['plan', '--detailed-exitcode'], { cwd: repo.dir, env });
    expect(again.status).toBe(0);
    // The apply left a plan cache: a school's file changed is planned from it, as in full.
    repo.edit('roster/schools/sch-002.yaml', /givenName: \w+/, 'givenName: Renamed');
    const quick = await rosterAsync(['plan', '--format', 'json'], { cwd: repo.dir, env });
    const full = await rosterAsync(['plan', '--format', 'json', '--full'], { cwd: repo.dir, env });
    expect(quick.stderr).toMatch(/^Compared only the 1 file\(s\) that changed/);
    const strip = (s: string) => s.replace(/"createdAt": "[^"]*"/, '');
    expect(strip(quick.stdout)).toBe(strip(full.stdout));
    expect(JSON.parse(quick.stdout).summary.update).toBe(1);
    const status = await rosterAsync(['status'], { cwd: repo.dir, env });
    expect(status.stdout).toContain('serial 1, applied');
    expect(status.stdout).toContain(`sftp://${sshd.username}@127.0.0.1:${sshd.port}`);
  });
});

/** A change made by hand at the portal: one row of the batch users file, posted to its batch API and processed. */
async function editByHand(url: string, row: string): Promise<void> {
  const form = new FormData();
  form.append(
    'users',
    new Blob([
      `action,org_sis_id,user_sis_id,role,username,firstName,lastName,userEmail,userGrade,class_sis_id,className,classGrade,course_sis_id,term_sis_id,primary_teacher\n${row}\n`,
    ]),
    'users.csv',
  );
  const { request } = await import('undici');
  const res = await request(`${url}/api/batch`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKEN}` },
    body: form as never,
  });
  expect(res.statusCode).toBe(202);
  await res.body.text();
  await new Promise((r) => setTimeout(r, 800)); // the job runs
}

/** Whether the sandbox portal now holds user `id`. */
async function portalHasUser(dataDir: string, id: string): Promise<boolean> {
  const users = (await new PortalStore(dataDir).current())!.table('users');
  for (let i = 0; i < users.size; i++) if (users.value(i, 'sourcedId') === id) return true;
  return false;
}

describe('a bulk sftp portal that reports what it holds', () => {
  it('a plan counts what the portal holds beyond our deliveries as removals, and holds a mass one', async () => {
    const sshd = await startSshd();
    const env = { ROSTER_SFTP_KEY: sshd.privateKey };
    const repo = districtRepo({
      git: false,
      students: 40,
      config: `roster: roster\ntargets:\n  - name: vendor\n    kind: sftp\n    host: 127.0.0.1\n    port: ${sshd.port}\n    username: ${sshd.username}\n    hostKey: "${sshd.hostKeyFingerprint}"\n    auth: { privateKeyEnv: ROSTER_SFTP_KEY }\n    remoteDir: ${sshd.root}\n    reportDir: outbox\n    reportWaitSeconds: 1\n`,
    });
    expect((await rosterAsync(['apply', '--auto-approve'], { cwd: repo.dir, env })).status).toBe(0);
    const state = JSON.parse(
      readFileSync(join(sshd.root, '.roster', 'vendor', 'state-000001.json'), 'utf8'),
    ) as { recordCounts: Record<string, number> };
    const users = state.recordCounts.users!;
    // This test plays the vendor: it took the delivery, and its nightly report says what it holds.
    const report = (sync: string, extra: number) => {
      mkdirSync(join(sshd.root, 'outbox'), { recursive: true });
      writeFileSync(
        join(sshd.root, 'outbox', `${sync}-report.json`),
        JSON.stringify({
          status: 'succeeded',
          counts: {},
          rejections: [],
          held: { ...state.recordCounts, users: users + extra },
        }),
      );
    };
    rmSync(join(sshd.root, 'OneRoster.zip'));
    report('20261206T010000Z-a', 2);
    repo.edit(
      'roster/schools/sch-001.yaml',
      /(sourcedId: stu-000002\n(?:.*\n)*?\s+familyName: )(\w+)/,
      '$1Changed',
    );
    const plan = await rosterAsync(['plan', '--format', 'json'], { cwd: repo.dir, env });
    expect(plan.stderr).toMatch(/^(Compared only the 1 file\(s\) that changed.*\n)?$/);
    const warning = JSON.parse(plan.stdout).warnings.find(
      (w: { code: string }) => w.code === 'PORTAL_REMOVES',
    );
    expect(warning.message).toBe(
      `The portal's last report says it holds ${users + 2} users, 2 more than roster-as-code delivered (added by hand at the portal, or by another feed): this bulk delivery makes the portal remove them.`,
    );
    expect(JSON.parse(plan.stdout).holds).toEqual([]);
    // A third of the users added by hand: removing them is a mass removal, held.
    report('20261206T020000Z-b', Math.ceil(users / 2));
    const text = await rosterAsync(['plan'], { cwd: repo.dir, env });
    expect(text.stdout).toMatch(
      /! MASS_DELETE: \d+ of \d+ users at the portal \(\d+(\.\d)?%\) would be removed, \d+ of them records roster-as-code never delivered/,
    );
    const held = await rosterAsync(['apply', '--auto-approve'], { cwd: repo.dir, env });
    expect(held.status).toBe(1);
    expect(held.stderr).toContain('Error [PLAN_HELD] the plan is held by 1 safety check(s): MASS_DELETE');
  });
});

describe('apply through the sandbox', () => {
  it('over SFTP with processing: waits for the report, then plans no changes', async () => {
    const sb = await testSandbox({ syncEvery: '300ms' });
    const repo = districtRepo({
      git: false,
      students: 40,
      config: `roster: roster\ntargets:\n  - name: portal\n    kind: sftp\n    host: 127.0.0.1\n    port: ${sb.sftp.port}\n    username: district\n    hostKey: "${sb.sftp.hostKeyFingerprint}"\n    auth: { passwordEnv: PORTAL_PASSWORD }\n    reportDir: outbox\n    reportWaitSeconds: 20\n`,
    });
    const env = { PORTAL_PASSWORD: PASSWORD };
    const applied = await rosterAsync(['apply', '--auto-approve'], { cwd: repo.dir, env });
    expect(applied.stderr).toBe('');
    expect(applied.status).toBe(0);
    const history = new PortalStore(sb.dataDir).history();
    expect(history[0]).toMatchObject({ status: 'succeeded', rejections: [] });
    expect((await rosterAsync(['plan', '--detailed-exitcode'], { cwd: repo.dir, env })).status).toBe(0);
    // Edit a student, apply again: the portal gets exactly that change.
    repo.edit(
      'roster/schools/sch-001.yaml',
      /(sourcedId: stu-000002\n(?:.*\n)*?\s+familyName: )(\w+)/,
      '$1Changed',
    );
    expect((await rosterAsync(['apply', '--auto-approve'], { cwd: repo.dir, env })).status).toBe(0);
    const [latest] = new PortalStore(sb.dataDir).history();
    expect(latest!.counts.users).toMatchObject({ updated: 1, created: 0, removed: 0 });
  });

  it('bulk over SFTP: the plan says the portal replaces what it holds; a teacher added by hand and removed by the portal is a warning in apply and status', async () => {
    const sb = await testSandbox({ syncEvery: '300ms' });
    const repo = districtRepo({
      git: false,
      students: 30,
      config: `roster: roster\ntargets:\n  - name: portal\n    kind: sftp\n    host: 127.0.0.1\n    port: ${sb.sftp.port}\n    username: district\n    hostKey: "${sb.sftp.hostKeyFingerprint}"\n    auth: { passwordEnv: PORTAL_PASSWORD }\n    reportDir: outbox\n    reportWaitSeconds: 20\n`,
    });
    const env = { PORTAL_PASSWORD: PASSWORD };
    const first = await rosterAsync(['apply', '--auto-approve'], { cwd: repo.dir, env });
    expect(first.stderr).toBe(''); // the report agrees with the plan: no warning
    // A teacher added by hand at the portal (its batch API), whom the district never sent.
    await editByHand(
      sb.http.url,
      'ADD,sch-001,tch-hand,teacher,hand.teacher,Hand,Teacher,hand.teacher@example.org,,,,,,,',
    );
    expect(await portalHasUser(sb.dataDir, 'tch-hand')).toBe(true);

    repo.edit(
      'roster/schools/sch-001.yaml',
      /(sourcedId: stu-000002\n(?:.*\n)*?\s+familyName: )(\w+)/,
      '$1Changed',
    );
    const plan = await rosterAsync(['plan'], { cwd: repo.dir, env });
    expect(plan.stdout).toContain('Plan: 0 to add, 1 to change, 0 to remove.');
    expect(plan.stdout).toContain(
      'Warning: This target takes bulk deliveries: the portal replaces every kind of record the delivery carries',
    );
    const applied = await rosterAsync(['apply', '--auto-approve'], { cwd: repo.dir, env });
    expect(applied.status, applied.stderr).toBe(0);
    expect(applied.stderr).toContain(
      "Warning: the portal's report differs from the plan: users: the portal removed 1 (the plan: 0): it removed records roster-as-code never delivered",
    );
    expect(await portalHasUser(sb.dataDir, 'tch-hand')).toBe(false);
    const status = await rosterAsync(['status'], { cwd: repo.dir, env });
    expect(status.stdout).toContain(
      "warning: the portal's report differed from the plan: users: the portal removed 1",
    );
  });

  it('over the batch API: delivers the two files; a change made by hand in the portal shows up as drift', async () => {
    const sb = await testSandbox();
    const repo = districtRepo({
      git: false,
      students: 30,
      config: `roster: roster\ntargets:\n  - name: batch\n    kind: batch\n    url: ${sb.http.url}\n    tokenEnv: PORTAL_TOKEN\n`,
    });
    const env = { PORTAL_TOKEN: TOKEN };
    // Before the portal knows the district's schools and terms, the plan says what it would refuse.
    const early = JSON.parse(
      (await rosterAsync(['plan', '--format', 'json'], { cwd: repo.dir, env })).stdout,
    );
    const refusals = early.warnings.filter((w: { code: string }) => w.code === 'PORTAL_REFUSES');
    expect(refusals.map((w: { message: string }) => w.message.split(':')[0]).sort()).toEqual([
      'the portal has no org sch-001',
      'the portal has no org sch-002',
      'the portal has no org sch-003',
      'the portal has no term sy-2026-fall',
      'the portal has no term sy-2026-spring',
    ]);
    expect(refusals[0].message).toMatch(
      /^the portal has no org sch-001: \d+ users, \d+ classes, \d+ enrollments in this plan go to it and would be refused\. Deliver orgs first/,
    );
    // Every change is tagged with its school, users and demographics too.
    expect(early.changes.filter((c: { school?: string }) => !c.school)).toEqual([]);
    // The portal knows the district's schools, sessions and courses (the batch files carry people and classes).
    const seed = await rosterAsync(
      ['convert', 'roster', '--to', 'oneroster-1.1', '--out', join(sb.dataDir, 'landing', 'district', 'pkg')],
      { cwd: repo.dir },
    );
    expect(seed.status).toBe(0);
    const landing = join(sb.dataDir, 'landing', 'district');
    for (const f of readdirSync(join(landing, 'pkg')))
      writeFileSync(join(landing, f), readFileSync(join(landing, 'pkg', f)));
    const { rmSync } = await import('node:fs');
    rmSync(join(landing, 'pkg'), { recursive: true });
    writeFileSync(
      join(landing, 'manifest.csv'),
      'propertyName,value\nmanifest.version,1.0\noneroster.version,1.1\nfile.orgs,bulk\nfile.academicSessions,bulk\nfile.courses,bulk\n',
    );
    for (const f of ['users.csv', 'classes.csv', 'enrollments.csv', 'demographics.csv'])
      rmSync(join(landing, f));
    expect((await sb.sync())[0]).toMatchObject({ status: 'succeeded' });

    const applied = await rosterAsync(['apply', '--auto-approve'], { cwd: repo.dir, env });
    expect(applied.stderr).toBe('');
    expect(applied.status).toBe(0);
    expect((await rosterAsync(['plan', '--detailed-exitcode'], { cwd: repo.dir, env })).status).toBe(0);

    // Someone renames a student by hand in the portal.
    await editByHand(
      sb.http.url,
      'ADD,sch-001,stu-000003,student,handmade,Hand,Made,hand.made@example.org,KG,,,,,,',
    );
    const drift = await rosterAsync(['plan', '--format', 'json'], { cwd: repo.dir, env });
    const plan = JSON.parse(drift.stdout);
    expect(plan.changes).toHaveLength(1);
    expect(plan.changes[0]).toMatchObject({ action: 'update', entity: 'users', key: 'stu-000003' });
    expect(plan.changes[0].fields.map((f: { name: string }) => f.name).sort()).toEqual([
      'email',
      'familyName',
      'givenName',
      'username',
    ]);

    // export: exactly what the target would receive now.
    const out = join(repo.dir, 'upload');
    const exported = await rosterAsync(['export', '--format', 'batch', '--out', out], { cwd: repo.dir, env });
    expect(exported.status).toBe(0);
    expect(readFileSync(join(out, 'users.csv'), 'utf8')).toMatch(/^ADD,sch-001,stu-000003,student,/m);
  });
});

describe('records the portal rejects', () => {
  it('are listed by status and sent again by the next plan', async () => {
    const sb = await testSandbox({ syncEvery: '300ms' });
    // The policy withholds a field the portal requires: it rejects those users.
    const repo = districtRepo({
      git: false,
      students: 12,
      config: `roster: roster\ntargets:\n  - name: portal\n    kind: sftp\n    host: 127.0.0.1\n    port: ${sb.sftp.port}\n    username: district\n    hostKey: "${sb.sftp.hostKeyFingerprint}"\n    auth: { passwordEnv: PORTAL_PASSWORD }\n    reportDir: outbox\n    reportWaitSeconds: 20\n    policy:\n      share: { withhold: { users: [username] } }\n`,
    });
    const env = { PORTAL_PASSWORD: PASSWORD };
    const applied = await rosterAsync(['apply', '--auto-approve'], { cwd: repo.dir, env });
    expect(applied.status).toBe(0);
    expect(applied.stderr).toMatch(/Warning: the portal rejected \d+ record\(s\)/);
    const status = await rosterAsync(['status'], { cwd: repo.dir, env });
    expect(status.stdout).toContain(
      'rejected: users stf-00001  VALUE_REQUIRED  username is required in users.csv',
    );
    const planned = await rosterAsync(['plan', '--format', 'json'], { cwd: repo.dir, env });
    expect(planned.stderr).toBe('');
    const plan = JSON.parse(planned.stdout);
    expect(plan.warnings.map((w: { code: string }) => w.code)).toContain('RETRY_REJECTED');
    expect(
      plan.changes.filter(
        (c: { entity: string; action: string }) => c.entity === 'users' && c.action === 'create',
      ).length,
    ).toBeGreaterThan(10);
  });
});
