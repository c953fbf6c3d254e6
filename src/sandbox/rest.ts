/**
 * The OneRoster REST read API of the portal, 1.1 (`/ims/oneroster/v1p1`) and 1.2
 * (`/ims/oneroster/rostering/v1p2`): collections and items with limit/offset paging,
 * X-Total-Count and Link headers, sort/orderBy, fields and the basic filter syntax. Records are
 * the store's, shaped as the REST binding says (GUIDRefs, lists as arrays, booleans as strings).
 * Passwords are never served.
 */
import { convertVersion } from '../model/convert-version.js';
import { ENTITIES, type EntityName, isListType, type RosterVersion } from '../model/entities.js';
import { splitList } from '../model/normalize.js';
import type { RosterRecord } from '../model/record-table.js';
import type { Roster } from '../model/roster.js';

export const REST_BASES: Record<RosterVersion, string> = {
  '1.1': '/ims/oneroster/v1p1',
  '1.2': '/ims/oneroster/rostering/v1p2',
};

type Json = Record<string, unknown>;

interface Collection {
  readonly entity: EntityName;
  /** Singular name of an item response ({"user": {...}}). */
  readonly single: string;
  readonly where?: (r: Json) => boolean;
}

const COLLECTIONS: Record<string, Collection> = {
  orgs: { entity: 'orgs', single: 'org' },
  schools: { entity: 'orgs', single: 'org', where: (r) => r.type === 'school' },
  academicSessions: { entity: 'academicSessions', single: 'academicSession' },
  terms: {
    entity: 'academicSessions',
    single: 'academicSession',
    where: (r) => r.type === 'term' || r.type === 'semester',
  },
  gradingPeriods: {
    entity: 'academicSessions',
    single: 'academicSession',
    where: (r) => r.type === 'gradingPeriod',
  },
  courses: { entity: 'courses', single: 'course' },
  classes: { entity: 'classes', single: 'class' },
  users: { entity: 'users', single: 'user' },
  students: {
    entity: 'users',
    single: 'user',
    where: (r) =>
      r.role === 'student' || (r.roles as Json[] | undefined)?.some((x) => x.role === 'student') === true,
  },
  teachers: {
    entity: 'users',
    single: 'user',
    where: (r) =>
      r.role === 'teacher' || (r.roles as Json[] | undefined)?.some((x) => x.role === 'teacher') === true,
  },
  enrollments: { entity: 'enrollments', single: 'enrollment' },
  demographics: { entity: 'demographics', single: 'demographics' },
};

export interface RestResponse {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: unknown;
}

function statusInfo(status: number, codeMinor: string, description: string): RestResponse {
  return {
    status,
    headers: {},
    body: {
      imsx_codeMajor: 'failure',
      imsx_severity: 'error',
      imsx_codeMinor: codeMinor,
      imsx_description: description,
    },
  };
}

/** A view of the store in one version's JSON shape, built once per store state. */
export class RestView {
  private readonly byEntity = new Map<EntityName, Json[]>();

  constructor(
    roster: Roster | undefined,
    readonly version: RosterVersion,
    readonly dateLastModified: string,
  ) {
    const r = roster ? convertVersion(roster, version).roster : undefined;
    const base = REST_BASES[version];
    const ref = (type: string, collection: string, id: string) => ({
      href: `${base}/${collection}/${id}`,
      sourcedId: id,
      type,
    });
    const children = new Map<string, string[]>();
    const sessionChildren = new Map<string, string[]>();
    for (const o of r?.table('orgs') ?? [])
      if (o.parentSourcedId)
        children.set(o.parentSourcedId, [...(children.get(o.parentSourcedId) ?? []), o.sourcedId!]);
    for (const s of r?.table('academicSessions') ?? [])
      if (s.parentSourcedId)
        sessionChildren.set(s.parentSourcedId, [
          ...(sessionChildren.get(s.parentSourcedId) ?? []),
          s.sourcedId!,
        ]);
    const rolesByUser = new Map<string, RosterRecord[]>();
    for (const role of r?.table('roles') ?? [])
      rolesByUser.set(role.userSourcedId!, [...(rolesByUser.get(role.userSourcedId!) ?? []), role]);

    for (const entity of [
      'orgs',
      'academicSessions',
      'courses',
      'classes',
      'users',
      'enrollments',
      'demographics',
    ] as EntityName[]) {
      const list: Json[] = [];
      for (const rec of r?.table(entity) ?? []) {
        const o: Json = {
          sourcedId: rec.sourcedId,
          status: rec.status || 'active',
          dateLastModified: rec.dateLastModified || dateLastModified,
        };
        const metadata: Json = {};
        for (const [k, v] of Object.entries(rec))
          if (!ENTITIES[entity].fields[k] && v !== '') metadata[k.replace(/^metadata\./, '')] = v;
        if (Object.keys(metadata).length > 0) o.metadata = metadata;
        const list_ = (v: string | undefined) => splitList(v ?? '');
        switch (entity) {
          case 'orgs':
            Object.assign(o, {
              name: rec.name,
              type: rec.type,
              identifier: rec.identifier ?? '',
              parent: rec.parentSourcedId ? ref('org', 'orgs', rec.parentSourcedId) : null,
              children: (children.get(rec.sourcedId!) ?? []).map((c) => ref('org', 'orgs', c)),
            });
            break;
          case 'academicSessions':
            Object.assign(o, {
              title: rec.title,
              type: rec.type,
              startDate: rec.startDate,
              endDate: rec.endDate,
              schoolYear: rec.schoolYear,
              parent: rec.parentSourcedId
                ? ref('academicSession', 'academicSessions', rec.parentSourcedId)
                : null,
              children: (sessionChildren.get(rec.sourcedId!) ?? []).map((c) =>
                ref('academicSession', 'academicSessions', c),
              ),
            });
            break;
          case 'courses':
            Object.assign(o, {
              title: rec.title,
              schoolYear: rec.schoolYearSourcedId
                ? ref('academicSession', 'academicSessions', rec.schoolYearSourcedId)
                : null,
              courseCode: rec.courseCode ?? '',
              grades: list_(rec.grades),
              subjects: list_(rec.subjects),
              org: ref('org', 'orgs', rec.orgSourcedId!),
              subjectCodes: list_(rec.subjectCodes),
            });
            break;
          case 'classes':
            Object.assign(o, {
              title: rec.title,
              classCode: rec.classCode ?? '',
              classType: rec.classType,
              location: rec.location ?? '',
              grades: list_(rec.grades),
              subjects: list_(rec.subjects),
              course: ref('course', 'courses', rec.courseSourcedId!),
              school: ref('org', 'schools', rec.schoolSourcedId!),
              terms: list_(rec.termSourcedIds).map((t) => ref('academicSession', 'terms', t)),
              subjectCodes: list_(rec.subjectCodes),
              periods: list_(rec.periods),
            });
            break;
          case 'users': {
            Object.assign(o, {
              username: rec.username,
              userIds: list_(rec.userIds).length
                ? (rec.userIds ?? '').split(/(?<=\}),/).map((x) => ({
                    type: x.slice(1, x.indexOf(':')),
                    identifier: x.slice(x.indexOf(':') + 1, -1),
                  }))
                : [],
              enabledUser: rec.enabledUser,
              givenName: rec.givenName,
              familyName: rec.familyName,
              middleName: rec.middleName ?? '',
              identifier: rec.identifier ?? '',
              email: rec.email ?? '',
              sms: rec.sms ?? '',
              phone: rec.phone ?? '',
              agents: list_(rec.agentSourcedIds).map((a) => ref('user', 'users', a)),
              grades: list_(rec.grades),
            });
            if (version === '1.1')
              Object.assign(o, {
                role: rec.role,
                orgs: list_(rec.orgSourcedIds).map((x) => ref('org', 'orgs', x)),
              });
            else {
              const roles = rolesByUser.get(rec.sourcedId!) ?? [];
              Object.assign(o, {
                roles: roles.map((x) => ({
                  roleType: x.roleType,
                  role: x.role,
                  org: ref('org', 'orgs', x.orgSourcedId!),
                  ...(x.beginDate ? { beginDate: x.beginDate } : {}),
                  ...(x.endDate ? { endDate: x.endDate } : {}),
                })),
                primaryOrg: rec.primaryOrgSourcedId ? ref('org', 'orgs', rec.primaryOrgSourcedId) : null,
                preferredFirstName: rec.preferredGivenName ?? '',
                preferredMiddleName: rec.preferredMiddleName ?? '',
                preferredLastName: rec.preferredFamilyName ?? '',
                pronouns: rec.pronouns ?? '',
                userMasterIdentifier: rec.userMasterIdentifier ?? '',
              });
            }
            break;
          }
          case 'enrollments':
            Object.assign(o, {
              user: ref('user', 'users', rec.userSourcedId!),
              class: ref('class', 'classes', rec.classSourcedId!),
              school: ref('org', 'schools', rec.schoolSourcedId!),
              role: rec.role,
              primary: rec.primary || 'false',
              beginDate: rec.beginDate || null,
              endDate: rec.endDate || null,
            });
            break;
          case 'demographics':
            for (const [k, spec] of Object.entries(ENTITIES.demographics.fields)) {
              if (['sourcedId', 'status', 'dateLastModified'].includes(k)) continue;
              o[k] = isListType(spec.type) ? list_(rec[k]) : (rec[k] ?? '');
            }
            break;
        }
        list.push(o);
      }
      list.sort((a, b) => (String(a.sourcedId) < String(b.sourcedId) ? -1 : 1));
      this.byEntity.set(entity, list);
    }
  }

  records(entity: EntityName): Json[] {
    return this.byEntity.get(entity) ?? [];
  }

  /** Answers GET `path` (below the version's base) with `query`. */
  get(path: string, query: URLSearchParams, origin: string): RestResponse {
    const parts = path.split('/').filter(Boolean);
    const [name, id, sub] = parts;
    const collection = name ? COLLECTIONS[name] : undefined;
    if (!collection || parts.length > 3)
      return statusInfo(404, 'unknownobject', `no such collection: ${path}`);
    let items = this.records(collection.entity).filter((r) => !collection.where || collection.where(r));
    if (id !== undefined && sub === undefined) {
      const item = items.find((r) => r.sourcedId === id);
      if (!item) return statusInfo(404, 'unknownobject', `${collection.single} ${id} does not exist`);
      const picked = pickFields(item, query.get('fields'));
      if ('error' in picked) return statusInfo(400, 'invalid_selection_field', picked.error);
      return { status: 200, headers: {}, body: { [collection.single]: picked.value } };
    }
    if (id !== undefined && sub !== undefined) {
      const nested = this.nested(name!, id, sub);
      if (!nested) return statusInfo(404, 'unknownobject', `no such collection: ${path}`);
      items = nested.items;
      return this.page(nested.key, items, query, origin, path);
    }
    return this.page(collection.entity, items, query, origin, path);
  }

  private nested(name: string, id: string, sub: string): { key: string; items: Json[] } | undefined {
    const idOf = (x: unknown) => (x as { sourcedId?: string } | null)?.sourcedId;
    const enrollments = this.records('enrollments');
    const users = this.records('users');
    const byUser = (ids: Set<unknown>, role?: string) =>
      users.filter(
        (u) =>
          ids.has(u.sourcedId) &&
          (!role || COLLECTIONS[role === 'student' ? 'students' : 'teachers']!.where!(u)),
      );
    if (name === 'classes' && (sub === 'students' || sub === 'teachers')) {
      const role = sub === 'students' ? 'student' : 'teacher';
      return {
        key: 'users',
        items: byUser(
          new Set(
            enrollments.filter((e) => idOf(e.class) === id && e.role === role).map((e) => idOf(e.user)),
          ),
        ),
      };
    }
    if (name === 'schools') {
      if (sub === 'classes')
        return { key: 'classes', items: this.records('classes').filter((c) => idOf(c.school) === id) };
      if (sub === 'courses')
        return { key: 'courses', items: this.records('courses').filter((c) => idOf(c.org) === id) };
      if (sub === 'enrollments')
        return { key: 'enrollments', items: enrollments.filter((e) => idOf(e.school) === id) };
      if (sub === 'students' || sub === 'teachers') {
        const role = sub === 'students' ? 'student' : 'teacher';
        return {
          key: 'users',
          items: byUser(
            new Set(
              enrollments.filter((e) => idOf(e.school) === id && e.role === role).map((e) => idOf(e.user)),
            ),
            role,
          ),
        };
      }
    }
    if ((name === 'users' || name === 'students' || name === 'teachers') && sub === 'classes') {
      const ids = new Set(enrollments.filter((e) => idOf(e.user) === id).map((e) => idOf(e.class)));
      return { key: 'classes', items: this.records('classes').filter((c) => ids.has(c.sourcedId as string)) };
    }
    return undefined;
  }

  private page(key: string, all: Json[], query: URLSearchParams, origin: string, path: string): RestResponse {
    let items = all;
    const filter = query.get('filter');
    if (filter) {
      const f = parseFilter(filter);
      if ('error' in f) return statusInfo(400, 'invalid_filter_field', f.error);
      if (items.length > 0 && f.fields.some((name) => !(name in items[0]!)))
        return statusInfo(400, 'invalid_filter_field', `cannot filter on ${f.fields.join(', ')}`);
      items = items.filter(f.test);
    }
    const sort = query.get('sort');
    if (sort) {
      if (items.length > 0 && !(sort in items[0]!))
        return statusInfo(400, 'invalid_sort_field', `cannot sort on ${sort}`);
      const desc = query.get('orderBy') === 'desc';
      items = [...items].sort((a, b) => {
        const x = String(a[sort] ?? '');
        const y = String(b[sort] ?? '');
        return (x < y ? -1 : x > y ? 1 : 0) * (desc ? -1 : 1);
      });
    }
    const limit = Math.max(1, Math.min(Number(query.get('limit') ?? 100) || 100, 10_000));
    const offset = Math.max(0, Number(query.get('offset') ?? 0) || 0);
    const pageItems = items.slice(offset, offset + limit);
    const picked: Json[] = [];
    for (const item of pageItems) {
      const p = pickFields(item, query.get('fields'));
      if ('error' in p) return statusInfo(400, 'invalid_selection_field', p.error);
      picked.push(p.value);
    }
    const total = items.length;
    const link = (o: number, rel: string) => {
      const q = new URLSearchParams(query);
      q.set('limit', String(limit));
      q.set('offset', String(o));
      return `<${origin}${REST_BASES[this.version]}/${path.replace(/^\/+/, '')}?${q}>; rel="${rel}"`;
    };
    const links = [link(0, 'first'), link(Math.max(0, Math.floor((total - 1) / limit) * limit), 'last')];
    if (offset + limit < total) links.push(link(offset + limit, 'next'));
    if (offset > 0) links.push(link(Math.max(0, offset - limit), 'prev'));
    return {
      status: 200,
      headers: { 'X-Total-Count': String(total), Link: links.join(', ') },
      body: { [key]: picked },
    };
  }
}

function pickFields(item: Json, fields: string | null): { value: Json } | { error: string } {
  if (!fields) return { value: item };
  const names = fields
    .split(',')
    .map((f) => f.trim())
    .filter(Boolean);
  const unknown = names.filter((n) => !(n in item));
  if (unknown.length > 0) return { error: `unknown field(s): ${unknown.join(', ')}` };
  return { value: Object.fromEntries(names.map((n) => [n, item[n]])) };
}

/** The basic filter syntax: field op 'value', at most two predicates joined by AND or OR. */
export function parseFilter(
  text: string,
): { test: (r: Json) => boolean; fields: string[] } | { error: string } {
  const predicate = /^\s*([A-Za-z.]+)\s*(!=|>=|<=|=|>|<|~)\s*'([^']*)'\s*$/;
  const parts = text.split(/\s+(AND|OR)\s+/);
  if (parts.length !== 1 && parts.length !== 3) return { error: 'a filter has one or two predicates' };
  const tests: ((r: Json) => boolean)[] = [];
  const fields: string[] = [];
  for (const p of [parts[0]!, parts[2]].filter((x): x is string => x !== undefined)) {
    const m = predicate.exec(p);
    if (!m) return { error: `cannot read the filter predicate "${p.trim()}"` };
    const [, field, op, value] = m as unknown as [string, string, string, string];
    fields.push(field.split('.')[0]!);
    tests.push((r) => {
      const raw = field
        .split('.')
        .reduce<unknown>((o, k) => (o && typeof o === 'object' ? (o as Json)[k] : undefined), r);
      const v = Array.isArray(raw)
        ? raw.map((x) => (typeof x === 'object' && x ? (x as Json).sourcedId : x)).join(',')
        : raw && typeof raw === 'object'
          ? String((raw as Json).sourcedId ?? '')
          : String(raw ?? '');
      switch (op) {
        case '=':
          return v === value;
        case '!=':
          return v !== value;
        case '>':
          return v > value;
        case '>=':
          return v >= value;
        case '<':
          return v < value;
        case '<=':
          return v <= value;
        default:
          return v.includes(value);
      }
    });
  }
  const join = parts[1];
  return { fields, test: (r) => (join === 'OR' ? tests.some((t) => t(r)) : tests.every((t) => t(r))) };
}
