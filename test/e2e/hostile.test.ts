/**
 * The hostile corpus (test/helpers/hostile-corpus.ts) through `roster validate`, as a user runs it:
 * each input gives its diagnostic (exit 1), never a crash or a hang, within its time and memory
 * ceiling (wall time and peak memory from /usr/bin/time).
 */
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { BIN } from '../helpers/cli.js';
import { tempDir } from '../helpers/fixtures.js';
import { type HostileCase, hostileCorpus } from '../helpers/hostile-corpus.js';

interface Outcome {
  readonly status: number | null;
  readonly codes: string[];
  readonly stderr: string;
  readonly seconds: number;
  readonly mb: number;
}

function validate(c: HostileCase): Promise<Outcome> {
  return new Promise((resolve) => {
    const child = spawn(
      '/usr/bin/time',
      ['-f', '%e %M', process.execPath, BIN, 'validate', c.path, '--format', 'json', ...(c.args ?? [])],
      {
        env: { ...process.env, NO_COLOR: '1' },
      },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (status) => {
      const [seconds, kb] = (stderr.trim().split('\n').pop() ?? '').split(' ').map(Number);
      // The report's diagnostics; or, for input that cannot be read at all, the error's code.
      const codes = [...stderr.matchAll(/^Error \[(\w+)\]/gm)].map((m) => m[1]!);
      try {
        for (const d of (JSON.parse(stdout) as { diagnostics: { code: string }[] }).diagnostics)
          codes.push(d.code);
      } catch {}
      resolve({ status, codes, stderr, seconds: seconds ?? Number.NaN, mb: Math.round((kb ?? 0) / 1024) });
    });
  });
}

describe('the hostile corpus', () => {
  it('each input gives its diagnostic, in bounded time and memory, never a crash', async () => {
    const dir = process.env.HOSTILE_KEEP ?? tempDir('roster-hostile-');
    const cases = await hostileCorpus(dir);
    const results: string[] = [];
    // Two at a time (two cores); each is timed on its own.
    for (let i = 0; i < cases.length; i += 2) {
      const batch = cases.slice(i, i + 2);
      const outcomes = await Promise.all(batch.map(validate));
      batch.forEach((c, k) => {
        const o = outcomes[k]!;
        results.push(
          `${c.name}: ${o.status} ${o.codes.includes(c.code) ? c.code : `MISSING ${c.code} (${[...new Set(o.codes)].join(' ')}) ${o.stderr.slice(0, 300)}`} ${o.seconds} s ${o.mb} MB`,
        );
        expect.soft(o.status, `${c.name}: ${o.stderr}`).toBe(c.status ?? 1);
        expect.soft(o.codes, c.name).toContain(c.code);
        expect.soft(o.codes, c.name).not.toContain('INTERNAL_ERROR');
        expect.soft(o.seconds, `${c.name}: seconds`).toBeLessThanOrEqual(c.maxSeconds);
        expect.soft(o.mb, `${c.name}: MB`).toBeLessThanOrEqual(c.maxMb);
      });
    }
    console.log(results.join('\n'));
    if (!process.env.HOSTILE_KEEP) rmSync(dir, { recursive: true, force: true });
  }, 300_000);
});
