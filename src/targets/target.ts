/**
 * The Target interface: a named destination that receives deliveries and keeps its own state and
 * lock. Every target passes the contract suite in test/integration/target-contract.ts.
 */
import { RosterError } from '../errors.js';
import type { EntityName } from '../model/entities.js';
import type { Roster } from '../model/roster.js';
import type { Plan, PlanWarning } from '../plan/plan.js';
import type { TargetState } from './state.js';

export interface LockInfo {
  readonly id: string;
  /** user@host of the process holding the lock. */
  readonly holder: string;
  readonly host: string;
  readonly pid: number;
  /** What it is doing, e.g. "apply". */
  readonly operation: string;
  readonly createdAt: string;
  /**
   * Set on a lock just taken when it replaced a stale lock (its holder ran on this host and is
   * no longer running), so that the caller can say so.
   */
  readonly replaced?: LockStatus;
}

export interface LockStatus extends LockInfo {
  /** The holder is known to be gone (same host, process not running). */
  readonly stale: boolean;
}

/** What a delivery ended with: the state recorded (with any records the portal rejected) and warnings. */
export interface DeliveryReceipt {
  readonly state: TargetState;
  readonly warnings: readonly string[];
}

export interface Target {
  readonly name: string;
  readonly kind: string;
  /** Where the target is, for messages (a folder, a URL). */
  readonly location: string;

  /**
   * The target's state, or undefined when nothing was ever applied. Throws InputError
   * (STATE_CORRUPT, STATE_FOREIGN, STATE_VERSION) for a state it cannot trust; never guesses.
   */
  readState(): Promise<TargetState | undefined>;

  /** The roster the target holds according to `state` (the delivered snapshot). */
  readCurrent(state: TargetState): Promise<Roster>;

  /**
   * Takes the lock for `operation`. Fails at once with LockHeldError when another process holds
   * it, or waits up to `timeoutMs` for it to be released (or for `signal`). A lock whose holder
   * ran on this host and is gone (killed) is taken over, and the new lock says so (`replaced`); a
   * holder on another host cannot be checked, so its lock stays until forceUnlock.
   */
  lock(operation: string, timeoutMs: number, signal?: AbortSignal): Promise<LockInfo>;

  /** Releases a lock this process took. Does nothing when the lock is no longer ours. */
  unlock(lock: LockInfo): Promise<void>;

  /** The current lock, if any. */
  readLock(): Promise<LockStatus | undefined>;

  /** Removes the lock whoever holds it; returns what it was. For dead holders only. */
  forceUnlock(): Promise<LockStatus | undefined>;

  /**
   * Delivers `delivery` and records `snapshot` and `state` as one step: afterwards the target
   * holds either the old delivery and state or the new ones, never a mix, even if the process is
   * killed midway. Refuses (StalePlanError) when the target's serial is no longer `expectedSerial`.
   * Must be called while holding the lock. When the portal reports records it rejected, they are
   * recorded in the returned state (and left out of its delivered records, so the next plan
   * retries them); when it rejects the delivery as a whole, the state is not advanced.
   * When `signal` aborts before the delivery is visible to the portal, nothing is delivered and
   * the signal's reason is thrown; once it is visible, it is recorded without waiting for the
   * portal's report.
   */
  deliver(
    delivery: Roster,
    snapshot: Roster,
    state: TargetState,
    expectedSerial: number,
    signal?: AbortSignal,
  ): Promise<DeliveryReceipt>;

  /**
   * Finishes what an apply killed midway left (called under the lock, before planning): a
   * delivery the portal may already have received is recorded, never sent again; one that never
   * became visible is cleaned away. Returns what was done, for the user, or undefined.
   */
  recover?(): Promise<string | undefined>;

  /** Closes connections; the target is not used afterwards. */
  close?(): Promise<void>;

  /**
   * For a target that can export what it holds: read it live (drift made by hand at the portal
   * then shows in the plan). Planning uses this instead of the state's snapshot.
   */
  exportCurrent?(): Promise<Roster>;

  /**
   * For a live target: what roster-as-code delivered (the snapshot it keeps). Its records are
   * ours; anything else the live export shows is unmanaged, and never removed.
   */
  readSnapshot?(state: TargetState): Promise<Roster>;

  /**
   * For a target whose portal reports what it holds (counts per entity, in its processing
   * report): the latest counts, or undefined when it has not said. A bulk plan compares them with
   * what was delivered: the rest is what the portal removes beyond the plan.
   */
  portalCounts?(): Promise<Partial<Record<EntityName, number>> | undefined>;

  /** For a target whose format carries only part of a roster: the roster as it can carry it. */
  shape?(roster: Roster): Roster;

  /**
   * For a target that keys records by something else than the roster's sourcedIds (the batch
   * files key enrollments by class, user and role): per entity, the roster's sourcedId of a key,
   * so that plans name records as the roster does.
   */
  rosterIds?(desired: Roster): Partial<Record<EntityName, (key: string) => string | undefined>>;

  /**
   * For a portal that refuses records referring to what it does not have (the batch API's orgs
   * and terms): warnings for the plan's changes it would refuse, with counts and the remedy.
   * Undefined when the portal cannot say what it has.
   */
  foreseeRefusals?(plan: Plan, desired: Roster): Promise<PlanWarning[]>;
}

/** A failure talking to a target: what failed and where. */
export class TargetError extends RosterError {
  constructor(code: string, message: string, hint: string, cause?: unknown) {
    super(code, message, { hint, cause });
    this.name = 'TargetError';
  }
}
