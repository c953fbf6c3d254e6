/**
 * The GitHub Action's entry (action.yml `runs.main`, bundled into action/dist/index.js): reads the
 * inputs and the runner's environment, runs the job through the same services as the CLI
 * (services/ci.ts), writes outputs and the job summary, and sets the exit code. Errors are
 * rendered here, once, as annotations; a stack trace only with DEBUG=roster.
 */
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { BugError, InterruptedError, RosterError, UsageError } from '../errors.js';
import { ExitCode } from '../exit-codes.js';
import { GitHubClient } from '../github/api.js';
import { booleanInput, input, readRunnerEnvironment, StepSummary, setOutputs } from '../github/runner.js';
import { interruptionOf, trapInterrupts } from '../interrupts.js';
import { TEXT_DETAIL_LIMIT } from '../render/plan.js';
import { annotation } from '../render/workflow-commands.js';
import { type CiCommand, type CiIo, runCi } from '../services/ci.js';

const COMMANDS: readonly CiCommand[] = ['validate', 'plan', 'apply'];

/** Runs the Action in this process; resolves to the exit code. */
export async function main(env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const out = (line: string) => process.stdout.write(`${line}\n`);
  const summary = new StepSummary(env.GITHUB_STEP_SUMMARY);
  const io: CiIo = {
    log: out,
    annotate: (kind, message, place) => out(annotation(kind, message, place)),
    summary: (markdown) => summary.add(markdown),
    get summaryRoom() {
      return summary.room;
    },
  };
  // A cancelled job gets SIGINT, then SIGTERM: stop at a safe point, release the lock.
  const trap = trapInterrupts((signal) =>
    out(`${signal} received: stopping at a safe point and releasing the lock...`),
  );
  const planDir = join(env.RUNNER_TEMP || tmpdir(), 'roster-plans');
  try {
    const command = (input('command', env) || 'plan') as CiCommand;
    if (!COMMANDS.includes(command))
      throw new UsageError(
        'ACTION_INPUT',
        `input "command" is "${command}"`,
        `Use one of: ${COMMANDS.join(', ')}.`,
      );
    const runner = readRunnerEnvironment(env);
    const detail = input('detail-limit', env);
    const detailLimit = detail === '' ? TEXT_DETAIL_LIMIT : Number(detail);
    if (!Number.isInteger(detailLimit) || detailLimit < 0)
      throw new UsageError(
        'ACTION_INPUT',
        `input "detail-limit" is "${detail}"`,
        'Give a whole number, e.g. 2000.',
      );
    const token = input('github-token', env) || env.GITHUB_TOKEN || '';
    const targets = input('targets', env)
      .split(',')
      .map((t) => t.trim())
      .filter(Boolean);
    const result = await runCi(
      {
        command,
        repo: resolve(runner.workspace, input('working-directory', env) || '.'),
        ...(targets.length > 0 ? { targets } : {}),
        comment: booleanInput('comment', true, env),
        allowMassChange: booleanInput('allow-mass-change', false, env),
        detailLimit,
        runner,
        ...(token ? { github: new GitHubClient(runner.apiUrl, token, runner.repository) } : {}),
        planDir,
        signal: trap.signal,
      },
      io,
    );
    setOutputs(result.outputs, env);
    return result.failure ? ExitCode.Failure : ExitCode.Ok;
  } catch (err) {
    const interruption = interruptionOf(trap.signal);
    const error =
      err instanceof RosterError
        ? err
        : interruption
          ? new InterruptedError(
              interruption.signal,
              `stopped by ${interruption.signal}; nothing was delivered`,
            )
          : new BugError((err as Error)?.message ?? String(err), err);
    out(annotation('error', `${error.message}${error.hint ? `\n${error.hint}` : ''}`, { title: error.code }));
    if (/\broster\b|\*/.test(env.DEBUG ?? '') && err instanceof Error && err.stack) out(err.stack);
    setOutputs({ 'failure-reason': failureOf(error), 'plan-dir': planDir }, env);
    return error.exitCode;
  } finally {
    trap.release();
  }
}

function failureOf(error: RosterError): string {
  if (error.code === 'INTERRUPTED') return 'cancelled';
  if (error.code.startsWith('CONFIG') || error.code === 'ACTION_INPUT' || error.code === 'TARGET_UNKNOWN')
    return 'invalid';
  return 'delivery-failed';
}
