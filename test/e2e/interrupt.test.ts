/**
 * Unattended applies: a CI runner cancels a job with SIGINT, then SIGTERM, then SIGKILL. Every
 * interruption must leave the target holding the old delivery or the new one (never a mix, never
 * twice at the portal) and no lock that blocks the next apply.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PortalStore } from '../../src/sandbox/store.js';
import { applyOutcome, BIN, type CliResult, rosterAsync } from '../helpers/cli.js';
import { districtRepo } from '../helpers/repo.js';
import { PASSWORD, testSandbox } from '../helpers/sandbox.js';
import { type Sshd, startSshd } from '../helpers/sshd.js';

const STACK = /\n\s+at .+:\d+:\d+/;

/**
 * `npm run soak` (ROSTER_SOAK=1) runs every fault point; `npm test` a representative set of them,
 * to stay within its time (each case is a few CLI runs against a real server).
 */
const SOAK = process.env.ROSTER_SOAK === '1';
const soakOnly = <T>(always: readonly T[], more: readonly T[]): T[] =>
  SOAK ? [...always, ...more] : [...always];
type Signal = 'SIGINT' | 'SIGTERM';
type Mode = 'bulk' | 'delta';

/** Runs the CLI paused at `point` (ROSTER_PAUSE), sends `signal` there, and waits for its end. */
function interruptAt(
  args: readonly string[],
  cwd: string,
  point: string,
  signal: 'SIGINT' | 'SIGTERM',
  env: NodeJS.ProcessEnv = {},
): Promise<CliResult & { reached: boolean }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd,
      env: { ...process.env, NO_COLOR: '1', ROSTER_PAUSE: point, ...env },
    });
    let stdout = '';
    let stderr = '';
    let reached = false;
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => {
      stderr += d;
      if (!reached && stderr.includes(`paused at ${point}`)) {
        reached = true;
        child.kill(signal);
      }
    });
    child.on('close', (status) => resolve({ status, stdout, stderr, reached }));
  });
}

const EDIT = [/(sourcedId: stu-000002\n(?:.*\n)*?\s+familyName: )(\w+)/, '$1Interrupted'] as const;

describe('SIGINT and SIGTERM during apply to a dir target', () => {
  it.each(
    soakOnly(
      [['dir:before-switch', 'SIGINT']] as [string, Signal][],
      [
        ['apply:after-lock', 'SIGINT'],
        ['apply:before-deliver', 'SIGTERM'],
      ] as [string, Signal][],
    ),
  )(
    'stopped at %s by %s: nothing delivered, lock released, says what the target holds',
    async (point, signal) => {
      const repo = districtRepo({ git: false, students: 30 });
      expect((await rosterAsync(['apply', '--auto-approve'], { cwd: repo.dir })).status).toBe(0);
      repo.edit('roster/schools/sch-001.yaml', ...EDIT);
      const stopped = await interruptAt(['apply', '--auto-approve'], repo.dir, point, signal);
      expect(stopped.reached).toBe(true);
      expect(stopped.status).toBe(signal === 'SIGINT' ? 130 : 143);
      expect(stopped.stderr).toContain(`${signal} received: stopping at a safe point`);
      expect(stopped.stderr).toMatch(
        new RegExp(
          `Error \\[INTERRUPTED\\] apply was stopped by ${signal}.*; nothing was delivered\\. Target "local" still holds serial 1 \\(applied `,
        ),
      );
      expect(stopped.stderr).not.toMatch(STACK);
      expect(existsSync(join(repo.target, 'lock.json'))).toBe(false);
      // Nothing half-done: no generation of serial 2 left behind.
      expect(readdirSync(join(repo.target, 'generations')).filter((n) => n.startsWith('000002'))).toEqual([]);
      const plan = await rosterAsync(['plan', '--detailed-exitcode'], { cwd: repo.dir });
      expect(plan.status).toBe(2);
      const again = await rosterAsync(['apply', '--auto-approve'], { cwd: repo.dir });
      expect(again.stdout).toContain('Applied to target "local" (serial 2)');
      expect(again.stderr).toBe('');
    },
  );

  it('stopped after the switch: the delivery is complete and recorded (exit 0), lock released', async () => {
    const repo = districtRepo({ git: false, students: 30 });
    const done = await interruptAt(['apply', '--auto-approve'], repo.dir, 'dir:after-switch', 'SIGTERM');
    expect(done.reached).toBe(true);
    expect(done.status).toBe(0);
    expect(done.stdout).toContain('Applied to target "local" (serial 1)');
    expect(existsSync(join(repo.target, 'lock.json'))).toBe(false);
    expect((await rosterAsync(['plan', '--detailed-exitcode'], { cwd: repo.dir })).status).toBe(0);
  });
});

/** A district repo whose target is an sftp landing zone on a real OpenSSH sshd, and a portal played by the test. */
async function sftpDistrict(mode: 'bulk' | 'delta') {
  const sshd = await startSshd();
  const env = { ROSTER_SFTP_KEY: sshd.privateKey };
  const repo = districtRepo({
    git: false,
    students: 30,
    config: `roster: roster\ntargets:\n  - name: vendor\n    kind: sftp\n    host: 127.0.0.1\n    port: ${sshd.port}\n    username: ${sshd.username}\n    hostKey: "${sshd.hostKeyFingerprint}"\n    auth: { privateKeyEnv: ROSTER_SFTP_KEY }\n    remoteDir: ${sshd.root}\n    mode: ${mode}\n`,
  });
  const portal = new Portal(sshd);
  return { sshd, env, repo, portal };
}

/** Plays the vendor's side: takes what waits in the landing zone, and counts the deliveries it took. */
class Portal {
  taken = 0;
  private readonly processed: string;
  constructor(private readonly sshd: Sshd) {
    this.processed = join(sshd.root, '..', 'processed');
    mkdirSync(this.processed, { recursive: true });
  }
  take(): void {
    const file = join(this.sshd.root, 'OneRoster.zip');
    if (!existsSync(file)) return;
    this.taken += 1;
    renameSync(file, join(this.processed, `${this.taken}.zip`));
  }
}

describe('a killed sftp apply is delivered exactly once', () => {
  it.each(
    soakOnly(
      [
        ['sftp:after-journal', 'bulk'],
        ['sftp:after-delivery', 'delta'],
      ] as [string, Mode][],
      [
        ['sftp:before-state', 'bulk'],
        ['apply:after-lock', 'bulk'],
        ['sftp:after-upload', 'bulk'],
        ['sftp:after-delivery', 'bulk'],
        ['sftp:after-journal', 'delta'],
      ] as [string, Mode][],
    ),
  )(
    'killed (SIGKILL) at %s, %s: the next apply converges, the portal gets the change once',
    async (point, mode) => {
      const { env, repo, portal } = await sftpDistrict(mode);
      const first = await rosterAsync(['apply', '--auto-approve'], { cwd: repo.dir, env });
      expect(first.stdout).toContain('(serial 1)');
      portal.take();
      repo.edit('roster/schools/sch-001.yaml', ...EDIT);
      const killed = await rosterAsync(['apply', '--auto-approve'], {
        cwd: repo.dir,
        env: { ...env, ROSTER_FAULT: point },
      });
      expect(killed.status).toBeNull(); // killed by a signal
      portal.take();
      const next = await rosterAsync(['apply', '--auto-approve'], { cwd: repo.dir, env });
      expect(next.status, next.stderr).toBe(0);
      expect(next.stderr).toMatch(/Note: took over the lock of/);
      expect(next.stdout + next.stderr).not.toMatch(STACK);
      portal.take();
      // Serial 1, then the edit exactly once.
      expect(portal.taken).toBe(2);
      const delivered = ['sftp:after-delivery', 'sftp:before-state', 'sftp:after-journal'].includes(point);
      if (point === 'sftp:after-delivery' || point === 'sftp:before-state') {
        expect(next.stderr).toContain('reached the portal; it is now recorded, not sent again');
        expect(next.stdout).toContain('No changes.');
      }
      if (!delivered) expect(next.stdout).toContain('(serial 2)');
      const plan = await rosterAsync(['plan', '--detailed-exitcode'], { cwd: repo.dir, env });
      expect(plan.status).toBe(0);
      const status = await rosterAsync(['status'], { cwd: repo.dir, env });
      expect(status.stdout).toContain('serial 2, applied');
      expect(status.stdout).not.toContain('STALE');
    },
  );

  it.each(soakOnly(['sftp:report-wait'], ['sftp:after-delivery']))(
    'against the sandbox, killed at %s: the portal processes the change once, the next apply records it with its report',
    async (point) => {
      const sb = await testSandbox({ syncEvery: '300ms' });
      const env = { PORTAL_PASSWORD: PASSWORD };
      const repo = districtRepo({
        git: false,
        students: 30,
        config: `roster: roster\ntargets:\n  - name: portal\n    kind: sftp\n    host: 127.0.0.1\n    port: ${sb.sftp.port}\n    username: district\n    hostKey: "${sb.sftp.hostKeyFingerprint}"\n    auth: { passwordEnv: PORTAL_PASSWORD }\n    reportDir: outbox\n    reportWaitSeconds: 20\n`,
      });
      expect((await rosterAsync(['apply', '--auto-approve'], { cwd: repo.dir, env })).status).toBe(0);
      repo.edit('roster/schools/sch-001.yaml', ...EDIT);
      const killed = await rosterAsync(['apply', '--auto-approve'], {
        cwd: repo.dir,
        env: { ...env, ROSTER_FAULT: point },
      });
      expect(killed.status).toBeNull();
      await new Promise((r) => setTimeout(r, 1500)); // the portal's next syncs
      const next = await rosterAsync(['apply', '--auto-approve'], { cwd: repo.dir, env });
      expect(next.status, next.stderr).toBe(0);
      expect(next.stderr).toContain('(serial 2) reached the portal; it is now recorded, not sent again');
      expect(next.stderr).not.toContain('report has not appeared');
      expect(next.stdout).toContain('No changes.');
      const syncs = new PortalStore(sb.dataDir).history().filter((h) => h.status === 'succeeded');
      expect(syncs).toHaveLength(2);
      expect((await rosterAsync(['plan', '--detailed-exitcode'], { cwd: repo.dir, env })).status).toBe(0);
    },
  );

  it('four applies at once: exactly one delivers, the serial grows by one', async () => {
    const { env, repo, portal } = await sftpDistrict('bulk');
    const runs = await Promise.all(
      Array.from({ length: 4 }, () => rosterAsync(['apply', '--auto-approve'], { cwd: repo.dir, env })),
    );
    const outcomes = runs.map(applyOutcome);
    expect(outcomes.filter((o) => o === 'applied')).toHaveLength(1);
    expect(
      outcomes.every((o) => ['applied', 'locked', 'no-changes'].includes(o)),
      outcomes.join('\n'),
    ).toBe(true);
    portal.take();
    expect(portal.taken).toBe(1);
    const status = await rosterAsync(['status'], { cwd: repo.dir, env });
    expect(status.stdout).toContain('serial 1, applied');
    expect(status.stdout).toContain('not locked');
  });

  it('a delivery still waiting at the portal when the killed apply is followed up is recorded, not refused', async () => {
    const { env, repo, portal } = await sftpDistrict('bulk');
    const killed = await rosterAsync(['apply', '--auto-approve'], {
      cwd: repo.dir,
      env: { ...env, ROSTER_FAULT: 'sftp:after-delivery' },
    });
    expect(killed.status).toBeNull();
    // The portal has not taken it yet; a plan already sees it as what the target holds.
    expect((await rosterAsync(['plan', '--detailed-exitcode'], { cwd: repo.dir, env })).status).toBe(0);
    const next = await rosterAsync(['apply', '--auto-approve'], { cwd: repo.dir, env });
    expect(next.status, next.stderr).toBe(0);
    expect(next.stderr).toContain(
      'an earlier apply was stopped after its delivery (serial 1) reached the portal',
    );
    expect(next.stdout).toContain('No changes.');
    portal.take();
    expect(portal.taken).toBe(1);
  });

  it('SIGTERM while staging: nothing reaches the portal, the lock on the server is released', async () => {
    const { sshd, env, repo, portal } = await sftpDistrict('bulk');
    const stopped = await interruptAt(
      ['apply', '--auto-approve'],
      repo.dir,
      'sftp:after-upload',
      'SIGTERM',
      env,
    );
    expect(stopped.reached).toBe(true);
    expect(stopped.status).toBe(143);
    expect(stopped.stderr).toContain('Error [INTERRUPTED]');
    expect(stopped.stderr).toContain(
      'still holds nothing from roster-as-code (never applied); its lock was released',
    );
    portal.take();
    expect(portal.taken).toBe(0);
    expect(readdirSync(sshd.root).filter((n) => n.endsWith('.tmp'))).toEqual([]);
    expect(readdirSync(join(sshd.root, '.roster', 'vendor')).filter((n) => /lock|pending/.test(n))).toEqual(
      [],
    );
    const next = await rosterAsync(['apply', '--auto-approve'], { cwd: repo.dir, env });
    expect(next.stdout).toContain('(serial 1)');
    expect(next.stderr).toBe('');
  });

  it('SIGINT after the journal: the delivery goes on and is recorded, lock released', async () => {
    const { sshd, env, repo, portal } = await sftpDistrict('bulk');
    const done = await interruptAt(
      ['apply', '--auto-approve'],
      repo.dir,
      'sftp:after-journal',
      'SIGINT',
      env,
    );
    expect(done.reached).toBe(true);
    expect(done.status, done.stderr).toBe(0);
    expect(done.stdout).toContain('Applied to target "vendor" (serial 1)');
    expect(readdirSync(join(sshd.root, '.roster', 'vendor')).filter((n) => /lock|pending/.test(n))).toEqual(
      [],
    );
    portal.take();
    expect(portal.taken).toBe(1);
    expect((await rosterAsync(['plan', '--detailed-exitcode'], { cwd: repo.dir, env })).status).toBe(0);
  });
});
