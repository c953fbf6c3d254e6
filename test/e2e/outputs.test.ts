/**
 * Nothing lost, nothing partial: outputs are never overwritten without --force, a full disk is a
 * clear DISK_FULL with nothing partial left, and one unreadable target does not hide the others.
 */
import { spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { roster } from '../helpers/cli.js';
import { districtRepo } from '../helpers/repo.js';

const STACK = /\n\s+at .+:\d+:\d+/;

describe('roster export', () => {
  it('refuses to overwrite roster files in --out without --force', () => {
    const repo = districtRepo({ git: false, students: 20 });
    const out = join(repo.dir, 'upload');
    mkdirSync(out);
    writeFileSync(join(out, 'users.csv'), 'keep me\n');
    const refused = roster(['export', '--out', out], { cwd: repo.dir });
    expect(refused.status).toBe(64);
    expect(refused.stderr).toContain('Error [OUTPUT_EXISTS]');
    expect(readFileSync(join(out, 'users.csv'), 'utf8')).toBe('keep me\n');
    const forced = roster(['export', '--out', out, '--force'], { cwd: repo.dir });
    expect(forced.status, forced.stderr).toBe(0);
    expect(readFileSync(join(out, 'users.csv'), 'utf8')).toMatch(/^sourcedId,/);
    expect(readdirSync(repo.dir).filter((n) => n.includes('roster-staging'))).toEqual([]);
  });
});

describe('roster status', () => {
  it("shows every target when one target's secret is missing, naming the variable; exit 1", () => {
    const repo = districtRepo({
      git: false,
      students: 20,
      config:
        'roster: roster\ntargets:\n  - name: local\n    kind: dir\n    path: .roster/targets/local\n  - name: vendor\n    kind: batch\n    url: http://127.0.0.1:9\n    tokenEnv: ROSTER_TEST_MISSING_TOKEN\n  - name: vendor-sftp\n    kind: sftp\n    host: 127.0.0.1\n    port: 9\n    username: u\n    hostKey: "SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"\n    auth: { privateKeyEnv: ROSTER_TEST_MISSING_KEY }\n',
    });
    const applied = roster(['apply', '--auto-approve'], { cwd: repo.dir });
    expect(applied.status, applied.stderr).toBe(0);
    const status = roster(['status'], { cwd: repo.dir, env: { ROSTER_TEST_MISSING_KEY: '' } });
    expect(status.status).toBe(1);
    expect(status.stdout).toContain('local (dir, bulk)');
    expect(status.stdout).toContain('serial 1, applied');
    expect(status.stdout).toMatch(
      /vendor-sftp \(sftp, bulk\)[^\n]*\n {2}cannot be read: \[SECRET_MISSING\] environment variable ROSTER_TEST_MISSING_KEY/,
    );
    expect(status.stdout + status.stderr).not.toMatch(STACK);
    const json = roster(['status', '--format', 'json'], { cwd: repo.dir });
    expect(json.status).toBe(1);
    const rows = JSON.parse(json.stdout).targets;
    expect(rows.map((r: { target: string; error?: { code: string } }) => [r.target, r.error?.code])).toEqual([
      ['local', undefined],
      ['vendor', undefined],
      ['vendor-sftp', 'SECRET_MISSING'],
    ]);
  });
});

/** A tiny file system that fills up at once (tmpfs, as root); undefined where mounting is not allowed. */
function smallDisk(): string | undefined {
  const dir = mkdtempSync(join(tmpdir(), 'roster-full-'));
  const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=8k', 'tmpfs', dir]);
  if (mounted.status !== 0) return undefined;
  mounts.push(dir);
  return dir;
}
const mounts: string[] = [];
afterAll(() => {
  for (const m of mounts) {
    spawnSync('umount', [m]);
    rmSync(m, { recursive: true, force: true });
  }
});

describe('a full disk', () => {
  // Mounting needs root (CI and these machines run as root); elsewhere this is skipped, saying why.
  const disk = process.getuid?.() === 0 ? smallDisk() : undefined;
  it.skipIf(!disk)(
    'apply and convert say DISK_FULL (exit 1), name the path, leave nothing partial (needs root to mount a tmpfs)',
    () => {
      const repo = districtRepo({
        git: false,
        students: 20,
        config: `roster: roster\ntargets:\n  - name: local\n    kind: dir\n    path: ${disk}/target\n`,
      });
      const apply = roster(['apply', '--auto-approve'], { cwd: repo.dir });
      expect(apply.status).toBe(1);
      expect(apply.stderr).toContain(
        `Error [DISK_FULL] no space left on the device while writing ${disk}/target`,
      );
      expect(apply.stderr).not.toMatch(STACK);
      expect(readdirSync(join(disk!, 'target', 'generations'))).toEqual([]);
      expect(existsSync(join(disk!, 'target', 'lock.json'))).toBe(false);

      for (const out of ['out', 'out.zip']) {
        const convert = roster(['convert', 'roster', '--to', 'oneroster-1.1', '--out', join(disk!, out)], {
          cwd: repo.dir,
        });
        expect(convert.status, out).toBe(1);
        expect(convert.stderr).toContain(
          `Error [DISK_FULL] no space left on the device while writing ${join(disk!, out)}`,
        );
        expect(readdirSync(disk!).sort(), out).toEqual(['target']);
      }
    },
  );
});
