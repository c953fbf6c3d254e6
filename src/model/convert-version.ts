/**
 * Converting a Roster between OneRoster 1.1 and 1.2, as the spec's "changes from 1.1" describe.
 *
 * 1.1 -> 1.2: each user's orgSourcedIds x role becomes roles rows (the first school org primary,
 * the others secondary; ids derived as roster YAML derives them); `administrator` becomes
 * districtAdministrator at a district org and siteAdministrator elsewhere.
 * 1.2 -> 1.1: a user's role orgs become orgSourcedIds and its primary role its role; 1.2-only data
 * (userProfiles, 1.2-only user columns) has no place in 1.1 and is reported as dropped.
 */
import { derivedRoleId } from './derived-ids.js';
import { ENTITIES, type RosterVersion } from './entities.js';
import { splitList } from './normalize.js';
import type { RosterRecord } from './record-table.js';
import { type Roster, RosterBuilder } from './roster.js';

export interface ConversionResult {
  readonly roster: Roster;
  /** What could not be carried over, for the user to read. */
  readonly notes: string[];
}

const ROLE_12_TO_11: Record<string, string> = {
  districtAdministrator: 'administrator',
  siteAdministrator: 'administrator',
  systemAdministrator: 'administrator',
  principal: 'administrator',
  counselor: 'administrator',
};

export function convertVersion(roster: Roster, target: RosterVersion): ConversionResult {
  if (roster.version === target) return { roster, notes: [] };
  const builder = new RosterBuilder(target);
  builder.source = roster.source;
  const notes: string[] = [];
  for (const entity of roster.entities()) {
    if (!ENTITIES[entity].versions.includes(target)) continue;
    const mode = roster.explicitModes()[entity];
    if (mode) builder.modes[entity] = mode;
    if (entity === 'users') continue;
    const table = roster.table(entity);
    for (let i = 0; i < table.size; i++) builder.addNormalized(entity, table.get(i), table.origin(i));
  }
  if (target === '1.2') to12(roster, builder);
  else to11(roster, builder, notes);
  return { roster: builder.build(), notes };
}

function to12(roster: Roster, builder: RosterBuilder): void {
  const orgTypes = new Map<string, string>();
  for (const o of roster.table('orgs')) orgTypes.set(o.sourcedId!, o.type!);
  const users = roster.table('users');
  if (roster.explicitModes().users) builder.modes.roles = roster.explicitModes().users!;
  for (let i = 0; i < users.size; i++) {
    const u = users.get(i);
    const { role, orgSourcedIds, ...rest } = u;
    builder.addNormalized('users', rest, users.origin(i));
    const orgs = splitList(orgSourcedIds ?? '');
    const primary = orgs.find((o) => orgTypes.get(o) === 'school') ?? orgs[0];
    for (const org of orgs) {
      const role12 =
        role === 'administrator'
          ? orgTypes.get(org) === 'district'
            ? 'districtAdministrator'
            : 'siteAdministrator'
          : (role ?? '');
      if (role12 === '') continue;
      builder.addNormalized('roles', {
        sourcedId: derivedRoleId(u.sourcedId!, org, role12),
        status: u.status ?? '',
        dateLastModified: u.dateLastModified ?? '',
        userSourcedId: u.sourcedId!,
        roleType: org === primary ? 'primary' : 'secondary',
        role: role12,
        orgSourcedId: org,
      });
    }
  }
}

function to11(roster: Roster, builder: RosterBuilder, notes: string[]): void {
  const rolesByUser = new Map<string, RosterRecord[]>();
  for (const r of roster.table('roles')) {
    const list = rolesByUser.get(r.userSourcedId!) ?? [];
    list.push(r);
    rolesByUser.set(r.userSourcedId!, list);
  }
  const only12 = [
    'userMasterIdentifier',
    'resourceSourcedIds',
    'preferredGivenName',
    'preferredMiddleName',
    'preferredFamilyName',
    'primaryOrgSourcedId',
    'pronouns',
  ];
  const dropped = new Map<string, number>();
  const users = roster.table('users');
  for (let i = 0; i < users.size; i++) {
    const u: Record<string, string> = { ...users.get(i) };
    for (const f of only12) {
      if ((u[f] ?? '') !== '') dropped.set(f, (dropped.get(f) ?? 0) + 1);
      delete u[f];
    }
    const roles = rolesByUser.get(u.sourcedId!) ?? [];
    const primary = roles.find((r) => r.roleType === 'primary') ?? roles[0];
    const role = primary ? (ROLE_12_TO_11[primary.role!] ?? primary.role!) : '';
    builder.addNormalized(
      'users',
      { ...u, role, orgSourcedIds: [...new Set(roles.map((r) => r.orgSourcedId!))].sort().join(',') },
      users.origin(i),
    );
  }
  for (const [field, n] of dropped) notes.push(`users.${field} has no 1.1 column: dropped from ${n} users`);
  const profiles = roster.table('userProfiles').size;
  if (profiles > 0) notes.push(`userProfiles are not part of OneRoster 1.1: ${profiles} records dropped`);
  const mapped = [...roster.table('roles')].filter((r) => ROLE_12_TO_11[r.role!]).length;
  if (mapped > 0) notes.push(`${mapped} roles were mapped to the 1.1 role "administrator"`);
}
