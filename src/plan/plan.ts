/**
 * The Plan: the changes that turn what a target holds into the desired roster, after policy.
 * A Plan is data (saved as versioned JSON, schemas/plan.schema.json); renderers only format it.
 * (A computed plan's changes decode their `fields` from the rosters when read, so that a plan of
 * millions of changes fits in memory; JSON and copies see ordinary properties.)
 * Format version 1.1 (1.1 added `withheld`): a minor version only adds fields; a major one may change them.
 */
import type { EntityName, RosterVersion } from '../model/entities.js';
import type { Policy } from './policy.js';

export const PLAN_FORMAT_VERSION = '1.1';

export type ChangeAction = 'create' | 'update' | 'delete';

/** Why a change is planned. Stable strings. */
export type ChangeReason =
  | 'create_because_absent_at_target'
  | 'update_because_fields_differ'
  | 'delete_because_absent_from_roster'
  | 'disable_because_absent_from_roster';

export interface FieldChange {
  readonly name: string;
  /** Values as shown: masked values read "(redacted)" or "(personal data)". Absent when empty. */
  readonly before?: string;
  readonly after?: string;
}

export interface PlanChange {
  readonly action: ChangeAction;
  readonly entity: EntityName;
  /** The value of the key field (policy `ids`; sourcedId by default). */
  readonly key: string;
  readonly sourcedId: string;
  readonly school?: string;
  readonly reason: ChangeReason;
  /** create: the values sent; update: the fields that differ; delete: none. */
  readonly fields?: readonly FieldChange[];
}

export type HoldCode =
  | 'MASS_DELETE'
  | 'MASS_UPDATE'
  | 'BULK_FILE_MISSING'
  | 'SUSPECTED_ID_CHANGE'
  | 'SCHOOL_ENROLLMENTS_REMOVED';

/** A reason to refuse apply unless the user overrides it (--allow-mass-change). */
export interface Hold {
  readonly code: HoldCode;
  readonly entity?: EntityName;
  readonly school?: string;
  readonly message: string;
  readonly hint: string;
  /** For SUSPECTED_ID_CHANGE: pairs of (deleted key, created key). */
  readonly pairs?: readonly (readonly [string, string])[];
}

export interface PlanWarning {
  readonly code:
    | 'UNMANAGED_RECORDS'
    | 'BLACKOUT'
    | 'RETRY_REJECTED'
    | 'BULK_REPLACES'
    | 'PORTAL_REMOVES'
    | 'PORTAL_REFUSES';
  readonly message: string;
}

export interface EntityCounts {
  create: number;
  update: number;
  delete: number;
  unchanged: number;
}

export interface Plan {
  readonly formatVersion: string;
  readonly target: { readonly name: string; readonly kind: string; readonly mode: 'bulk' | 'delta' };
  /** What the plan was made from; apply refuses the plan when any of it has changed. */
  readonly basis: {
    /** Fingerprint of the desired roster (before policy). */
    readonly desiredFingerprint: string;
    readonly oneRosterVersion: RosterVersion;
    /** The state the plan compares with: undefined lineage means the target was never applied. */
    readonly stateLineage: string | null;
    readonly stateSerial: number;
    readonly commit: string | null;
    readonly createdAt: string;
  };
  readonly summary: {
    readonly create: number;
    readonly update: number;
    readonly delete: number;
    readonly byEntity: Partial<Record<EntityName, EntityCounts>>;
    readonly bySchool: Record<string, { create: number; update: number; delete: number }>;
  };
  readonly changes: readonly PlanChange[];
  readonly holds: readonly Hold[];
  readonly warnings: readonly PlanWarning[];
  /** Records the target holds that roster-as-code never delivered: shown, never deleted. */
  readonly unmanaged: Partial<Record<EntityName, number>>;
  /**
   * What the policy keeps from the target, expanded against the roster's columns (`metadata.*`
   * becomes the extension columns the roster has): per entity, the fields never sent, or `['*']`
   * for an entity not shared. Absent when everything is shared.
   */
  readonly withheld?: Partial<Record<EntityName, readonly string[]>>;
}

export function hasChanges(plan: Plan): boolean {
  return plan.changes.length > 0;
}

/** The target a plan is computed for: its name, kind, delivery mode and policy. */
export interface PlanTarget {
  readonly name: string;
  readonly kind: string;
  readonly mode: 'bulk' | 'delta';
  readonly policy: Policy;
}

/**
 * The incremental plan's part of the roster. `desired` then holds only the records of the lines
 * that changed since a plan that found nothing to do; every other record of the roster is known
 * to equal what the target holds. Needs the target's keys to be unique, and no soft deletes.
 */
export interface PlanScope {
  /** Per entity: records of the target whose lines went away; deleted unless `desired` has their key. */
  readonly removed: Partial<Record<EntityName, readonly number[]>>;
  /** Per entity: records known to be unchanged (those of the lines that did not change). */
  readonly unchanged: Partial<Record<EntityName, number>>;
  /** Per entity: how many records the whole roster has. */
  readonly sizes: Partial<Record<EntityName, number>>;
  /**
   * When `current` too holds only part of what the target holds (roster diff reads only the
   * lines that differ): per entity, how many records the whole has, and how many of its
   * enrollments name each school, counted up to `enough` (see SafetyInput).
   */
  readonly wholeCurrent?: {
    readonly sizes: Partial<Record<EntityName, number>>;
    readonly enrollmentsBySchool: (schools: readonly string[], enough: readonly number[]) => number[];
  };
}
