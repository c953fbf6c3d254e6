/**
 * `validate`: load a roster and run every rule; the result is data for the renderers.
 */

import type { Diagnostic, Diagnostics } from '../diagnostic.js';
import { RosterError } from '../errors.js';
import type { RosterFormat } from '../formats/format.js';
import type { Roster } from '../model/roster.js';
import { checkRoster } from './roster-rules.js';

/** Version of the JSON validation report (schemas/validation-report.schema.json). */
export const VALIDATION_REPORT_VERSION = '1.0';

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
  const list = diagnostics.sorted();
  const errors = list.filter((d) => d.severity === 'error').length;
  const warnings = list.filter((d) => d.severity === 'warning').length;
  return { roster, location, format, diagnostics: list, errors, warnings, valid: errors === 0 };
}

/** A plan was asked of a roster with errors (rendered with its findings). */
export class InvalidRosterError extends RosterError {
  constructor(readonly result: ValidationResult) {
    super('ROSTER_INVALID', `the roster has ${result.errors} error(s); nothing was planned`, {
      hint: 'Fix the errors above (`roster validate` shows them), then plan again.',
    });
    this.name = 'InvalidRosterError';
  }
}
