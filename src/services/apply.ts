/**
 * The apply service: lock -> fresh plan -> stale check against a saved plan -> blackout and holds
 * -> confirmation -> delivery -> state -> unlock. Nothing is delivered when any step refuses.
 */
import { randomUUID } from 'node:crypto';
import { loadRepoConfig, selectTarget } from '../config/config.js';
import { ensurePrivateDir, workspaceDir } from '../config/workspace.js';
import { InterruptedError, RosterError, StalePlanError } from '../errors.js';
import { interruptionOf } from '../interrupts.js';
import type { EntityName } from '../model/entities.js';
import { fingerprintRoster } from '../model/fingerprint.js';
import type { Plan } from '../plan/plan.js';
import { activeBlackout } from '../plan/policy.js';
import { createTarget } from '../targets/create.js';
import { faultPoint } from '../targets/faults.js';
import { historyAfter, STATE_FORMAT_VERSION, type TargetState } from '../targets/state.js';
import type { LockInfo } from '../targets/target.js';
import { primePlanCache } from './incremental.js';
import { deliveryFor, fillPlanCache, makePlan, type PlanContext, type PlanOptions } from './plan.js';

export interface ApplyOptions extends PlanOptions {
  /** A saved plan to apply exactly; refused when stale. */
  readonly savedPlan?: Plan;
  readonly allowMassChange?: boolean;
  readonly ignoreBlackout?: boolean;
  readonly lockTimeoutMs?: number;
  /** Asked before delivering (unless a saved plan or auto-approval was given); false cancels. */
  readonly confirm?: (plan: Plan) => Promise<boolean>;
  /**
   * SIGINT or SIGTERM (src/interrupts.ts): apply stops at the next safe point, releases the lock
   * and throws InterruptedError saying what the target holds. Once the delivery is visible to
   * the portal it is recorded first (without waiting for the portal's report).
   */
  readonly signal?: AbortSignal;
  /** Told things the user should know as they happen (a stale lock taken over, a delivery recovered). */
  readonly notice?: (message: string) => void;
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
  /** The held plan, for whoever must review it (the GitHub Action posts it). */
  readonly plan: Plan;
  constructor(plan: Plan) {
    super(
      'PLAN_HELD',
      `the plan is held by ${plan.holds.length} safety check(s): ${plan.holds.map((h) => h.code).join(', ')}; nothing was applied`,
      {
        hint: 'Review the held changes. If they are intended, apply again with --allow-mass-change.',
      },
    );
    this.name = 'HeldPlanError';
    this.plan = plan;
  }
}

export async function applyRoster(options: ApplyOptions): Promise<ApplyResult> {
  // Everything but the configuration is read under the target's lock.
  const config = loadRepoConfig(options.repo);
  const target = createTarget(selectTarget(config, options.target));
  const { signal } = options;
  let lock: LockInfo | undefined;
  // What the target holds, for the message if the apply is interrupted.
  let stateBefore: TargetState | undefined;
  let delivering = false;
  try {
    ensurePrivateDir(workspaceDir(config.root));
    lock = await target.lock('apply', options.lockTimeoutMs ?? 0, signal);
    if (lock.replaced)
      options.notice?.(
        `took over the lock of ${lock.replaced.holder} (pid ${lock.replaced.pid}, ${lock.replaced.operation} since ${lock.replaced.createdAt}): that process is no longer running`,
      );
    await faultPoint('apply:after-lock');
    const recovered = await target.recover?.();
    if (recovered) options.notice?.(recovered);
    signal?.throwIfAborted();
    const ctx = await makePlan(options, target);
    stateBefore = ctx.state;
    signal?.throwIfAborted();
    const { plan } = ctx;
    if (options.savedPlan) checkSaved(options.savedPlan, ctx);
    const now = options.now ?? new Date();
    const blackout = activeBlackout(ctx.targetConfig.policy, now);
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
    if (!options.savedPlan && options.confirm && !(await options.confirm(plan))) {
      signal?.throwIfAborted(); // Ctrl-C at the prompt is an interruption, not an answer
      return { outcome: 'cancelled', plan };
    }
    signal?.throwIfAborted();

    const { delivery, snapshot } = deliveryFor(ctx, now);
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
      oneRosterVersion: snapshot.version,
      mode: ctx.targetConfig.mode,
      recordCounts,
      rejected: [],
      planned: Object.fromEntries(
        Object.entries(plan.summary.byEntity).map(([e, c]) => [
          e,
          { create: c?.create ?? 0, update: c?.update ?? 0, delete: c?.delete ?? 0 },
        ]),
      ),
      history: historyAfter(ctx.state),
    };
    await faultPoint('apply:before-deliver');
    signal?.throwIfAborted();
    options.progress?.({ stage: 'deliver', detail: `to ${ctx.target.location}` });
    delivering = true;
    const receipt = await ctx.target.deliver(delivery, snapshot, state, ctx.state?.serial ?? 0, signal);
    delivering = false;
    // The target now holds the roster: the next plan can compare only what changes from here
    // (not worth the time when asked to stop: the next plan reads everything).
    if (ctx.read && receipt.state.rejected.length === 0 && !signal?.aborted)
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
  } catch (err) {
    const interruption = interruptionOf(signal);
    if (interruption && err === interruption) {
      stateBefore ??= await target.readState().catch(() => undefined);
      throw new InterruptedError(
        interruption.signal,
        `apply was stopped by ${interruption.signal}${delivering ? ' before its delivery became visible to the portal' : ''}; nothing was delivered. Target "${target.name}" still holds ${stateBefore ? `serial ${stateBefore.serial} (applied ${stateBefore.appliedAt}${stateBefore.appliedCommit ? ` from commit ${stateBefore.appliedCommit.slice(0, 12)}` : ''})` : 'nothing from roster-as-code (never applied)'}; its lock was released`,
        'Run the apply again when you are ready; it starts from what the target holds.',
      );
    }
    throw err;
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
