/**
 * Review on GitHub: one plan comment per target on a pull request (found by its hidden marker and
 * the token's own login, edited in place, never rewritten unchanged), the plan hash a reviewed
 * comment carries, the pull request a pushed commit came from, the label that releases a hold,
 * and one issue per target for a plan that CI refused to apply.
 */
import type { Comment, GitHubClient, Issue } from '../github/api.js';

/** The label that, added after the last push by someone with write access, releases a hold. */
export const MASS_CHANGE_LABEL = 'roster/allow-mass-change';

/** Hidden marker of a target's plan comment (the same as in `roster plan --format markdown`). */
export function commentMarker(target: string): string {
  return `<!-- roster-plan:${target} -->`;
}

/** Hidden line that carries the plan hash in a comment. */
export function hashMarker(hash: string): string {
  return `<!-- roster-plan-hash:${hash} -->`;
}

/** Hidden marker of a target's held-plan issue. */
export function heldIssueMarker(target: string): string {
  return `<!-- roster-held:${target} -->`;
}

/** Our own comment for `target`: its marker, written by `login` (another user's copy is ignored). */
export function findPlanComment(
  comments: readonly Comment[],
  login: string,
  target: string,
): Comment | undefined {
  const marker = commentMarker(target);
  // The newest wins, should there ever be two.
  return comments.filter((c) => c.user?.login === login && c.body.includes(marker)).at(-1);
}

/** The plan hash a comment carries, if any. */
export function postedPlanHash(comment: Comment | undefined): string | undefined {
  return comment ? /<!-- roster-plan-hash:(sha256:[0-9a-f]{64}) -->/.exec(comment.body)?.[1] : undefined;
}

export type CommentOutcome = 'created' | 'updated' | 'unchanged';

/** Creates the target's comment, or edits it in place; writes nothing when the body is the same. */
export async function upsertPlanComment(
  client: GitHubClient,
  login: string,
  pull: number,
  target: string,
  body: string,
  known?: readonly Comment[],
): Promise<{ comment: Comment; outcome: CommentOutcome }> {
  const existing = findPlanComment(known ?? (await client.issueComments(pull)), login, target);
  if (!existing) return { comment: await client.createComment(pull, body), outcome: 'created' };
  if (existing.body === body) return { comment: existing, outcome: 'unchanged' };
  return { comment: await client.updateComment(existing.id, body), outcome: 'updated' };
}

/**
 * The pull request a pushed commit came from: the commits->pulls API (merge, squash and rebase
 * merges), then the subject's "(#123)" (squash) or "Merge pull request #123" as a fallback.
 */
export async function pullRequestOf(
  client: GitHubClient,
  sha: string,
  message: string | undefined,
): Promise<number | undefined> {
  const pulls = await client.pullsOfCommit(sha);
  const merged = pulls.find((p) => p.merge_commit_sha === sha) ?? pulls.find((p) => p.merged_at) ?? pulls[0];
  if (merged) return merged.number;
  const subject = (message ?? '').split('\n')[0] ?? '';
  const n = /^Merge pull request #(\d+) /.exec(subject)?.[1] ?? /\(#(\d+)\)\s*$/.exec(subject)?.[1];
  return n ? Number(n) : undefined;
}

export interface HoldRelease {
  readonly released: boolean;
  /** Who released it, or why nothing did. */
  readonly reason: string;
}

/**
 * Whether the label releases a hold on `pull`'s plan: added (and not removed since) by a user
 * with write access, after the pull request's last push and after the plan comment was last
 * written (so it approves the plan that was shown). Read through the API, not from the event.
 */
export async function labelReleasesHold(
  client: GitHubClient,
  pull: number,
  planComment: Comment | undefined,
): Promise<HoldRelease> {
  const events = await client.issueEvents(pull);
  let labelled: { at: string; by: string } | undefined;
  for (const e of events) {
    if (e.label?.name !== MASS_CHANGE_LABEL) continue;
    if (e.event === 'labeled') labelled = { at: e.created_at, by: e.actor?.login ?? '' };
    if (e.event === 'unlabeled') labelled = undefined;
  }
  if (!labelled)
    return { released: false, reason: `pull request #${pull} has no label ${MASS_CHANGE_LABEL}` };
  const pr = await client.pull(pull);
  const pushedAt = await client.commitDate(pr.head.sha);
  // The last push: the head commit's date, and any force-push GitHub recorded.
  const times = [
    pushedAt,
    ...events.filter((e) => e.event === 'head_ref_force_pushed').map((e) => e.created_at),
  ];
  if (planComment) times.push(planComment.updated_at);
  const latest = Math.max(...times.map((t) => Date.parse(t)).filter(Number.isFinite));
  if (!(Date.parse(labelled.at) > latest))
    return {
      released: false,
      reason: `the label ${MASS_CHANGE_LABEL} on #${pull} was added before the last push or plan; add it again to approve the plan as it is now`,
    };
  const permission = await client.permission(labelled.by);
  if (!['admin', 'maintain', 'write'].includes(permission))
    return {
      released: false,
      reason: `the label ${MASS_CHANGE_LABEL} on #${pull} was added by ${labelled.by}, who has ${permission} access, not write`,
    };
  return {
    released: true,
    reason: `released by ${labelled.by} with the label ${MASS_CHANGE_LABEL} on #${pull}`,
  };
}

/** The target's open held-plan issue: its marker, opened by `login`. */
async function findHeldIssue(
  client: GitHubClient,
  login: string,
  target: string,
): Promise<Issue | undefined> {
  const marker = heldIssueMarker(target);
  return (await client.openIssues()).find((i) => i.user?.login === login && (i.body ?? '').includes(marker));
}

/** Opens the target's held-plan issue, or updates the open one (one per target). */
export async function upsertHeldIssue(
  client: GitHubClient,
  login: string,
  target: string,
  body: string,
): Promise<Issue> {
  const open = await findHeldIssue(client, login, target);
  const text = `${heldIssueMarker(target)}\n${body}`;
  if (!open) return client.createIssue(`roster: the plan for target "${target}" is held`, text);
  if (open.body === text) return open;
  return client.updateIssue(open.number, { body: text });
}

/** Closes the target's held-plan issue once the target is applied (nothing when there is none). */
export async function closeHeldIssue(
  client: GitHubClient,
  login: string,
  target: string,
  note: string,
): Promise<void> {
  const open = await findHeldIssue(client, login, target);
  if (!open) return;
  await client.createComment(open.number, note);
  await client.updateIssue(open.number, { state: 'closed' });
}
