import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { request } from 'undici';
import { describe, expect, it } from 'vitest';
import { BIN, roster } from '../helpers/cli.js';
import { package11, tempDir, writeTree } from '../helpers/fixtures.js';

describe('roster sandbox (built CLI)', () => {
  it('starts with a new config of random secrets, prints its addresses, writes sandbox.json, stops cleanly on Ctrl-C', async () => {
    const data = join(tempDir(), 'sandbox');
    const config = join(tempDir(), 'sandbox.yaml');
    writeTree(join(config, '..'), {
      'sandbox.yaml':
        'sftp: { port: 0, users: [ { username: district, password: secret-one } ] }\nhttp: { port: 0, tokens: [ token-123456 ] }\n',
    });
    const child = spawn(process.execPath, [BIN, 'sandbox', '--data', data, '--config', config], {
      env: { ...process.env, NO_COLOR: '1' },
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    for (let i = 0; i < 100 && !out.includes('Press Ctrl-C'); i++)
      await new Promise((r) => setTimeout(r, 100));
    expect(out).toMatch(/SFTP +sftp:\/\/127\.0\.0\.1:\d+ +host key SHA256:/);
    expect(out).toContain('user district / password secret-one');
    expect(out).toContain('bearer token token-123456');
    const addresses = JSON.parse(readFileSync(join(data, 'sandbox.json'), 'utf8'));
    const page = await request(`${addresses.http.url}/`);
    expect(page.statusCode).toBe(200);
    await page.body.text();
    // A sync of the landing zone from another process.
    writeTree(join(data, 'landing', 'district'), package11() as Record<string, string>);
    const sync = roster(['sandbox', 'sync', '--data', data]);
    expect(sync.status).toBe(0);
    expect(sync.stdout).toMatch(/^sync \S+ \(district\): succeeded: orgs \+2 ~0 -0/);
    const exited = new Promise((r) => child.on('close', r));
    child.kill('SIGINT');
    expect(await exited).toBe(0);
    // Stopped cleanly: said so, and no address file left pointing at a portal that is gone.
    expect(err).toMatch(/Z stopped\n$/);
    expect(existsSync(join(data, 'sandbox.json'))).toBe(false);
  });

  it('syncs a data folder with nothing waiting', () => {
    const data = join(tempDir(), 'sandbox');
    const r = roster(['sandbox', 'sync', '--data', data]);
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('Nothing waits in the landing zone.\n');
    expect(existsSync(join(data, 'store'))).toBe(true);
  });

  it('explains a bad schedule without a stack trace', () => {
    const r = roster(['sandbox', '--data', tempDir(), '--sync-every', 'every now and then']);
    expect(r.status).toBe(64);
    expect(r.stderr).toContain('is neither a duration nor a cron expression');
  });
});
