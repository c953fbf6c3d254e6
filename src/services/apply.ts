/**
 * The apply service: lock -> fresh plan -> stale check against a saved plan -> blackout and holds
 * -> confirmation -> delivery -> state -> unlock. Nothing is delivered when any step refuses.
 */
import { randomUUID } from 'node:crypto';
import { selectTarget } from '../config/config.js';
import { RosterError, StalePlanError } from '../errors.js';
import type { EntityName } from '../model/entities.js';
import { fingerprintRoster } from '../model/fingerprint.js';
import { buildDelivery } from '../plan/delivery.js';
import type { Plan } from '../plan/plan.js';
import { applyPolicy } from '../plan/policy.js';
import { createTarget } from '../targets/create.js';
import { faultPoint } from '../targets/faults.js';
import { STATE_FORMAT_VERSION, type TargetState } from '../targets/state.js';
import type { LockInfo } from '../targets/target.js';
import { primePlanCache } from './incremental.js';
import { fillPlanCache, loadRepoConfig, makePlan, type PlanContext, type PlanOptions } from './plan.js';

export interface ApplyOptions extends PlanOptions {
  /** A saved plan to apply exactly; refused when stale. */
  readonly savedPlan?: Plan;
  readonly allowMassChange?: boolean;
  readonly ignoreBlackout?: boolean;
  readonly lockTimeoutMs?: number;
  /** Asked before delivering (unless a saved plan or auto-approval was given); false cancels. */
  readonly confirm?: (plan: Plan) => Promise<boolean>;
}

export type ApplyOutcome = 'applied' | 'no-changes' | 'cancelled';

export interface ApplyResult {
  readonly outcome: ApplyOutcome;
  readonly plan: Plan;
  readonly state?: TargetState;
  /** What the target reported (e.g. records the portal rejected, a report that never came). */
  readonly warnings?: readonly string[];
}

export class HeldPlanError extends RosterError {
  constructor(plan: Plan) {
    super(
      'PLAN_HELD',
      `the plan is held by ${plan.holds.length} safety check(s): ${plan.holds.map((h) => h.code).join(', ')}; nothing was applied`,
      {
        hint: 'Review the held changes. If they are intended, apply again with --allow-mass-change.',
      },
    );
    this.name = 'HeldPlanError';
  }
}

export async function applyRoster(options: ApplyOptions): Promise<ApplyResult> {
  // Everything but the configuration is read under the target's lock.
  const target = createTarget(selectTarget(loadRepoConfig(options.repo), options.target));
  let lock: LockInfo | undefined;
  try {
    lock = await target.lock('apply', options.lockTimeoutMs ?? 0);
    const ctx = await makePlan(options, target);
    const { plan } = ctx;
    if (options.savedPlan) checkSaved(options.savedPlan, ctx);
    const now = options.now ?? new Date();
    const today = now.toISOString().slice(0, 10);
    const blackout = ctx.targetConfig.policy.blackout.find((w) => today >= w.from && today < w.to);
    if (blackout && !options.ignoreBlackout) {
      throw new RosterError(
        'BLACKOUT',
        `target "${ctx.targetConfig.name}" is in a blackout window (${blackout.from} to ${blackout.to}${blackout.reason ? `: ${blackout.reason}` : ''}); nothing was applied`,
        {
          hint: 'Apply after the window, or pass --ignore-blackout if this delivery must go now.',
        },
      );
    }
    if (plan.changes.length === 0) {
      await fillPlanCache(ctx);
      return { outcome: 'no-changes', plan };
    }
    if (plan.holds.length > 0 && !options.allowMassChange && !ctx.targetConfig.policy.allowMassChange)
      throw new HeldPlanError(plan);
    if (!options.savedPlan && options.confirm && !(await options.confirm(plan)))
      return { outcome: 'cancelled', plan };

    const shared = applyPolicy(ctx.desired, ctx.targetConfig.policy);
    const desired = ctx.target.shape ? ctx.target.shape(shared) : shared;
    const { delivery, snapshot } = buildDelivery({
      desired,
      current: ctx.current,
      changes: plan.changes,
      mode: ctx.targetConfig.mode,
      policy: ctx.targetConfig.policy,
      now,
    });
    const recordCounts: Partial<Record<EntityName, number>> = {};
    for (const entity of snapshot.entities()) {
      const size = snapshot.table(entity).size;
      if (size > 0) recordCounts[entity] = size;
    }
    const state: TargetState = {
      formatVersion: STATE_FORMAT_VERSION,
      tool: 'roster-as-code',
      target: ctx.targetConfig.name,
      lineage: ctx.state?.lineage ?? randomUUID(),
      serial: (ctx.state?.serial ?? 0) + 1,
      appliedAt: now.toISOString(),
      appliedCommit: ctx.git?.commit ?? null,
      appliedDirty: ctx.git?.dirty ?? false,
      rosterFingerprint: fingerprintRoster(ctx.desired),
      oneRosterVersion: desired.version,
      mode: ctx.targetConfig.mode,
      recordCounts,
      rejected: [],
    };
    faultPoint('apply:before-deliver');
    options.progress?.({ stage: 'deliver', detail: `to ${ctx.target.location}` });
    const receipt = await ctx.target.deliver(delivery, snapshot, state, ctx.state?.serial ?? 0);
    // The target now holds the roster: the next plan can compare only what changes from here.
    if (ctx.read && receipt.state.rejected.length === 0)
      await primePlanCache({
        config: ctx.config,
        targetConfig: ctx.targetConfig,
        target: ctx.target,
        state: receipt.state,
        loaded: ctx.read.loaded,
        current: snapshot,
        holdsRoster: true,
        startedAt: ctx.read.startedAt,
      });
    return { outcome: 'applied', plan, state: receipt.state, warnings: receipt.warnings };
  } finally {
    if (lock) await target.unlock(lock);
    await target.close?.();
  }
}

function checkSaved(saved: Plan, ctx: PlanContext): void {
  const { plan } = ctx;
  if (saved.target.name !== plan.target.name) {
    throw new StalePlanError(
      `this plan was made for target "${saved.target.name}", not "${plan.target.name}"`,
    );
  }
  if (
    saved.basis.stateLineage !== plan.basis.stateLineage ||
    saved.basis.stateSerial !== plan.basis.stateSerial
  ) {
    throw new StalePlanError(
      `the target changed since this plan was made (serial ${plan.basis.stateSerial}, plan made at ${saved.basis.stateSerial}); plan again`,
    );
  }
  if (saved.basis.desiredFingerprint !== plan.basis.desiredFingerprint) {
    throw new StalePlanError('the roster changed since this plan was made; plan again');
  }
  // Same roster, same target state: a difference can only come from the configuration (policy).
  const shape = (p: Plan) =>
    p.changes
      .map(
        (c) =>
          `${c.action} ${c.entity} ${c.key} ${c.reason} ${(c.fields ?? []).map((f) => f.name).join(',')}`,
      )
      .join('\n');
  if (shape(saved) !== shape(plan)) {
    throw new StalePlanError(
      'the configuration changed since this plan was made (the same roster now plans differently); plan again',
    );
  }
}
