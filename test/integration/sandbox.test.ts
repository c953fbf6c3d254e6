/**
 * The sandbox over real sockets on 127.0.0.1: SFTP (ssh2-sftp-client and OpenSSH's sftp), the
 * batch API and the OneRoster REST API (undici), SMTP (smtp-server), the status page.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { SMTPServer } from 'smtp-server';
import SftpClient from 'ssh2-sftp-client';
import { FormData, request } from 'undici';
import { describe, expect, it } from 'vitest';
import { writeOneRosterZip } from '../../src/formats/oneroster-csv/write.js';
import { generateDistrict } from '../../src/generate/generate.js';
import { RosterBuilder } from '../../src/model/roster.js';
import { loadSandboxConfig } from '../../src/sandbox/config.js';
import { PortalStore } from '../../src/sandbox/store.js';
import { BIN } from '../helpers/cli.js';
import { csv, package11, tempDir, writeTree } from '../helpers/fixtures.js';
import { PASSWORD, TOKEN, testSandbox } from '../helpers/sandbox.js';

async function sftpClient(port: number, user = 'district', password = PASSWORD): Promise<SftpClient> {
  const client = new SftpClient();
  await client.connect({ host: '127.0.0.1', port, username: user, password, readyTimeout: 10_000 });
  return client;
}

async function api(
  url: string,
  path: string,
  init: { method?: 'GET' | 'POST'; token?: string | null; body?: FormData } = {},
) {
  const res = await request(`${url}${path}`, {
    method: init.method ?? 'GET',
    headers: init.token === null ? {} : { authorization: `Bearer ${init.token ?? TOKEN}` },
    ...(init.body ? { body: init.body } : {}),
  });
  const text = await res.body.text();
  return { status: res.statusCode, headers: res.headers, text, json: () => JSON.parse(text) };
}

function spawnAsync(
  cmd: string,
  args: string[],
  cwd: string,
  input: string,
): Promise<{ status: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill(), 30_000);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stderr });
    });
    child.stdin.end(input);
  });
}

async function zipOf(roster: ReturnType<typeof generateDistrict>): Promise<string> {
  const file = join(tempDir(), 'OneRoster.zip');
  await writeOneRosterZip(roster, file);
  return file;
}

describe('sandbox: SFTP landing zone and syncs', () => {
  it('takes an upload by password (ssh2-sftp-client), syncs on demand, and writes the report to the outbox', async () => {
    const sb = await testSandbox();
    const roster = generateDistrict({ schools: 2, students: 30, seed: 'sbx' });
    const client = await sftpClient(sb.sftp.port);
    await client.put(await zipOf(roster), '/OneRoster.zip.part');
    await client.rename('/OneRoster.zip.part', '/OneRoster.zip');
    const res = await api(sb.http.url, '/api/sync', { method: 'POST' });
    expect(res.status).toBe(200);
    const [report] = res.json().syncs;
    expect(report).toMatchObject({ status: 'succeeded', files: ['OneRoster.zip'], rejections: [] });
    expect(report.counts.users).toEqual({
      created: roster.table('users').size,
      updated: 0,
      unchanged: 0,
      removed: 0,
      rejected: 0,
    });
    const outbox = (await client.list('/outbox')).map((f) => f.name).sort();
    expect(outbox).toEqual([`${report.sync}-report.csv`, `${report.sync}-report.json`]);
    const json = JSON.parse((await client.get(`/outbox/${report.sync}-report.json`)).toString());
    expect(json.counts.enrollments.created).toBe(roster.table('enrollments').size);
    // What the portal holds after the sync (a bulk sender compares it with what it delivered).
    expect(json.held).toMatchObject({ users: roster.table('users').size, orgs: roster.table('orgs').size });
    expect((await client.list('/')).map((f) => f.name)).toEqual(['outbox']); // the package was taken
    await client.end();
    // Nothing left to sync.
    expect((await api(sb.http.url, '/api/sync', { method: 'POST' })).json().syncs).toEqual([]);
  });

  it("takes an upload by public key with OpenSSH's sftp", async () => {
    const sb = await testSandbox();
    const dir = writeTree(tempDir(), package11() as Record<string, string>);
    const script = `${['manifest.csv', 'orgs.csv', 'academicSessions.csv', 'courses.csv', 'classes.csv', 'users.csv', 'enrollments.csv', 'demographics.csv'].map((f) => `put ${f}`).join('\n')}\n`;
    // Asynchronous: the server runs in this process, so a blocking spawnSync would starve it.
    const r = await spawnAsync(
      'sftp',
      [
        '-q',
        '-b',
        '-',
        '-i',
        sb.keyFile,
        '-o',
        'StrictHostKeyChecking=no',
        '-o',
        'UserKnownHostsFile=/dev/null',
        '-o',
        'BatchMode=yes',
        '-P',
        String(sb.sftp.port),
        'keyuser@127.0.0.1',
      ],
      dir,
      script,
    );
    expect(r.status, r.stderr).toBe(0);
    const [sync] = await sb.sync();
    expect(sync).toMatchObject({ status: 'succeeded', user: 'keyuser' });
    expect(sync!.counts.users?.created).toBe(3);
  });

  it('bulk replaces, delta adds, updates and removes', async () => {
    const sb = await testSandbox();
    const store = new PortalStore(sb.dataDir);
    const first = generateDistrict({ schools: 1, students: 10, seed: 'b' });
    writeTree(store.landingDir('district'), { 'OneRoster.zip': readFileSync(await zipOf(first)) });
    await sb.sync();
    // Bulk: the same district without stu-000010 and its enrollments and demographics.
    const b = new RosterBuilder('1.1');
    for (const e of first.entities())
      for (const r of first.table(e))
        if (r.sourcedId !== 'stu-000010' && r.userSourcedId !== 'stu-000010') b.addNormalized(e, r);
    writeTree(store.landingDir('district'), { 'OneRoster.zip': readFileSync(await zipOf(b.build())) });
    const [bulk] = await sb.sync();
    expect(bulk!.counts.users).toMatchObject({ removed: 1, unchanged: first.table('users').size - 1 });
    expect(bulk!.counts.demographics).toMatchObject({ removed: 1 });
    // Delta: remove one student, rename another, add a third; untouched records stay.
    const manifest = csv(
      'propertyName,value',
      'manifest.version,1.0',
      'oneroster.version,1.1',
      'file.users,delta',
      'file.orgs,absent',
      'file.enrollments,absent',
    );
    const users = csv(
      'sourcedId,status,dateLastModified,enabledUser,orgSourcedIds,role,username,userIds,givenName,familyName,middleName,identifier,email,sms,phone,agentSourcedIds,grades,password',
      'stu-000001,tobedeleted,2026-03-01T00:00:00.000Z,true,sch-001,student,x,,X,Y,,,,,,,KG,',
      'stu-000002,active,2026-03-01T00:00:00.000Z,true,sch-001,student,new.name,,New,Name,,,,,,,KG,',
      'stu-000099,active,2026-03-01T00:00:00.000Z,true,sch-001,student,added,,Add,Ed,,,,,,,KG,',
    );
    writeTree(store.landingDir('district'), { 'manifest.csv': manifest, 'users.csv': users });
    const [delta] = await sb.sync();
    expect(delta!.status).toBe('succeeded');
    expect(delta!.counts.users).toEqual({ created: 1, updated: 1, unchanged: 0, removed: 1, rejected: 0 });
    const now = await store.current();
    expect(now!.table('users').size).toBe(first.table('users').size - 1); // -1 bulk, -1 +1 delta
    expect(now!.table('enrollments').size).toBe(b.build().table('enrollments').size); // absent: kept
  });

  it('rejects bad records and applies the rest; reports each with file, line and code', async () => {
    const sb = await testSandbox();
    const p = package11();
    const users = p['users.csv']!.toString().replace('u2,,,true', 'u2,,,TRUE');
    writeTree(new PortalStore(sb.dataDir).landingDir('district'), { ...p, 'users.csv': users });
    const [sync] = await sb.sync();
    expect(sync).toMatchObject({ status: 'succeeded' });
    expect(sync!.counts.users).toMatchObject({ created: 2, rejected: 1 });
    expect(sync!.rejections).toContainEqual(
      expect.objectContaining({ file: 'users.csv', line: 4, code: 'VALUE_BOOLEAN', recordId: 'u2' }),
    );
    const csvReport = readFileSync(
      join(sb.dataDir, 'landing/district/outbox', `${sync!.id}-report.csv`),
      'utf8',
    );
    expect(csvReport).toContain('rejection,,,,,,,users.csv,4,u2,enabledUser,VALUE_BOOLEAN,');
  });

  it.each([
    ['a broken zip', { 'OneRoster.zip': 'PK\u0003\u0004 not really' }, 'ZIP_INVALID'],
    ['a package without manifest', { 'users.csv': package11()['users.csv']!.toString() }, 'MANIFEST_MISSING'],
    [
      'a bulk file promised but missing',
      { ...package11({ 'demographics.csv': null }) },
      'MANIFEST_FILE_MISSING',
    ],
    ['a file that is not zip or CSV', { 'roster.xlsx': 'not csv' }, 'UPLOAD_REJECTED'],
  ])('rejects %s as a whole and changes nothing', async (_name, files, code) => {
    const sb = await testSandbox();
    const store = new PortalStore(sb.dataDir);
    writeTree(store.landingDir('district'), package11() as Record<string, string>);
    await sb.sync();
    const before = readFileSync(store.currentFile);
    writeTree(store.landingDir('district'), files as Record<string, string>);
    const [sync] = await sb.sync();
    expect(sync!.status).toBe('rejected');
    expect(sync!.rejections.map((r) => r.code)).toContain(code);
    expect(readFileSync(store.currentFile).equals(before)).toBe(true);
  });

  it('refuses zip-slip paths and zip bombs', async () => {
    const sb = await testSandbox({ limits: { maxExpandedBytes: 100_000 } });
    const landing = new PortalStore(sb.dataDir).landingDir('district');
    const craft = (name: string, entries: Record<string, string>) => {
      const dir = tempDir();
      writeTree(dir, { 'e.json': JSON.stringify(entries) });
      execFileSync('python3', [
        '-c',
        'import sys,zipfile,json\nz=zipfile.ZipFile(sys.argv[1],"w",zipfile.ZIP_DEFLATED)\nfor k,v in json.load(open(sys.argv[2])).items(): z.writestr(k,v)\nz.close()',
        join(landing, name),
        join(dir, 'e.json'),
      ]);
    };
    craft('OneRoster.zip', { ...(package11() as Record<string, string>), '../../escape.csv': 'x' });
    const [slip] = await sb.sync();
    expect(slip!.rejections.map((r) => r.code)).toContain('ZIP_UNSAFE_PATH');
    expect(existsSync(join(sb.dataDir, 'escape.csv'))).toBe(false);
    craft('OneRoster.zip', { 'manifest.csv': 'x'.repeat(5_000_000) });
    const [bomb] = await sb.sync();
    expect(bomb!.status).toBe('rejected');
    expect(bomb!.rejections.map((r) => r.code)).toEqual(['ZIP_TOO_LARGE']);
  });

  it('refuses an upload over the size limit, and removes it', async () => {
    const sb = await testSandbox({ limits: { maxUploadBytes: 50_000 } });
    const client = await sftpClient(sb.sftp.port);
    // The server refuses the write and drops the connection (clients differ in how they report it).
    await client.put(Buffer.alloc(200_000, 'a'), '/OneRoster.zip').catch(() => undefined);
    await client.end().catch(() => undefined);
    await new Promise((r) => setTimeout(r, 200));
    expect(readdirSync(join(sb.dataDir, 'landing/district'))).toEqual(['outbox']);
    expect(await sb.sync()).toEqual([]);
  });

  it('refuses wrong credentials, and slows down repeated failures', async () => {
    const sb = await testSandbox();
    const times: number[] = [];
    for (let i = 0; i < 4; i++) {
      const started = Date.now();
      await expect(sftpClient(sb.sftp.port, 'district', 'wrong')).rejects.toThrow(/authentication/i);
      times.push(Date.now() - started);
    }
    expect(times[3]! - times[0]!).toBeGreaterThanOrEqual(200);
    await expect(sftpClient(sb.sftp.port, 'nobody', PASSWORD)).rejects.toThrow(/authentication/i);
  });

  it('never processes a partial upload: a file still open waits, a dropped one is removed', async () => {
    const sb = await testSandbox();
    const client = await sftpClient(sb.sftp.port);
    const stream = client.createWriteStream('/OneRoster.zip');
    await new Promise<void>((r) => stream.write(Buffer.alloc(10_000, 'x'), () => r()));
    expect(existsSync(join(sb.dataDir, 'landing/district/OneRoster.zip'))).toBe(true);
    expect(await sb.sync()).toEqual([]); // still open: left alone
    // The client disconnects abruptly mid-upload.
    (client as unknown as { client: { end(): void } }).client.end();
    await new Promise((r) => setTimeout(r, 300));
    expect(existsSync(join(sb.dataDir, 'landing/district/OneRoster.zip'))).toBe(false);
    expect(await sb.sync()).toEqual([]);
  });

  it.each([
    ['sandbox:before-commit', 'interrupted', false],
    ['sandbox:after-commit', 'succeeded', true],
  ])('a sync killed at %s is recovered as %s; the store is consistent', async (point, status, committed) => {
    const dataDir = tempDir('roster-sandbox-');
    const sb = await testSandbox({ dataDir });
    await sb.close();
    const store = new PortalStore(dataDir);
    writeTree(store.landingDir('district'), package11() as Record<string, string>);
    const killed = spawnSync(process.execPath, [BIN, 'sandbox', 'sync', '--data', dataDir], {
      env: { ...process.env, ROSTER_FAULT: point },
      encoding: 'utf8',
    });
    expect(killed.status).toBeNull();
    expect(existsSync(store.currentFile)).toBe(committed);
    const restarted = await testSandbox({ dataDir });
    const [record] = store.history();
    expect(record).toMatchObject({ status });
    if (committed) expect((await store.current())!.table('users').size).toBe(3);
    await restarted.close();
  });

  it('syncs on a schedule', async () => {
    const sb = await testSandbox({ syncEvery: '200ms' });
    writeTree(new PortalStore(sb.dataDir).landingDir('district'), package11() as Record<string, string>);
    const store = new PortalStore(sb.dataDir);
    for (let i = 0; i < 50 && store.history()[0]?.status !== 'succeeded'; i++)
      await new Promise((r) => setTimeout(r, 100));
    expect(store.history()[0]).toMatchObject({ status: 'succeeded' });
  });

  it('keeps its data across restarts and shows it on the status page', async () => {
    const dataDir = tempDir('roster-sandbox-');
    const first = await testSandbox({ dataDir });
    writeTree(new PortalStore(dataDir).landingDir('district'), package11() as Record<string, string>);
    const [sync] = await first.sync();
    await first.close();
    const second = await testSandbox({ dataDir });
    const page = await request(`${second.http.url}/`);
    const html = await page.body.text();
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toContain('text/html');
    expect(html).toContain(sync!.id);
    expect(html).toMatch(/<td>users<\/td><td class="n">3<\/td>/);
    expect(html).not.toContain('<script');
  });
});

describe('sandbox: configuration', () => {
  it('writes a config with random secrets on first start, and reuses it', () => {
    const data = tempDir();
    const first = loadSandboxConfig(data);
    expect(first.created).toBe(true);
    expect(first.config.sftp.users[0]!.password).toMatch(/^\S{20,}$/);
    expect(first.config.http.tokens[0]).toMatch(/^\S{20,}$/);
    expect(statSync(first.path).mode & 0o777).toBe(0o600);
    const again = loadSandboxConfig(data);
    expect(again.created).toBe(false);
    expect(again.config).toEqual(first.config);
  });

  it('refuses an invalid config with a clear error', () => {
    const data = writeTree(tempDir(), { 'sandbox.yaml': 'sftp: { users: [] }\nhttp: { tokens: [short] }\n' });
    expect(() => loadSandboxConfig(data)).toThrow(
      /sandbox\.yaml is not valid: \/sftp\/users must NOT have fewer than 1 items/,
    );
  });
});

describe('sandbox: batch API', () => {
  const USERS =
    'action,org_sis_id,user_sis_id,role,username,firstName,lastName,userEmail,userGrade,class_sis_id,className,classGrade,course_sis_id,term_sis_id,primary_teacher';

  async function seeded() {
    const sb = await testSandbox();
    writeTree(new PortalStore(sb.dataDir).landingDir('district'), package11() as Record<string, string>);
    await sb.sync();
    return sb;
  }

  async function upload(url: string, users: string, demographics?: string, token?: string) {
    const form = new FormData();
    form.append('users', new Blob([users], { type: 'text/csv' }), 'users.csv');
    if (demographics)
      form.append('demographics', new Blob([demographics], { type: 'text/csv' }), 'demographics.csv');
    return api(url, '/api/batch', { method: 'POST', body: form, ...(token !== undefined ? { token } : {}) });
  }

  async function finished(url: string, id: string) {
    for (let i = 0; i < 100; i++) {
      const job = (await api(url, `/api/batch/${id}`)).json();
      if (job.status === 'succeeded' || job.status === 'failed') return job;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error('job did not finish');
  }

  it('adds and enrolls, reports, and lists bad rows in an errors file', async () => {
    const sb = await seeded();
    const users = csv(
      USERS,
      'ADD,s1,u9,student,dan.ko,Dan,Ko,dan.ko@students.springfield.example,03,k1,Math 3A,03,,,',
      'ADD,s1,t9,teacher,eve.x,Eve,X,eve.x@springfield.example,,k2,Science 3,03,,fall25,true',
      'ADD,s9,u10,student,z,Z,Z,,03,,,,,,',
      'DROP,s1,u2,,,,,,,k1,,,,,',
      'ADD,s1,u11,student,y,Y,Y,not-an-email,03,,,,,,',
    );
    const demo = csv(
      'user_sis_id,birthDate,sex,americanIndianOrAlaskaNative,asian,blackOrAfricanAmerican,nativeHawaiianOrOtherPacificIslander,white,demographicRaceTwoOrMoreRaces,hispanicOrLatinoEthnicity',
      'u9,2017-02-03,female,false,false,false,false,true,false,false',
    );
    const res = await upload(sb.http.url, users, demo);
    expect(res.status).toBe(202);
    const { id } = res.json();
    const job = await finished(sb.http.url, id);
    expect(job).toMatchObject({ status: 'succeeded', errors: 2 });
    const report = (await api(sb.http.url, `/api/batch/${id}/report`)).json();
    const ajv = new Ajv({ strict: false });
    ajv.addSchema(JSON.parse(readFileSync('schemas/batch-api.openapi.json', 'utf8')), 'openapi');
    const validReport = ajv.getSchema('openapi#/components/schemas/Report')!;
    expect(validReport(report), JSON.stringify(validReport.errors)).toBe(true);
    const validJob = ajv.getSchema('openapi#/components/schemas/Job')!;
    expect(validJob(job), JSON.stringify(validJob.errors)).toBe(true);
    expect(report.counts.users).toMatchObject({ created: 2 });
    expect(report.counts.enrollments).toMatchObject({ created: 2, removed: 1 });
    expect(report.counts.classes).toMatchObject({ created: 1 });
    expect(report.counts.demographics).toMatchObject({ created: 1 });
    const errors = (await api(sb.http.url, `/api/batch/${id}/errors.csv`)).text;
    expect(errors.split('\n')[0]).toBe('file,line,action,user_sis_id,class_sis_id,error');
    expect(errors).toContain('users.csv,4,ADD,u10,,"org_sis_id ""s9"" is not an org of the portal"');
    expect(errors).toContain('users.csv,6,ADD,u11,,email is not an e-mail address');
    expect(errors).not.toMatch(/not-an-email|Dan|Eve/);
    const exported = (await api(sb.http.url, '/api/export/users.csv')).text;
    expect(exported.split('\n')[0]).toBe(USERS);
    expect(exported).toMatch(/^ADD,s1,u9,student,dan\.ko,Dan,Ko,.*,k1,Math 3A,03,c1,fall25,$/m);
    expect((await api(sb.http.url, '/api/export/demographics.csv')).text).toContain('u9,2017-02-03,female');
  });

  it('fails a whole upload with a wrong header', async () => {
    const sb = await seeded();
    const res = await upload(
      sb.http.url,
      csv(USERS.replace('userEmail', 'UserEmail'), 'ADD,s1,u9,student,a,A,B,,03,,,,,,'),
    );
    const job = await finished(sb.http.url, res.json().id);
    expect(job.status).toBe('failed');
    expect(job.problems).toEqual([
      'users.csv: missing column "userEmail" (headers are case-sensitive)',
      'users.csv: unexpected column "UserEmail"',
    ]);
  });

  it('answers a wrong or missing token with a bare 401', async () => {
    const sb = await testSandbox();
    for (const token of [null, 'wrong-token']) {
      const r = await api(sb.http.url, '/api/syncs', { token });
      expect(r.status).toBe(401);
      expect(r.text).toBe('');
    }
    expect((await upload(sb.http.url, 'x', undefined, 'nope')).status).toBe(401);
  });
});

describe('sandbox: OneRoster REST API', () => {
  async function token(url: string) {
    const res = await request(`${url}/oauth/token`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from('reader:reader-secret-123').toString('base64')}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: 'grant_type=client_credentials',
    });
    expect(res.statusCode).toBe(200);
    return ((await res.body.json()) as { access_token: string }).access_token;
  }

  it('pages through every user, 1.1 and 1.2, with X-Total-Count and Link headers', async () => {
    const sb = await testSandbox();
    const roster = generateDistrict({ schools: 2, students: 45, seed: 'rest', version: '1.2' });
    writeTree(new PortalStore(sb.dataDir).landingDir('district'), {
      'OneRoster.zip': readFileSync(await zipOf(roster)),
    });
    await sb.sync();
    const t = await token(sb.http.url);
    for (const base of ['/ims/oneroster/v1p1', '/ims/oneroster/rostering/v1p2']) {
      const seen: string[] = [];
      let next: string | undefined = `${sb.http.url}${base}/users?limit=7`;
      let total = 0;
      while (next) {
        const res: Awaited<ReturnType<typeof request>> = await request(next, {
          headers: { authorization: `Bearer ${t}` },
        });
        const body = (await res.body.json()) as { users: { sourcedId: string }[] };
        total = Number(res.headers['x-total-count']);
        seen.push(...body.users.map((u) => u.sourcedId));
        next = /<([^>]+)>; rel="next"/.exec(String(res.headers.link ?? ''))?.[1];
      }
      expect(total).toBe(roster.table('users').size);
      expect(new Set(seen).size).toBe(total);
    }
  });

  it('filters, sorts, selects fields, and answers items and errors as the binding says', async () => {
    const sb = await testSandbox();
    writeTree(new PortalStore(sb.dataDir).landingDir('district'), package11() as Record<string, string>);
    await sb.sync();
    const t = await token(sb.http.url);
    const get = async (path: string, auth = true) => {
      const res = await request(`${sb.http.url}/ims/oneroster/v1p1${path}`, {
        headers: auth ? { authorization: `Bearer ${t}` } : {},
      });
      return { status: res.statusCode, body: (await res.body.text()) as string };
    };
    const studentsRes = await get(
      `/users?filter=${encodeURIComponent("role='student'")}&sort=familyName&orderBy=desc&fields=sourcedId,familyName`,
    );
    const students = JSON.parse(studentsRes.body);
    expect(students).toEqual({
      users: [
        { sourcedId: 'u2', familyName: 'Wu' },
        { sourcedId: 'u1', familyName: 'Lee' },
      ],
    });
    const bothRes = await get(
      `/users?filter=${encodeURIComponent("role='teacher' OR givenName='Ben'")}&fields=sourcedId`,
    );
    const both = JSON.parse(bothRes.body);
    expect(both.users.map((u: { sourcedId: string }) => u.sourcedId).sort()).toEqual(['t1', 'u1']);
    const klass = JSON.parse((await get('/classes/k1')).body);
    expect(klass.class).toMatchObject({
      sourcedId: 'k1',
      classType: 'scheduled',
      course: { sourcedId: 'c1', type: 'course' },
      terms: [{ sourcedId: 'fall25' }],
    });
    expect(
      JSON.parse((await get('/classes/k1/students')).body).users.map(
        (u: { sourcedId: string }) => u.sourcedId,
      ),
    ).toEqual(['u1', 'u2']);
    expect(
      JSON.parse((await get('/schools')).body).orgs.map((o: { sourcedId: string }) => o.sourcedId),
    ).toEqual(['s1']);
    expect((await get('/users/t1')).body).not.toContain('password');
    expect(JSON.parse((await get('/users/nobody')).body)).toMatchObject({
      statusInfoSet: [{ imsx_codeMajor: 'failure', imsx_codeMinor: 'unknownobject' }],
    });
    expect((await get('/users?filter=nonsense')).status).toBe(400);
    expect((await get('/users?fields=nope')).status).toBe(400);
    expect((await get('/users', false)).status).toBe(401);
  });
});

describe('sandbox: e-mail', () => {
  it('sends a summary of each sync through a real SMTP server, without personal data', async () => {
    const received: string[] = [];
    const smtp = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      onData(stream, _session, done) {
        let data = '';
        stream.on('data', (c: Buffer) => (data += c.toString()));
        stream.on('end', () => {
          received.push(data);
          done();
        });
      },
    });
    await new Promise<void>((r) => smtp.listen(0, '127.0.0.1', () => r()));
    const port = (smtp.server.address() as { port: number }).port;
    try {
      const sb = await testSandbox({ smtp: `smtp://127.0.0.1:${port}`, notify: ['admin@district.example'] });
      const p = package11();
      writeTree(new PortalStore(sb.dataDir).landingDir('district'), {
        ...p,
        'users.csv': p['users.csv']!.toString().replace('u2,,,true', 'u2,,,TRUE'),
      });
      const [sync] = await sb.sync();
      for (let i = 0; i < 50 && received.length === 0; i++) await new Promise((r) => setTimeout(r, 50));
      expect(received).toHaveLength(1);
      const mail = received[0]!;
      expect(mail).toContain('To: admin@district.example');
      expect(mail).toContain(`Sync ${sync!.id}`);
      expect(mail).toMatch(/users: 2 created/);
      expect(mail).toContain('users.csv:4  VALUE_BOOLEAN  u2');
      expect(mail).not.toMatch(/cara|Wu\b/i);
    } finally {
      await new Promise<void>((r) => smtp.close(() => r()));
    }
  });

  it('keeps running when the SMTP server is down', async () => {
    const sb = await testSandbox({ smtp: 'smtp://127.0.0.1:1', notify: ['admin@district.example'] });
    writeTree(new PortalStore(sb.dataDir).landingDir('district'), package11() as Record<string, string>);
    const [sync] = await sb.sync();
    expect(sync!.status).toBe('succeeded');
  });
});

describe('sandbox: ports', () => {
  it('says which port is in use, without a stack trace', async () => {
    const { createServer } = await import('node:net');
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
    const port = (blocker.address() as { port: number }).port;
    const data = writeTree(tempDir(), {
      'sandbox.yaml': `sftp: { port: ${port}, users: [ { username: d, password: pw-123456 } ] }\nhttp: { port: 0, tokens: [ token-123456 ] }\n`,
    });
    const { startSandbox } = await import('../../src/sandbox/sandbox.js');
    await expect(startSandbox({ dataDir: data })).rejects.toMatchObject({
      code: 'SANDBOX_PORT_IN_USE',
      message: `the SFTP port 127.0.0.1:${port} is in use`,
    });
    blocker.close();
  });
});
