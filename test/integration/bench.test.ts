/**
 * The benchmark's XS size (3,000 students) with its correctness gate: every keyed tool (roster plan, roster diff, daff) must report
 * the mutation's ground truth. Timings are printed, never asserted here (performance goals live in
 * the benchmark, not in tests).
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

describe('npm run bench (size XS)', () => {
  it('runs every tool on the same inputs and passes the correctness gate', () => {
    const r = spawnSync(process.execPath, ['bench/run.js', '--size', 'XS'], {
      encoding: 'utf8',
      timeout: 170_000,
    });
    expect(r.stderr).not.toContain('correctness gate');
    expect(r.status, r.stderr).toBe(0);
    for (const tool of [
      'roster plan',
      'roster plan (incremental)',
      'roster plan --full',
      'roster diff',
      'roster diff --full',
      'sort + join/comm',
      'git diff --no-index --stat',
      'daff --id sourcedId',
      'read floor (cat)',
      'parse floor (PapaParse)',
      'parse floor (ours: byte scanner)',
      'Action: plan + comment',
      'Action: plan + comment (first)',
    ]) {
      expect(r.stdout).toContain(tool);
    }
    // roster plan, roster diff (both ways) and daff, plain and shuffled; the incremental and full
    // plans of one changed school (the bench also fails unless the two plans, and the two diffs,
    // agree, and the shortcuts were taken).
    expect(r.stdout.match(/ ok$/gm)?.length).toBe(10);
  }, 180_000);
});
