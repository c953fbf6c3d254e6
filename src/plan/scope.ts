/**
 * What a partial plan needs, stated once. A partial plan (a PlanScope) is computed from only the
 * changed records of a roster; two shortcuts make one and must give the plan the full path gives:
 * the incremental plan (services/incremental.ts: the lines changed since the last plan that found
 * nothing to do) and roster diff's line shortcut (services/diff-shortcut.ts: the lines that differ
 * between two CSV packages). Both ask here:
 *
 * - whether a target and its policy allow a partial plan at all (`partialPlanRuledOut`), and a
 *   roster's files (`partialRosterRuledOut`), and
 * - which records besides the changed ones the plan's rules read (`PLAN_LOOKUPS`), so that a
 *   shortcut that reads only part of a side reads those too.
 *
 * A rule of compute.ts or safety.ts that reads more, or a policy feature a partial plan cannot
 * honour, is added here; test/integration/plan-shortcuts.test.ts runs every case of
 * test/fixtures/plan through the full path and both shortcuts and holds them to the same plan.
 * (Incremental validation, validate/incremental.ts, answers another question, whether the roster
 * rules still hold, with the rules' own lookups; it sits below plan/ and is told nothing here.)
 */
import type { EntityName } from '../model/entities.js';
import type { Roster } from '../model/roster.js';
import type { Policy } from './policy.js';

/** What a target does that a partial plan cannot follow (from the Target's optional hooks). */
export interface TargetTraits {
  /** The target carries only part of a roster (`Target.shape`: the batch files). */
  readonly shapes: boolean;
  /** Its current roster is the portal's export (`Target.exportCurrent`): it may hold what we never sent. */
  readonly exportsCurrent: boolean;
}

/**
 * Why a plan for this target and policy cannot be made from part of the roster, or undefined
 * when it can. A partial plan matches records by sourcedId alone, deletes only what went away,
 * and takes every record it did not read as delivered unchanged.
 */
export function partialPlanRuledOut(policy: Policy, traits: TargetTraits): string | undefined {
  if (traits.exportsCurrent) return 'the target reads what it holds from the portal';
  if (traits.shapes) return 'the target carries only part of the roster';
  if (
    policy.share.entities !== undefined ||
    Object.values(policy.share.withhold).some((f) => f && f.length > 0)
  )
    return 'the policy shares part of the roster';
  // A soft delete keeps the record at the target, disabled: what went away is not simply gone.
  if (policy.deleteStyle === 'soft') return 'soft deletes';
  // Keys other than sourcedId may repeat or be empty: matching needs the whole table.
  if (policy.ids.users !== 'sourcedId' || policy.ids.classes !== 'sourcedId')
    return 'ids other than sourcedId';
  return undefined;
}

/**
 * Why part of a roster cannot be planned as a part, or undefined: a delta file's records are
 * changes to apply, not what the roster holds, so lines of it that did not change say nothing.
 */
export function partialRosterRuledOut(roster: Roster): string | undefined {
  return roster.entities().some((e) => roster.mode(e) === 'delta') ? 'a delta file' : undefined;
}

/**
 * The records the plan of a changed record reads besides it (compute.ts and safety.ts):
 *
 * - `whole`: every org, since schools are orgs and every change is attributed to its school;
 * - for a changed record about a user (`aboutUser`: the entity, and the field naming the user),
 *   the records of that user in `userContext`: the user (their school: primaryOrgSourcedId or
 *   the first school among orgSourcedIds), their demographics (a birth date tells a suspected
 *   id change) and all their roles (a user with no school among their orgs takes their first
 *   role's, in file order).
 */
export const PLAN_LOOKUPS: {
  readonly whole: readonly EntityName[];
  readonly aboutUser: Readonly<Partial<Record<EntityName, string>>>;
  readonly userContext: readonly EntityName[];
} = {
  whole: ['orgs'],
  aboutUser: {
    users: 'sourcedId',
    demographics: 'sourcedId',
    roles: 'userSourcedId',
    userProfiles: 'userSourcedId',
  },
  userContext: ['users', 'demographics', 'roles'],
};
