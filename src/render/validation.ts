/**
 * Renderers of a validation result: text (terminal), json (versioned, schemas/validation-report.schema.json)
 * and github (workflow annotations). They format; they decide nothing.
 */
import { posix } from 'node:path';
import type { Diagnostic } from '../diagnostic.js';
import type { ValidationResult } from '../validate/validate.js';
import { VALIDATION_REPORT_VERSION } from '../validate/validate.js';
import { PLAIN, type Style } from './style.js';
import { annotation } from './workflow-commands.js';

export type ValidationFormat = 'text' | 'json' | 'github';

export interface RenderOptions {
  /** The roster's folder as the user should see it (relative to the working directory), prefixed to file names. */
  readonly base?: string;
  readonly style?: Style;
  /**
   * List at most this many diagnostics (the first ones: a cause comes before what follows from it);
   * the rest are counted. The summary's counts are always exact.
   */
  readonly maxDiagnostics?: number;
  /** github: at most this many annotations of each kind (error, warning, notice), then one notice. */
  readonly annotationsPerKind?: number;
}

/** Text and annotations list this many diagnostics unless told otherwise (a broken city roster has millions). */
export const DEFAULT_MAX_DIAGNOSTICS = 1000;

/** The diagnostics to list, and how many are left out. */
function listed(
  result: ValidationResult,
  max: number | undefined,
): { shown: readonly Diagnostic[]; omitted: number } {
  if (max === undefined || result.diagnostics.length <= max) return { shown: result.diagnostics, omitted: 0 };
  return { shown: result.diagnostics.slice(0, max), omitted: result.diagnostics.length - max };
}

function omittedLine(omitted: number): string {
  return `... and ${omitted.toLocaleString('en-US')} more diagnostic(s) not listed (--max-diagnostics N lists more; the counts below are exact)`;
}

function place(d: Diagnostic, base: string | undefined): string {
  let where = d.file ? (base && !d.file.startsWith('/') ? posix.join(base, d.file) : d.file) : '';
  if (d.line !== undefined) where += `:${d.line}`;
  if (d.line !== undefined && d.column !== undefined) where += `:${d.column}`;
  return where;
}

function counts(result: ValidationResult): Record<string, number> {
  return Object.fromEntries(result.roster.entities().map((e) => [e, result.roster.table(e).size]));
}

export function renderValidationText(result: ValidationResult, options: RenderOptions = {}): string {
  const s = options.style ?? PLAIN;
  const lines: string[] = [];
  const { shown, omitted } = listed(result, options.maxDiagnostics ?? DEFAULT_MAX_DIAGNOSTICS);
  for (const d of shown) {
    const sev =
      d.severity === 'error'
        ? s.red('error')
        : d.severity === 'warning'
          ? s.yellow('warning')
          : s.dim('info');
    const where = place(d, options.base);
    lines.push(`${where ? `${s.bold(where)}  ` : ''}${sev}  ${d.code}  ${d.message}`);
    if (d.hint) lines.push(`    ${s.dim(`hint: ${d.hint}`)}`);
  }
  if (omitted > 0) lines.push(s.dim(omittedLine(omitted)));
  const records = Object.entries(counts(result))
    .filter(([, n]) => n > 0)
    .map(([e, n]) => `${n} ${e}`)
    .join(', ');
  const what = `OneRoster ${result.roster.version} (${result.format}): ${records || 'no records'}`;
  if (lines.length > 0) lines.push('');
  if (result.valid) {
    const extra = result.warnings > 0 ? ` with ${plural(result.warnings, 'warning')}` : '';
    lines.push(s.green(`✔ valid${extra}: ${what}`));
  } else {
    lines.push(s.red(`✖ ${plural(result.errors, 'error')}, ${plural(result.warnings, 'warning')}: ${what}`));
  }
  return `${lines.join('\n')}\n`;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** The JSON report: a stable, versioned document. */
export function validationReport(result: ValidationResult, options: RenderOptions = {}) {
  // (JSON lists every diagnostic unless --max-diagnostics is given: a program reads it.)
  const { shown, omitted } = listed(result, options.maxDiagnostics);
  return {
    formatVersion: VALIDATION_REPORT_VERSION,
    valid: result.valid,
    location: options.base ?? result.location,
    format: result.format,
    oneRosterVersion: result.roster.version,
    records: counts(result),
    errors: result.errors,
    warnings: result.warnings,
    ...(omitted > 0 ? { omitted } : {}),
    diagnostics: shown.map((d) => ({
      ...d,
      ...(d.file && options.base && !d.file.startsWith('/')
        ? { file: posix.join(options.base, d.file) }
        : {}),
    })),
  };
}

export function renderValidationJson(result: ValidationResult, options: RenderOptions = {}): string {
  return `${JSON.stringify(validationReport(result, options), null, 2)}\n`;
}

function kindOf(d: Diagnostic): 'error' | 'warning' | 'notice' {
  return d.severity === 'error' ? 'error' : d.severity === 'warning' ? 'warning' : 'notice';
}

/** GitHub workflow commands: `::error file=..,line=..,col=..,title=CODE::message`. */
export function renderValidationGithub(result: ValidationResult, options: RenderOptions = {}): string {
  let { shown, omitted } = listed(result, options.maxDiagnostics ?? DEFAULT_MAX_DIAGNOSTICS);
  const perKind = options.annotationsPerKind;
  if (perKind !== undefined) {
    // GitHub shows only so many annotations of each kind per step: list the first of each kind
    // (a notice's slot is kept for the one that counts the rest).
    const taken = { error: 0, warning: 0, notice: 0 };
    const kept = shown.filter((d) => {
      const kind = kindOf(d);
      const cap = kind === 'notice' ? perKind - 1 : perKind;
      return taken[kind]++ < cap;
    });
    omitted += shown.length - kept.length;
    shown = kept;
  }
  const lines = shown.map((d) =>
    annotation(kindOf(d), d.hint ? `${d.message}\n${d.hint}` : d.message, {
      ...(d.file
        ? { file: d.file.startsWith('/') || !options.base ? d.file : posix.join(options.base, d.file) }
        : {}),
      ...(d.line !== undefined ? { line: d.line } : {}),
      ...(d.column !== undefined ? { col: d.column } : {}),
      title: d.code,
    }),
  );
  if (omitted > 0)
    lines.push(
      annotation(
        'notice',
        perKind === undefined
          ? omittedLine(omitted)
          : `${omitted.toLocaleString('en-US')} more diagnostic(s) are not shown as annotations (GitHub shows ${perKind} of each kind per step); the job log and summary list them`,
        { title: 'DIAGNOSTICS_NOT_LISTED' },
      ),
    );
  lines.push(
    `${result.valid ? 'roster is valid' : 'roster is invalid'}: ${result.errors} errors, ${result.warnings} warnings`,
  );
  return `${lines.join('\n')}\n`;
}

export function renderValidation(
  result: ValidationResult,
  format: ValidationFormat,
  options: RenderOptions = {},
): string {
  if (format === 'json') return renderValidationJson(result, options);
  if (format === 'github') return renderValidationGithub(result, options);
  return renderValidationText(result, options);
}
