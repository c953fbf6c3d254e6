/** trapInterrupts as a CI runner cancels a job: SIGINT, then SIGTERM, in a real child process. */
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const MODULE = resolve('dist/interrupts.js');

/** A process that traps interrupts, reports them, and works for `ms` before exiting 0. */
function trapped(ms: number) {
  const script = `
    const { trapInterrupts, interruptionOf } = await import(${JSON.stringify(MODULE)});
    const trap = trapInterrupts((s) => process.stdout.write('first ' + s + '\\n'));
    process.stdout.write('ready\\n');
    setTimeout(() => {
      trap.release();
      process.stdout.write('finished ' + (interruptionOf(trap.signal)?.signal ?? 'none') + '\\n');
    }, ${ms});`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script]);
  let out = '';
  const ready = new Promise<void>((r) =>
    child.stdout.on('data', (d) => {
      out += d;
      if (out.includes('ready')) r();
    }),
  );
  const done = new Promise<{ code: number | null; signal: string | null }>((r) =>
    child.on('close', (code, signal) => r({ code, signal })),
  );
  return { child, ready, done, out: () => out };
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('trapInterrupts', () => {
  it('takes SIGINT then SIGTERM as one cancellation: the clean-up finishes, nothing is cut short', async () => {
    const p = trapped(1500);
    await p.ready;
    p.child.kill('SIGINT');
    await pause(200);
    p.child.kill('SIGTERM');
    expect(await p.done).toEqual({ code: 0, signal: null });
    expect(p.out()).toBe('ready\nfirst SIGINT\nfinished SIGINT\n');
  });

  it('exits at once on the same signal twice (Ctrl-C pressed again)', async () => {
    const p = trapped(5000);
    await p.ready;
    p.child.kill('SIGINT');
    await pause(200);
    p.child.kill('SIGINT');
    expect(await p.done).toEqual({ code: 130, signal: null });
    expect(p.out()).toBe('ready\nfirst SIGINT\n');
  });

  it("gives the signal back to Node's default once released without an interruption", async () => {
    const p = trapped(100);
    await p.ready;
    expect(await p.done).toEqual({ code: 0, signal: null });
    expect(p.out()).toContain('finished none');
  });
});
