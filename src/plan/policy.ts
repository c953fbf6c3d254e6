/**
 * A target's policy (what `roster.config.yaml` parses into) and its rules applied to a roster: the roster as this target may see it. Entities and
 * fields that are not shared are removed here, before any comparison, so they never leave the
 * district and never show in a plan.
 */
import { ENTITIES, ENTITY_NAMES, type EntityName } from '../model/entities.js';
import { setField, splitList } from '../model/normalize.js';
import { type Roster, RosterBuilder } from '../model/roster.js';

export interface BlackoutWindow {
  readonly from: string;
  readonly to: string;
  readonly reason?: string;
}

export interface Policy {
  readonly share: {
    readonly entities?: readonly EntityName[];
    readonly withhold: Partial<Record<EntityName, readonly string[]>>;
  };
  readonly ids: { readonly users: string; readonly classes: string };
  readonly thresholds: {
    readonly deletePercent: number;
    readonly updatePercent: number;
    /** Percent limits apply only when at least this many records of an entity would change. */
    readonly minimumChanges: number;
    readonly perEntity: Partial<
      Record<EntityName, { deletePercent?: number; updatePercent?: number; minimumChanges?: number }>
    >;
  };
  readonly redact: readonly string[];
  readonly deleteStyle: 'hard' | 'soft';
  readonly blackout: readonly BlackoutWindow[];
  readonly allowMassChange: boolean;
}

/** Fields masked in plans and logs unless a policy says otherwise. */
export const DEFAULT_REDACT: readonly string[] = [
  // Every demographics field (birth date, sex, race and ethnicity, birthplace, residence status).
  ...Object.keys(ENTITIES.demographics.fields).filter(
    (f) => !['sourcedId', 'status', 'dateLastModified'].includes(f),
  ),
  'password',
  'phone',
  'sms',
  'metadata.address*',
];

/** The policy of a target that states none. */
export function defaultPolicy(): Policy {
  return {
    share: { withhold: {} },
    ids: { users: 'sourcedId', classes: 'sourcedId' },
    thresholds: { deletePercent: 5, updatePercent: 50, minimumChanges: 10, perEntity: {} },
    redact: DEFAULT_REDACT,
    deleteStyle: 'hard',
    blackout: [],
    allowMassChange: false,
  };
}

/** The blackout window `now` falls in (from inclusive, to exclusive; dates in UTC), if any. */
export function activeBlackout(policy: Policy, now: Date): BlackoutWindow | undefined {
  const today = now.toISOString().slice(0, 10);
  return policy.blackout.find((w) => today >= w.from && today < w.to);
}

/** Whether the policy lets `entity` reach the target. */
export function isShared(policy: Policy, entity: EntityName): boolean {
  return policy.share.entities === undefined || policy.share.entities.includes(entity);
}

/**
 * Whether `field` matches one of `patterns`: a name, or a prefix ending in `*` (`metadata.*`,
 * `metadata.address*`). The one matching rule of `withhold` and `redact`.
 */
export function matchesField(patterns: readonly string[], field: string): boolean {
  return patterns.some((p) => (p.endsWith('*') ? field.startsWith(p.slice(0, -1)) : p === field));
}

/** Whether `field` is masked in plans and logs (policy `redact`). */
export function isRedacted(policy: Policy, field: string): boolean {
  return matchesField(policy.redact, field);
}

/** The fields of `entity` in `roster` (its spec's fields and extension columns) that `policy` withholds. */
function withheldFields(roster: Roster, policy: Policy, entity: EntityName): string[] {
  const patterns = policy.share.withhold[entity] ?? [];
  if (patterns.length === 0) return [];
  const fields = [...Object.keys(ENTITIES[entity].fields), ...roster.table(entity).extensionFields];
  return fields.filter((f) => matchesField(patterns, f));
}

/**
 * What `policy` keeps from the target, expanded against `roster`: per entity the fields never
 * sent, `['*']` for an entity not shared (plans show it). Undefined when everything is shared.
 */
export function withheldByPolicy(
  roster: Roster,
  policy: Policy,
): Partial<Record<EntityName, readonly string[]>> | undefined {
  const out: Partial<Record<EntityName, readonly string[]>> = {};
  for (const entity of ENTITY_NAMES) {
    if (!ENTITIES[entity].versions.includes(roster.version)) continue;
    if (!isShared(policy, entity)) out[entity] = ['*'];
    else {
      const fields = withheldFields(roster, policy, entity);
      if (fields.length > 0) out[entity] = fields;
    }
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

/** The roster as the target may receive it. */
export function applyPolicy(roster: Roster, policy: Policy): Roster {
  // Everything shared, nothing withheld: the roster as it is (a Roster is never changed).
  if (
    policy.share.entities === undefined &&
    Object.values(policy.share.withhold).every((f) => !f || f.length === 0)
  )
    return roster;
  const builder = new RosterBuilder(roster.version);
  builder.source = roster.source;
  for (const entity of roster.entities()) {
    if (!isShared(policy, entity)) continue;
    const mode = roster.explicitModes()[entity];
    if (mode) builder.modes[entity] = mode;
    const withheld = new Set(withheldFields(roster, policy, entity));
    const table = roster.table(entity);
    for (const f of table.extensionFields) if (!withheld.has(f)) builder.table(entity).declareField(f);
    for (let i = 0; i < table.size; i++) {
      const record = table.get(i);
      if (withheld.size === 0) {
        builder.addNormalized(entity, record, table.origin(i));
        continue;
      }
      const kept: Record<string, string> = {};
      for (const [k, v] of Object.entries(record)) if (!withheld.has(k)) setField(kept, k, v);
      builder.addNormalized(entity, kept, table.origin(i));
    }
  }
  return builder.build();
}

/**
 * The roster as a target receives it, stated once for the plan, apply and export: the policy
 * applied (what the target may receive), then shaped to what its format carries (`shape`, a
 * Target's: the batch files carry part of a roster). `shared` is the roster before shaping.
 */
export function receivedRoster(
  roster: Roster,
  policy: Policy,
  target: { shape?(roster: Roster): Roster } = {},
): { shared: Roster; received: Roster } {
  const shared = applyPolicy(roster, policy);
  return { shared, received: target.shape ? target.shape(shared) : shared };
}

/**
 * The soft-delete rule, stated once: under `deleteStyle: soft`, a user the roster no longer has is
 * not removed but stays at the target disabled (SOFT_DELETED); one already so disabled is
 * unchanged. Other entities are removed whatever the style.
 */
export function deletesSoftly(policy: Policy, entity: EntityName): boolean {
  return policy.deleteStyle === 'soft' && entity === 'users';
}

/** The field and value a soft delete sets (and by which a soft-deleted user is known). */
export const SOFT_DELETED = { field: 'enabledUser', value: 'false' } as const;

/** The field that identifies records of `entity` at the target (policy `ids`; sourcedId otherwise). */
export function keyField(policy: Policy, entity: EntityName): string {
  if (entity === 'users') return policy.ids.users;
  if (entity === 'classes') return policy.ids.classes;
  return 'sourcedId';
}

/**
 * The school a record belongs to, for per-school summaries: the org itself for schools, else the
 * record's school reference. `value` reads one of the record's fields ('' when empty: only those
 * asked for are decoded, a plan has millions of changes); `schools` is the set of school org ids;
 * `userSchool` finds a user's.
 */
export function schoolOf(
  entity: EntityName,
  value: (field: string) => string,
  schools: ReadonlySet<string>,
  userSchool: (user: string) => string | undefined,
): string | undefined {
  const school = (field: string) => {
    const id = value(field);
    return schools.has(id) ? id : undefined;
  };
  switch (entity) {
    case 'orgs':
      return school('sourcedId');
    case 'courses':
      return school('orgSourcedId');
    case 'classes':
    case 'enrollments':
      return value('schoolSourcedId') || undefined;
    case 'users':
      return (
        school('primaryOrgSourcedId') ??
        splitList(value('orgSourcedIds')).find((o) => schools.has(o)) ??
        userSchool(value('sourcedId'))
      );
    case 'demographics':
      return userSchool(value('sourcedId'));
    case 'roles':
    case 'userProfiles':
      return school('orgSourcedId') ?? userSchool(value('userSourcedId'));
    default:
      return undefined;
  }
}
