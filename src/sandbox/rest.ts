/**
 * The OneRoster REST read API of the portal, 1.1 (`/ims/oneroster/v1p1`) and 1.2
 * (`/ims/oneroster/rostering/v1p2`), shaped as the REST bindings and their JSON schemas say:
 *
 * - every collection, item and nested endpoint of the rostering service (ENDPOINTS below); a
 *   parent that does not exist is a 404, never an empty 200;
 * - GUIDRefs carry absolute `href`s (built from the request's origin or the configured publicUrl);
 *   an absent optional value is left out, never `null` or `""`;
 * - `dateLastModified` is each record's own (stamped by the store when the record last changed);
 * - limit/offset paging with X-Total-Count and Link headers, sort/orderBy, fields, and the filter
 *   syntax including dotted fields (`orgs.sourcedId`, `roles.role`); bad parameters are 400s;
 * - errors as each version shapes them (restError). Passwords are never served.
 */
import { convertVersion } from '../model/convert-version.js';
import { ENTITIES, type EntityName, type RosterVersion } from '../model/entities.js';
import { splitList } from '../model/normalize.js';
import type { RosterRecord } from '../model/record-table.js';
import type { Roster } from '../model/roster.js';

export const REST_BASES: Record<RosterVersion, string> = {
  '1.1': '/ims/oneroster/v1p1',
  '1.2': '/ims/oneroster/rostering/v1p2',
};

/** The 1.2 services the sandbox does not offer; their paths answer a JSON "unsupported". */
export const UNSUPPORTED_BASES = ['/ims/oneroster/gradebook/v1p2', '/ims/oneroster/resources/v1p2'];
/** 1.1 gradebook and resources collections (same base as rostering in 1.1). */
const UNSUPPORTED_11 = new Set(['lineItems', 'results', 'categories', 'resources', 'scoreScales']);

/** The most records one page holds; a larger `limit` is capped, as the binding allows. */
export const MAX_LIMIT = 10_000;

type Json = Record<string, unknown>;

export interface RestResponse {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: unknown;
}

/** The code minor values both versions know (1.1 adds invalid_sort_field). */
export type CodeMinor =
  | 'invalid_filter_field'
  | 'invalid_selection_field'
  | 'invalid_sort_field'
  | 'invaliddata'
  | 'unauthorisedrequest'
  | 'forbidden'
  | 'server_busy'
  | 'unknownobject'
  | 'internal_server_error';

/**
 * An error answer in the version's shape. 1.2: one `imsx_StatusInfo` whose `imsx_CodeMinor` is an
 * object of code minor fields (the 1.2 JSON schema). 1.1: a `statusInfoSet` array of status infos
 * with a flat `imsx_codeMinor` (the 1.1 binding's error payload, ready for several errors).
 * `codeMinor` undefined: no code minor (e.g. a service the sandbox does not support).
 */
export function restError(
  version: RosterVersion,
  status: number,
  codeMinor: CodeMinor | undefined,
  description: string,
  options: { codeMajor?: 'failure' | 'unsupported'; field?: string; headers?: Record<string, string> } = {},
): RestResponse {
  const codeMajor = options.codeMajor ?? 'failure';
  if (version === '1.1')
    return {
      status,
      headers: options.headers ?? {},
      body: {
        statusInfoSet: [
          {
            imsx_codeMajor: codeMajor,
            imsx_severity: 'error',
            imsx_description: description,
            ...(codeMinor ? { imsx_codeMinor: codeMinor } : {}),
          },
        ],
      },
    };
  // 1.2 has no invalid_sort_field: a bad sort is an invalid selection.
  const minor = codeMinor === 'invalid_sort_field' ? 'invalid_selection_field' : codeMinor;
  return {
    status,
    headers: options.headers ?? {},
    body: {
      imsx_codeMajor: codeMajor,
      imsx_severity: 'error',
      imsx_description: description,
      ...(minor
        ? {
            imsx_CodeMinor: {
              imsx_codeMinorField: [
                {
                  imsx_codeMinorFieldName: options.field ?? 'TargetEndSystem',
                  imsx_codeMinorFieldValue: minor,
                },
              ],
            },
          }
        : {}),
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Shapes: which fields each REST object has, so that fields, sort and filter names are checked
// against the binding and not against whatever the first record happens to carry.

type Kind = 'scalar' | 'list' | 'ref' | 'refs' | 'metadata' | { readonly objects: Shape };
type Shape = Readonly<Record<string, Kind>>;

const LIFECYCLE: Shape = {
  sourcedId: 'scalar',
  status: 'scalar',
  dateLastModified: 'scalar',
  metadata: 'metadata',
};
const DEMOGRAPHICS: Shape = {
  ...LIFECYCLE,
  birthDate: 'scalar',
  sex: 'scalar',
  americanIndianOrAlaskaNative: 'scalar',
  asian: 'scalar',
  blackOrAfricanAmerican: 'scalar',
  nativeHawaiianOrOtherPacificIslander: 'scalar',
  white: 'scalar',
  demographicRaceTwoOrMoreRaces: 'scalar',
  hispanicOrLatinoEthnicity: 'scalar',
  countryOfBirthCode: 'scalar',
  stateOfBirthAbbreviation: 'scalar',
  cityOfBirth: 'scalar',
  publicSchoolResidenceStatus: 'scalar',
};
const USER_COMMON: Shape = {
  ...LIFECYCLE,
  username: 'scalar',
  userIds: { objects: { type: 'scalar', identifier: 'scalar' } },
  enabledUser: 'scalar',
  givenName: 'scalar',
  familyName: 'scalar',
  middleName: 'scalar',
  identifier: 'scalar',
  email: 'scalar',
  sms: 'scalar',
  phone: 'scalar',
  agents: 'refs',
  grades: 'list',
};

const SHAPES: Record<RosterVersion, Record<string, Shape>> = {
  '1.1': {},
  '1.2': {},
};
for (const version of ['1.1', '1.2'] as const) {
  SHAPES[version] = {
    orgs: {
      ...LIFECYCLE,
      name: 'scalar',
      type: 'scalar',
      identifier: 'scalar',
      parent: 'ref',
      children: 'refs',
    },
    academicSessions: {
      ...LIFECYCLE,
      title: 'scalar',
      startDate: 'scalar',
      endDate: 'scalar',
      type: 'scalar',
      parent: 'ref',
      children: 'refs',
      schoolYear: 'scalar',
    },
    courses: {
      ...LIFECYCLE,
      title: 'scalar',
      schoolYear: 'ref',
      courseCode: 'scalar',
      grades: 'list',
      subjects: 'list',
      org: 'ref',
      subjectCodes: 'list',
    },
    classes: {
      ...LIFECYCLE,
      title: 'scalar',
      classCode: 'scalar',
      classType: 'scalar',
      location: 'scalar',
      grades: 'list',
      subjects: 'list',
      course: 'ref',
      school: 'ref',
      terms: 'refs',
      subjectCodes: 'list',
      periods: 'list',
    },
    users:
      version === '1.1'
        ? { ...USER_COMMON, role: 'scalar', orgs: 'refs' }
        : {
            ...USER_COMMON,
            userMasterIdentifier: 'scalar',
            preferredFirstName: 'scalar',
            preferredMiddleName: 'scalar',
            preferredLastName: 'scalar',
            pronouns: 'scalar',
            roles: {
              objects: {
                roleType: 'scalar',
                role: 'scalar',
                org: 'ref',
                userProfile: 'scalar',
                beginDate: 'scalar',
                endDate: 'scalar',
              },
            },
            userProfiles: {
              objects: {
                profileId: 'scalar',
                profileType: 'scalar',
                vendorId: 'scalar',
                applicationId: 'scalar',
                description: 'scalar',
                credentials: { objects: { type: 'scalar', username: 'scalar' } },
              },
            },
            primaryOrg: 'ref',
          },
    enrollments: {
      ...LIFECYCLE,
      user: 'ref',
      class: 'ref',
      school: 'ref',
      role: 'scalar',
      primary: 'scalar',
      beginDate: 'scalar',
      endDate: 'scalar',
    },
    demographics: DEMOGRAPHICS,
  };
}
const REF_FIELDS: Shape = { href: 'scalar', sourcedId: 'scalar', type: 'scalar' };

/** Checks a dotted field name (`roles.org.sourcedId`) against a shape; returns the problem. */
function checkPath(shape: Shape, path: string): string | undefined {
  let current: Shape | undefined = shape;
  const parts = path.split('.');
  for (let i = 0; i < parts.length; i++) {
    const kind: Kind | undefined = current?.[parts[i]!];
    if (kind === undefined || current === undefined)
      return `there is no field ${parts.slice(0, i + 1).join('.')}`;
    if (i === parts.length - 1) return undefined;
    if (kind === 'ref' || kind === 'refs') current = REF_FIELDS;
    else if (kind === 'metadata')
      return undefined; // proprietary extensions: any name below
    else if (typeof kind === 'object') current = kind.objects;
    else return `${parts.slice(0, i + 1).join('.')} has no fields`;
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Endpoints.

interface Collection {
  readonly entity: EntityName;
  /** Singular name of an item response ({"user": {...}}). */
  readonly single: string;
  readonly where?: (r: Json) => boolean;
}

const hasRole = (r: Json, role: string) =>
  r.role === role || (r.roles as Json[] | undefined)?.some((x) => x.role === role) === true;

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
  students: { entity: 'users', single: 'user', where: (r) => hasRole(r, 'student') },
  teachers: { entity: 'users', single: 'user', where: (r) => hasRole(r, 'teacher') },
  enrollments: { entity: 'enrollments', single: 'enrollment' },
  demographics: { entity: 'demographics', single: 'demographics' },
};

const idOf = (x: unknown) => (x as { sourcedId?: string } | undefined)?.sourcedId;
const refIds = (x: unknown) => ((x as Json[] | undefined) ?? []).map(idOf);

/**
 * The nested endpoints: for `/{parent}/{id}/{sub}`, the entity served and which of its records
 * belong to the parent. `/schools/{id}/terms` are the terms the school's classes are held in
 * (sessions carry no org); `/schools/{id}/students|teachers` are the users with that role in the
 * school (1.1 `orgs`, 1.2 `roles`).
 */
type Related = (view: RestView, parent: Json) => { entity: EntityName; items: Json[] };
const NESTED: Record<string, Record<string, Related>> = {
  schools: {
    classes: (v, s) => ({
      entity: 'classes',
      items: v.records('classes').filter((c) => idOf(c.school) === s.sourcedId),
    }),
    courses: (v, s) => ({
      entity: 'courses',
      items: v.records('courses').filter((c) => idOf(c.org) === s.sourcedId),
    }),
    enrollments: (v, s) => ({
      entity: 'enrollments',
      items: v.records('enrollments').filter((e) => idOf(e.school) === s.sourcedId),
    }),
    students: (v, s) => ({ entity: 'users', items: v.usersOf(s.sourcedId as string, 'student') }),
    teachers: (v, s) => ({ entity: 'users', items: v.usersOf(s.sourcedId as string, 'teacher') }),
    terms: (v, s) => {
      const ids = new Set(
        v
          .records('classes')
          .filter((c) => idOf(c.school) === s.sourcedId)
          .flatMap((c) => refIds(c.terms)),
      );
      return {
        entity: 'academicSessions',
        items: v
          .records('academicSessions')
          .filter((t) => ids.has(t.sourcedId as string) && COLLECTIONS.terms!.where!(t)),
      };
    },
  },
  classes: {
    students: (v, c) => ({ entity: 'users', items: v.enrolled(c.sourcedId as string, 'student') }),
    teachers: (v, c) => ({ entity: 'users', items: v.enrolled(c.sourcedId as string, 'teacher') }),
  },
  courses: {
    classes: (v, c) => ({
      entity: 'classes',
      items: v.records('classes').filter((k) => idOf(k.course) === c.sourcedId),
    }),
  },
  terms: {
    classes: (v, t) => ({
      entity: 'classes',
      items: v.records('classes').filter((k) => refIds(k.terms).includes(t.sourcedId as string)),
    }),
    gradingPeriods: (v, t) => ({
      entity: 'academicSessions',
      items: v
        .records('academicSessions')
        .filter((g) => g.type === 'gradingPeriod' && idOf(g.parent) === t.sourcedId),
    }),
  },
  users: { classes: (v, u) => ({ entity: 'classes', items: v.classesOf(u.sourcedId as string) }) },
  students: { classes: (v, u) => ({ entity: 'classes', items: v.classesOf(u.sourcedId as string) }) },
  teachers: { classes: (v, u) => ({ entity: 'classes', items: v.classesOf(u.sourcedId as string) }) },
};

/** `/schools/{sid}/classes/{cid}/{sub}`: the class's enrollments, students or teachers. */
const CLASS_IN_SCHOOL: Record<string, (v: RestView, klass: Json) => { entity: EntityName; items: Json[] }> = {
  enrollments: (v, c) => ({
    entity: 'enrollments',
    items: v.records('enrollments').filter((e) => idOf(e.class) === c.sourcedId),
  }),
  students: (v, c) => ({ entity: 'users', items: v.enrolled(c.sourcedId as string, 'student') }),
  teachers: (v, c) => ({ entity: 'users', items: v.enrolled(c.sourcedId as string, 'teacher') }),
};

/** A profile id is an AnyURI in 1.2; a sourcedId that is not one becomes a URN naming it. */
function profileUri(id: string): string {
  return /^[A-Za-z][A-Za-z0-9+.-]*:\S+$/.test(id)
    ? id
    : `urn:oneroster:userprofile:${encodeURIComponent(id)}`;
}

/** A view of the store in one version's JSON shape for one origin, built once per store state. */
export class RestView {
  private readonly byEntity = new Map<EntityName, Json[]>();
  private readonly byId = new Map<EntityName, Map<string, Json>>();

  /**
   * @param origin scheme, host and port that `href`s start with (e.g. `http://127.0.0.1:8080`)
   * @param fallbackDate `dateLastModified` of records the store has no date for (stores written
   *   before records were stamped)
   */
  constructor(
    roster: Roster | undefined,
    readonly version: RosterVersion,
    readonly origin: string,
    fallbackDate: string,
  ) {
    const r = roster ? convertVersion(roster, version).roster : undefined;
    const base = `${origin}${REST_BASES[version]}`;
    const ref = (type: string, collection: string, id: string) => ({
      href: `${base}/${collection}/${encodeURIComponent(id)}`,
      sourcedId: id,
      type,
    });
    const group = (rows: Iterable<RosterRecord>, key: string) => {
      const m = new Map<string, RosterRecord[]>();
      for (const x of rows) {
        const k = x[key];
        if (k) m.set(k, [...(m.get(k) ?? []), x]);
      }
      return m;
    };
    const orgChildren = group(r?.table('orgs') ?? [], 'parentSourcedId');
    const sessionChildren = group(r?.table('academicSessions') ?? [], 'parentSourcedId');
    const rolesByUser = group(version === '1.2' ? (r?.table('roles') ?? []) : [], 'userSourcedId');
    const profilesByUser = group(version === '1.2' ? (r?.table('userProfiles') ?? []) : [], 'userSourcedId');
    const profileIds = new Map<string, string>();
    for (const p of r?.table('userProfiles') ?? []) profileIds.set(p.sourcedId!, profileUri(p.sourcedId!));

    for (const entity of Object.keys(SHAPES[version]) as EntityName[]) {
      const list: Json[] = [];
      for (const rec of r?.table(entity) ?? []) {
        const o: Json = {
          sourcedId: rec.sourcedId,
          status: rec.status || 'active',
          dateLastModified: rec.dateLastModified || fallbackDate,
        };
        // Sets a value only when there is one: absent optional values are left out.
        const put = (key: string, value: unknown) => {
          if (value === undefined || value === '' || (Array.isArray(value) && value.length === 0)) return;
          o[key] = value;
        };
        const list_ = (v: string | undefined) => splitList(v ?? '');
        switch (entity) {
          case 'orgs':
            o.name = rec.name ?? '';
            o.type = rec.type ?? '';
            if (rec.identifier || version === '1.2') o.identifier = rec.identifier ?? ''; // required in 1.2
            put('parent', rec.parentSourcedId ? ref('org', 'orgs', rec.parentSourcedId) : undefined);
            put(
              'children',
              (orgChildren.get(rec.sourcedId!) ?? []).map((c) => ref('org', 'orgs', c.sourcedId!)),
            );
            break;
          case 'academicSessions':
            o.title = rec.title ?? '';
            o.startDate = rec.startDate ?? '';
            o.endDate = rec.endDate ?? '';
            o.type = rec.type ?? '';
            put(
              'parent',
              rec.parentSourcedId
                ? ref('academicSession', 'academicSessions', rec.parentSourcedId)
                : undefined,
            );
            put(
              'children',
              (sessionChildren.get(rec.sourcedId!) ?? []).map((c) =>
                ref('academicSession', 'academicSessions', c.sourcedId!),
              ),
            );
            o.schoolYear = rec.schoolYear ?? '';
            break;
          case 'courses':
            o.title = rec.title ?? '';
            put(
              'schoolYear',
              rec.schoolYearSourcedId
                ? ref('academicSession', 'academicSessions', rec.schoolYearSourcedId)
                : undefined,
            );
            if (rec.courseCode || version === '1.2') o.courseCode = rec.courseCode ?? ''; // required in 1.2
            put('grades', list_(rec.grades));
            put('subjects', list_(rec.subjects));
            put('org', rec.orgSourcedId ? ref('org', 'orgs', rec.orgSourcedId) : undefined);
            put('subjectCodes', list_(rec.subjectCodes));
            break;
          case 'classes':
            o.title = rec.title ?? '';
            put('classCode', rec.classCode);
            put('classType', rec.classType);
            put('location', rec.location);
            put('grades', list_(rec.grades));
            put('subjects', list_(rec.subjects));
            o.course = ref('course', 'courses', rec.courseSourcedId ?? '');
            o.school = ref('org', 'schools', rec.schoolSourcedId ?? '');
            o.terms = list_(rec.termSourcedIds).map((t) => ref('academicSession', 'terms', t));
            put('subjectCodes', list_(rec.subjectCodes));
            put('periods', list_(rec.periods));
            break;
          case 'users': {
            put('username', rec.username);
            put(
              'userIds',
              rec.userIds
                ? rec.userIds.split(/(?<=\}),/).map((x) => ({
                    type: x.slice(1, x.indexOf(':')),
                    identifier: x.slice(x.indexOf(':') + 1, -1),
                  }))
                : undefined,
            );
            o.enabledUser = rec.enabledUser || 'true';
            o.givenName = rec.givenName ?? '';
            o.familyName = rec.familyName ?? '';
            put('middleName', rec.middleName);
            // The fields both versions share, after each version's own.
            const common = () => {
              put('identifier', rec.identifier);
              put('email', rec.email);
              put('sms', rec.sms);
              put('phone', rec.phone);
              put(
                'agents',
                list_(rec.agentSourcedIds).map((a) => ref('user', 'users', a)),
              );
              put('grades', list_(rec.grades));
            };
            if (version === '1.1') {
              o.role = rec.role ?? '';
              o.orgs = list_(rec.orgSourcedIds).map((x) => ref('org', 'orgs', x));
              common();
              break;
            }
            put('userMasterIdentifier', rec.userMasterIdentifier);
            put('preferredFirstName', rec.preferredGivenName);
            put('preferredMiddleName', rec.preferredMiddleName);
            put('preferredLastName', rec.preferredFamilyName);
            put('pronouns', rec.pronouns);
            o.roles = (rolesByUser.get(rec.sourcedId!) ?? []).map((x) => {
              const role: Json = {
                roleType: x.roleType,
                role: x.role,
                org: ref('org', 'orgs', x.orgSourcedId!),
              };
              const profile = x.userProfileSourcedId ? profileIds.get(x.userProfileSourcedId) : undefined;
              if (profile) role.userProfile = profile;
              if (x.beginDate) role.beginDate = x.beginDate;
              if (x.endDate) role.endDate = x.endDate;
              return role;
            });
            put(
              'userProfiles',
              (profilesByUser.get(rec.sourcedId!) ?? []).map((p) => {
                const profile: Json = {
                  profileId: profileIds.get(p.sourcedId!),
                  profileType: p.profileType ?? '',
                  vendorId: p.vendorId ?? '',
                };
                if (p.applicationId) profile.applicationId = p.applicationId;
                if (p.description) profile.description = p.description;
                if (p.credentialType || p.username)
                  profile.credentials = [{ type: p.credentialType ?? '', username: p.username ?? '' }];
                return profile;
              }),
            );
            put(
              'primaryOrg',
              rec.primaryOrgSourcedId ? ref('org', 'orgs', rec.primaryOrgSourcedId) : undefined,
            );
            common();
            break;
          }
          case 'enrollments':
            o.user = ref('user', 'users', rec.userSourcedId ?? '');
            o.class = ref('class', 'classes', rec.classSourcedId ?? '');
            o.school = ref('org', 'schools', rec.schoolSourcedId ?? '');
            o.role = rec.role ?? '';
            put('primary', rec.primary);
            put('beginDate', rec.beginDate);
            put('endDate', rec.endDate);
            break;
          case 'demographics':
            for (const k of Object.keys(DEMOGRAPHICS)) if (!(k in LIFECYCLE)) put(k, rec[k]);
            break;
        }
        const metadata: Json = {};
        for (const [k, v] of Object.entries(rec))
          if (!ENTITIES[entity].fields[k] && v !== '') metadata[k.replace(/^metadata\./, '')] = v;
        if (Object.keys(metadata).length > 0) o.metadata = metadata;
        list.push(o);
      }
      list.sort((a, b) => (String(a.sourcedId) < String(b.sourcedId) ? -1 : 1));
      this.byEntity.set(entity, list);
      this.byId.set(entity, new Map(list.map((x) => [x.sourcedId as string, x])));
    }
  }

  records(entity: EntityName): Json[] {
    return this.byEntity.get(entity) ?? [];
  }

  /** Users enrolled in a class with a role. */
  enrolled(classId: string, role: string): Json[] {
    const ids = new Set(
      this.records('enrollments')
        .filter((e) => idOf(e.class) === classId && e.role === role)
        .map((e) => idOf(e.user)),
    );
    return this.records('users').filter((u) => ids.has(u.sourcedId as string));
  }

  /** Users of an org with a role (1.1: `role` and `orgs`; 1.2: a role in that org). */
  usersOf(orgId: string, role: string): Json[] {
    return this.records('users').filter((u) =>
      this.version === '1.1'
        ? u.role === role && refIds(u.orgs).includes(orgId)
        : ((u.roles as Json[] | undefined) ?? []).some((x) => x.role === role && idOf(x.org) === orgId),
    );
  }

  /** Classes a user is enrolled in. */
  classesOf(userId: string): Json[] {
    const ids = new Set(
      this.records('enrollments')
        .filter((e) => idOf(e.user) === userId)
        .map((e) => idOf(e.class)),
    );
    return this.records('classes').filter((c) => ids.has(c.sourcedId as string));
  }

  private item(name: string, id: string): Json | undefined {
    const collection = COLLECTIONS[name];
    if (!collection) return undefined;
    const item = this.byId.get(collection.entity)?.get(id);
    return item && (!collection.where || collection.where(item)) ? item : undefined;
  }

  /** Answers GET `path` (below the version's base) with `query`. */
  get(path: string, query: URLSearchParams): RestResponse {
    const parts = path
      .split('/')
      .filter(Boolean)
      .map((p) => {
        try {
          return decodeURIComponent(p);
        } catch {
          return p;
        }
      });
    const notFound = (what: string) =>
      restError(this.version, 404, 'unknownobject', what, { field: 'sourcedId' });
    const [name, id, sub, id2, sub2] = parts;
    if (this.version === '1.1' && parts.some((p) => UNSUPPORTED_11.has(p)))
      return restError(
        this.version,
        501,
        undefined,
        'the sandbox serves the rostering service only; gradebook and resources are not supported',
        { codeMajor: 'unsupported' },
      );
    const collection = name ? COLLECTIONS[name] : undefined;
    if (!collection) return notFound(`there is no endpoint ${path || '/'}`);
    if (id === undefined) {
      const items = this.records(collection.entity).filter((r) => !collection.where || collection.where(r));
      return this.page(collection.entity, items, query, path);
    }
    const parent = this.item(name!, id);
    if (sub === undefined) {
      if (!parent) return notFound(`${collection.single} ${id} does not exist`);
      const picked = this.pick(collection.entity, parent, query.get('fields'));
      if ('error' in picked) return picked.error;
      return { status: 200, headers: {}, body: { [collection.single]: picked.value } };
    }
    if (name === 'schools' && sub === 'classes' && id2 !== undefined) {
      const related = sub2 !== undefined && parts.length === 5 ? CLASS_IN_SCHOOL[sub2] : undefined;
      if (!related) return notFound(`there is no endpoint ${path}`);
      if (!parent) return notFound(`school ${id} does not exist`);
      const klass = this.item('classes', id2);
      if (!klass || idOf(klass.school) !== id) return notFound(`class ${id2} does not exist in school ${id}`);
      const { entity, items } = related(this, klass);
      return this.page(entity, items, query, path);
    }
    const related = parts.length === 3 ? NESTED[name!]?.[sub] : undefined;
    if (!related) return notFound(`there is no endpoint ${path}`);
    if (!parent) return notFound(`${collection.single} ${id} does not exist`);
    const { entity, items } = related(this, parent);
    return this.page(entity, items, query, path);
  }

  private pick(
    entity: EntityName,
    item: Json,
    fields: string | null,
  ): { value: Json } | { error: RestResponse } {
    if (fields === null) return { value: item };
    const names = fields
      .split(',')
      .map((f) => f.trim())
      .filter(Boolean);
    const shape = SHAPES[this.version][entity]!;
    const unknown = names.filter((n) => !(n in shape));
    if (unknown.length > 0 || names.length === 0)
      return {
        error: restError(
          this.version,
          400,
          'invalid_selection_field',
          names.length === 0 ? 'fields names no field' : `there is no field ${unknown.join(', ')}`,
          { field: 'fields' },
        ),
      };
    return { value: Object.fromEntries(names.filter((n) => n in item).map((n) => [n, item[n]])) };
  }

  private page(entity: EntityName, all: Json[], query: URLSearchParams, path: string): RestResponse {
    const shape = SHAPES[this.version][entity]!;
    const bad = (minor: CodeMinor, field: string, description: string) =>
      restError(this.version, 400, minor, description, { field });
    const whole = (name: string, fallback: number, min: number): number | RestResponse => {
      const raw = query.get(name);
      if (raw === null) return fallback;
      if (!/^\d+$/.test(raw) || Number(raw) < min)
        return bad('invaliddata', name, `${name} must be a whole number of at least ${min}, not "${raw}"`);
      return Number(raw);
    };
    const limitOrError = whole('limit', 100, 1);
    if (typeof limitOrError !== 'number') return limitOrError;
    const offset = whole('offset', 0, 0);
    if (typeof offset !== 'number') return offset;
    const limit = Math.min(limitOrError, MAX_LIMIT);
    const orderBy = query.get('orderBy');
    if (orderBy !== null && orderBy !== 'asc' && orderBy !== 'desc')
      return bad('invaliddata', 'orderBy', `orderBy is asc or desc, not "${orderBy}"`);

    let items = all;
    const filter = query.get('filter');
    if (filter !== null) {
      const f = parseFilter(filter);
      if ('error' in f) return bad('invalid_filter_field', 'filter', f.error);
      for (const field of f.fields) {
        const problem = checkPath(shape, field);
        if (problem) return bad('invalid_filter_field', 'filter', `cannot filter on ${field}: ${problem}`);
      }
      items = items.filter(f.test);
    }
    const sort = query.get('sort');
    if (sort !== null) {
      const problem = checkPath(shape, sort);
      if (problem || sort.includes('.'))
        return bad(
          'invalid_sort_field',
          'sort',
          `cannot sort on ${sort}: ${problem ?? 'sort names a top-level field'}`,
        );
      const desc = orderBy === 'desc';
      const key = (r: Json) => {
        const v = r[sort];
        return Array.isArray(v)
          ? v.map((x) => (typeof x === 'object' ? idOf(x) : x)).join(',')
          : typeof v === 'object'
            ? (idOf(v) ?? '')
            : String(v ?? '');
      };
      items = [...items].sort((a, b) => {
        const x = key(a);
        const y = key(b);
        return (x < y ? -1 : x > y ? 1 : 0) * (desc ? -1 : 1);
      });
    }
    const picked: Json[] = [];
    for (const item of items.slice(offset, offset + limit)) {
      const p = this.pick(entity, item, query.get('fields'));
      if ('error' in p) return p.error;
      picked.push(p.value);
    }
    const total = items.length;
    const link = (o: number, rel: string) => {
      const q = new URLSearchParams(query);
      q.set('limit', String(limit));
      q.set('offset', String(o));
      return `<${this.origin}${REST_BASES[this.version]}/${path.replace(/^\/+/, '')}?${q}>; rel="${rel}"`;
    };
    const links = [link(0, 'first'), link(Math.max(0, Math.floor((total - 1) / limit) * limit), 'last')];
    if (offset + limit < total) links.push(link(offset + limit, 'next'));
    if (offset > 0) links.push(link(Math.max(0, offset - limit), 'prev'));
    return {
      status: 200,
      headers: { 'X-Total-Count': String(total), Link: links.join(', ') },
      body: { [entity]: picked },
    };
  }
}

/** The values a dotted field names in a record, through references and lists. */
function valuesAt(record: Json, path: string): string[] {
  let current: unknown[] = [record];
  for (const key of path.split('.')) {
    const next: unknown[] = [];
    for (const c of current) {
      const v = c && typeof c === 'object' && !Array.isArray(c) ? (c as Json)[key] : undefined;
      if (Array.isArray(v)) next.push(...v);
      else if (v !== undefined) next.push(v);
    }
    current = next;
  }
  return current.map((v) => (v && typeof v === 'object' ? String((v as Json).sourcedId ?? '') : String(v)));
}

/**
 * The filter syntax: field op 'value', at most two predicates joined by AND or OR. A dotted field
 * looks into references and lists (`orgs.sourcedId='s1'` holds when any org is s1; `!=` when none
 * is); a reference or list without a dot compares its sourcedIds; an absent value is ''.
 */
export function parseFilter(
  text: string,
): { test: (r: Json) => boolean; fields: string[] } | { error: string } {
  const predicate = /^\s*([A-Za-z_][A-Za-z0-9_.]*)\s*(!=|>=|<=|=|>|<|~)\s*'([^']*)'\s*$/;
  const parts = text.split(/\s+(AND|OR)\s+/);
  if (parts.length !== 1 && parts.length !== 3) return { error: 'a filter has one or two predicates' };
  const tests: ((r: Json) => boolean)[] = [];
  const fields: string[] = [];
  for (const p of [parts[0]!, parts[2]].filter((x): x is string => x !== undefined)) {
    const m = predicate.exec(p);
    if (!m) return { error: `cannot read the filter predicate "${p.trim()}" (write field='value')` };
    const [, field, op, value] = m as unknown as [string, string, string, string];
    fields.push(field);
    const holds = (v: string): boolean => {
      switch (op) {
        case '=':
          return v === value;
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
    };
    tests.push((r) => {
      const found = valuesAt(r, field);
      const values = found.length > 0 ? found : [''];
      return op === '!=' ? values.every((v) => v !== value) : values.some(holds);
    });
  }
  const join = parts[1];
  return { fields, test: (r) => (join === 'OR' ? tests.some((t) => t(r)) : tests.every((t) => t(r))) };
}
