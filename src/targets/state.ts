/**
 * Target state: what roster-as-code knows a target holds. Versioned JSON; written atomically by
 * the target; refused with a clear error when corrupt or written for another target.
 */
import { InputError } from '../errors.js';
import { ENTITIES, type EntityName, type RosterVersion } from '../model/entities.js';

export const STATE_FORMAT_VERSION = 2;

export interface RejectedRecord {
  readonly entity: EntityName;
  readonly key: string;
  readonly code: string;
  readonly message: string;
}

export interface TargetState {
  readonly formatVersion: number;
  readonly tool: 'roster-as-code';
  readonly target: string;
  /** Stays the same for the life of a target's state; a new lineage means a different history. */
  readonly lineage: string;
  /** Grows by one with every apply. */
  readonly serial: number;
  readonly appliedAt: string;
  /** The git commit of the roster applied (null when the roster is not in git). */
  readonly appliedCommit: string | null;
  /** True when the working tree had uncommitted roster changes at apply. */
  readonly appliedDirty: boolean;
  readonly rosterFingerprint: string;
  readonly oneRosterVersion: RosterVersion;
  readonly mode: 'bulk' | 'delta';
  /**
   * How many records were delivered, per entity. The records themselves are in the target's
   * snapshot (format 1 listed every record's key and fingerprint here: 600 MB of JSON for a city,
   * more than one JavaScript string can hold).
   */
  readonly recordCounts: Partial<Record<EntityName, number>>;
  /** Records the portal rejected at the last delivery (none for dir targets). */
  readonly rejected: readonly RejectedRecord[];
  /** What the plan said this delivery changes, per entity (compared with the portal's report). */
  readonly planned?: Partial<Record<EntityName, PlannedCounts>>;
  /**
   * Where the portal's processing report disagrees with the plan (e.g. it removed records the
   * plan did not: a bulk delivery replaced records added by hand). Shown by `roster status`.
   */
  readonly reportMismatch?: readonly string[];
  /**
   * The applies before this one, oldest first (at most APPLY_HISTORY_LIMIT): `roster applies`,
   * and the "delivered by" of `roster log`. Absent in states written before it was kept.
   */
  readonly history?: readonly AppliedSummary[];
}

/** One past apply, as the state's history keeps it. */
export interface AppliedSummary {
  readonly serial: number;
  readonly appliedAt: string;
  readonly appliedCommit: string | null;
  readonly appliedDirty: boolean;
  readonly mode: 'bulk' | 'delta';
  readonly planned?: Partial<Record<EntityName, PlannedCounts>>;
  readonly recordCounts: Partial<Record<EntityName, number>>;
  /** How many records the portal rejected. */
  readonly rejected: number;
}

/** Past applies kept in a state: ten years of daily applies (each about 300 bytes). */
export const APPLY_HISTORY_LIMIT = 4000;

/** `state` as a history entry. */
export function appliedSummary(state: TargetState): AppliedSummary {
  return {
    serial: state.serial,
    appliedAt: state.appliedAt,
    appliedCommit: state.appliedCommit,
    appliedDirty: state.appliedDirty,
    mode: state.mode,
    ...(state.planned ? { planned: state.planned } : {}),
    recordCounts: state.recordCounts,
    rejected: state.rejected.length,
  };
}

/**
 * The history a state that follows `previous` carries: previous's, and previous itself (so also
 * every apply `previous` knows of, oldest first).
 */
export function historyAfter(previous: TargetState | undefined): AppliedSummary[] {
  if (!previous) return [];
  return [...(previous.history ?? []), appliedSummary(previous)].slice(-APPLY_HISTORY_LIMIT);
}

export interface PlannedCounts {
  readonly create: number;
  readonly update: number;
  readonly delete: number;
}

/** The portal's counts for one entity in its processing report (the sandbox's, and the format documented in docs/batch-api.md). */
export interface ReportedCounts {
  readonly created?: number;
  readonly updated?: number;
  readonly removed?: number;
  readonly rejected?: number;
}

/** Sentences for every entity whose reported counts differ from the planned ones (none when they agree). */
export function reportMismatch(
  planned: Partial<Record<EntityName, PlannedCounts>>,
  reported: Partial<Record<string, ReportedCounts>>,
): string[] {
  const out: string[] = [];
  const entities = new Set([...Object.keys(planned), ...Object.keys(reported)]) as Set<EntityName>;
  for (const entity of entities) {
    const p = planned[entity] ?? { create: 0, update: 0, delete: 0 };
    const r = reported[entity];
    if (!r) continue; // (a portal that does not count this entity says nothing about it)
    const pairs: [string, number, number | undefined][] = [
      ['added', p.create, r.created],
      ['changed', p.update, r.updated],
      ['removed', p.delete, r.removed],
    ];
    // Rows the portal refused are neither added nor changed: only removals compare then.
    const comparable = (r.rejected ?? 0) > 0 ? pairs.filter(([verb]) => verb === 'removed') : pairs;
    const differ = comparable.filter(([, want, got]) => got !== undefined && got !== want);
    if (differ.length === 0) continue;
    out.push(
      `${entity}: the portal ${differ.map(([verb, want, got]) => `${verb} ${got} (the plan: ${want})`).join(', ')}${differ.some(([verb, want, got]) => verb === 'removed' && (got ?? 0) > want) ? ': it removed records roster-as-code never delivered (a bulk delivery replaces them)' : ''}`,
    );
  }
  return out;
}

/** Parses and checks a state file's text. */
export function parseState(text: string, where: string, target: string): TargetState {
  let data: Partial<TargetState>;
  try {
    data = JSON.parse(text) as Partial<TargetState>;
  } catch {
    throw new InputError(
      'STATE_CORRUPT',
      `${where} is not valid JSON`,
      'The target state is damaged. Restore it from a backup, or move it away to start a new state (the next plan then sees the target as empty).',
    );
  }
  if (data === null || typeof data !== 'object' || data.tool !== 'roster-as-code') {
    throw new InputError(
      'STATE_FOREIGN',
      `${where} was not written by roster-as-code`,
      'Point the target at a folder of its own.',
    );
  }
  if (data.formatVersion === 1) data = fromFormat1(data);
  if (data.formatVersion !== STATE_FORMAT_VERSION) {
    throw new InputError(
      'STATE_VERSION',
      `${where} has state format ${String(data.formatVersion)}; this roster-as-code reads ${STATE_FORMAT_VERSION}`,
      'Use the roster-as-code version that wrote it, or a newer one.',
    );
  }
  if (data.target !== target) {
    throw new InputError(
      'STATE_FOREIGN',
      `${where} belongs to target "${String(data.target)}", not "${target}"`,
      'Each target needs a folder of its own: check the path in roster.config.yaml.',
    );
  }
  if (
    typeof data.lineage !== 'string' ||
    typeof data.serial !== 'number' ||
    typeof data.recordCounts !== 'object'
  ) {
    throw new InputError(
      'STATE_CORRUPT',
      `${where} is missing lineage, serial or recordCounts`,
      'The target state is damaged; restore it from a backup.',
    );
  }
  return data as TargetState;
}

/** A format 1 state (every record's key and fingerprint) read as format 2 (counts). */
function fromFormat1(data: Partial<TargetState> & { records?: unknown }): Partial<TargetState> {
  const { records, ...rest } = data;
  if (records === null || typeof records !== 'object') return data;
  const recordCounts = Object.fromEntries(
    Object.entries(records as Record<string, Record<string, string> | undefined>).map(([e, m]) => [
      e,
      Object.keys(m ?? {}).length,
    ]),
  );
  return { ...rest, formatVersion: STATE_FORMAT_VERSION, recordCounts };
}

/** What a snapshot's roster image is bound to: the snapshot of exactly this state (formats/roster-image.ts). */
export function imageBinding(state: TargetState): { lineage: string; serial: number } {
  return { lineage: state.lineage, serial: state.serial };
}

/** A record the portal rejected, as its processing report gives it. */
export interface RejectionLike {
  readonly file: string;
  readonly line?: number;
  readonly code: string;
  readonly message: string;
  readonly recordId?: string;
}

/** Records rejected by the portal are not "delivered": the next plan retries them. */
export function foldRejections(state: TargetState, rejections: readonly RejectionLike[]): TargetState {
  const byFile = new Map(Object.values(ENTITIES).map((e) => [e.file, e.name]));
  const rejected: RejectedRecord[] = [];
  const recordCounts = { ...state.recordCounts };
  for (const r of rejections) {
    const entity = byFile.get(r.file);
    if (!entity || !r.recordId) continue;
    rejected.push({ entity, key: r.recordId, code: r.code, message: r.message });
    recordCounts[entity] = Math.max(0, (recordCounts[entity] ?? 0) - 1);
  }
  return { ...state, recordCounts, rejected };
}
