/**
 * computePlan: desired roster x what the target holds -> Plan. Pure: no I/O, `now` is given.
 *
 * The plan's rules, in one place: the policy is applied and the roster shaped for the target;
 * records are matched by the target's key field (policy `ids`; how: plan/match.ts), compared by
 * their stored bytes or fingerprints, and become changes (plan/change.ts) attributed to their
 * schools; only records this tool delivered (the state's `managed` keys) are ever deleted, softly
 * when the policy says so; anything else the target holds is counted as unmanaged and left alone;
 * warnings and holds (plan/safety.ts) follow. The JSON of a plan is written by render/plan-json.ts.
 */
import { convertVersion } from '../model/convert-version.js';
import { ENTITIES, ENTITY_NAMES, type EntityName } from '../model/entities.js';
import { fingerprintRoster } from '../model/fingerprint.js';
import { type Finder, keyFinder } from '../model/key-index.js';
import type { Roster } from '../model/roster.js';
import { Change, type FieldSource } from './change.js';
import { matchRecords } from './match.js';
import {
  type ChangeReason,
  type EntityCounts,
  PLAN_FORMAT_VERSION,
  type Plan,
  type PlanChange,
  type PlanScope,
  type PlanTarget,
  type PlanWarning,
} from './plan.js';
import {
  activeBlackout,
  deletesSoftly,
  isRedacted,
  keyField,
  type Policy,
  receivedRoster,
  SOFT_DELETED,
  schoolOf,
  withheldByPolicy,
} from './policy.js';
import { findHolds } from './safety.js';
import { partialPlanRuledOut } from './scope.js';

export interface PlanInput {
  /** The desired roster, as read from the repo (policy is applied here). */
  readonly desired: Roster;
  /** What the target holds now (as delivered, after policy), or undefined when never applied. */
  readonly current: Roster | undefined;
  /** Keys this tool delivered, per entity (from the state); undefined: everything current is ours. */
  readonly managed?: Partial<Record<EntityName, ReadonlySet<string>>>;
  readonly target: PlanTarget;
  readonly state: { readonly lineage: string; readonly serial: number } | undefined;
  readonly commit: string | null;
  readonly now: Date;
  /** Show personal data (names, e-mail addresses) in the plan; redacted fields stay masked. */
  readonly showPersonalData?: boolean;
  /** What the target's format can carry (applied to the desired roster after policy). */
  readonly shape?: (roster: Roster) => Roster;
  /** The desired roster's fingerprint when already known (or not wanted: a diff applies nothing). */
  readonly desiredFingerprint?: string;
  /** Compare only part of the roster (the incremental plan; see PlanScope). */
  readonly scope?: PlanScope;
  /**
   * Per entity, the roster's sourcedId of a key when the target keys records otherwise (the
   * batch target's enrollments): changes are named by it.
   */
  readonly rosterIds?: Partial<Record<EntityName, (key: string) => string | undefined>>;
}

export const REDACTED = '(redacted)';
export const PERSONAL = '(personal data)';

/** Thrown for rosters a target cannot key (a record without the key field). */
export class PlanKeyError extends Error {
  constructor(
    readonly entity: EntityName,
    readonly field: string,
    readonly sourcedIds: string[],
  ) {
    super(`${sourcedIds.length} ${entity} have no ${field}, which this target identifies them by`);
  }
}

export function computePlan(input: PlanInput): Plan {
  const { target, now } = input;
  const policy = target.policy;
  if (input.scope) {
    // A shortcut that made a scope asked plan/scope.ts first; this is the same question, as a guard.
    const ruledOut = partialPlanRuledOut(policy, {
      shapes: input.shape !== undefined,
      exportsCurrent: input.managed !== undefined,
    });
    if (ruledOut) throw new Error(`a partial plan cannot be made here: ${ruledOut}`);
  }
  const { shared, received: desired } = receivedRoster(
    input.desired,
    policy,
    input.shape ? { shape: input.shape } : {},
  );
  const current = input.current ? convertVersion(input.current, desired.version).roster : undefined;

  // Schools come from the roster before shaping too: a target's shape may leave orgs out, and
  // its changes are still attributed to their schools.
  const schools = new Set<string>();
  for (const r of [shared, desired, current]) {
    if (!r) continue;
    const orgs = r.table('orgs');
    for (let i = 0; i < orgs.size; i++)
      if (orgs.value(i, 'type') === 'school') schools.add(orgs.value(i, 'sourcedId'));
  }
  // A user's school, looked up when a change needs it (a city has a million users, and a plan
  // touches a few thousand): the desired roster's word first, then what the target holds.
  const rosters = current ? [desired, current] : [desired];
  const userSchools = new Map<string, string | null>();
  const userFinders = new Map<Roster, Finder>();
  const roleSchools = new Map<Roster, Map<string, string>>();
  const userSchool = (id: string): string | undefined => {
    let school = userSchools.get(id);
    if (school === undefined) {
      school = null;
      for (const r of rosters) {
        const users = r.table('users');
        let find = userFinders.get(r);
        if (!find) {
          find = keyFinder(users, 'sourcedId');
          userFinders.set(r, find);
        }
        const at = find(id);
        if (at < 0) continue;
        const primary = users.value(at, 'primaryOrgSourcedId');
        const found = schools.has(primary)
          ? primary
          : users
              .value(at, 'orgSourcedIds')
              .split(',')
              .find((o) => schools.has(o));
        if (found) {
          school = found;
          break;
        }
      }
      for (const r of [...rosters].reverse()) {
        if (school !== null) break;
        school = rolesByUser(r, roleSchools, schools).get(id) ?? null;
      }
      userSchools.set(id, school);
    }
    return school ?? undefined;
  };

  // One string per school for every change that names it.
  const schoolNames = new Map([...schools].map((s) => [s, s]));
  const canonicalSchool = (school: string | undefined) =>
    school === undefined ? undefined : (schoolNames.get(school) ?? school);

  const mask = (entity: EntityName, field: string, value: string): string | undefined => {
    if (value === '') return undefined;
    if (isRedacted(policy, field) || (entity === 'demographics' && isRedacted(policy, 'demographics')))
      return REDACTED;
    if (ENTITIES[entity].fields[field]?.pii && !input.showPersonalData) return PERSONAL;
    return value;
  };

  const changes: PlanChange[] = [];
  const byEntity: Partial<Record<EntityName, EntityCounts>> = {};
  const unmanaged: Partial<Record<EntityName, number>> = {};
  const missingKeys: PlanKeyError[] = [];

  for (const entity of ENTITY_NAMES) {
    if (!desired.entities().includes(entity)) continue;
    const field = keyField(policy, entity);
    const named = input.rosterIds?.[entity];
    const counts: EntityCounts = { create: 0, update: 0, delete: 0, unchanged: 0 };
    const desiredTable = desired.table(entity);
    const currentTable = current?.table(entity);
    if (input.scope && desiredTable.size === 0 && (input.scope.removed[entity]?.length ?? 0) === 0) {
      // No line of this entity changed: all of it is as the target holds it.
      counts.unchanged = input.scope.unchanged[entity] ?? 0;
      if (counts.unchanged > 0 || (currentTable && currentTable.size > 0)) byEntity[entity] = counts;
      continue;
    }
    const scope = input.scope;
    // Same columns on both sides: equal stored bytes mean equal records, no hashing needed.
    const sameLayout =
      currentTable !== undefined && currentTable.fields.join('\u0000') === desiredTable.fields.join('\u0000');
    const dateField = desiredTable.fields.indexOf('dateLastModified');
    const entityChanges: PlanChange[] = [];
    const source: FieldSource = {
      entity,
      desired: desiredTable,
      current: currentTable,
      mask,
      soft: deletesSoftly(policy, entity),
      sameLayout,
    };

    /** Records what becomes of roster record i, held at the target as record `found` (-1: not). */
    const settle = (i: number, found: number) => {
      const at = found >= 0 ? found : undefined;
      // Compare the stored bytes first, then the values but dateLastModified (fingerprints, which
      // skip it, between tables of other columns); objects only for changes.
      if (
        at !== undefined &&
        (sameLayout
          ? currentTable!.sameStored(at, desiredTable, i) ||
            currentTable!.sameValuesBut(at, desiredTable, i, dateField)
          : currentTable!.fingerprint(at) === desiredTable.fingerprint(i))
      ) {
        counts.unchanged++;
        return;
      }
      // Fresh, flat strings: a change outlives the decoded record (a city's first plan has 10M).
      const key = desiredTable.value(i, field);
      const sourcedId = named?.(key) ?? (field === 'sourcedId' ? key : desiredTable.value(i, 'sourcedId'));
      const school = canonicalSchool(schoolOf(entity, (f) => desiredTable.value(i, f), schools, userSchool));
      if (at === undefined) {
        counts.create++;
        entityChanges.push(new Change('create', entity, key, sourcedId, school, CREATE, source, i, -1));
        return;
      }
      counts.update++;
      entityChanges.push(new Change('update', entity, key, sourcedId, school, UPDATE, source, i, at));
    };

    // Every roster record is matched to what the target holds by key (see match.ts).
    const matching = matchRecords(desiredTable, currentTable, field, scope !== undefined, settle);
    const { keyless } = matching;
    if (keyless.length > 0) missingKeys.push(new PlanKeyError(entity, field, [...keyless]));

    if (currentTable) {
      // With a state, only what it records as delivered is ours (none of an entity it does not list).
      const managed = input.managed ? (input.managed[entity] ?? new Set<string>()) : undefined;
      // In a scope, only the records whose lines went away may be gone; all others are unchanged.
      const candidates = scope ? (scope.removed[entity] ?? []) : undefined;
      if (scope) counts.unchanged += scope.unchanged[entity] ?? 0;
      for (let c = 0, n = candidates ? candidates.length : currentTable.size; c < n; c++) {
        const i = candidates ? candidates[c]! : c;
        if (matching.matched(i)) continue;
        const key = currentTable.value(i, field);
        if (managed && !managed.has(key)) {
          unmanaged[entity] = (unmanaged[entity] ?? 0) + 1;
          continue;
        }
        const soft = source.soft;
        if (soft && currentTable.value(i, SOFT_DELETED.field) === SOFT_DELETED.value) {
          counts.unchanged++; // disabled by an earlier soft delete
          continue;
        }
        counts.delete++;
        const school = canonicalSchool(
          schoolOf(entity, (f) => currentTable.value(i, f), schools, userSchool),
        );
        const reason: ChangeReason = soft
          ? 'disable_because_absent_from_roster'
          : 'delete_because_absent_from_roster';
        const sourcedId = named?.(key) ?? (field === 'sourcedId' ? key : currentTable.value(i, 'sourcedId'));
        entityChanges.push(new Change('delete', entity, key, sourcedId, school, reason, source, -1, i));
      }
    }
    entityChanges.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    // Not push(...): spreading a city's worth of changes as arguments overflows the stack.
    for (const c of entityChanges) changes.push(c);
    if (
      counts.create + counts.update + counts.delete + counts.unchanged > 0 ||
      (currentTable && currentTable.size > 0)
    )
      byEntity[entity] = counts;
  }
  if (missingKeys.length > 0) throw missingKeys[0];

  const bySchool: Record<string, { create: number; update: number; delete: number }> = {};
  for (const c of changes) {
    if (!c.school) continue;
    bySchool[c.school] ??= { create: 0, update: 0, delete: 0 };
    bySchool[c.school]![c.action]++;
  }

  const warnings: PlanWarning[] = [];
  const unmanagedTotal = Object.values(unmanaged).reduce((n, v) => n + (v ?? 0), 0);
  if (unmanagedTotal > 0) {
    warnings.push({
      code: 'UNMANAGED_RECORDS',
      message: `The target holds ${unmanagedTotal} record(s) that roster-as-code never delivered (${Object.entries(
        unmanaged,
      )
        .map(([e, n]) => `${n} ${e}`)
        .join(', ')}); they are left alone.`,
    });
  }
  if (target.mode === 'bulk' && (target.kind === 'dir' || target.kind === 'sftp') && changes.length > 0) {
    // What a portal does with a bulk file, which this plan cannot see (districts.md: records
    // added by hand at the portal vanish at the next bulk sync).
    warnings.push({
      code: 'BULK_REPLACES',
      message: `This target takes bulk deliveries: the portal replaces every kind of record the delivery carries, so records it holds that the roster lacks (added by hand at the portal, or by another feed) are removed by the portal, and this plan cannot count them. To change only what roster-as-code delivered, use mode: delta.`,
    });
  }
  const blackout = activeBlackout(policy, now);
  if (blackout) {
    warnings.push({
      code: 'BLACKOUT',
      message: `Today is inside the blackout window ${blackout.from} to ${blackout.to}${blackout.reason ? ` (${blackout.reason})` : ''}: apply will refuse unless --ignore-blackout.`,
    });
  }

  const holds = findHolds({
    desired,
    current,
    changes,
    byEntity,
    target,
    managed: input.managed,
    ...(input.scope ? { desiredSizes: input.scope.sizes } : {}),
    ...(input.scope?.wholeCurrent ? { wholeCurrent: input.scope.wholeCurrent } : {}),
  });

  return {
    formatVersion: PLAN_FORMAT_VERSION,
    target: { name: target.name, kind: target.kind, mode: target.mode },
    basis: {
      desiredFingerprint: input.desiredFingerprint ?? fingerprintRoster(input.desired),
      oneRosterVersion: desired.version,
      stateLineage: input.state?.lineage ?? null,
      stateSerial: input.state?.serial ?? 0,
      commit: input.commit,
      createdAt: now.toISOString(),
    },
    summary: {
      create: changes.filter((c) => c.action === 'create').length,
      update: changes.filter((c) => c.action === 'update').length,
      delete: changes.filter((c) => c.action === 'delete').length,
      byEntity,
      bySchool: Object.fromEntries(Object.entries(bySchool).sort(([a], [b]) => (a < b ? -1 : 1))),
    },
    changes,
    holds,
    warnings,
    unmanaged,
    ...withheldOf(input.desired, policy),
  };
}

const CREATE: ChangeReason = 'create_because_absent_at_target';
const UPDATE: ChangeReason = 'update_because_fields_differ';

function withheldOf(
  desired: Roster,
  policy: Policy,
): { withheld?: Partial<Record<EntityName, readonly string[]>> } {
  const withheld = withheldByPolicy(desired, policy);
  return withheld ? { withheld } : {};
}

/** Each user's first school among its roles (OneRoster 1.2), built once per roster when needed. */
function rolesByUser(
  roster: Roster,
  built: Map<Roster, Map<string, string>>,
  schools: ReadonlySet<string>,
): Map<string, string> {
  let map = built.get(roster);
  if (!map) {
    map = new Map();
    const roles = roster.table('roles');
    for (let i = 0; i < roles.size; i++) {
      const org = roles.value(i, 'orgSourcedId');
      const user = roles.value(i, 'userSourcedId');
      if (schools.has(org) && !map.has(user)) map.set(user, org);
    }
    built.set(roster, map);
  }
  return map;
}
