/**
 * Writes a Roster as roster YAML: grouped by school, fields implied by their place omitted, ids
 * that can be derived omitted, every list sorted. Reading the output gives an equal Roster, and the
 * same Roster always gives the same bytes.
 */
import { Document, isScalar, isSeq, visit, type YAMLSeq } from 'yaml';
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
  /** Render through the yaml library's documents (the reference the fast emitter is tested against). */
  readonly viaLibrary?: boolean;
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

/** An enrollment written in its class's list; `simple` when it is written as its user's id alone. */
interface NestedEnrollment {
  readonly user: string;
  readonly id: string;
  readonly role: string;
  readonly index: number;
  readonly simple: boolean;
}

const NESTED_ROLES: ReadonlySet<string> = new Set(Object.values(CLASS_ENROLLMENT_LISTS));

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
  // Enrollments and demographics (a city's million records) are kept as indexes into their
  // tables and made into records only when their school is written, so that they die young.
  const demographicsTable = roster.table('demographics');
  const demographicsByUser = new Map<string, number>();
  for (let i = 0; i < demographicsTable.size; i++) {
    const id = demographicsTable.value(i, 'sourcedId');
    if (userIds.has(id)) demographicsByUser.set(id, i);
  }
  const enrollmentTable = roster.table('enrollments');
  // Kept as indexes into the table: a city's enrollments are made into values only when their
  // class is written, so that they die young.
  const enrollmentsByClass = new Map<string, number[]>();
  const topEnrollments: number[] = [];
  const at = (name: string) => enrollmentTable.fieldIndexOf(name);
  const [idAt, classAt, schoolAt, userAt, roleAt] = [
    at('sourcedId'),
    at('classSourcedId'),
    at('schoolSourcedId'),
    at('userSourcedId'),
    at('role'),
  ];
  const otherFields = enrollmentTable.fields
    .map((_, k) => k)
    .filter((k) => ![idAt, classAt, schoolAt, userAt, roleAt].includes(k));
  for (let i = 0; i < enrollmentTable.size; i++) {
    const values = enrollmentTable.values(i);
    const klass = values[classAt] ?? '';
    if (!classById.has(klass) || !NESTED_ROLES.has(values[roleAt] ?? '')) {
      topEnrollments.push(i);
      continue;
    }
    const list = enrollmentsByClass.get(klass);
    if (list) list.push(i);
    else enrollmentsByClass.set(klass, [i]);
  }
  /**
   * A class's enrollment as its list needs it. Most are written as their user's id alone (`simple`):
   * the other fields are implied by the class (its school, a derived id) or empty. Found from one
   * split of the stored record, without making it an object.
   */
  const nestedEnrollment = (c: RosterRecord, i: number): NestedEnrollment => {
    const values = enrollmentTable.values(i);
    const user = values[userAt] ?? '';
    const id = values[idAt] ?? '';
    const role = values[roleAt] ?? '';
    const simple =
      user !== '' &&
      (values[schoolAt] ?? '') === c.schoolSourcedId &&
      otherFields.every((k) => (values[k] ?? '') === '') &&
      id === derivedEnrollmentId(c.sourcedId!, user, role);
    return { user, id, role, index: i, simple };
  };

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
    const d = demographicsByUser.get(u.sourcedId!);
    const demographics = d === undefined ? undefined : demographicsTable.get(d);
    if (demographics) out.demographics = toEntry('demographics', demographics, ['sourcedId']);
    return out;
  };

  const classEntry = (c: RosterRecord, inSchool: boolean): Obj => {
    const entry = toEntry('classes', c, inSchool ? ['schoolSourcedId'] : []);
    const list = (enrollmentsByClass.get(c.sourcedId!) ?? []).map((i) => nestedEnrollment(c, i));
    for (const [name, role] of Object.entries(CLASS_ENROLLMENT_LISTS)) {
      const items = list
        .filter((n) => n.role === role)
        .sort((a, b) => cmp(a.user, b.user) || cmp(a.id, b.id))
        .map((n) => {
          if (n.simple) return n.user;
          const e = enrollmentTable.get(n.index);
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

  // Each school's entry is made when it is written: a city's entries never all live at once.
  const schoolEntry = (o: RosterRecord): Obj => {
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
  };
  const schoolOrgs = orgs.filter((o) => o.type === 'school');

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
    enrollments: topEnrollments
      .map((i) => enrollmentTable.get(i))
      .sort(byId)
      .map((e) => toEntry('enrollments', e)),
    demographics: Array.from({ length: demographicsTable.size }, (_, i) => i)
      .filter((i) => !userIds.has(demographicsTable.value(i, 'sourcedId')))
      .map((i) => demographicsTable.get(i))
      .sort(byId)
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
    if (schoolOrgs.length > 0) main.schools = schoolOrgs.map(schoolEntry);
    out.set('roster.yaml', render(main, options.schemaPath, options.viaLibrary));
  } else {
    out.set('roster.yaml', render(main, options.schemaPath, options.viaLibrary));
    const used = new Set<string>();
    for (const org of schoolOrgs) {
      const school = schoolEntry(org);
      let name = String(school.sourcedId).replace(/[^A-Za-z0-9._-]/g, '_');
      while (used.has(name.toLowerCase())) name += '_';
      used.add(name.toLowerCase());
      out.set(
        `schools/${name}.yaml`,
        render({ schools: [school] }, options.schemaPath && `../${options.schemaPath}`, options.viaLibrary),
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

function render(data: Obj, schemaPath: string | undefined, viaLibrary = false): string {
  const head = schemaPath ? `# yaml-language-server: $schema=${schemaPath}\n` : '';
  if (viaLibrary) return head + renderWithLibrary(data);
  const out: string[] = [head];
  // The emitter below writes what the yaml library writes, at a fraction of its time and memory (a
  // city's roster: 30 s and 2 GB through the library's document nodes). A multi-line value, which
  // the library writes as a block scalar indented by its place, goes through the library instead.
  if (!emitMap(data, '', out)) return head + renderWithLibrary(data);
  return out.join('');
}

/** The roster YAML of `data` as the yaml library writes it (the reference the emitter follows). */
function renderWithLibrary(data: Obj): string {
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
  return doc.toString(LIBRARY_OPTIONS);
}

const LIBRARY_OPTIONS = { lineWidth: 0, indentSeq: true, flowCollectionPadding: false } as const;

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Appends `obj` as a block mapping at `indent` (its first line after `first`, e.g. "  - ");
 * false when a value needs the library (a multi-line string).
 */
function emitMap(obj: Obj, indent: string, out: string[], first = indent): boolean {
  let lead = first;
  for (const [k, v] of Object.entries(obj)) {
    const key = scalarText(k, false);
    if (key === undefined) return false;
    const prefix = `${lead}${key}:`;
    lead = indent;
    if (Array.isArray(v)) {
      if (v.length === 0) {
        out.push(`${prefix} []\n`);
      } else if (FLOW_LISTS.has(k) && v.every((i) => !isObj(i) && !Array.isArray(i))) {
        const items: string[] = [];
        for (const item of v) {
          const text = scalarText(item as string | number | boolean, true);
          if (text === undefined) return false;
          items.push(text);
        }
        out.push(`${prefix} [${items.join(', ')}]\n`);
      } else {
        out.push(`${prefix}\n`);
        const inner = `${indent}    `;
        const dash = `${indent}  - `;
        for (const item of v) {
          if (isObj(item)) {
            if (Object.keys(item).length === 0) out.push(`${dash}{}\n`);
            else if (!emitMap(item, inner, out, dash)) return false;
          } else {
            const text = Array.isArray(item)
              ? undefined
              : scalarText(item as string | number | boolean, false);
            if (text === undefined) return false;
            out.push(`${dash}${text}\n`);
          }
        }
      }
    } else if (isObj(v)) {
      if (Object.keys(v).length === 0) out.push(`${prefix} {}\n`);
      else {
        out.push(`${prefix}\n`);
        if (!emitMap(v, `${indent}  `, out)) return false;
      }
    } else {
      const text = scalarText(v as string | number | boolean, false);
      if (text === undefined) return false;
      out.push(`${prefix} ${text}\n`);
    }
  }
  return true;
}

/**
 * A plain scalar the yaml library also writes plain: it starts with no indicator, holds no ": ",
 * " #" or (in a flow list) ",[]{}", and does not read as anything but a string in YAML 1.2's core
 * schema (a number, a boolean, null).
 */
const PLAIN_BLOCK =
  /^[\p{L}\p{N}_./+$=~^-](?:[\p{L}\p{N} _./@+'()$=~^&,;!?<>-]*[\p{L}\p{N}_./@+'()$=~^&,;!?<>-])?$/u;
const PLAIN_FLOW =
  /^[\p{L}\p{N}_./+$=~^-](?:[\p{L}\p{N} _./@+'()$=~^&;!?<>-]*[\p{L}\p{N}_./@+'()$=~^&;!?<>-])?$/u;
const CORE_SCHEMA =
  /^(?:~|null|Null|NULL|true|True|TRUE|false|False|FALSE|[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+|[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$/;
/** Scalars the library had to write (quoted, or plain where the patterns are unsure), by context. */
const libraryScalars = [new Map<string, string>(), new Map<string, string>()];

function scalarText(value: string | number | boolean, flow: boolean): string | undefined {
  if (typeof value !== 'string') return String(value);
  if (
    (flow ? PLAIN_FLOW : PLAIN_BLOCK).test(value) &&
    !CORE_SCHEMA.test(value) &&
    value !== '-' &&
    !value.startsWith('- ')
  )
    return value;
  if (value.includes('\n') || value.includes('\r')) return undefined;
  const cache = libraryScalars[flow ? 1 : 0]!;
  let text = cache.get(value);
  if (text === undefined) {
    // The library's rendering of the value in that context: an item of a flow list, or a map's value.
    let rendered: string;
    if (flow) {
      const doc = new Document([value]);
      (doc.contents as YAMLSeq).flow = true;
      rendered = doc.toString(LIBRARY_OPTIONS);
    } else rendered = new Document({ k: value }).toString(LIBRARY_OPTIONS);
    text = flow ? rendered.trim().slice(1, -1) : rendered.slice(3, -1);
    if (cache.size < 100_000) cache.set(value, text);
  }
  return text;
}
