/**
 * The sftp target against real servers: OpenSSH's sshd (started here) and the sandbox's SFTP
 * landing zone with processing.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { SftpTargetConfig } from '../../src/config/config.js';
import { generateDistrict } from '../../src/generate/generate.js';
import { rostersEqual } from '../../src/model/roster.js';
import { defaultPolicy } from '../../src/plan/policy.js';
import { SftpTarget } from '../../src/targets/sftp.js';
import type { TargetState } from '../../src/targets/state.js';
import { tempDir } from '../helpers/fixtures.js';
import { PASSWORD, testSandbox } from '../helpers/sandbox.js';
import { startSshd } from '../helpers/sshd.js';
import { deadLockText, testState } from '../helpers/state.js';
import { runTargetContract, withValue } from './target-contract.js';

let counter = 0;

function sftpConfig(
  extra: Partial<SftpTargetConfig> &
    Pick<SftpTargetConfig, 'host' | 'port' | 'username' | 'hostKey' | 'auth' | 'remoteDir'>,
): SftpTargetConfig {
  const name = `sftp-${++counter}`;
  return {
    name,
    kind: 'sftp',
    mode: 'bulk',
    policy: defaultPolicy(),
    connectTimeoutSeconds: 5,
    retries: 1,
    reportWaitSeconds: 5,
    stateDir: `${extra.remoteDir.replace(/\/$/, '')}/.roster/${name}`,
    packaging: 'zip',
    zipName: 'OneRoster.zip',
    ...extra,
  };
}

/** A target on the test's sshd, logged in with its key (ROSTER_TEST_SSHD_KEY), plus `extra` settings. */
function sshdTarget(
  sshd: Awaited<ReturnType<typeof startSshd>>,
  extra: Partial<SftpTargetConfig> = {},
): SftpTarget {
  process.env.ROSTER_TEST_SSHD_KEY = sshd.privateKey;
  return new SftpTarget(
    sftpConfig({
      host: '127.0.0.1',
      port: sshd.port,
      username: sshd.username,
      hostKey: sshd.hostKeyFingerprint,
      auth: { privateKeyEnv: 'ROSTER_TEST_SSHD_KEY' },
      remoteDir: sshd.root,
      ...extra,
    }),
  );
}

describe('sftp target against OpenSSH sshd', () => {
  runTargetContract('sftp (OpenSSH sshd)', {
    make: async () => {
      const sshd = await startSshd();
      return { target: sshdTarget(sshd), fixture: sshd };
    },
    // No portal behind sshd: take the delivery away as a portal would.
    settle: async (sshd) => rmSync(join(sshd.root, 'OneRoster.zip'), { force: true }),
    corruptState: async (sshd, target) =>
      writeFileSync(join(sshd.root, '.roster', target.name, 'state-000001.json'), '{ not json'),
    leaveDeadLock: async (sshd, target, host) => {
      const dir = join(sshd.root, '.roster', target.name);
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, 'lock.json'), deadLockText(host));
    },
  });

  it('refuses an unknown or changed host key, wrong credentials, and a missing secret, clearly', async () => {
    const sshd = await startSshd();
    process.env.ROSTER_TEST_SSHD_KEY = sshd.privateKey;
    const base = {
      host: '127.0.0.1',
      port: sshd.port,
      username: sshd.username,
      auth: { privateKeyEnv: 'ROSTER_TEST_SSHD_KEY' },
      remoteDir: sshd.root,
    };
    const wrongKey = new SftpTarget(sftpConfig({ ...base, hostKey: `SHA256:${'A'.repeat(43)}` }));
    await expect(wrongKey.readState()).rejects.toMatchObject({
      code: 'HOST_KEY_MISMATCH',
      message: expect.stringContaining(sshd.hostKeyFingerprint),
    });
    const otherKey = spawnSync('ssh-keygen', [
      '-q',
      '-t',
      'ed25519',
      '-N',
      '',
      '-f',
      join(sshd.root, '..', 'other'),
    ]);
    expect(otherKey.status).toBe(0);
    process.env.ROSTER_TEST_OTHER_KEY = (await import('node:fs')).readFileSync(
      join(sshd.root, '..', 'other'),
      'utf8',
    );
    const wrongUser = new SftpTarget(
      sftpConfig({
        ...base,
        hostKey: sshd.hostKeyFingerprint,
        auth: { privateKeyEnv: 'ROSTER_TEST_OTHER_KEY' },
      }),
    );
    await expect(wrongUser.readState()).rejects.toMatchObject({ code: 'SFTP_AUTH_FAILED' });
    const noSecret = new SftpTarget(
      sftpConfig({
        ...base,
        hostKey: sshd.hostKeyFingerprint,
        auth: { privateKeyEnv: 'ROSTER_TEST_UNSET_VARIABLE' },
      }),
    );
    await expect(noSecret.readState()).rejects.toMatchObject({ code: 'SECRET_MISSING' });
  });

  it('delivers loose CSV files (manifest last) when configured', async () => {
    const sshd = await startSshd();
    const target = sshdTarget(sshd, { packaging: 'loose' });
    const roster = generateDistrict({ schools: 1, students: 3, seed: 1 });
    const st: TargetState = testState(target.name, 1);
    await target.deliver(roster, roster, st, 0);
    await target.close();
    const { readdirSync } = await import('node:fs');
    expect(
      readdirSync(sshd.root)
        .filter((f) => !f.startsWith('.'))
        .sort(),
    ).toEqual([
      'academicSessions.csv',
      'classes.csv',
      'courses.csv',
      'demographics.csv',
      'enrollments.csv',
      'manifest.csv',
      'orgs.csv',
      'users.csv',
    ]);
  });

  it('keeps the snapshot as a local roster image, read instead of downloading it while it is current', async () => {
    const sshd = await startSshd();
    const cacheDir = join(tempDir(), 'cache');
    const target = sshdTarget(sshd, { cacheDir });
    try {
      const roster = generateDistrict({ schools: 1, students: 6, seed: 3 });
      await target.deliver(roster, roster, testState(target.name, 1), 0);
      const image = join(cacheDir, 'snapshot.image');
      expect(existsSync(image)).toBe(true);
      expect(readFileSync(join(cacheDir, '.gitignore'), 'utf8')).toContain('*'); // never committed
      const state = (await target.readState())!;
      // Read from the server (no image: another clone applied), then kept for the next plan.
      rmSync(image);
      expect(rostersEqual(await target.readCurrent(state), roster)).toBe(true);
      expect(existsSync(image)).toBe(true);
      // With the snapshot gone from the server, only the image can answer.
      rmSync(join(sshd.root, '.roster', target.name, 'snapshot-000001.zip'));
      expect(rostersEqual(await target.readCurrent(state), roster)).toBe(true);
      // An image of another state (another lineage here) is not used: the server is asked.
      await expect(target.readCurrent({ ...state, lineage: 'another' })).rejects.toBeInstanceOf(Error);
    } finally {
      await target.close();
    }
  });

  it('says where a connection failed', async () => {
    const target = new SftpTarget(
      sftpConfig({
        host: '127.0.0.1',
        port: 1,
        username: 'x',
        hostKey: `SHA256:${'A'.repeat(43)}`,
        auth: { passwordEnv: 'PATH' },
        remoteDir: '/',
      }),
    );
    await expect(target.readState()).rejects.toMatchObject({
      code: 'SFTP_CONNECT_FAILED',
      message: expect.stringContaining('sftp://127.0.0.1:1'),
    });
  });
});

describe('sftp target against the sandbox landing zone', () => {
  const sandboxTarget = async (extra: Partial<SftpTargetConfig> = {}) => {
    const sb = await testSandbox();
    process.env.ROSTER_TEST_SANDBOX_PASSWORD = PASSWORD;
    const target = new SftpTarget(
      sftpConfig({
        host: '127.0.0.1',
        port: sb.sftp.port,
        username: 'district',
        hostKey: sb.sftp.hostKeyFingerprint,
        auth: { passwordEnv: 'ROSTER_TEST_SANDBOX_PASSWORD' },
        remoteDir: '/',
        ...extra,
      }),
    );
    return { sb, target };
  };

  runTargetContract('sftp (sandbox)', {
    make: async () => {
      const { sb, target } = await sandboxTarget();
      return { target, fixture: sb };
    },
    settle: async (sb) => {
      await sb.sync();
    },
    corruptState: async (sb, target) =>
      writeFileSync(
        join(sb.dataDir, 'landing', 'district', '.roster', target.name, 'state-000001.json'),
        '{ not json',
      ),
    leaveDeadLock: async (sb, target, host) => {
      const dir = join(sb.dataDir, 'landing', 'district', '.roster', target.name);
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, 'lock.json'), deadLockText(host));
    },
    refusing: {
      // The delivery waits for the portal's processing report (reportDir), which a sync writes.
      make: async () => {
        const { sb, target } = await sandboxTarget({ reportDir: '/outbox', reportWaitSeconds: 10 });
        return { target, fixture: sb };
      },
      refusedRoster: (base) => {
        const users = base.table('users');
        const i = [...Array(users.size).keys()].find((k) => users.value(k, 'role') === 'student')!;
        return {
          roster: withValue(base, 'users', i, 'email', 'not-an-email'),
          refused: { entity: 'users', key: users.value(i, 'sourcedId'), code: 'VALUE_EMAIL' },
        };
      },
      whileDelivering: (sb) => {
        const timer = setInterval(() => void sb.sync().catch(() => undefined), 200);
        return () => clearInterval(timer);
      },
    },
  });

  function state(target: SftpTarget, serial: number): TargetState {
    return testState(target.name, serial, { recordCounts: { users: 3 } });
  }

  it('does not advance the state when the portal rejects the delivery as a whole, nor wait forever for a report', async () => {
    const { sb, target } = await sandboxTarget({ reportDir: '/outbox', reportWaitSeconds: 1 });
    const roster = generateDistrict({ schools: 1, students: 3, seed: 1 });
    // No sync runs: the report never comes; the delivery is recorded with a warning.
    const receipt = await target.deliver(roster, roster, state(target, 1), 0);
    expect(receipt.warnings[0]).toContain('no processing report appeared');
    expect((await target.readState())?.serial).toBe(1);
    // A previous delivery still waiting blocks the next one, clearly.
    await expect(target.deliver(roster, roster, state(target, 2), 1)).rejects.toMatchObject({
      code: 'DELIVERY_WAITING',
    });
    await sb.sync();
    await target.close();
    expect(existsSync(join(sb.dataDir, 'landing/district/OneRoster.zip'))).toBe(false);
  });

  it('reports a remote folder it cannot write to, with its address', async () => {
    const { sb, target } = await sandboxTarget({ remoteDir: '/outbox/blocked' });
    writeFileSync(join(sb.dataDir, 'landing', 'district', 'outbox', 'blocked'), 'a file, not a folder');
    const roster = generateDistrict({ schools: 1, students: 3, seed: 1 });
    await expect(target.deliver(roster, roster, state(target, 1), 0)).rejects.toMatchObject({
      message: expect.stringMatching(
        /SFTP (mkdir|list|lock|upload) failed: sftp:\/\/127\.0\.0\.1:\d+\/outbox\/blocked/,
      ),
    });
    await target.close();
  });
});
