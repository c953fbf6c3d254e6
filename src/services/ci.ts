/**
 * What the GitHub Action does, per event (docs/github-action.md):
 * - pull_request: validate, plan every target, post one comment per target (plan + plan hash);
 * - push to the default branch: apply only the plan reviewed on the pull request the commit came
 *   from (same plan hash), else refuse with `plan-changed` and post the new plan there;
 * - schedule and workflow_dispatch: apply what is pending within the safety thresholds.
 * A held plan is never applied by CI unless released (dispatch input, or the label added after the
 * last push by someone with write access); it opens one issue per target instead.
 * The same services as the CLI do the work, so the Action and `roster` never disagree.
 */
import { mkdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { loadRepoConfig, selectTarget } from '../config/config.js';
import { LockHeldError, RosterError, UsageError } from '../errors.js';
import { type Comment, GitHubApiError, type GitHubClient } from '../github/api.js';
import type { RunnerEnvironment } from '../github/runner.js';
import type { Plan } from '../plan/plan.js';
import { planHash, shortPlanHash } from '../plan/plan-hash.js';
import { escapeMd, renderPlanMarkdown, renderPlanText, summaryLine } from '../render/plan.js';
import { writePlanFile } from '../render/plan-json.js';
import { renderValidation } from '../render/validation.js';
import type { AnnotationKind, AnnotationPlace } from '../render/workflow-commands.js';
import { InvalidRosterError, type ValidationResult } from '../validate/validate.js';
import { applyRoster, HeldPlanError } from './apply.js';
import { makePlan } from './plan.js';
import {
  closeHeldIssue,
  findPlanComment,
  hashMarker,
  labelReleasesHold,
  MASS_CHANGE_LABEL,
  postedPlanHash,
  pullRequestOf,
  upsertHeldIssue,
  upsertPlanComment,
} from './review.js';
import { validatePath } from './validate.js';

export type CiCommand = 'validate' | 'plan' | 'apply';

/** Why the job failed: a stable word for `if:` conditions in workflows ('' when it did not). */
export type FailureReason =
  | ''
  | 'invalid'
  | 'held'
  | 'plan-changed'
  | 'locked'
  | 'delivery-failed'
  | 'not-reviewed'
  | 'target-unavailable';

/** A GitHub comment holds at most 65,536 characters; counted in bytes here, which is stricter. */
export const COMMENT_LIMIT = 65_536;
/** GitHub shows this many annotations of each kind per step. */
export const ANNOTATIONS_PER_KIND = 10;

export interface CiOptions {
  readonly command: CiCommand;
  /** The district repo (absolute). */
  readonly repo: string;
  readonly targets?: readonly string[];
  /** Post plan comments on pull requests. */
  readonly comment: boolean;
  /** The workflow_dispatch input: releases a hold on a manual run only. */
  readonly allowMassChange: boolean;
  /** Changes listed one by one in the job log and comments. */
  readonly detailLimit: number;
  readonly runner: RunnerEnvironment;
  /** Absent without a token: nothing is posted. */
  readonly github?: GitHubClient;
  /** Where the JSON plans are written (one `<target>.json` each). */
  readonly planDir: string;
  readonly signal?: AbortSignal;
}

/** Where the service's words go: the job log, annotations, the job summary. */
export interface CiIo {
  log(text: string): void;
  annotate(kind: AnnotationKind, message: string, place?: AnnotationPlace): void;
  summary(markdown: string): void;
  /** Bytes still free in the job summary. */
  readonly summaryRoom: number;
}

export interface TargetResult {
  readonly target: string;
  readonly plan?: Plan;
  readonly hash?: string;
  readonly failure: FailureReason;
  readonly commentUrl?: string;
  readonly planFile?: string;
  readonly applied?: boolean;
}

export interface CiResult {
  readonly targets: readonly TargetResult[];
  readonly failure: FailureReason;
  /** The step's outputs (action.yml). */
  readonly outputs: Record<string, string>;
}

/** Runs the Action's job. Throws only for usage errors and interruptions; the rest is a result. */
export async function runCi(o: CiOptions, io: CiIo): Promise<CiResult> {
  const config = loadRepoConfig(o.repo);
  const names = o.targets && o.targets.length > 0 ? o.targets : config.targets.map((t) => t.name);
  for (const name of names) selectTarget(config, name);
  const { runner } = o;
  const results: TargetResult[] = [];
  if (o.command === 'validate') {
    const result = await validatePath(config.root);
    reportValidation(result, o, io);
    return finish(o, results, result.valid ? '' : 'invalid');
  }

  const pull = runner.event.pull_request;
  const isPull = runner.eventName === 'pull_request' || runner.eventName === 'pull_request_target';
  if (o.command === 'apply' && isPull)
    throw new UsageError(
      'ACTION_INPUT',
      'command: apply does not run on pull requests: a pull request is planned and reviewed, then applied when merged',
      'Use command: plan on pull_request, and apply on push, schedule and workflow_dispatch (examples/workflows/).',
    );
  const fork = Boolean(pull && pull.head.repo?.full_name !== pull.base.repo.full_name);
  let login: string | undefined;
  const me = async (client: GitHubClient) => (login ??= await client.login());

  if (o.allowMassChange && runner.eventName !== 'workflow_dispatch')
    io.annotate(
      'warning',
      `allow-mass-change is honoured only on a manual run (workflow_dispatch); on ${runner.eventName} a hold is released only by the label ${MASS_CHANGE_LABEL}`,
    );

  // An apply on a push: which pull request reviewed the commit, and what it showed.
  let review: { pull: number; comments: readonly Comment[] } | undefined;
  if (o.command === 'apply' && runner.eventName === 'push') {
    const number = o.github
      ? await pullRequestOf(o.github, runner.sha, runner.event.head_commit?.message)
      : undefined;
    if (number !== undefined && o.github) {
      review = { pull: number, comments: await o.github.issueComments(number) };
      io.log(`The pushed commit ${runner.sha.slice(0, 12)} comes from pull request #${number}.`);
    } else if (!config.ci.allowDirectPush) {
      const message = `commit ${runner.sha.slice(0, 12)} was pushed without a pull request${o.github ? '' : ' (or no github-token was given to find one)'}: nothing reviewed it, so nothing is applied`;
      io.annotate('error', message, { title: 'NOT_REVIEWED' });
      io.log(
        'hint: Change the roster through pull requests, or let scheduled runs apply it; to apply direct pushes, set ci: { allowDirectPush: true } in roster.config.yaml.',
      );
      io.summary(`### roster apply: not reviewed\n\n${message}.\n`);
      return finish(
        o,
        names.map((target) => ({ target, failure: 'not-reviewed' as const })),
        'not-reviewed',
      );
    } else
      io.log(`Commit ${runner.sha.slice(0, 12)} was pushed directly; ci.allowDirectPush lets it be applied.`);
  }

  let failure: FailureReason = '';
  for (const [index, name] of names.entries()) {
    o.signal?.throwIfAborted();
    const share = Math.floor(io.summaryRoom / (names.length - index));
    const result =
      o.command === 'plan'
        ? await planTarget(name, o, io, { fork, pull: isPull ? pull?.number : undefined, me, share })
        : await applyTarget(name, o, io, { review, me, share });
    results.push(result);
    if (!failure) failure = result.failure;
    if (result.failure === 'invalid') break; // the same roster for every target
  }
  return finish(o, results, failure);
}

interface PlanTargetContext {
  readonly fork: boolean;
  readonly pull: number | undefined;
  readonly me: (client: GitHubClient) => Promise<string>;
  readonly share: number;
}

async function planTarget(name: string, o: CiOptions, io: CiIo, c: PlanTargetContext): Promise<TargetResult> {
  let plan: Plan;
  try {
    plan = (await makePlan({ repo: o.repo, target: name, incremental: false })).plan;
  } catch (err) {
    if (err instanceof InvalidRosterError) {
      reportValidation(err.result, o, io);
      return { target: name, failure: 'invalid' };
    }
    if (!(err instanceof RosterError)) throw err;
    if (c.fork) {
      // A fork's pull request gets no secrets: plan what can be read, say what could not.
      io.annotate(
        'warning',
        `target "${name}" was not planned: ${err.message} (a pull request from a fork gets no secrets)`,
        {
          title: err.code,
        },
      );
      io.summary(
        `### roster plan: \`${name}\`\n\nNot planned: ${err.message} (a pull request from a fork gets no secrets).\n`,
      );
      return { target: name, failure: '' };
    }
    io.annotate(
      'error',
      `target "${name}" could not be planned: ${err.message}${err.hint ? `\n${err.hint}` : ''}`,
      {
        title: err.code,
      },
    );
    return { target: name, failure: 'target-unavailable' };
  }
  const hash = hashOf(plan);
  const planFile = savePlan(o.planDir, plan);
  logPlan(plan, hash, o, io);
  io.summary(renderPlanMarkdown(plan, { limitBytes: c.share, holdRelease: HOLD_RELEASE }));
  let commentUrl: string | undefined;
  if (c.pull !== undefined && o.comment) {
    if (!o.github) io.annotate('warning', 'no github-token: the plan was not posted on the pull request');
    else {
      const body = postedPlan(plan, hash, o.detailLimit, {
        note: `_plan-hash \`${shortPlanHash(hash)}\`, state serial ${plan.basis.stateSerial}: merging applies exactly this plan._`,
      });
      try {
        const posted = await upsertPlanComment(o.github, await c.me(o.github), c.pull, name, body);
        commentUrl = posted.comment.html_url;
        io.log(
          posted.outcome === 'unchanged'
            ? `The plan comment for "${name}" is up to date: ${commentUrl}`
            : `Plan comment for "${name}" ${posted.outcome}: ${commentUrl}`,
        );
      } catch (err) {
        if (!(err instanceof GitHubApiError) || err.status !== 403) throw err;
        io.annotate(
          'warning',
          `the plan for "${name}" could not be posted on #${c.pull} (HTTP 403: ${c.fork ? 'a pull request from a fork gets a read-only token' : 'the token may not write pull requests'}); it is in the job summary`,
          { title: 'COMMENT_NOT_POSTED' },
        );
      }
    }
  }
  return { target: name, plan, hash, failure: '', planFile, ...(commentUrl ? { commentUrl } : {}) };
}

const HOLD_RELEASE = `someone with write access adds the label \`${MASS_CHANGE_LABEL}\` after the last push (then merge), or the apply workflow is run by hand with \`allow-mass-change: true\``;

interface ApplyTargetContext {
  readonly review: { pull: number; comments: readonly Comment[] } | undefined;
  readonly me: (client: GitHubClient) => Promise<string>;
  readonly share: number;
}

async function applyTarget(
  name: string,
  o: CiOptions,
  io: CiIo,
  c: ApplyTargetContext,
): Promise<TargetResult> {
  const { review } = c;
  const comment =
    review && o.github ? findPlanComment(review.comments, await c.me(o.github), name) : undefined;
  const reviewed = postedPlanHash(comment);
  let allowMassChange = false;
  if (o.runner.eventName === 'workflow_dispatch' && o.allowMassChange) {
    allowMassChange = true;
    io.log(`allow-mass-change: a hold on "${name}" is released by this manual run.`);
  } else if (review && o.github) {
    const release = await labelReleasesHold(o.github, review.pull, comment);
    allowMassChange = release.released;
    io.log(`Hold on "${name}": ${release.reason}.`);
  }
  let changed: Plan | undefined;
  let planned: Plan | undefined;
  try {
    const result = await applyRoster({
      repo: o.repo,
      target: name,
      allowMassChange,
      lockTimeoutMs: 0,
      ...(o.signal ? { signal: o.signal } : {}),
      notice: (message) => io.log(`Note: ${message}`),
      // On a push, only the reviewed plan is applied (whatever a terminal user would be asked).
      confirm: async (plan) => {
        planned = plan;
        if (!review) return true;
        if (hashOf(plan) === reviewed) return true;
        changed = plan;
        return false;
      },
    });
    const plan = result.plan;
    const hash = hashOf(plan);
    const planFile = savePlan(o.planDir, plan);
    if (result.outcome === 'cancelled' && changed) {
      return await refuseChanged(name, changed, hash, planFile, o, io, c, reviewed === undefined);
    }
    logPlan(plan, hash, o, io);
    if (result.outcome === 'no-changes') {
      io.log(`Target "${name}": no changes, nothing to apply.`);
      io.summary(renderPlanMarkdown(plan, { limitBytes: c.share, status: '**Nothing to apply.**' }));
      return { target: name, plan, hash, failure: '', planFile };
    }
    const serial = result.state?.serial;
    io.log(`Applied to target "${name}" (serial ${serial}). ${summaryLine(plan)}`);
    for (const w of result.warnings ?? []) io.annotate('warning', `target "${name}": ${w}`);
    io.summary(
      renderPlanMarkdown(plan, {
        limitBytes: c.share,
        status: `**Applied** (state serial ${serial})${review ? `, as reviewed on #${review.pull}` : ''}.`,
      }),
    );
    if (o.github)
      await closeHeldIssue(
        o.github,
        await c.me(o.github),
        name,
        `Applied at serial ${serial} by ${o.runner.eventName} (${o.runner.sha.slice(0, 12)}): this hold no longer stands.`,
      ).catch((err: Error) =>
        io.annotate('warning', `could not close the held-plan issue of "${name}": ${err.message}`),
      );
    return { target: name, plan, hash, failure: '', planFile, applied: true };
  } catch (err) {
    if (err instanceof HeldPlanError) {
      const hash = hashOf(err.plan);
      const planFile = savePlan(o.planDir, err.plan);
      if (review && hash !== reviewed)
        return await refuseChanged(name, err.plan, hash, planFile, o, io, c, reviewed === undefined);
      return await refuseHeld(name, err, hash, planFile, o, io, c);
    }
    if (err instanceof InvalidRosterError) {
      reportValidation(err.result, o, io);
      return { target: name, failure: 'invalid' };
    }
    if (!(err instanceof RosterError) || err.code === 'INTERRUPTED' || o.signal?.aborted) throw err;
    const failure: FailureReason = err instanceof LockHeldError ? 'locked' : 'delivery-failed';
    io.annotate('error', `target "${name}": ${err.message}${err.hint ? `\n${err.hint}` : ''}`, {
      title: err.code,
    });
    io.summary(`### roster apply: \`${name}\`\n\n**Not applied** (${failure}): ${escapeMd(err.message)}\n`);
    const plan = planned;
    return { target: name, failure, ...(plan ? { plan, hash: hashOf(plan) } : {}) };
  }
}

/** The plan differs from the one reviewed: nothing applied, the new plan posted on the pull request. */
async function refuseChanged(
  name: string,
  plan: Plan,
  hash: string,
  planFile: string,
  o: CiOptions,
  io: CiIo,
  c: ApplyTargetContext,
  neverPosted: boolean,
): Promise<TargetResult> {
  const pull = c.review?.pull;
  const why = neverPosted
    ? `no plan for "${name}" was posted on #${pull}, so nothing reviewed it`
    : `the plan for "${name}" differs from the one reviewed on #${pull} (another change was merged first, or the target changed)`;
  io.annotate('error', `${why}; nothing was applied`, { title: 'PLAN_CHANGED' });
  logPlan(plan, hash, o, io);
  const status = `> [!IMPORTANT]\n> **Not applied:** ${why}. This is the plan as it is now; the next scheduled or manual run applies it unless a safety check holds it.`;
  io.summary(renderPlanMarkdown(plan, { limitBytes: c.share, status }));
  let commentUrl: string | undefined;
  if (o.github && pull !== undefined) {
    const body = postedPlan(plan, hash, o.detailLimit, {
      status,
      note: `_plan-hash \`${shortPlanHash(hash)}\`, state serial ${plan.basis.stateSerial}._`,
    });
    const posted = await upsertPlanComment(
      o.github,
      await c.me(o.github),
      pull,
      name,
      body,
      c.review?.comments,
    );
    commentUrl = posted.comment.html_url;
    io.log(`The new plan is posted on #${pull}: ${commentUrl}`);
  }
  return {
    target: name,
    plan,
    hash,
    planFile,
    failure: 'plan-changed',
    ...(commentUrl ? { commentUrl } : {}),
  };
}

/** A held plan: nothing applied; one issue per target shows the plan. */
async function refuseHeld(
  name: string,
  err: HeldPlanError,
  hash: string,
  planFile: string,
  o: CiOptions,
  io: CiIo,
  c: ApplyTargetContext,
): Promise<TargetResult> {
  const { plan } = err;
  io.annotate('error', `target "${name}": ${err.message}`, { title: 'PLAN_HELD' });
  logPlan(plan, hash, o, io);
  const status = `> [!CAUTION]\n> **Not applied:** CI never applies a held plan. Review it; ${HOLD_RELEASE}.`;
  io.summary(renderPlanMarkdown(plan, { limitBytes: c.share, status }));
  let commentUrl: string | undefined;
  if (o.github) {
    const body = postedPlan(plan, hash, o.detailLimit, {
      // (upsertHeldIssue adds its marker line)
      limitBytes: COMMENT_LIMIT - 200,
      status: `${status}\n\nFound by ${o.runner.eventName} at ${o.runner.sha.slice(0, 12)}. This issue is updated by each run while the hold stands, and closed when the target is applied.`,
    });
    try {
      const issue = await upsertHeldIssue(o.github, await c.me(o.github), name, body);
      commentUrl = issue.html_url;
      io.log(`The held plan is in issue #${issue.number}: ${issue.html_url}`);
    } catch (e) {
      if (!(e instanceof GitHubApiError)) throw e;
      io.annotate('warning', `could not open an issue for the held plan of "${name}": ${e.message}`);
    }
  }
  return { target: name, plan, hash, planFile, failure: 'held', ...(commentUrl ? { commentUrl } : {}) };
}

/** A plan's hash, computed once per plan (a city's first delivery takes seconds to hash). */
const hashes = new WeakMap<Plan, string>();
function hashOf(plan: Plan): string {
  let hash = hashes.get(plan);
  if (hash === undefined) {
    hash = planHash(plan);
    hashes.set(plan, hash);
  }
  return hash;
}

/**
 * A plan as posted on GitHub (a comment or an issue): within GitHub's size limit, without a time
 * stamp (the same plan gives the same text, which is then not rewritten), its hash at the end.
 */
function postedPlan(
  plan: Plan,
  hash: string,
  detailLimit: number,
  extra: { status?: string; note?: string; limitBytes?: number },
): string {
  return renderPlanMarkdown(plan, {
    limitBytes: extra.limitBytes ?? COMMENT_LIMIT,
    detailLimit,
    stamp: false,
    holdRelease: HOLD_RELEASE,
    ...(extra.status ? { status: extra.status } : {}),
    footer: `${extra.note ? `${extra.note}\n` : ''}${hashMarker(hash)}`,
  });
}

function savePlan(dir: string, plan: Plan): string {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${plan.target.name}.json`);
  writePlanFile(file, plan);
  return file;
}

function logPlan(plan: Plan, hash: string, o: CiOptions, io: CiIo): void {
  io.log(`::group::Plan for target "${plan.target.name}" (${shortPlanHash(hash)}): ${summaryLine(plan)}`);
  io.log(renderPlanText(plan, { detailLimit: o.detailLimit }).trimEnd());
  io.log('::endgroup::');
}

function reportValidation(result: ValidationResult, o: CiOptions, io: CiIo): void {
  // Annotations name files from the repository's root, where GitHub places them.
  const base = relative(o.runner.workspace, result.location) || '.';
  for (const line of renderValidation(result, 'github', { base, annotationsPerKind: ANNOTATIONS_PER_KIND })
    .trimEnd()
    .split('\n'))
    io.log(line);
  const text = renderValidation(result, 'text', { base, maxDiagnostics: 200 });
  io.summary(
    `### roster validate: ${result.valid ? 'valid' : 'invalid'}\n\n\`\`\`\n${text.replaceAll('```', "'''")}\`\`\`\n`,
  );
}

function finish(o: CiOptions, results: readonly TargetResult[], failure: FailureReason): CiResult {
  const planned = results.filter((r) => r.plan);
  const sum = (f: (p: Plan) => number) => String(planned.reduce((n, r) => n + f(r.plan!), 0));
  const hashes = planned.map((r) => `${r.target}=${r.hash}`);
  const files = planned.filter((r) => r.planFile);
  return {
    targets: results,
    failure,
    outputs: {
      'has-changes': String(planned.some((r) => r.plan!.changes.length > 0)),
      held: String(planned.some((r) => r.plan!.holds.length > 0)),
      'plan-hash': planned.length === 1 ? planned[0]!.hash! : hashes.join(','),
      added: sum((p) => p.summary.create),
      changed: sum((p) => p.summary.update),
      removed: sum((p) => p.summary.delete),
      'comment-url': results
        .map((r) => r.commentUrl)
        .filter(Boolean)
        .join(' '),
      'failure-reason': failure,
      'plan-dir': o.planDir,
      'plan-file': files.length === 1 ? files[0]!.planFile! : '',
    },
  };
}
