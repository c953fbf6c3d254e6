/**
 * How the portal processes a delivery, with the real semantics: a bulk file replaces its entity
 * (records absent from it are removed), a delta file adds, updates or removes (`tobedeleted`), an
 * absent file leaves its entity alone. Records with errors are rejected and the rest applied; a
 * whole-set failure (unreadable zip, bad manifest, missing or unreadable file, broken header)
 * rejects the delivery and changes nothing. Pure: the caller reads and writes.
 */

import type { Diagnostic } from '../diagnostic.js';
import { convertVersion } from '../model/convert-version.js';
import type { EntityName } from '../model/entities.js';
import { fingerprintRecord } from '../model/fingerprint.js';
import type { RosterRecord } from '../model/record-table.js';
import { type Roster, RosterBuilder } from '../model/roster.js';

export interface EntitySyncCounts {
  created: number;
  updated: number;
  unchanged: number;
  removed: number;
  rejected: number;
}

export interface Rejection {
  readonly file: string;
  readonly line?: number;
  readonly code: string;
  /** Never a personal value: see withoutPersonalValues. */
  readonly message: string;
  readonly recordId?: string;
  readonly field?: string;
}

/** Entities whose values are personal data, and their fields that are not (ids, vocabularies). */
const PERSONAL_ENTITIES = new Set(['users', 'demographics', 'userProfiles', 'roles']);
const NOT_PERSONAL = new Set(['sourcedId', 'status', 'role', 'roleType', 'enabledUser', 'grades']);

/**
 * A diagnostic's message as the portal's reports, status page and e-mails show it: for a personal
 * field (a user's name, e-mail, birth date, ...) every quoted value is withheld (the field rules
 * already withhold what they know to be personal; this covers every other check); ids and
 * everything about orgs, classes and courses are shown as they are.
 */
export function withoutPersonalValues(d: {
  readonly entity?: string;
  readonly field?: string;
  readonly message: string;
}): string {
  const field = d.field?.replace(/^metadata\./, '');
  if (!d.entity || !field || !PERSONAL_ENTITIES.has(d.entity)) return d.message;
  if (NOT_PERSONAL.has(field) || /SourcedIds?$/.test(field)) return d.message;
  return d.message.replace(/"(?:[^"\\]|\\.)*"/g, '(value withheld: personal data)');
}

export interface ProcessResult {
  /** `rejected`: a whole-set failure; nothing changed. */
  readonly outcome: 'applied' | 'rejected';
  /** The portal's roster afterwards (the current one when rejected). */
  readonly next: Roster | undefined;
  readonly counts: Partial<Record<EntityName, EntitySyncCounts>>;
  readonly rejections: readonly Rejection[];
}

/** Diagnostics that make the whole delivery unusable. */
export function isWholeSetFailure(d: Diagnostic): boolean {
  if (d.severity !== 'error') return false;
  return /^(ZIP_|MANIFEST_|FILE_UNKNOWN|CSV_EMPTY_FILE|CSV_ENCODING|HEADER_|SOURCE_EMPTY)/.test(d.code);
}

export function processDelivery(
  current: Roster | undefined,
  delivery: Roster,
  diagnostics: readonly Diagnostic[],
): ProcessResult {
  const errors = diagnostics.filter((d) => d.severity === 'error');
  const fatal = errors.filter(isWholeSetFailure);
  const toRejection = (d: Diagnostic): Rejection => ({
    file: d.file ?? '',
    ...(d.line !== undefined ? { line: d.line } : {}),
    code: d.code,
    message: withoutPersonalValues(d),
    ...(d.recordId ? { recordId: d.recordId } : {}),
    ...(d.field ? { field: d.field } : {}),
  });
  if (fatal.length > 0) {
    return { outcome: 'rejected', next: current, counts: {}, rejections: errors.map(toRejection) };
  }
  // Records whose row has an error are rejected, one by one.
  const badRows = new Set(
    errors.filter((d) => d.file && d.line !== undefined).map((d) => `${d.file}:${d.line}`),
  );
  const base = current ? convertVersion(current, delivery.version).roster : undefined;
  const next = new RosterBuilder(delivery.version);
  next.source = delivery.source;
  const counts: Partial<Record<EntityName, EntitySyncCounts>> = {};
  for (const entity of delivery.entities()) {
    const mode = delivery.mode(entity);
    const currentTable = base?.table(entity);
    const old = new Map<string, RosterRecord>();
    if (currentTable) for (const r of currentTable) old.set(r.sourcedId!, r);
    for (const f of [...(currentTable?.extensionFields ?? []), ...delivery.table(entity).extensionFields])
      next.table(entity).declareField(f);
    const c: EntitySyncCounts = { created: 0, updated: 0, unchanged: 0, removed: 0, rejected: 0 };
    if (mode === 'absent') {
      for (const r of old.values()) next.addNormalized(entity, r);
      if (old.size > 0) counts[entity] = { ...c, unchanged: old.size };
      continue;
    }
    const table = delivery.table(entity);
    const stored = (r: RosterRecord) => ({ ...r, status: '', dateLastModified: '' });
    for (let i = 0; i < table.size; i++) {
      const origin = table.origin(i);
      const record = table.get(i);
      if (origin && badRows.has(`${origin.file}:${origin.line}`)) {
        c.rejected++;
        continue;
      }
      const id = record.sourcedId!;
      const prior = old.get(id);
      if (mode === 'delta' && record.status === 'tobedeleted') {
        if (prior) {
          c.removed++;
          old.delete(id);
        }
        continue;
      }
      const value = stored(record);
      if (!prior) c.created++;
      else if (fingerprintRecord(prior) === fingerprintRecord(value)) c.unchanged++;
      else c.updated++;
      next.addNormalized(entity, value);
      old.delete(id);
    }
    if (mode === 'delta') {
      for (const r of old.values()) next.addNormalized(entity, r); // untouched records stay
    } else {
      c.removed += old.size; // bulk: what the file does not list is removed
    }
    counts[entity] = c;
  }
  // Entities the delivery version does not currentTable (e.g. 1.2 roles in a 1.1 delivery) are dropped by the conversion.
  const rejections = errors.map(toRejection);
  return { outcome: 'applied', next: next.build(), counts, rejections };
}

/**
 * Stamps each record's `dateLastModified` as the portal's REST API serves it: a record new or
 * changed since `previous` gets `now`; an unchanged one keeps its own date (so a delta pull with
 * `filter=dateLastModified>'T'` returns only what changed since T). Content is compared by
 * fingerprint, which leaves dateLastModified out.
 */
export function stampModified(previous: Roster | undefined, next: Roster, now: string): Roster {
  const before = previous ? convertVersion(previous, next.version).roster : undefined;
  const builder = new RosterBuilder(next.version);
  builder.source = next.source;
  Object.assign(builder.modes, next.explicitModes());
  for (const entity of next.entities()) {
    const old = new Map<string, RosterRecord>();
    for (const r of before?.table(entity) ?? []) old.set(r.sourcedId!, r);
    const table = next.table(entity);
    for (const f of table.extensionFields) builder.table(entity).declareField(f);
    for (let i = 0; i < table.size; i++) {
      const record = table.get(i);
      const prior = old.get(record.sourcedId!);
      const unchanged = prior?.dateLastModified && fingerprintRecord(prior) === fingerprintRecord(record);
      builder.addNormalized(entity, {
        ...record,
        dateLastModified: unchanged ? prior.dateLastModified! : now,
      });
    }
  }
  return builder.build();
}

/**
 * A cell a spreadsheet shows as text: one starting with =, +, -, @, a tab or a carriage return
 * (which Excel and LibreOffice would run as a formula) gets a leading apostrophe (OWASP's advice
 * for CSV injection).
 */
export function spreadsheetSafe(cell: string): string {
  return /^[=+\-@\t\r]/.test(cell) ? `'${cell}` : cell;
}
