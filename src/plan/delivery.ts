/**
 * What apply sends, and what the target holds afterwards. Pure: built from the desired roster
 * (after policy), what the target held, and the plan's changes.
 *
 * - snapshot: the full roster the target holds after delivery (users soft-deleted stay, disabled);
 * - delivery: bulk: the snapshot; delta: only the changed records, with status and
 *   dateLastModified filled (tobedeleted for removals).
 */

import { ENTITY_NAMES, type EntityName } from '../model/entities.js';
import { KeyMap } from '../model/key-set.js';
import type { RecordTable } from '../model/record-table.js';
import { type FileMode, Roster, RosterBuilder } from '../model/roster.js';
import type { PlanChange } from './plan.js';
import type { Policy } from './policy.js';
import { deletesSoftly, keyField, SOFT_DELETED } from './policy.js';

export interface Delivery {
  readonly delivery: Roster;
  readonly snapshot: Roster;
}

export function buildDelivery(input: {
  readonly desired: Roster;
  readonly current: Roster | undefined;
  readonly changes: readonly PlanChange[];
  readonly mode: 'bulk' | 'delta';
  readonly policy: Policy;
  readonly now: Date;
}): Delivery {
  const { desired, current, changes, policy } = input;
  const stamp = input.now.toISOString();
  const modes: Partial<Record<EntityName, FileMode>> = {};
  for (const entity of desired.entities())
    if (desired.table(entity).size > 0 || current?.table(entity).size) modes[entity] = 'bulk';
  // Without soft deletes the snapshot is the desired roster itself (a Roster is never changed):
  // no copy of a city's ten million records.
  const snap =
    deletesSoftly(policy, 'users') && current
      ? withSoftDeletes(desired, current, policy, modes)
      : new Roster(desired.version, tablesOf(desired), modes, desired.source);
  if (input.mode === 'bulk') return { delivery: snap, snapshot: snap };

  const delta = new RosterBuilder(desired.version);
  delta.source = desired.source;
  const byKey = (roster: Roster | undefined, entity: EntityName) => {
    const map = new KeyMap<number>();
    if (roster) {
      const t = roster.table(entity);
      const field = keyField(policy, entity);
      for (let i = 0; i < t.size; i++) map.set(t.value(i, field), i);
    }
    return map;
  };
  const indexes = new Map<string, { inSnapshot: KeyMap<number>; inCurrent: KeyMap<number> }>();
  for (const change of changes) {
    const e = change.entity;
    if (!indexes.has(e)) indexes.set(e, { inSnapshot: byKey(snap, e), inCurrent: byKey(current, e) });
    const { inSnapshot, inCurrent } = indexes.get(e)!;
    delta.modes[e] = 'delta';
    if (change.action === 'delete' && change.reason === 'delete_because_absent_from_roster') {
      const record = current!.table(e).get(inCurrent.get(change.key)!);
      delta.addNormalized(e, { ...record, status: 'tobedeleted', dateLastModified: stamp });
    } else {
      const record = snap.table(e).get(inSnapshot.get(change.key)!);
      delta.addNormalized(e, { ...record, status: 'active', dateLastModified: stamp });
    }
  }
  return { delivery: delta.build(), snapshot: snap };
}

function tablesOf(roster: Roster): Record<EntityName, RecordTable> {
  return Object.fromEntries(ENTITY_NAMES.map((e) => [e, roster.table(e)])) as Record<EntityName, RecordTable>;
}

/** The desired roster plus the users it no longer has, kept at the target but disabled. */
function withSoftDeletes(
  desired: Roster,
  current: Roster,
  policy: Policy,
  modes: Partial<Record<EntityName, FileMode>>,
): Roster {
  const snapshot = new RosterBuilder(desired.version);
  snapshot.source = desired.source;
  Object.assign(snapshot.modes, modes);
  for (const entity of desired.entities()) {
    const table = desired.table(entity);
    for (const f of table.extensionFields) snapshot.table(entity).declareField(f);
    for (let i = 0; i < table.size; i++) snapshot.addNormalized(entity, table.get(i));
  }
  const field = keyField(policy, 'users');
  const inDesired = new KeyMap<true>();
  for (let i = 0; i < desired.table('users').size; i++)
    inDesired.set(desired.table('users').value(i, field), true);
  for (const u of current.table('users')) {
    if (!inDesired.has(u[field] ?? ''))
      snapshot.addNormalized('users', { ...u, [SOFT_DELETED.field]: SOFT_DELETED.value });
  }
  return snapshot.build();
}
