/**
 * The portal as a person watches it and as clients abuse it, over real sockets on 127.0.0.1: the
 * status page in headless Chromium (Debian's), the terminal log, reports free of personal data and
 * spreadsheet formulas, a damaged zip, oversized and interrupted batch uploads, parallel wrong
 * passwords, connections that never log in, and a default port already taken.
 */
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { connect } from 'node:net';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import ssh2 from 'ssh2';
import SftpClient from 'ssh2-sftp-client';
import { FormData, request } from 'undici';
import { describe, expect, it } from 'vitest';
import { PortalStore } from '../../src/sandbox/store.js';
import { csv, package11, tempDir, writeTree } from '../helpers/fixtures.js';
import { PASSWORD, TOKEN, testSandbox } from '../helpers/sandbox.js';

const CHROMIUM = '/usr/bin/chromium';
/** Where the status page's screenshot is kept for people to look at (CI keeps it as an artifact). */
const ARTIFACTS = resolve('test-artifacts');

/**
 * Runs Debian's Chromium headless, as root on a closed network, with its own empty profile.
 * Asynchronously: the portal it visits runs in this process.
 */
async function chromium(args: string[]): Promise<string> {
  const { stdout } = await promisify(execFile)(
    CHROMIUM,
    [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      `--user-data-dir=${tempDir('roster-chromium-')}`,
      ...args,
    ],
    { encoding: 'utf8', timeout: 60_000 },
  );
  return stdout;
}

async function get(url: string, headers: Record<string, string> = {}) {
  const res = await request(url, { headers });
  return { status: res.statusCode, headers: res.headers, text: await res.body.text() };
}

/** A users.csv whose rows carry spreadsheet formulas and personal values that must not leak. */
const HOSTILE_USERS = csv(
  'sourcedId,status,dateLastModified,enabledUser,orgSourcedIds,role,username,userIds,givenName,familyName,middleName,identifier,email,sms,phone,agentSourcedIds,grades,password',
  't1,,,true,s1,teacher,ana.diaz,{SIS:9001},Ana,Diaz,,,ana.diaz@springfield.example,,,,,',
  'u1,,,true,s1,student,ben.lee,{SIS:1001},Ben,Lee,,S001,ben.lee@students.springfield.example,,,,03,',
  'u2,,,true,s1,student,cara.wu,{SIS:1002},Cara,Wu,,S002,cara.wu@students.springfield.example,,,,03,',
  '=HYPERLINK("http://attacker.example"),,,true,s1,student,evil,,=cmd|calc,+Secret,,,@Zelda.Quinn@evil example,,,,03,',
  'u3,,,true,s1,student,dora.kim,,Dora,Kim,,,-dora kim at home,,,,03,',
);

describe('sandbox portal: a person can watch it', () => {
  it('shows the latest sync, its errors and reports in headless Chromium, and logs what happens', async () => {
    const lines: string[] = [];
    const sb = await testSandbox({ log: (l) => lines.push(l) });
    const sftp = new SftpClient();
    await sftp.connect({ host: '127.0.0.1', port: sb.sftp.port, username: 'district', password: PASSWORD });
    for (const [name, content] of Object.entries(package11({ 'users.csv': HOSTILE_USERS })))
      await sftp.put(Buffer.from(content as string), `/${name}`);
    await sftp.end();
    const [first] = await sb.sync();
    expect(first?.status).toBe('succeeded');
    expect(first?.rejections.length).toBeGreaterThanOrEqual(2);

    // The page as a browser renders it.
    const dom = await chromium(['--dump-dom', `${sb.http.url}/`]);
    expect(dom).toContain(`<meta http-equiv="refresh" content="10">`);
    expect(dom).toContain(`Sync <code>${first!.id}</code> (succeeded,`);
    expect(dom).toMatch(/<table id="errors">.*VALUE_EMAIL/s);
    expect(dom).toMatch(/\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} UTC/);
    expect(dom).not.toMatch(/Zelda|Secret|dora kim at home/);
    mkdirSync(ARTIFACTS, { recursive: true });
    const shot = join(ARTIFACTS, 'sandbox-status.png');
    await chromium([`--screenshot=${shot}`, '--window-size=1280,1000', `${sb.http.url}/`]);
    expect(readFileSync(shot).subarray(1, 4).toString()).toBe('PNG');

    // Each sync links to its report, as JSON and CSV.
    const json = await get(`${sb.http.url}/syncs/${first!.id}/report.json`);
    expect(JSON.parse(json.text)).toMatchObject({ sync: first!.id, status: 'succeeded' });
    const reportCsv = await get(`${sb.http.url}/syncs/${first!.id}/report.csv`);
    expect(reportCsv.headers['content-type']).toContain('text/csv');

    // A later clean sync: the page shows its (absent) errors, not the older sync's.
    writeTree(new PortalStore(sb.dataDir).landingDir('district'), package11() as Record<string, string>);
    const [second] = await sb.sync();
    const after = await chromium(['--dump-dom', `${sb.http.url}/`]);
    expect(after).toContain(`None in sync <code>${second!.id}</code>`);
    expect(after).not.toContain('<table id="errors">');
    expect(after).toContain(`href="/syncs/${first!.id}/report.csv"`);

    // The terminal log: logins, uploads, syncs with counts; never a name or an e-mail.
    const log = lines.join('\n');
    expect(log).toMatch(/sftp: district logged in from 127\.0\.0\.1 \(password\)/);
    expect(log).toMatch(/sftp: district uploaded \/users\.csv \(\d+ bytes\)/);
    expect(log).toMatch(
      new RegExp(
        `sync ${first!.id} \\(district, 8 files\\): succeeded; .*users \\d+ created.*; \\d+ rejected`,
      ),
    );
    expect(log).not.toMatch(/Ana|Diaz|Lee|Wu|Zelda|springfield\.example/);
  });

  it('never puts formulas or personal values in a report, the page or the batch errors file', async () => {
    const sb = await testSandbox();
    writeTree(
      new PortalStore(sb.dataDir).landingDir('district'),
      package11({ 'users.csv': HOSTILE_USERS }) as Record<string, string>,
    );
    const [sync] = await sb.sync();
    const outbox = join(sb.dataDir, 'landing/district/outbox');
    const reportCsv = readFileSync(join(outbox, `${sync!.id}-report.csv`), 'utf8');
    const reportJson = readFileSync(join(outbox, `${sync!.id}-report.json`), 'utf8');
    const page = (await get(`${sb.http.url}/`)).text;
    for (const text of [reportCsv, reportJson, page])
      expect(text).not.toMatch(/Zelda|evil example|dora kim at home|calc|Secret/);
    // No cell starts with a formula character; the formula-like record id is kept, made inert.
    const cells = reportCsv
      .trim()
      .split('\n')
      .flatMap((l) =>
        l.match(/("([^"]|"")*"|[^,]*)(,|$)/g)!.map((c) => c.replace(/,$/, '').replace(/^"|"$/g, '')),
      );
    for (const c of cells) expect(c, c).not.toMatch(/^[=+\-@]/);
    expect(reportCsv).toContain(`'=HYPERLINK(`);

    const form = new FormData();
    form.append(
      'users',
      new Blob(
        [
          csv(
            'action,org_sis_id,user_sis_id,role,username,firstName,lastName,userEmail,userGrade,class_sis_id,className,classGrade,course_sis_id,term_sis_id,primary_teacher',
            'ADD,s1,=1+2,student,x,X,Y,,03,,,,,,',
            'ADD,s1,u8,student,y,=WEBSERVICE("http://a"),Quinn,@Zelda.Quinn,03,,,,,,',
          ),
        ],
        { type: 'text/csv' },
      ),
      'users.csv',
    );
    const res = await request(`${sb.http.url}/api/batch`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}` },
      body: form,
    });
    const { id } = (await res.body.json()) as { id: string };
    let errors = '';
    for (let i = 0; i < 100 && !errors.startsWith('file'); i++) {
      await new Promise((r) => setTimeout(r, 50));
      const e = await get(`${sb.http.url}/api/batch/${id}/errors.csv`, { authorization: `Bearer ${TOKEN}` });
      if (e.status === 200) errors = e.text;
    }
    expect(errors.split('\n')[1]).toMatch(/^users\.csv,2,ADD,'=1\+2,,"sourcedId ""=1\+2"" is not/);
    expect(errors.split('\n')[2]).toBe('users.csv,3,ADD,u8,,email is not an e-mail address');
    expect(errors).not.toMatch(/Zelda|WEBSERVICE|Quinn/);
  });
});

describe('sandbox portal: it survives its clients', () => {
  it('rejects a damaged zip with a report: no HTTP 500, no sync left running', async () => {
    const sb = await testSandbox();
    const dir = tempDir();
    writeTree(dir, package11() as Record<string, string>);
    execFileSync('zip', [
      '-q',
      '-j',
      join(dir, 'OneRoster.zip'),
      ...Object.keys(package11()).map((f) => join(dir, f)),
    ]);
    const zip = readFileSync(join(dir, 'OneRoster.zip'));
    // Damage the compressed data of the entries, keeping the directory readable.
    for (let i = 60; i < zip.length / 2; i += 7) zip[i] = zip[i]! ^ 0x5a;
    writeTree(new PortalStore(sb.dataDir).landingDir('district'), { 'OneRoster.zip': zip });
    const res = await request(`${sb.http.url}/api/sync`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    const body = (await res.body.json()) as {
      syncs: { status: string; rejections: { code: string; message: string }[] }[];
    };
    expect(res.statusCode).toBe(200);
    expect(body.syncs[0]!.status).toBe('rejected');
    expect(body.syncs[0]!.rejections[0]!.code).toMatch(/^(ZIP_|CSV_|HEADER_|MANIFEST_)/);
    expect(JSON.stringify(body)).not.toContain(sb.dataDir);
    expect(new PortalStore(sb.dataDir).history().map((s) => s.status)).toEqual(['rejected']);
  });

  it('refuses a batch upload over its limit without holding it in memory, and runs jobs queued before a restart', async () => {
    const dataDir = tempDir('roster-sandbox-');
    const sb = await testSandbox({ dataDir, limits: { maxBatchBytes: 100_000 } });
    writeTree(new PortalStore(dataDir).landingDir('district'), package11() as Record<string, string>);
    await sb.sync();
    const big = new FormData();
    big.append('users', new Blob([`action\n${'x'.repeat(200_000)}\n`]), 'users.csv');
    const refused = await request(`${sb.http.url}/api/batch`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}` },
      body: big,
    });
    expect(refused.statusCode).toBe(413);
    expect(((await refused.body.json()) as { error: string }).error).toContain('SFTP landing zone');
    await sb.close();

    // A job the portal had taken when it stopped (queued, its file on disk) runs after the restart.
    const job = join(dataDir, 'batch', '20261206T000000Z-abcdef');
    mkdirSync(job, { recursive: true });
    writeFileSync(
      join(job, 'users.csv'),
      csv(
        'action,org_sis_id,user_sis_id,role,username,firstName,lastName,userEmail,userGrade,class_sis_id,className,classGrade,course_sis_id,term_sis_id,primary_teacher',
        'ADD,s1,u9,student,dan.ko,Dan,Ko,,03,,,,,,',
      ),
    );
    writeFileSync(
      join(job, 'job.json'),
      JSON.stringify({
        id: '20261206T000000Z-abcdef',
        status: 'queued',
        createdAt: '2026-12-06T00:00:00.000Z',
      }),
    );
    const again = await testSandbox({ dataDir });
    let status = 'queued';
    for (let i = 0; i < 100 && status === 'queued'; i++) {
      await new Promise((r) => setTimeout(r, 50));
      status = JSON.parse(readFileSync(join(job, 'job.json'), 'utf8')).status;
      if (status === 'running') status = 'queued';
    }
    expect(status).toBe('succeeded');
    const users = (await new PortalStore(dataDir).current())!.table('users');
    expect([...users].map((u) => u.sourcedId)).toContain('u9');
    await again.close();
  });

  it('locks out an address after parallel wrong passwords, even for the right one', async () => {
    const lines: string[] = [];
    const sb = await testSandbox({
      limits: { maxLoginFailures: 5, lockoutSeconds: 60 },
      log: (l) => lines.push(l),
    });
    const attempt = (password: string) =>
      new Promise<boolean>((resolveAttempt) => {
        const c = new ssh2.Client();
        c.on('ready', () => {
          c.end();
          resolveAttempt(true);
        });
        c.on('error', () => resolveAttempt(false));
        c.on('close', () => resolveAttempt(false));
        c.connect({
          host: '127.0.0.1',
          port: sb.sftp.port,
          username: 'district',
          password,
          readyTimeout: 20_000,
        });
      });
    expect(await attempt(PASSWORD)).toBe(true);
    const guesses = await Promise.all(Array.from({ length: 12 }, (_, i) => attempt(`guess-${i}`)));
    expect(guesses.every((ok) => !ok)).toBe(true);
    expect(await attempt(PASSWORD)).toBe(false);
    const log = lines.join('\n');
    expect(log).toContain('127.0.0.1 locked out for 60 s');
    expect(log).toMatch(/refused password login for "district" from 127\.0\.0\.1: locked out/);
  });

  it('closes a connection that never logs in', async () => {
    const sb = await testSandbox({ limits: { loginSeconds: 1 } });
    const started = Date.now();
    const closed = await new Promise<boolean>((resolveClose) => {
      const socket = connect(sb.sftp.port, '127.0.0.1');
      socket.on('data', () => {});
      socket.on('error', () => {});
      socket.on('close', () => resolveClose(true));
      setTimeout(() => resolveClose(false), 8000);
    });
    expect(closed).toBe(true);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
  });

  it("answers SFTP errors without the server's paths", async () => {
    const sb = await testSandbox();
    const client = new SftpClient();
    await client.connect({ host: '127.0.0.1', port: sb.sftp.port, username: 'district', password: PASSWORD });
    const message = await client.get('/no-such-file.csv').then(
      () => '',
      (err: Error) => err.message,
    );
    await client.end();
    expect(message).toMatch(/no such file/i);
    expect(message).not.toContain(sb.dataDir);
  });

  it('falls back to a free port when the default HTTP port is taken, and says so', async () => {
    const blocker: Server = createServer();
    const blocked = await new Promise<boolean>((r) => {
      blocker.once('error', () => r(false)); // something else holds 8080 already: just as good
      blocker.listen(8080, '127.0.0.1', () => r(true));
    });
    try {
      const lines: string[] = [];
      const sb = await testSandbox({ httpPort: 8080, log: (l) => lines.push(l) });
      expect(sb.http.url).not.toMatch(/:8080$/);
      expect(lines.join('\n')).toContain(
        'the default HTTP port 8080 is in use: listening on a free port instead',
      );
      expect((await get(`${sb.http.url}/`)).status).toBe(200);
      expect(existsSync(join(sb.dataDir, 'sandbox.json'))).toBe(true);
    } finally {
      if (blocked) await new Promise((r) => blocker.close(r));
    }
  });
});
