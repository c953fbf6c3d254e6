/**
 * Output that survives pipes: a report far above the 64 KiB a pipe holds reaches the reader whole,
 * whatever the exit code (it used to be cut at 65,536 bytes when the command exited non-zero),
 * and a reader that stops early (`| head -c`) gets no stack trace.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, roster } from '../helpers/cli.js';

const STACK = /\n\s+at .+:\d+:\d+/;

/** Runs `roster ARGS | READER` in a shell; returns the reader's output and roster's exit code. */
function piped(args: string[], reader: string, cwd: string) {
  const quoted = args.map((a) => `'${a}'`).join(' ');
  const r = spawnSync(
    'bash',
    [
      '-c',
      `"${process.execPath}" "${BIN}" ${quoted} 2>stderr.txt | { ${reader}; }; echo "exit=\${PIPESTATUS[0]}" >&2`,
    ],
    { cwd, encoding: 'utf8', maxBuffer: 1 << 30, env: { ...process.env, NO_COLOR: '1' } },
  );
  return {
    stdout: r.stdout,
    exit: Number(/exit=(\d+)/.exec(r.stderr)?.[1]),
    stderr: readFileSync(join(cwd, 'stderr.txt'), 'utf8'),
  };
}

describe('output through a pipe', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'roster-pipes-'));
    expect(
      roster(['generate', '--out', join(dir, 'bad'), '--format', 'csv', '--students', '800']).status,
    ).toBe(0);
    // One enrollment class that does not exist per enrollment: thousands of diagnostics (exit 1).
    const file = join(dir, 'bad', 'enrollments.csv');
    writeFileSync(file, readFileSync(file, 'utf8').replace(/,crs-/g, ',gone-'));
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.each(['json', 'github', 'text'])(
    'validate --format %s: a report of hundreds of KiB arrives whole with exit 1',
    (format) => {
      // The same report written to a file (no pipe) is the reference.
      const whole = piped(
        ['validate', 'bad', '--format', format, '--max-diagnostics', '100000'],
        `cat > whole-${format}.txt; cat whole-${format}.txt`,
        dir,
      );
      expect(readFileSync(join(dir, `whole-${format}.txt`), 'utf8')).toBe(whole.stdout);
      expect(whole.exit).toBe(1);
      expect(whole.stdout.length).toBeGreaterThan(200_000);
      const out = piped(['validate', 'bad', '--format', format, '--max-diagnostics', '100000'], 'cat', dir);
      expect(out.exit).toBe(1);
      expect(out.stdout.length).toBe(whole.stdout.length);
      expect(out.stdout).toBe(whole.stdout);
      if (format === 'json') expect(() => JSON.parse(out.stdout)).not.toThrow();
    },
  );

  it('lists at most --max-diagnostics diagnostics (1000 by default in text), the counts exact', () => {
    const text = piped(['validate', 'bad'], 'cat', dir);
    expect(text.exit).toBe(1);
    const listed = text.stdout.split('\n').filter((l) => l.includes('  error  ')).length;
    expect(listed).toBe(1000);
    const total = Number(/✖ (\d+) errors/.exec(text.stdout)?.[1]);
    expect(total).toBeGreaterThan(1000);
    expect(text.stdout).toContain(
      `... and ${(total - 1000).toLocaleString('en-US')} more diagnostic(s) not listed`,
    );
    const json = JSON.parse(
      piped(['validate', 'bad', '--format', 'json', '--max-diagnostics', '5'], 'cat', dir).stdout,
    );
    expect(json).toMatchObject({ errors: total, omitted: total - 5 });
    expect(json.diagnostics).toHaveLength(5);
  });

  it('plan --format json | cat: the whole plan; | head -c 100: the first bytes, no stack trace', () => {
    writeFileSync(
      join(dir, 'roster.config.yaml'),
      'roster: good\ntargets:\n  - name: local\n    kind: dir\n    path: .roster/targets/local\n',
    );
    expect(roster(['generate', '--out', join(dir, 'good'), '--students', '300']).status).toBe(0);
    const whole = piped(['plan', '--format', 'json', '--detailed-exitcode'], 'cat', dir);
    expect(whole.exit).toBe(2);
    expect(whole.stdout.length).toBeGreaterThan(500_000);
    expect(JSON.parse(whole.stdout).summary.create).toBeGreaterThan(1000);
    const head = piped(['plan', '--format', 'json'], 'head -c 100', dir);
    expect(head.stdout).toHaveLength(100);
    expect(head.stderr).not.toMatch(STACK);
    expect(head.stderr).not.toContain('EPIPE');
    const bad = piped(['validate', 'bad', '--format', 'json'], 'head -c 100', dir);
    expect(bad.stdout).toHaveLength(100);
    expect(bad.stderr).not.toMatch(STACK);
  });
});
