/**
 * The plan service: config -> target -> desired roster (validated) -> target state and current
 * roster -> Plan. Shared by `roster plan`, `roster apply` and the GitHub Action (services/ci.ts).
 */
import {
  CONFIG_FILE,
  loadRepoConfig,
  type RosterConfig,
  selectTarget,
  type TargetConfig,
} from '../config/config.js';
import { InputError } from '../errors.js';
import { type RosterCommit, rosterCommit } from '../git/repo.js';
import type { EntityName } from '../model/entities.js';
import { KeyIndex } from '../model/key-index.js';
import { type Roster, RosterBuilder } from '../model/roster.js';
import { computePlan, PlanKeyError } from '../plan/compute.js';
import { buildDelivery, type Delivery } from '../plan/delivery.js';
import type { Plan } from '../plan/plan.js';
import { keyField, receivedRoster } from '../plan/policy.js';
import { portalRemovals } from '../plan/safety.js';
import type { ProgressListener } from '../progress.js';
import { startLoading } from '../source/background.js';
import type { LoadedRoster } from '../source/load.js';
import { createTarget } from '../targets/create.js';
import type { TargetState } from '../targets/state.js';
import type { Target } from '../targets/target.js';
import { InvalidRosterError, summarize } from '../validate/validate.js';
import { planIncrementally, primePlanCache } from './incremental.js';

/** The roster without the records the portal rejected last time (so the plan sends them again). */
function withoutRejected(roster: Roster, state: TargetState, target: TargetConfig): Roster {
  const rejected = new Set(state.rejected.map((r) => `${r.entity}\u0000${r.key}`));
  const b = new RosterBuilder(roster.version);
  b.source = roster.source;
  for (const e of roster.entities()) {
    const mode = roster.explicitModes()[e];
    if (mode) b.modes[e] = mode;
    const table = roster.table(e);
    for (const f of table.extensionFields) b.table(e).declareField(f);
    const field = keyField(target.policy, e);
    for (let i = 0; i < table.size; i++) {
      if (!rejected.has(`${e}\u0000${table.value(i, field)}`)) b.addNormalized(e, table.get(i));
    }
  }
  return b.build();
}

export interface PlanContext {
  readonly config: RosterConfig;
  readonly targetConfig: TargetConfig;
  readonly target: Target;
  readonly desired: Roster;
  readonly state: TargetState | undefined;
  readonly current: Roster | undefined;
  readonly git: RosterCommit | null;
  readonly plan: Plan;
  /**
   * Set when the plan took the incremental shortcut: then `desired` holds only the records of the
   * lines that changed since the last plan that found nothing to do (see services/incremental.ts).
   */
  readonly incremental?: { readonly count: number; readonly unit: 'line' | 'file' };
  /** A full plan's roster as read, and when reading began (for the plan cache: fillPlanCache). */
  readonly read?: { readonly loaded: LoadedRoster; readonly startedAt: number };
}

/**
 * After a full plan that found nothing to do: fills the plan cache for the next plan (see
 * services/incremental.ts). Called once the plan is shown (a city's takes a few seconds).
 */
export async function fillPlanCache(ctx: PlanContext): Promise<void> {
  if (!ctx.read) return;
  const { plan } = ctx;
  await primePlanCache({
    config: ctx.config,
    targetConfig: ctx.targetConfig,
    target: ctx.target,
    state: ctx.state,
    loaded: ctx.read.loaded,
    current: ctx.current,
    holdsRoster: plan.changes.length === 0 && Object.keys(plan.unmanaged).length === 0,
    startedAt: ctx.read.startedAt,
  });
}

export interface PlanOptions {
  /** The district repo (a folder with roster.config.yaml). */
  readonly repo: string;
  readonly target?: string;
  readonly showPersonalData?: boolean;
  readonly now?: Date;
  readonly progress?: ProgressListener;
  /**
   * Take the incremental shortcut when the plan cache allows it (`roster plan`; apply and export
   * need the whole roster). A full plan that finds nothing to do fills the cache either way.
   */
  readonly incremental?: boolean;
}

/** Reads everything a plan needs and computes it. Throws InvalidRosterError for an invalid roster. */
export async function makePlan(options: PlanOptions, openTarget?: Target): Promise<PlanContext> {
  const config = loadRepoConfig(options.repo);
  const targetConfig = selectTarget(config, options.target);
  const target = openTarget ?? createTarget(targetConfig);
  try {
    return await withPortalRemovals(await planWith(options, config, targetConfig, target));
  } finally {
    // A target opened here (a connection) is closed here; one passed in belongs to the caller.
    if (!openTarget) await target.close?.();
  }
}

/**
 * A bulk delivery makes the portal remove what it holds beyond what we delivered: when its
 * report says how much it holds, the plan says so and counts it toward the holds (both the full
 * and the incremental plan come through here).
 */
async function withPortalRemovals(ctx: PlanContext): Promise<PlanContext> {
  const { plan, target, targetConfig, state } = ctx;
  if (targetConfig.mode !== 'bulk' || !target.portalCounts || !state || plan.changes.length === 0) return ctx;
  const counts = await target.portalCounts();
  if (!counts) return ctx;
  const found = portalRemovals(counts, state.recordCounts, plan.summary.byEntity, targetConfig.policy);
  if (found.warnings.length === 0) return ctx;
  return {
    ...ctx,
    plan: {
      ...plan,
      holds: [...plan.holds, ...found.holds],
      warnings: [...plan.warnings, ...found.warnings],
    },
  };
}

async function planWith(
  options: PlanOptions,
  config: RosterConfig,
  targetConfig: TargetConfig,
  target: Target,
): Promise<PlanContext> {
  const startedAt = Date.now();
  // What the incremental attempt already read (the target's state, the commit), not read again.
  let known:
    | { state: TargetState | undefined; git: RosterCommit | null; current?: Promise<Roster> }
    | undefined;
  if (options.incremental) {
    let shortcut: Awaited<ReturnType<typeof planIncrementally>> | undefined;
    try {
      const [git, state] = await Promise.all([rosterCommit(config.rosterPath), target.readState()]);
      known = { state, git };
      shortcut = await planIncrementally({
        config,
        targetConfig,
        target,
        state,
        commit: git?.commit ?? null,
        now: options.now ?? new Date(),
        showPersonalData: options.showPersonalData ?? false,
        ...(options.progress ? { progress: options.progress } : {}),
      });
    } catch {
      // (The full plan meets the same failure, and says it in its order: an invalid roster first.)
      shortcut = undefined;
    }
    if (shortcut && 'plan' in shortcut && known) {
      const { plan, changed, current, read } = shortcut;
      const { state, git } = known;
      return {
        config,
        targetConfig,
        target,
        desired: changed,
        state,
        current,
        git,
        plan,
        incremental: read,
      };
    }
    const why = shortcut && 'why' in shortcut ? shortcut : undefined;
    if (known && why?.current) known.current = why.current;
    options.progress?.({
      stage: 'read',
      detail: `reading the whole roster (${why?.why ?? 'a failure on the way'})`,
    });
  }
  // The desired roster is read and validated on another thread while the target is read here;
  // the plan is computed while that thread is still validating (and thrown away if invalid).
  const loading = startLoading(config.rosterPath, {
    validate: true,
    // Then, if that thread is free before this one, what the roster's fingerprint is made of.
    contentSums: true,
    // Its records are looked up in the target's indexes, not the other way round.
    keepIndexes: false,
    ...(options.progress ? { progress: options.progress } : {}),
  });
  const reading = (async () => {
    const state = known ? known.state : await target.readState();
    // (The shortcut may have read it already, for the same state.)
    const roster = target.exportCurrent
      ? await target.exportCurrent()
      : state
        ? await (known?.current ?? target.readCurrent(state))
        : undefined;
    // What the plan engine will ask of the target's side (is each table sorted by key, else its
    // index), while the roster is read on the other thread.
    if (roster) prepareForPlan(roster, targetConfig);
    // Then read part of the roster here too, if the other thread has not come to it yet.
    await loading.help();
    return { state, roster };
  })();
  const commit = known ? Promise.resolve(known.git) : rosterCommit(config.rosterPath);
  /** The roster once validated: an invalid roster is the first thing to say, whatever else failed. */
  const validRoster = async (): Promise<LoadedRoster> => {
    const loaded = await loading.validated;
    const validation = summarize(loaded.roster, loaded.location, loaded.format, loaded.diagnostics);
    if (!validation.valid) throw new InvalidRosterError(validation);
    return loaded;
  };
  const [readResult, currentResult] = await Promise.allSettled([loading.read, reading]);
  if (readResult.status === 'rejected') throw readResult.reason;
  if (currentResult.status === 'rejected') {
    await validRoster();
    throw currentResult.reason;
  }
  if (!loading.concurrent) await validRoster();
  const loaded = readResult.value;
  const { state, roster: read } = currentResult.value;
  let plan: Plan;
  try {
    // Records the portal rejected last time are not there: leaving them out makes the plan send them again.
    const current = read && state?.rejected.length ? withoutRejected(read, state, targetConfig) : read;
    const git = await commit;
    // A target compared through its own snapshot holds only what we delivered (managed: all of it).
    // A live target holds more: ours are the records of the snapshot it keeps of our deliveries;
    // never applied, nothing there is ours.
    const managed = target.exportCurrent
      ? state && target.readSnapshot
        ? keysOf(await target.readSnapshot(state), targetConfig)
        : {}
      : undefined;
    options.progress?.({ stage: 'plan', detail: `target "${targetConfig.name}"` });
    plan = planFor(loaded.roster, current, managed, targetConfig, target, state, git, options);
    if (target.foreseeRefusals) {
      const refusals = await target.foreseeRefusals(plan, loaded.roster);
      if (refusals.length > 0) plan = { ...plan, warnings: [...plan.warnings, ...refusals] };
    }
    await validRoster();
    return {
      config,
      targetConfig,
      target,
      desired: loaded.roster,
      state,
      current,
      git,
      plan,
      read: { loaded, startedAt },
    };
  } catch (err) {
    // Whatever went wrong while planning, an invalid roster is what to fix first.
    await validRoster();
    throw err;
  }
}

function planFor(
  desired: Roster,
  current: Roster | undefined,
  managed: Partial<Record<EntityName, Set<string>>> | undefined,
  targetConfig: TargetConfig,
  target: Target,
  state: TargetState | undefined,
  git: RosterCommit | null,
  options: PlanOptions,
): Plan {
  let plan: Plan;
  try {
    plan = computePlan({
      desired,
      current,
      ...(managed ? { managed } : {}),
      target: targetConfig,
      state,
      commit: git?.commit ?? null,
      now: options.now ?? new Date(),
      showPersonalData: options.showPersonalData ?? false,
      ...(target.shape ? { shape: (r: Roster) => target.shape!(r) } : {}),
      ...(target.rosterIds ? { rosterIds: target.rosterIds(desired) } : {}),
    });
  } catch (err) {
    if (err instanceof PlanKeyError) {
      throw new InputError(
        'KEY_MISSING',
        `${err.message} (e.g. ${err.sourcedIds.slice(0, 3).join(', ')})`,
        `Fill ${err.field} for every ${err.entity}, or change policy.ids in ${CONFIG_FILE}.`,
      );
    }
    throw err;
  }
  if (state?.rejected.length) {
    const warning = {
      code: 'RETRY_REJECTED' as const,
      message: `The portal rejected ${state.rejected.length} record(s) at the last delivery (roster status lists them); they are sent again.`,
    };
    plan = { ...plan, warnings: [...plan.warnings, warning] };
  }
  return plan;
}

/** Makes (and keeps) what computePlan asks of the target's roster: sorted by key, or an index. */
function prepareForPlan(current: Roster, target: TargetConfig): void {
  for (const entity of current.entities()) {
    const table = current.table(entity);
    const field = keyField(target.policy, entity);
    if (!table.ascendingBy(field)) KeyIndex.of(table, field);
  }
}

/** The key (policy `ids`) of every record, per entity: a live target's managed records. */
function keysOf(roster: Roster, target: TargetConfig): Partial<Record<EntityName, Set<string>>> {
  const keys: Partial<Record<EntityName, Set<string>>> = {};
  for (const entity of roster.entities()) {
    const table = roster.table(entity);
    const field = keyField(target.policy, entity);
    const set = new Set<string>();
    for (let i = 0; i < table.size; i++) set.add(table.value(i, field));
    keys[entity] = set;
  }
  return keys;
}

/**
 * What apply sends for a plan (and export writes): the roster as the target receives it
 * (plan/policy.ts, receivedRoster), as the delivery and the snapshot the target holds after it.
 */
export function deliveryFor(ctx: PlanContext, now: Date): Delivery {
  const { received } = receivedRoster(ctx.desired, ctx.targetConfig.policy, ctx.target);
  return buildDelivery({
    desired: received,
    current: ctx.current,
    changes: ctx.plan.changes,
    mode: ctx.targetConfig.mode,
    policy: ctx.targetConfig.policy,
    now,
  });
}
