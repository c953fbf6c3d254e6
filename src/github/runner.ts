/**
 * What a GitHub Actions runner gives a JavaScript action, and takes back: `INPUT_*` variables,
 * the event payload (GITHUB_EVENT_PATH), outputs (GITHUB_OUTPUT), the job summary
 * (GITHUB_STEP_SUMMARY, at most 1 MiB per step) and workflow commands on stdout.
 */
import { randomUUID } from 'node:crypto';
import { appendFileSync, readFileSync } from 'node:fs';
import { UsageError } from '../errors.js';

/** GitHub refuses a step summary larger than this (bytes). */
export const STEP_SUMMARY_LIMIT = 1024 * 1024;

export interface RunnerEnvironment {
  readonly eventName: string;
  readonly event: GitHubEvent;
  /** "owner/name" */
  readonly repository: string;
  readonly sha: string;
  readonly apiUrl: string;
  readonly workspace: string;
}

/** The parts of an event payload the Action reads. */
export interface GitHubEvent {
  readonly pull_request?: {
    readonly number: number;
    readonly head: { readonly sha: string; readonly repo: { readonly full_name: string } | null };
    readonly base: { readonly repo: { readonly full_name: string } };
  };
  readonly head_commit?: { readonly id: string; readonly message: string } | null;
  readonly ref?: string;
  readonly repository?: { readonly default_branch?: string; readonly full_name?: string };
  readonly inputs?: Record<string, unknown>;
}

/** An input as the runner passes it: INPUT_ and the name in capitals (spaces as _). */
export function input(name: string, env: NodeJS.ProcessEnv = process.env): string {
  return (env[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`] ?? '').trim();
}

/** A boolean input, as YAML 1.2's core schema spells one. */
export function booleanInput(name: string, fallback: boolean, env: NodeJS.ProcessEnv = process.env): boolean {
  const value = input(name, env);
  if (value === '') return fallback;
  if (/^(true|True|TRUE)$/.test(value)) return true;
  if (/^(false|False|FALSE)$/.test(value)) return false;
  throw new UsageError(
    'ACTION_INPUT',
    `input "${name}" is "${value}", not true or false`,
    `Write ${name}: true or ${name}: false.`,
  );
}

export function readRunnerEnvironment(env: NodeJS.ProcessEnv = process.env): RunnerEnvironment {
  const need = (name: string) => {
    const value = env[name];
    if (!value)
      throw new UsageError(
        'ACTION_ENVIRONMENT',
        `${name} is not set: the Action runs inside a GitHub Actions job`,
        'Use the roster CLI outside GitHub Actions (roster plan, roster apply).',
      );
    return value;
  };
  const eventPath = env.GITHUB_EVENT_PATH;
  let event: GitHubEvent = {};
  if (eventPath) {
    try {
      event = JSON.parse(readFileSync(eventPath, 'utf8')) as GitHubEvent;
    } catch (err) {
      throw new UsageError(
        'ACTION_ENVIRONMENT',
        `cannot read the event payload ${eventPath}: ${(err as Error).message}`,
        'The runner writes it; run the Action inside a GitHub Actions job.',
      );
    }
  }
  return {
    eventName: need('GITHUB_EVENT_NAME'),
    event,
    repository: need('GITHUB_REPOSITORY'),
    sha: env.GITHUB_SHA ?? '',
    apiUrl: env.GITHUB_API_URL || 'https://api.github.com',
    workspace: env.GITHUB_WORKSPACE || process.cwd(),
  };
}

/** Writes step outputs (GITHUB_OUTPUT, in the multi-line form with a delimiter no value contains). */
export function setOutputs(outputs: Record<string, string>, env: NodeJS.ProcessEnv = process.env): void {
  const file = env.GITHUB_OUTPUT;
  if (!file) return;
  let text = '';
  for (const [name, value] of Object.entries(outputs)) {
    const delimiter = `ghadelimiter_${randomUUID()}`;
    text += `${name}<<${delimiter}\n${value}\n${delimiter}\n`;
  }
  appendFileSync(file, text);
}

/**
 * The job summary: appended to GITHUB_STEP_SUMMARY, never past 1 MiB for the step (what does not
 * fit is replaced by a line saying so).
 */
export class StepSummary {
  private written = 0;
  constructor(private readonly file: string | undefined) {}

  /** Bytes still free for this step. */
  get room(): number {
    return STEP_SUMMARY_LIMIT - this.written - 200;
  }

  add(markdown: string): void {
    if (!this.file) return;
    let text = markdown.endsWith('\n') ? markdown : `${markdown}\n`;
    if (Buffer.byteLength(text) > this.room)
      text = '\n_(more was left out: a job summary holds at most 1 MiB)_\n';
    this.written += Buffer.byteLength(text);
    appendFileSync(this.file, text);
  }
}
