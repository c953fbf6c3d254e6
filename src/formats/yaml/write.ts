/**
 * Writes a Roster as roster YAML: grouped by school, fields implied by their place omitted, ids
 * that can be derived omitted, every list sorted. Reading the output gives an equal Roster, and the
 * same Roster always gives the same bytes.
 */
import { Document, isScalar, isSeq, visit } from 'yaml';
import { ENTITIES, type EntityName, isListType } from '../../model/entities.js';
import { splitList } from '../../model/normalize.js';
import type { RosterRecord } from '../../model/record-table.js';
import type { Roster } from '../../model/roster.js';
import {
  CLASS_ENROLLMENT_LISTS,
  derivedEnrollmentId,
  derivedRoleId,
  EXTENSIONS_KEY,
  TOP_LEVEL_LISTS,
} from './shape.js';

export interface YamlWriteOptions {
  /** `single`: one roster.yaml; `per-school` (default): roster.yaml plus schools/<id>.yaml per school. */
  readonly layout?: 'single' | 'per-school';
  /** Path of roster.schema.json as seen from the output folder, for the editor modeline. */
  readonly schemaPath?: string;
}

type Obj = Record<string, unknown>;

const byId = (a: RosterRecord, b: RosterRecord) => cmp(a.sourcedId!, b.sourcedId!);
function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function group<T>(items: Iterable<T>, key: (t: T) => string): Map<string, T[]> {
  const map = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const list = map.get(k);
    if (list) list.push(item);
    else map.set(k, [item]);
  }
  return map;
}

function all(roster: Roster, entity: EntityName): RosterRecord[] {
  return [...roster.table(entity)].sort(byId);
}

/** A record as a YAML mapping: model fields in canonical order, then extensions; `omit` left out. */
function toEntry(entity: EntityName, record: RosterRecord, omit: readonly string[] = []): Obj {
  const spec = ENTITIES[entity].fields;
  const entry: Obj = {};
  const extensions: Obj = {};
  for (const [name, value] of Object.entries(record)) {
    if (value === '' || omit.includes(name)) continue;
    const field = spec[name];
    if (!field) {
      extensions[name] = value;
    } else if (isListType(field.type)) {
      entry[name] = splitList(value);
    } else if (field.type === 'boolean' && (value === 'true' || value === 'false')) {
      entry[name] = value === 'true';
    } else if (field.type === 'year' && /^[1-9]\d{3}$/.test(value)) {
      entry[name] = Number(value);
    } else {
      entry[name] = value;
    }
  }
  if (Object.keys(extensions).length > 0) entry[EXTENSIONS_KEY] = extensions;
  return entry;
}

/** Returns file path -> YAML text. */
export function writeRosterYaml(roster: Roster, options: YamlWriteOptions = {}): Map<string, string> {
  const layout = options.layout ?? 'per-school';
  const v12 = roster.version === '1.2';
  const orgs = all(roster, 'orgs');
  const schoolIds = new Set(orgs.filter((o) => o.type === 'school').map((o) => o.sourcedId!));
  const users = all(roster, 'users');
  const userIds = new Set(users.map((u) => u.sourcedId!));
  const classes = all(roster, 'classes');
  const classById = new Map(classes.map((c) => [c.sourcedId!, c]));
  const rolesByUser = group(
    all(roster, 'roles').filter((r) => userIds.has(r.userSourcedId!)),
    (r) => r.userSourcedId!,
  );
  const profilesByUser = group(
    all(roster, 'userProfiles').filter((p) => userIds.has(p.userSourcedId!)),
    (p) => p.userSourcedId!,
  );
  const demographicsByUser = new Map(
    all(roster, 'demographics')
      .filter((d) => userIds.has(d.sourcedId!))
      .map((d) => [d.sourcedId!, d]),
  );
  const nestedRole = (e: RosterRecord) => Object.values(CLASS_ENROLLMENT_LISTS).includes(e.role as never);
  const enrollments = all(roster, 'enrollments');
  const enrollmentsByClass = group(
    enrollments.filter((e) => classById.has(e.classSourcedId!) && nestedRole(e)),
    (e) => e.classSourcedId!,
  );

  // Where each user stands, and what its place lets us omit.
  interface UserPlacement {
    readonly school?: string;
    readonly student: boolean;
    /** 1.2: the role shortcut, when the user's roles can be written as role + orgSourcedIds. */
    readonly shortcut?: { role: string; orgs: string[] };
  }
  const placeUser = (u: RosterRecord): UserPlacement => {
    if (!v12) {
      const school = splitList(u.orgSourcedIds ?? '').find((o) => schoolIds.has(o));
      return { ...(school ? { school } : {}), student: u.role === 'student' };
    }
    const roles = rolesByUser.get(u.sourcedId!) ?? [];
    const shortcut = roleShortcut(u.sourcedId!, roles);
    const primaryOrg = u.primaryOrgSourcedId ?? '';
    const school = schoolIds.has(primaryOrg)
      ? primaryOrg
      : roles.find((r) => r.roleType === 'primary' && schoolIds.has(r.orgSourcedId!))?.orgSourcedId;
    return {
      ...(school ? { school } : {}),
      student: shortcut?.role === 'student',
      ...(shortcut ? { shortcut } : {}),
    };
  };

  const userEntry = (u: RosterRecord, p: UserPlacement, inSchool: string | undefined): Obj => {
    const omit = ['orgSourcedIds', 'role'];
    const entry = toEntry('users', u, omit);
    const orgList = v12 ? (p.shortcut?.orgs ?? []) : splitList(u.orgSourcedIds ?? '');
    const role = v12 ? p.shortcut?.role : u.role;
    const impliedOrgs = inSchool !== undefined && orgList.length === 1 && orgList[0] === inSchool;
    const impliedRole = inSchool !== undefined && p.student;
    const out: Obj = {};
    for (const [k, val] of Object.entries(entry)) {
      out[k] = val;
      // Keep role and orgSourcedIds where a 1.1 users.csv has them: after enabledUser.
      if (k === 'enabledUser' || (k === 'sourcedId' && !('enabledUser' in entry))) {
        if (orgList.length > 0 && !impliedOrgs) out.orgSourcedIds = orgList;
        if (role && !impliedRole) out.role = role;
      }
    }
    if (v12) {
      const roles = rolesByUser.get(u.sourcedId!) ?? [];
      if (!p.shortcut && roles.length > 0) {
        out.roles = roles.map((r) => {
          const derived = r.sourcedId === derivedRoleId(u.sourcedId!, r.orgSourcedId!, r.role!);
          return toEntry('roles', r, derived ? ['userSourcedId', 'sourcedId'] : ['userSourcedId']);
        });
      }
      const profiles = profilesByUser.get(u.sourcedId!);
      if (profiles) out.userProfiles = profiles.map((x) => toEntry('userProfiles', x, ['userSourcedId']));
    }
    const demographics = demographicsByUser.get(u.sourcedId!);
    if (demographics) out.demographics = toEntry('demographics', demographics, ['sourcedId']);
    return out;
  };

  const classEntry = (c: RosterRecord, inSchool: boolean): Obj => {
    const entry = toEntry('classes', c, inSchool ? ['schoolSourcedId'] : []);
    const list = enrollmentsByClass.get(c.sourcedId!) ?? [];
    for (const [name, role] of Object.entries(CLASS_ENROLLMENT_LISTS)) {
      const items = list
        .filter((e) => e.role === role)
        .sort((a, b) => cmp(a.userSourcedId!, b.userSourcedId!) || byId(a, b))
        .map((e) => {
          const derived = e.sourcedId === derivedEnrollmentId(c.sourcedId!, e.userSourcedId!, role);
          const omit = ['classSourcedId', 'role', ...(derived ? ['sourcedId'] : [])];
          if (e.schoolSourcedId === c.schoolSourcedId) omit.push('schoolSourcedId');
          const item = toEntry('enrollments', e, omit);
          const keys = Object.keys(item);
          return keys.length === 1 && keys[0] === 'userSourcedId' ? item.userSourcedId : item;
        });
      if (items.length > 0) entry[name] = items;
    }
    return entry;
  };

  const placements = new Map(users.map((u) => [u.sourcedId!, placeUser(u)]));
  const usersBySchool = group(
    users.filter((u) => placements.get(u.sourcedId!)!.school),
    (u) => placements.get(u.sourcedId!)!.school!,
  );
  const coursesBySchool = group(
    all(roster, 'courses').filter((c) => schoolIds.has(c.orgSourcedId!)),
    (c) => c.orgSourcedId!,
  );
  const classesBySchool = group(
    classes.filter((c) => schoolIds.has(c.schoolSourcedId!)),
    (c) => c.schoolSourcedId!,
  );

  const schools = orgs
    .filter((o) => o.type === 'school')
    .map((o) => {
      const id = o.sourcedId!;
      const entry = toEntry('orgs', o, ['type']);
      const courses = coursesBySchool.get(id) ?? [];
      if (courses.length > 0) entry.courses = courses.map((c) => toEntry('courses', c, ['orgSourcedId']));
      const schoolUsers = usersBySchool.get(id) ?? [];
      const staff = schoolUsers.filter((u) => !placements.get(u.sourcedId!)!.student);
      const students = schoolUsers.filter((u) => placements.get(u.sourcedId!)!.student);
      if (staff.length > 0) entry.staff = staff.map((u) => userEntry(u, placements.get(u.sourcedId!)!, id));
      if (students.length > 0)
        entry.students = students.map((u) => userEntry(u, placements.get(u.sourcedId!)!, id));
      const schoolClasses = classesBySchool.get(id) ?? [];
      if (schoolClasses.length > 0) entry.classes = schoolClasses.map((c) => classEntry(c, true));
      return entry;
    });

  // Everything that stands under no school, with all fields written out.
  const top: Partial<Record<EntityName, Obj[]>> = {
    orgs: orgs.filter((o) => o.type !== 'school').map((o) => toEntry('orgs', o)),
    academicSessions: all(roster, 'academicSessions').map((s) => toEntry('academicSessions', s)),
    courses: all(roster, 'courses')
      .filter((c) => !schoolIds.has(c.orgSourcedId!))
      .map((c) => toEntry('courses', c)),
    classes: classes.filter((c) => !schoolIds.has(c.schoolSourcedId!)).map((c) => classEntry(c, false)),
    users: users
      .filter((u) => !placements.get(u.sourcedId!)!.school)
      .map((u) => userEntry(u, placements.get(u.sourcedId!)!, undefined)),
    userProfiles: all(roster, 'userProfiles')
      .filter((p) => !userIds.has(p.userSourcedId!))
      .map((p) => toEntry('userProfiles', p)),
    roles: all(roster, 'roles')
      .filter((r) => !userIds.has(r.userSourcedId!))
      .map((r) => toEntry('roles', r)),
    enrollments: enrollments
      .filter((e) => !classById.has(e.classSourcedId!) || !nestedRole(e))
      .map((e) => toEntry('enrollments', e)),
    demographics: all(roster, 'demographics')
      .filter((d) => !userIds.has(d.sourcedId!))
      .map((d) => toEntry('demographics', d)),
  };

  const main: Obj = { oneroster: roster.version };
  if (roster.source.systemName || roster.source.systemCode) main.source = { ...roster.source };
  const files: Obj = {};
  for (const e of roster.entities()) {
    const natural = roster.table(e).size > 0 ? 'bulk' : 'absent';
    if (roster.mode(e) !== natural) files[e] = roster.mode(e);
  }
  if (Object.keys(files).length > 0) main.files = files;
  // Extension columns in CSV order, so empty ones survive and a CSV written back has the same header.
  const extensionColumns: Obj = {};
  for (const e of roster.entities()) {
    const ext = roster.table(e).extensionFields;
    if (ext.length > 0) extensionColumns[e] = ext;
  }
  if (Object.keys(extensionColumns).length > 0) main.extensionColumns = extensionColumns;
  for (const e of TOP_LEVEL_LISTS) {
    const list = top[e];
    if (list && list.length > 0) main[e] = list;
  }

  const out = new Map<string, string>();
  if (layout === 'single') {
    if (schools.length > 0) main.schools = schools;
    out.set('roster.yaml', render(main, options.schemaPath));
  } else {
    out.set('roster.yaml', render(main, options.schemaPath));
    const used = new Set<string>();
    for (const school of schools) {
      let name = String(school.sourcedId).replace(/[^A-Za-z0-9._-]/g, '_');
      while (used.has(name.toLowerCase())) name += '_';
      used.add(name.toLowerCase());
      out.set(
        `schools/${name}.yaml`,
        render({ schools: [school] }, options.schemaPath && `../${options.schemaPath}`),
      );
    }
  }
  return out;
}

/** The 1.2 role shortcut for a user's roles, or undefined when they need writing out. */
function roleShortcut(
  userId: string,
  roles: readonly RosterRecord[],
): { role: string; orgs: string[] } | undefined {
  if (roles.length === 0) return undefined;
  const role = roles[0]!.role!;
  const primaries = roles.filter((r) => r.roleType === 'primary');
  if (primaries.length !== 1) return undefined;
  for (const r of roles) {
    if (r.role !== role || r.sourcedId !== derivedRoleId(userId, r.orgSourcedId!, role)) return undefined;
    const extra = Object.entries(r).some(
      ([k, v]) => v !== '' && !['sourcedId', 'userSourcedId', 'roleType', 'role', 'orgSourcedId'].includes(k),
    );
    if (extra) return undefined;
  }
  const secondary = roles
    .filter((r) => r.roleType === 'secondary')
    .map((r) => r.orgSourcedId!)
    .sort();
  if (secondary.length !== roles.length - 1) return undefined;
  return { role, orgs: [primaries[0]!.orgSourcedId!, ...secondary] };
}

const FLOW_LISTS = new Set(
  Object.values(ENTITIES).flatMap((e) =>
    Object.entries(e.fields)
      .filter(([, f]) => isListType(f.type))
      .map(([n]) => n),
  ),
);

function render(data: Obj, schemaPath: string | undefined): string {
  const doc = new Document(data);
  // Short value lists (grades, termSourcedIds, ...) read best inline; record lists and enrollment
  // lists stay one item per line, so adding a student is a one-line diff.
  visit(doc, {
    Pair(_, pair) {
      if (isScalar(pair.key) && FLOW_LISTS.has(String(pair.key.value)) && isSeq(pair.value)) {
        if (pair.value.items.every((i) => isScalar(i))) pair.value.flow = true;
      }
    },
  });
  const head = schemaPath ? `# yaml-language-server: $schema=${schemaPath}\n` : '';
  return head + doc.toString({ lineWidth: 0, indentSeq: true, flowCollectionPadding: false });
}
