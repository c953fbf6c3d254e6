/** The batch target against the sandbox's batch API (undici), and against misbehaving servers. */

import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { BatchTargetConfig } from '../../src/config/config.js';
import { writeOneRosterZip } from '../../src/formats/oneroster-csv/write.js';
import { generateDistrict } from '../../src/generate/generate.js';
import { RosterBuilder } from '../../src/model/roster.js';
import { defaultPolicy } from '../../src/plan/policy.js';
import { PortalStore } from '../../src/sandbox/store.js';
import { BatchTarget } from '../../src/targets/batch.js';
import { tempDir, writeTree } from '../helpers/fixtures.js';
import { TOKEN, testSandbox } from '../helpers/sandbox.js';
import { deadLockText, testState } from '../helpers/state.js';
import { runTargetContract, withValue } from './target-contract.js';

process.env.ROSTER_TEST_BATCH_TOKEN = TOKEN;
let n = 0;

function batchConfig(url: string, extra: Partial<BatchTargetConfig> = {}): BatchTargetConfig {
  return {
    name: `batch-${++n}`,
    kind: 'batch',
    mode: 'delta',
    policy: defaultPolicy(),
    connectTimeoutSeconds: 5,
    retries: 2,
    reportWaitSeconds: 10,
    url,
    tokenEnv: 'ROSTER_TEST_BATCH_TOKEN',
    path: join(tempDir(), 'state'),
    ...extra,
  };
}

/** A sandbox holding the orgs, sessions and courses of the contract's district (the batch files carry the rest). */
async function seededSandbox() {
  const sb = await testSandbox();
  const district = generateDistrict({ schools: 2, students: 30, seed: 'contract' });
  const b = new RosterBuilder('1.1');
  for (const e of ['orgs', 'academicSessions', 'courses'] as const)
    for (const r of district.table(e)) b.addNormalized(e, r);
  b.modes.users = 'absent';
  const zip = join(tempDir(), 'OneRoster.zip');
  await writeOneRosterZip(b.build(), zip);
  writeTree(new PortalStore(sb.dataDir).landingDir('district'), { 'OneRoster.zip': readFileSync(zip) });
  await sb.sync();
  return sb;
}

runTargetContract('batch (sandbox)', {
  deltaOnly: true,
  make: async () => {
    const sb = await seededSandbox();
    const config = batchConfig(sb.http.url);
    return { target: new BatchTarget(config), fixture: { path: config.path } };
  },
  corruptState: async ({ path }) => writeFileSync(join(path, 'current', 'state.json'), '{ not json'),
  leaveDeadLock: async ({ path }, _target, host) => {
    mkdirSync(path, { recursive: true });
    writeFileSync(join(path, 'lock.json'), deadLockText(host));
  },
  refusing: {
    make: async () => {
      const sb = await seededSandbox();
      const config = batchConfig(sb.http.url);
      return { target: new BatchTarget(config), fixture: { path: config.path } };
    },
    // The portal refuses a user of a school it does not have (its rows are checked one by one).
    refusedRoster: (base) => {
      const users = base.table('users');
      const i = [...Array(users.size).keys()].find((k) => users.value(k, 'role') === 'student')!;
      return {
        roster: withValue(base, 'users', i, 'orgSourcedIds', 'org-not-at-the-portal'),
        refused: { entity: 'users', key: users.value(i, 'sourcedId') },
      };
    },
  },
});

const state = (target: BatchTarget, serial: number) => testState(target.name, serial, { mode: 'delta' });

async function misbehaving(
  handler: (
    count: number,
    path: string,
  ) => { status: number; body?: string; headers?: Record<string, string> } | 'hang',
): Promise<{ url: string; server: Server; calls: () => number }> {
  let count = 0;
  const server = createServer((req, res) => {
    const answer = handler(++count, req.url ?? '');
    if (answer === 'hang') return;
    res.writeHead(answer.status, answer.headers ?? {});
    res.end(answer.body ?? '');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server, calls: () => count };
}

describe('batch target faults', () => {
  it('retries a 503 (honouring Retry-After) and then succeeds', async () => {
    const users =
      'action,org_sis_id,user_sis_id,role,username,firstName,lastName,userEmail,userGrade,class_sis_id,className,classGrade,course_sis_id,term_sis_id,primary_teacher\n';
    const s = await misbehaving((count, path) =>
      count === 1
        ? { status: 503, headers: { 'retry-after': '0' } }
        : { status: 200, body: path.includes('users') ? users : 'user_sis_id\n' },
    );
    try {
      const target = new BatchTarget(batchConfig(s.url));
      const live = await target.exportCurrent();
      expect(live.table('users').size).toBe(0);
      expect(s.calls()).toBe(3);
    } finally {
      s.server.close();
    }
  });

  it('gives up on a server that keeps failing, says what failed and where', async () => {
    const s = await misbehaving(() => ({ status: 500, body: 'boom' }));
    try {
      await expect(new BatchTarget(batchConfig(s.url, { retries: 1 })).exportCurrent()).rejects.toMatchObject(
        {
          code: 'BATCH_REQUEST_FAILED',
          message: expect.stringContaining(`GET ${s.url}/api/export/users.csv: HTTP 500`),
        },
      );
      expect(s.calls()).toBe(2);
    } finally {
      s.server.close();
    }
  });

  it('times out on a server that never answers', async () => {
    const s = await misbehaving(() => 'hang');
    try {
      const started = Date.now();
      await expect(
        new BatchTarget(batchConfig(s.url, { retries: 0, connectTimeoutSeconds: 1 })).exportCurrent(),
      ).rejects.toMatchObject({ code: 'BATCH_REQUEST_FAILED' });
      expect(Date.now() - started).toBeLessThan(5000);
    } finally {
      s.server.closeAllConnections();
      s.server.close();
    }
  });

  it('refuses garbage answers and a wrong token', async () => {
    const html = await misbehaving(() => ({ status: 200, body: '<html>login</html>' }));
    const denied = await misbehaving(() => ({ status: 401 }));
    try {
      await expect(new BatchTarget(batchConfig(html.url)).exportCurrent()).rejects.toMatchObject({
        code: 'BATCH_BAD_RESPONSE',
      });
      await expect(new BatchTarget(batchConfig(denied.url)).exportCurrent()).rejects.toMatchObject({
        code: 'BATCH_AUTH_FAILED',
      });
    } finally {
      html.server.close();
      denied.server.close();
    }
  });

  it('does not advance the state when the job fails', async () => {
    let job = 0;
    const s = await misbehaving((_c, path) => {
      if (path === '/api/batch')
        return { status: 202, body: JSON.stringify({ id: `j${++job}`, status: 'queued' }) };
      if (path.startsWith('/api/batch/'))
        return {
          status: 200,
          body: JSON.stringify({
            id: 'j1',
            status: 'failed',
            problems: ['users.csv: missing column "action"'],
          }),
        };
      return { status: 404 };
    });
    try {
      const target = new BatchTarget(batchConfig(s.url));
      const roster = generateDistrict({ schools: 1, students: 2, seed: 1 });
      await expect(target.deliver(roster, roster, state(target, 1), 0)).rejects.toMatchObject({
        code: 'DELIVERY_REJECTED',
        message: expect.stringContaining('missing column'),
      });
      expect(await target.readState()).toBeUndefined();
    } finally {
      s.server.close();
    }
  });
});
