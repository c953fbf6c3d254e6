/** A sandbox started in-process on free loopback ports, with a temp data folder. */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { onTestFinished } from 'vitest';
import { type RunningSandbox, startSandbox } from '../../src/sandbox/sandbox.js';
import { tempDir } from './fixtures.js';

export const PASSWORD = 'change-me-please';
export const TOKEN = 'dev-token-0123456789';

export interface TestSandbox extends RunningSandbox {
  readonly dataDir: string;
  readonly keyFile: string;
}

export async function testSandbox(
  extra: {
    limits?: Record<string, number>;
    smtp?: string;
    notify?: string[];
    syncEvery?: string;
    dataDir?: string;
    /** Started in beforeAll: the caller closes it (and removes dataDir) in afterAll. */
    suite?: boolean;
    /** The portal's log lines go here. */
    log?: (line: string) => void;
    /** The HTTP port in the config (default 0: a free one). */
    httpPort?: number;
  } = {},
): Promise<TestSandbox> {
  const dataDir = extra.dataDir ?? tempDir('roster-sandbox-');
  const keyFile = join(dataDir, 'client_key');
  try {
    readFileSync(keyFile);
  } catch {
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', keyFile]);
  }
  const pub = readFileSync(`${keyFile}.pub`, 'utf8').trim();
  const config = [
    'host: 127.0.0.1',
    `sftp: { port: 0, users: [ { username: district, password: ${PASSWORD} }, { username: keyuser, publicKey: "${pub}" } ] }`,
    `http: { port: ${extra.httpPort ?? 0}, tokens: [ ${TOKEN} ] }`,
    'oauthClients: [ { clientId: reader, clientSecret: reader-secret-123 } ]',
    ...(extra.limits ? [`limits: ${JSON.stringify(extra.limits)}`] : []),
  ].join('\n');
  writeFileSync(join(dataDir, 'sandbox.yaml'), `${config}\n`);
  const sandbox = await startSandbox({
    dataDir,
    ...(extra.smtp ? { smtp: extra.smtp } : {}),
    ...(extra.notify ? { notify: extra.notify } : {}),
    ...(extra.syncEvery ? { syncEvery: extra.syncEvery } : {}),
    ...(extra.log ? { log: extra.log } : {}),
  });
  if (!extra.suite) onTestFinished(() => sandbox.close());
  return { ...sandbox, dataDir, keyFile };
}
