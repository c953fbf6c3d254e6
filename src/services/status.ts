/** `roster status`: what each target holds, and its lock; a target that cannot be read says why, the others still show. */
import { loadRepoConfig, selectTarget } from '../config/config.js';
import { RosterError } from '../errors.js';
import { createTarget } from '../targets/create.js';
import type { RejectedRecord } from '../targets/state.js';
import type { LockStatus } from '../targets/target.js';

/** `roster status --json` (schemas/command-result.schema.json): a minor version only adds fields. */
export const STATUS_FORMAT_VERSION = '1.1';

export interface TargetStatus {
  readonly target: string;
  readonly kind: string;
  readonly mode: string;
  readonly location: string;
  readonly applied: {
    readonly serial: number;
    readonly lineage: string;
    readonly at: string;
    readonly commit: string | null;
    readonly dirty: boolean;
    readonly records: Partial<Record<string, number>>;
    readonly rejected: number;
    readonly rejectedRecords: readonly RejectedRecord[];
    /** Where the portal's report of the last delivery disagreed with the plan. */
    readonly reportMismatch: readonly string[];
  } | null;
  readonly lock: LockStatus | null;
  /** Why this target could not be read (a missing secret, a server down); the others are still shown. */
  readonly error?: { readonly code: string; readonly message: string; readonly hint?: string };
}

export async function targetStatuses(options: { repo: string; target?: string }): Promise<TargetStatus[]> {
  const config = loadRepoConfig(options.repo);
  const targets = options.target ? [selectTarget(config, options.target)] : config.targets;
  const rows: TargetStatus[] = [];
  for (const t of targets) {
    const target = createTarget(t);
    const base = { target: t.name, kind: t.kind, mode: t.mode, location: target.location };
    try {
      const state = await target.readState();
      const lock = await target.readLock();
      rows.push({
        ...base,
        applied: state
          ? {
              serial: state.serial,
              lineage: state.lineage,
              at: state.appliedAt,
              commit: state.appliedCommit,
              dirty: state.appliedDirty,
              records: state.recordCounts,
              rejected: state.rejected.length,
              rejectedRecords: state.rejected,
              reportMismatch: state.reportMismatch ?? [],
            }
          : null,
        lock: lock ?? null,
      });
    } catch (err) {
      if (!(err instanceof RosterError)) throw err;
      rows.push({
        ...base,
        applied: null,
        lock: null,
        error: { code: err.code, message: err.message, ...(err.hint ? { hint: err.hint } : {}) },
      });
    } finally {
      await target.close?.();
    }
  }
  return rows;
}
