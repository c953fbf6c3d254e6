/**
 * Safety holds: plans that look like accidents are held until a person says otherwise
 * (--allow-mass-change). Vendors and rostering services hold such syncs too (Clever's thresholds:
 * >10% deleted or >75% updated; a GG4L "critical changes level"); ours default to 5% / 50%.
 */
import { hashBytes, sameBytes } from '../model/byte-hash.js';
import type { EntityName } from '../model/entities.js';
import { keyFinder } from '../model/key-index.js';
import { byteRange, RecordTable, type RosterRecord } from '../model/record-table.js';
import type { Roster } from '../model/roster.js';
import type { EntityCounts, Hold, PlanChange, PlanScope, PlanTarget, PlanWarning } from './plan.js';
import type { Policy } from './policy.js';
import { keyField } from './policy.js';

interface SafetyInput {
  readonly desired: Roster;
  readonly current: Roster | undefined;
  readonly changes: readonly PlanChange[];
  readonly byEntity: Partial<Record<EntityName, EntityCounts>>;
  readonly target: PlanTarget;
  readonly managed?: Partial<Record<EntityName, ReadonlySet<string>>>;
  /** The whole roster's table sizes, when `desired` holds only part of it (PlanScope). */
  readonly desiredSizes?: Partial<Record<EntityName, number>>;
  /** The whole target's sizes and enrollment counts, when `current` holds only part of it (PlanScope). */
  readonly wholeCurrent?: PlanScope['wholeCurrent'];
}

const pct = (n: number, of: number) => (of === 0 ? 0 : (100 * n) / of);
const fmt = (x: number) => (Math.round(x * 10) / 10).toString();

export function findHolds(input: SafetyInput): Hold[] {
  const { desired, current, changes, byEntity, target } = input;
  const policy = target.policy;
  const holds: Hold[] = [];
  if (!current) return holds; // a first delivery deletes nothing

  for (const [entity, counts] of Object.entries(byEntity) as [EntityName, EntityCounts][]) {
    const existing = input.wholeCurrent?.sizes[entity] ?? current.table(entity).size;
    if (existing === 0) continue;
    const limits = { ...policy.thresholds, ...policy.thresholds.perEntity[entity] };
    const wanted = input.desiredSizes?.[entity] ?? desired.table(entity).size;
    if (target.mode === 'bulk' && wanted === 0 && counts.delete > 0) {
      holds.push({
        code: 'BULK_FILE_MISSING',
        entity,
        message: `The roster has no ${entity} at all, so this bulk delivery would remove all ${counts.delete} ${entity} the target holds.`,
        hint: `If a file went missing, restore it. To really remove every ${entity}, apply with --allow-mass-change.`,
      });
      continue;
    }
    // A handful of records is never "mass": percentages of tiny sets would hold every small edit.
    if (counts.delete >= limits.minimumChanges && pct(counts.delete, existing) > limits.deletePercent) {
      holds.push({
        code: 'MASS_DELETE',
        entity,
        message: `${counts.delete} of ${existing} ${entity} (${fmt(pct(counts.delete, existing))}%) would be removed; the limit is ${limits.deletePercent}%.`,
        hint: 'Check for a missing school or file, or changed ids. If this is intended (e.g. year-end rollover), apply with --allow-mass-change.',
      });
    }
    if (counts.update >= limits.minimumChanges && pct(counts.update, existing) > limits.updatePercent) {
      holds.push({
        code: 'MASS_UPDATE',
        entity,
        message: `${counts.update} of ${existing} ${entity} (${fmt(pct(counts.update, existing))}%) would change; the limit is ${limits.updatePercent}%.`,
        hint: 'Check for a changed export (columns shifted, a field blanked). If intended, apply with --allow-mass-change.',
      });
    }
  }

  // A school whose enrollments would all disappear.
  const removedBySchool = new Map<string, number>();
  for (const c of changes) {
    if (c.entity === 'enrollments' && c.action === 'delete' && c.school)
      removedBySchool.set(c.school, (removedBySchool.get(c.school) ?? 0) + 1);
  }
  const enrollmentsBySchool = countBySchool(
    current.table('enrollments'),
    removedBySchool,
    input.wholeCurrent,
  );
  for (const [school, removed] of [...removedBySchool].sort()) {
    if (removed === enrollmentsBySchool.get(school)) {
      holds.push({
        code: 'SCHOOL_ENROLLMENTS_REMOVED',
        entity: 'enrollments',
        school,
        message: `Every enrollment of school ${school} (${removed}) would be removed.`,
        hint: "Check that the school's file or classes did not go missing. If intended, apply with --allow-mass-change.",
      });
    }
  }

  holds.push(...suspectedIdChanges(input, 'users'), ...suspectedIdChanges(input, 'classes'));
  return holds;
}

/** Deletes and creates that look like the same person or class under a new id. */
function suspectedIdChanges(input: SafetyInput, entity: 'users' | 'classes'): Hold[] {
  const { desired, current, changes, target } = input;
  const deleted = changes.filter((c) => c.entity === entity && c.action === 'delete');
  const created = changes.filter((c) => c.entity === entity && c.action === 'create');
  if (deleted.length === 0 || created.length === 0 || !current) return [];
  const field = keyField(target.policy, entity);
  // Birth dates of the people concerned only (demographics has a row per student).
  const birth = (r: Roster, ids: ReadonlySet<string>) => {
    const births = new Map<string, string>();
    const d = r.table('demographics');
    const find = keyFinder(d, 'sourcedId');
    for (const id of ids) {
      const at = find(id);
      if (at >= 0) births.set(id, d.value(at, 'birthDate'));
    }
    return births;
  };
  const signatures = (record: RosterRecord, births: Map<string, string>): string[] => {
    const out: string[] = [];
    if (entity === 'users') {
      if (record.email) out.push(`email:${record.email.toLowerCase()}`);
      if (record.identifier) out.push(`identifier:${record.identifier}`);
      const b = births.get(record.sourcedId!);
      if (b && record.givenName && record.familyName)
        out.push(`name+birthDate:${record.givenName}|${record.familyName}|${b}`.toLowerCase());
    } else {
      if (record.classCode) out.push(`classCode:${record.classCode}|${record.schoolSourcedId}`);
      out.push(`title:${record.title}|${record.courseSourcedId}|${record.schoolSourcedId}`);
    }
    return out;
  };
  // Decode only the records that are deleted or created.
  const index = (roster: Roster, keys: ReadonlySet<string>) => {
    const map = new Map<string, RosterRecord>();
    const t = roster.table(entity);
    const find = keyFinder(t, field);
    for (const key of keys) {
      const at = find(key);
      if (at >= 0) map.set(key, t.get(at));
    }
    return map;
  };
  const oldRecords = index(current, new Set(deleted.map((c) => c.key)));
  const newRecords = index(desired, new Set(created.map((c) => c.key)));
  const idsOf = (records: Map<string, RosterRecord>) =>
    new Set([...records.values()].map((r) => r.sourcedId!));
  const oldBirths = birth(current, idsOf(oldRecords));
  const newBirths = birth(desired, idsOf(newRecords));
  const bySignature = new Map<string, string>();
  for (const d of deleted) {
    const r = oldRecords.get(d.key);
    if (r) for (const s of signatures(r, oldBirths)) bySignature.set(s, d.key);
  }
  const pairs: [string, string][] = [];
  for (const c of created) {
    const r = newRecords.get(c.key);
    if (!r) continue;
    const match = signatures(r, newBirths)
      .map((s) => bySignature.get(s))
      .find((k) => k !== undefined);
    if (match !== undefined) pairs.push([match, c.key]);
  }
  if (pairs.length === 0) return [];
  const what = entity === 'users' ? 'people' : 'classes';
  return [
    {
      code: 'SUSPECTED_ID_CHANGE',
      entity,
      message: `${pairs.length} ${entity} would be removed and created again under a new id; they look like the same ${what} (same ${
        entity === 'users'
          ? 'e-mail, state identifier, or name and birth date'
          : 'class code or title, course and school'
      }): ${pairs
        .slice(0, 5)
        .map(([a, b]) => `${a} -> ${b}`)
        .join(', ')}${pairs.length > 5 ? ', ...' : ''}.`,
      hint: `A changed id makes vendors lose history (students "vanish", duplicates appear). Keep the old id, or key this target by a stable field (policy ids.${entity}); apply with --allow-mass-change only if the change is real.`,
      pairs,
    },
  ];
}

/**
 * How many records of `table` name each school of `removed` as their schoolSourcedId, counting
 * only until every school has more records than `removed` says (then none has lost them all,
 * and the rest of a city's 8M enrollments need not be read). Each record's value is hashed as
 * bytes and looked up: no string per record.
 */
function countBySchool(
  table: RecordTable,
  removed: ReadonlyMap<string, number>,
  wholeCurrent: PlanScope['wholeCurrent'],
): Map<string, number> {
  const counts = new Map<string, number>();
  const schools = [...removed.keys()];
  if (schools.length === 0) return counts;
  const enough = schools.map((s) => removed.get(s)! + 1);
  if (wholeCurrent) {
    const tally = wholeCurrent.enrollmentsBySchool(schools, enough);
    for (const [k, s] of schools.entries()) counts.set(s, tally[k]!);
    return counts;
  }
  let open = schools.length;
  const position = table.fieldIndexOf('schoolSourcedId');
  const wanted = schools.map((s) => Buffer.from(s, 'utf8'));
  const byHash = new Map<number, number[]>();
  for (const [k, bytes] of wanted.entries()) {
    const h = hashBytes(bytes, 0, bytes.length);
    byHash.set(h, [...(byHash.get(h) ?? []), k]);
  }
  const tally = new Array<number>(schools.length).fill(0);
  const r = byteRange();
  for (let i = 0; i < table.size; i++) {
    if (!RecordTable.narrow(table.locate(i, r), position)) continue;
    const candidates = byHash.get(hashBytes(r.buffer, r.start, r.end));
    if (!candidates) continue;
    for (const k of candidates) {
      if (!sameBytes(wanted[k]!, 0, wanted[k]!.length, r.buffer, r.start, r.end)) continue;
      tally[k] = tally[k]! + 1;
      if (tally[k] === enough[k]) open--;
    }
    if (open === 0) break;
  }
  for (const [k, s] of schools.entries()) counts.set(s, tally[k]!);
  return counts;
}

/**
 * What a bulk delivery removes beyond the plan: records the portal holds that roster-as-code never
 * delivered (its processing report counts what it holds; added by hand, or by another feed). They
 * cannot be listed one by one, so they are counted: a warning per entity, and they count toward
 * the MASS_DELETE threshold with the plan's own removals. `portalCounts`: the portal's counts;
 * `delivered`: what the target's state says was delivered (and accepted).
 */
export function portalRemovals(
  portalCounts: Partial<Record<EntityName, number>>,
  delivered: Partial<Record<EntityName, number>>,
  byEntity: Partial<Record<EntityName, EntityCounts>>,
  policy: Policy,
): { warnings: PlanWarning[]; holds: Hold[] } {
  const warnings: PlanWarning[] = [];
  const holds: Hold[] = [];
  for (const [entity, count] of Object.entries(portalCounts) as [EntityName, number][]) {
    const extra = count - (delivered[entity] ?? 0);
    if (extra <= 0) continue;
    warnings.push({
      code: 'PORTAL_REMOVES',
      message: `The portal's last report says it holds ${count} ${entity}, ${extra} more than roster-as-code delivered (added by hand at the portal, or by another feed): this bulk delivery makes the portal remove them.`,
    });
    const limits = { ...policy.thresholds, ...policy.thresholds.perEntity[entity] };
    const removed = (byEntity[entity]?.delete ?? 0) + extra;
    if (removed >= limits.minimumChanges && pct(removed, count) > limits.deletePercent) {
      holds.push({
        code: 'MASS_DELETE',
        entity,
        message: `${removed} of ${count} ${entity} at the portal (${fmt(pct(removed, count))}%) would be removed, ${extra} of them records roster-as-code never delivered; the limit is ${limits.deletePercent}%.`,
        hint: 'Ask who added them at the portal: add them to the roster, or switch the target to mode: delta. If they should go, apply with --allow-mass-change.',
      });
    }
  }
  return { warnings, holds };
}
