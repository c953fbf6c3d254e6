/**
 * The JSON results of the commands that have no report of their own (`--json`; the plan, the
 * validation report, status and the history views have theirs). Documented in
 * docs/json-output.md and schemas/command-result.schema.json; `formatVersion` follows semver: a
 * minor version only adds fields.
 *
 * They carry what a program needs to go on (files, counts, ids, the state's serial), never
 * records' values: personal data stays out unless a command's own report shows it on request.
 */
import type { Diagnostic } from '../diagnostic.js';
import type { EntityName } from '../model/entities.js';
import type { Plan } from '../plan/plan.js';

export const COMMAND_RESULT_VERSION = '1.0';

/** What `roster apply` (or an edit's --apply) did. */
export interface ApplyResultJson {
  readonly formatVersion: string;
  readonly kind: 'apply';
  readonly outcome: 'applied' | 'no-changes' | 'cancelled';
  readonly target: string;
  /** The state's serial after the apply (absent when nothing was applied). */
  readonly serial?: number;
  /** The commit of the roster the plan was made from (null: not in git). */
  readonly commit: string | null;
  readonly summary: { readonly create: number; readonly update: number; readonly delete: number };
  /** Records the portal rejected in this delivery, per entity. */
  readonly rejected: Partial<Record<EntityName, number>>;
  readonly warnings: readonly string[];
}

export function applyResultJson(result: {
  outcome: ApplyResultJson['outcome'];
  plan: Plan;
  state?: { serial: number; rejected: readonly { entity: EntityName }[] } | undefined;
  warnings?: readonly string[] | undefined;
}): ApplyResultJson {
  const rejected: Partial<Record<EntityName, number>> = {};
  for (const r of result.state?.rejected ?? []) rejected[r.entity] = (rejected[r.entity] ?? 0) + 1;
  const { create, update, delete: remove } = result.plan.summary;
  return {
    formatVersion: COMMAND_RESULT_VERSION,
    kind: 'apply',
    outcome: result.outcome,
    target: result.plan.target.name,
    ...(result.outcome === 'applied' && result.state ? { serial: result.state.serial } : {}),
    commit: result.plan.basis.commit,
    summary: { create, update, delete: remove },
    rejected,
    warnings: result.warnings ?? [],
  };
}

/** What a manual edit (`roster add`, `set`, `enroll`, `drop`, `move`, `withdraw`) did. */
export function editResultJson(
  result: {
    message: string;
    written: boolean;
    files: readonly { path: string }[];
    changes: readonly { id: string; before?: unknown; after?: unknown }[];
    commit?: string | undefined;
    warnings: readonly Diagnostic[];
    diff: string;
  },
  dryRun: boolean,
  applied?: ApplyResultJson,
) {
  return {
    formatVersion: COMMAND_RESULT_VERSION,
    kind: 'edit' as const,
    message: result.message,
    written: result.written,
    files: result.files.map((f) => f.path),
    changes: result.changes.map((c) => ({
      id: c.id,
      action: c.before && c.after ? ('update' as const) : c.after ? ('create' as const) : ('delete' as const),
    })),
    ...(result.commit ? { commit: result.commit } : {}),
    warnings: result.warnings,
    // The diff is what --dry-run asks for (it shows the edited lines, values included).
    ...(dryRun ? { diff: result.diff } : {}),
    ...(applied ? { apply: applied } : {}),
  };
}

/** A command's result of `kind` (export, convert, generate, import, init, git-setup, trust-host, unlock). */
export function commandResult<K extends string, T extends object>(kind: K, fields: T) {
  return { formatVersion: COMMAND_RESULT_VERSION, kind, ...fields };
}

export type EditResultJson = ReturnType<typeof editResultJson>;
