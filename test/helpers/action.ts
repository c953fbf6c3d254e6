/**
 * Runs the GitHub Action as the runner does: `node action/dist/index.js` (action.yml's
 * `runs.main`) with INPUT_* variables, an event payload file, GITHUB_OUTPUT and
 * GITHUB_STEP_SUMMARY files, and GITHUB_API_URL pointing at a fake GitHub on 127.0.0.1.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { tempDir } from './fixtures.js';
import { BOT_TOKEN, REPO } from './github.js';

export const ACTION_MAIN = resolve('action/dist/index.js');

export interface ActionRun {
  readonly status: number | null;
  /** The signal that ended the process, if one did. */
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly outputs: Record<string, string>;
  readonly summary: string;
}

export interface ActionOptions {
  readonly workspace: string;
  readonly api: string;
  readonly eventName: 'pull_request' | 'push' | 'schedule' | 'workflow_dispatch';
  readonly event: object;
  readonly sha?: string;
  readonly inputs?: Record<string, string>;
  readonly token?: string;
  readonly env?: NodeJS.ProcessEnv;
  /** Called with the child once it runs (to send it signals). */
  readonly onStart?: (child: ChildProcess) => void;
}

/** GitHub's payloads, with the fields the Action reads and a few around them. */
export const events = {
  pullRequest(number: number, headSha: string, options: { fork?: boolean } = {}) {
    return {
      action: 'synchronize',
      number,
      pull_request: {
        number,
        state: 'open',
        head: {
          sha: headSha,
          ref: 'roster-change',
          repo: { full_name: options.fork ? 'someone/roster' : REPO },
        },
        base: { sha: '0'.repeat(40), ref: 'main', repo: { full_name: REPO } },
      },
      repository: { full_name: REPO, default_branch: 'main' },
    };
  },
  push(sha: string, message: string) {
    return {
      ref: 'refs/heads/main',
      before: '0'.repeat(40),
      after: sha,
      head_commit: { id: sha, message },
      repository: { full_name: REPO, default_branch: 'main' },
    };
  },
  schedule() {
    return { schedule: '0 6 * * 1-5', repository: { full_name: REPO, default_branch: 'main' } };
  },
  dispatch(inputs: Record<string, string>) {
    return { inputs, ref: 'refs/heads/main', repository: { full_name: REPO, default_branch: 'main' } };
  },
};

/** GITHUB_OUTPUT's `name<<DELIMITER ... DELIMITER` blocks. */
export function parseOutputs(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const m = /^([^<]+)<<(.+)$/.exec(lines[i]!);
    if (!m) continue;
    const value: string[] = [];
    for (i++; i < lines.length && lines[i] !== m[2]; i++) value.push(lines[i]!);
    out[m[1]!] = value.join('\n');
  }
  return out;
}

export function runAction(o: ActionOptions): Promise<ActionRun> {
  const dir = tempDir('roster-action-');
  const eventPath = join(dir, 'event.json');
  writeFileSync(eventPath, JSON.stringify(o.event));
  const outputFile = join(dir, 'output');
  const summaryFile = join(dir, 'summary.md');
  writeFileSync(outputFile, '');
  writeFileSync(summaryFile, '');
  // The tests may themselves run inside GitHub Actions: nothing of that job leaks in.
  const base = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !/^(GITHUB_|INPUT_|RUNNER_)/.test(k)),
  );
  const inputs = Object.fromEntries(
    Object.entries({ 'github-token': o.token ?? BOT_TOKEN, ...o.inputs }).map(([k, v]) => [
      `INPUT_${k.replace(/ /g, '_').toUpperCase()}`,
      v,
    ]),
  );
  const env: NodeJS.ProcessEnv = {
    ...base,
    GITHUB_ACTIONS: 'true',
    GITHUB_EVENT_NAME: o.eventName,
    GITHUB_EVENT_PATH: eventPath,
    GITHUB_REPOSITORY: REPO,
    GITHUB_SHA: o.sha ?? 'f'.repeat(40),
    GITHUB_API_URL: o.api,
    GITHUB_WORKSPACE: o.workspace,
    GITHUB_OUTPUT: outputFile,
    GITHUB_STEP_SUMMARY: summaryFile,
    RUNNER_TEMP: dir,
    ...inputs,
    ...o.env,
  };
  return new Promise((done) => {
    const child = spawn(process.execPath, [ACTION_MAIN], { cwd: o.workspace, env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    o.onStart?.(child);
    child.on('close', (status, signal) =>
      done({
        status,
        signal,
        stdout,
        stderr,
        outputs: parseOutputs(readFileSync(outputFile, 'utf8')),
        summary: existsSync(summaryFile) ? readFileSync(summaryFile, 'utf8') : '',
      }),
    );
  });
}
