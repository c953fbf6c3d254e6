/**
 * Header rules: map a file's header cells to model fields, reporting missing, misspelled,
 * wrongly-cased, duplicate, unknown, legacy (1.0) and out-of-order columns. Mapping goes on past
 * problems, so that the rows can still be checked and every problem is reported in one run.
 */

import type { Diagnostics } from '../../diagnostic.js';
import {
  ENTITIES,
  type EntityName,
  type RosterVersion,
  USERS_12_FINAL_COLUMNS,
} from '../../model/entities.js';

/** Edit distance (Levenshtein), for "did you mean" suggestions on short names. */
export function editDistance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0]!;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = prev[j]!;
      prev[j] = Math.min(prev[j]! + 1, prev[j - 1]! + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return prev[b.length]!;
}

/** The candidate closest to `name` (case-insensitive), when it is near enough to be a typo. */
export function closest(name: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const c of candidates) {
    const d = editDistance(name.toLowerCase(), c.toLowerCase());
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  const allowed = name.length <= 6 ? 1 : name.length <= 12 ? 2 : 3;
  return bestDistance <= allowed ? best : undefined;
}

/** Separators spreadsheets save "CSV" with in some locales, and how to name them. */
const FOREIGN_DELIMITERS: readonly (readonly [string, string])[] = [
  [';', 'semicolons (;)'],
  ['\t', 'tabs'],
  ['|', 'vertical bars (|)'],
];

/**
 * When a header is one cell that splits into the file's columns on another separator (a
 * spreadsheet saved with semicolons or tabs), that separator's name; undefined otherwise.
 */
export function foreignDelimiter(
  entity: EntityName,
  version: RosterVersion,
  header: readonly string[],
): string | undefined {
  return delimiterBetween(header, new Set(expectedColumns(entity, version, header)));
}

/**
 * When `header` is one cell that splits on another separator into two or more of the `expected`
 * column names, that separator's name ("semicolons (;)", "tabs", ...); undefined otherwise.
 */
export function delimiterBetween(
  header: readonly string[],
  expected: ReadonlySet<string>,
): string | undefined {
  if (header.length !== 1) return undefined;
  for (const [d, name] of FOREIGN_DELIMITERS) {
    const parts = header[0]!.split(d);
    if (parts.length >= 2 && parts.filter((p) => expected.has(p.trim())).length >= 2) return name;
  }
  return undefined;
}

export interface HeaderMapping {
  /** For each header position: the field it fills (a model field or an extension name), or null to skip. */
  readonly columns: readonly (string | null)[];
  /** Expected columns of the spec for this file (for the row-width rule). */
  readonly expected: readonly string[];
}

/** Expected columns, picking the users.csv shape (1.2 Final with resourceSourcedIds, or 1.2.1) from the header. */
export function expectedColumns(
  entity: EntityName,
  version: RosterVersion,
  header: readonly string[],
): readonly string[] {
  if (entity === 'users' && version === '1.2' && header.includes('resourceSourcedIds'))
    return USERS_12_FINAL_COLUMNS;
  return ENTITIES[entity].columns[version] ?? [];
}

export function mapHeader(
  entity: EntityName,
  version: RosterVersion,
  header: readonly string[],
  file: string,
  diagnostics: Diagnostics,
): HeaderMapping {
  const spec = ENTITIES[entity];
  const expected = expectedColumns(entity, version, header);
  const otherVersions = Object.values(spec.columns).flat();
  const columns: (string | null)[] = [];
  const used = new Set<string>();
  const at = (i: number) => ({ file, line: 1, column: i + 1, entity });
  // The spec columns the header lacks: what a misspelled name may stand for. Computed once (per
  // column it made a header of 40,000 unknown names quadratic).
  const present = new Set(header);
  const unclaimed = expected.filter((c) => !present.has(c));
  // Names come from the file: `__proto__` or `constructor` must not find Object's properties.
  const legacy = (name: string) =>
    spec.legacyColumns && Object.hasOwn(spec.legacyColumns, name) ? spec.legacyColumns[name] : undefined;

  header.forEach((rawName, i) => {
    const name = rawName.trim();
    let field: string | null = null;
    if (name === '') {
      diagnostics.add('HEADER_EMPTY', { ...at(i), message: `column ${i + 1} of ${file} has no name` });
    } else if (expected.includes(name)) {
      field = name;
    } else if (name.startsWith('metadata.')) {
      field = name;
    } else if (legacy(name) && !used.has(legacy(name)!)) {
      field = legacy(name)!;
      diagnostics.add('HEADER_LEGACY', {
        ...at(i),
        message: `${file} uses the OneRoster 1.0 column "${name}"; OneRoster ${version} names it "${field}"`,
      });
    } else {
      const sameCase = expected.find((c) => c.toLowerCase() === name.toLowerCase());
      // (A name far longer than any column is no misspelling: no edit distance over megabytes.)
      const near = name.length <= 64 ? closest(name, unclaimed) : undefined;
      if (sameCase) {
        field = sameCase;
        diagnostics.add('HEADER_WRONG_CASE', {
          ...at(i),
          message: `${file} column "${name}" must be written "${sameCase}"`,
        });
      } else if (otherVersions.includes(name) && Object.hasOwn(spec.fields, name)) {
        field = name;
        diagnostics.add('HEADER_VERSION_MISMATCH', {
          ...at(i),
          message: `${file} column "${name}" is not part of OneRoster ${version}`,
          ...(entity === 'users' && version === '1.2'
            ? { hint: 'OneRoster 1.2 keeps user roles and orgs in roles.csv.' }
            : {}),
        });
      } else if (near) {
        field = near;
        diagnostics.add('HEADER_MISSPELLED', {
          ...at(i),
          message: `${file} column "${name}" looks like a misspelling of "${near}"`,
          hint: `Rename the column to "${near}".`,
        });
      } else {
        field = name;
        diagnostics.add('HEADER_UNKNOWN', {
          ...at(i),
          message: `${file} column "${name}" is not a OneRoster ${version} column`,
        });
      }
    }
    if (field !== null && used.has(field)) {
      diagnostics.add('HEADER_DUPLICATE', {
        ...at(i),
        message: `${file} has column "${field}" more than once`,
      });
      field = null;
    }
    if (field !== null) used.add(field);
    columns.push(field);
  });

  for (const c of expected) {
    if (!used.has(c)) {
      const required = spec.fields[c]?.required;
      diagnostics.add('HEADER_MISSING_COLUMN', {
        file,
        line: 1,
        entity,
        message: `${file} has no "${c}" column${required ? ' (a required field)' : ''}`,
      });
    }
  }

  // Spec columns must keep the spec's order; extensions come after all of them.
  const positions = columns.map((f) => (f === null ? -1 : expected.indexOf(f)));
  let last = -1;
  let misordered = false;
  for (const p of positions) {
    if (p < 0) continue;
    if (p < last) misordered = true;
    last = p;
  }
  if (misordered) {
    diagnostics.add('HEADER_ORDER', {
      file,
      line: 1,
      entity,
      message: `${file} columns are not in spec order: expected ${expected.join(',')}`,
    });
  }
  const lastSpec = positions.reduce((acc, p, i) => (p >= 0 ? i : acc), -1);
  const misplaced = columns.findIndex((f, i) => f !== null && positions[i] === -1 && i < lastSpec);
  if (misplaced >= 0) {
    diagnostics.add('HEADER_EXTENSION_POSITION', {
      ...at(misplaced),
      message: `${file} extension column "${columns[misplaced]}" stands before spec columns`,
    });
  }
  return { columns, expected };
}
