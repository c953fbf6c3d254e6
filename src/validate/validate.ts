/**
 * `validate`: load a roster and run every rule; the result is data for the renderers.
 */

import { CODES, type Diagnostic, type Diagnostics } from '../diagnostic.js';
import { RosterError } from '../errors.js';
import type { RosterFormat } from '../formats/format.js';
import { ENTITIES, ENTITY_NAMES, type EntityName } from '../model/entities.js';
import type { Roster } from '../model/roster.js';
import { checkRoster } from './roster-rules.js';

/** Version of the JSON validation report (schemas/validation-report.schema.json). */
export const VALIDATION_REPORT_VERSION = '1.1';

export interface ValidationResult {
  readonly roster: Roster;
  readonly location: string;
  readonly format: RosterFormat;
  readonly diagnostics: readonly Diagnostic[];
  readonly errors: number;
  readonly warnings: number;
  readonly valid: boolean;
}

/** Runs the roster rules on a roster already read, adding to `diagnostics`. */
export function validateRoster(roster: Roster, diagnostics: Diagnostics): void {
  checkRoster(roster, diagnostics);
}

export function summarize(
  roster: Roster,
  location: string,
  format: RosterFormat,
  diagnostics: Diagnostics,
): ValidationResult {
  const list = withoutFollowOns(diagnostics.sorted());
  const errors = list.filter((d) => d.severity === 'error').length;
  const warnings = list.filter((d) => d.severity === 'warning').length;
  return { roster, location, format, diagnostics: list, errors, warnings, valid: errors === 0 };
}

/** Diagnostics that say a file was not read whole: its records are partly or wholly missing. */
const READ_STOPPED = new Set(['CSV_ENCODING', 'CSV_QUOTE', 'CSV_DELIMITER']);

/**
 * The cause once, not thousands of its consequences: when a file was not read whole (another
 * encoding, an unclosed quote), every reference to its records fails too (a Windows-1252
 * users.csv gave 18,699 REFERENCE_MISSING). Those are left out and counted in one
 * REFERENCES_UNCHECKED per entity, after the cause.
 */
export function withoutFollowOns(list: readonly Diagnostic[]): Diagnostic[] {
  const broken = new Map<EntityName, string>();
  for (const d of list) {
    if (d.severity !== 'error' || !READ_STOPPED.has(d.code) || !d.file) continue;
    // (A malformed quote drops one row; an unclosed one, everything after it.)
    if (d.code === 'CSV_QUOTE' && !d.message.includes('never closed')) continue;
    const entity = ENTITY_NAMES.find(
      (e) => d.file === ENTITIES[e].file || d.file!.endsWith(`/${ENTITIES[e].file}`),
    );
    if (entity) broken.set(entity, d.file);
  }
  if (broken.size === 0) return [...list];
  const unchecked = new Map<EntityName, number>();
  const kept = list.filter((d) => {
    if (d.code !== 'REFERENCE_MISSING' || !d.entity || !d.field) return true;
    const from = d.entity as EntityName;
    const target =
      d.field === 'sourcedId' && from === 'demographics' ? 'users' : ENTITIES[from]?.fields[d.field]?.ref;
    if (!target || !broken.has(target)) return true;
    unchecked.set(target, (unchecked.get(target) ?? 0) + 1);
    return false;
  });
  for (const [target, count] of unchecked) {
    const file = broken.get(target)!;
    kept.push({
      severity: 'warning',
      code: 'REFERENCES_UNCHECKED',
      file,
      entity: target,
      message: `${count.toLocaleString('en-US')} reference(s) to ${target} were not checked: ${file} was not read whole (the diagnostic above)`,
      hint: CODES.REFERENCES_UNCHECKED.hint,
    });
  }
  return kept;
}

/** A plan was asked of a roster with errors (rendered with its diagnostics). */
export class InvalidRosterError extends RosterError {
  constructor(
    readonly result: ValidationResult,
    consequence = 'nothing was planned',
    hint = 'Fix the errors above (`roster validate` shows them), then plan again.',
  ) {
    super('ROSTER_INVALID', `the roster has ${result.errors} error(s); ${consequence}`, { hint });
    this.name = 'InvalidRosterError';
  }
}
