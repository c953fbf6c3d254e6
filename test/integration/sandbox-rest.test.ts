/**
 * Conformance of the sandbox's OneRoster REST API: every endpoint of both versions, answers and
 * errors, checked with ajv against the schemas in test/fixtures/oneroster-rest-schemas (1.2: the
 * official 1EdTech schemas), over a realistic roster delivered through the landing zone.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ajv, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeOneRosterZip } from '../../src/formats/oneroster-csv/write.js';
import { generateDistrict } from '../../src/generate/generate.js';
import type { EntityName } from '../../src/model/entities.js';
import { type Roster, RosterBuilder } from '../../src/model/roster.js';
import { PortalStore } from '../../src/sandbox/store.js';
import { writeTree } from '../helpers/fixtures.js';
import { type TestSandbox, testSandbox } from '../helpers/sandbox.js';

const SCHEMAS = 'test/fixtures/oneroster-rest-schemas';
const ajv = new Ajv({ allErrors: true, strict: false });
addFormats.default(ajv);
ajv.addSchema(JSON.parse(readFileSync(`${SCHEMAS}/oneroster-v1p2-rostering.schemas.json`, 'utf8')), 'v1p2');
ajv.addSchema(JSON.parse(readFileSync(`${SCHEMAS}/oneroster-v1p1-rostering.schema.json`, 'utf8')), 'v1p1');

const V12: Record<string, string> = {
  orgs: 'OrgSetDType',
  academicSessions: 'AcademicSessionSetDType',
  courses: 'CourseSetDType',
  classes: 'ClassSetDType',
  users: 'UserSetDType',
  enrollments: 'EnrollmentSetDType',
  demographics: 'DemographicsSetDType',
  org: 'SingleOrgDType',
  academicSession: 'SingleAcademicSessionDType',
  course: 'SingleCourseDType',
  class: 'SingleClassDType',
  user: 'SingleUserDType',
  enrollment: 'SingleEnrollmentDType',
  singleDemographics: 'SingleDemographicsDType',
  error: 'imsx_StatusInfoDType',
};
const V11: Record<string, string> = {
  orgs: 'OrgSet',
  academicSessions: 'AcademicSessionSet',
  courses: 'CourseSet',
  classes: 'ClassSet',
  users: 'UserSet',
  enrollments: 'EnrollmentSet',
  demographics: 'DemographicsSet',
  org: 'SingleOrg',
  academicSession: 'SingleAcademicSession',
  course: 'SingleCourse',
  class: 'SingleClass',
  user: 'SingleUser',
  enrollment: 'SingleEnrollment',
  singleDemographics: 'SingleDemographics',
  error: 'StatusInfoSet',
};
function validator(version: '1.1' | '1.2', key: string): ValidateFunction {
  const v =
    version === '1.2'
      ? ajv.getSchema(`v1p2#/components/schemas/${V12[key]}`)
      : ajv.getSchema(`v1p1#/definitions/${V11[key]}`);
  if (!v) throw new Error(`no schema for ${version} ${key}`);
  return v;
}
/** The single-object key of an answer ("demographics" is both). */
const SINGLE: Record<string, string> = {
  orgs: 'org',
  schools: 'org',
  academicSessions: 'academicSession',
  terms: 'academicSession',
  gradingPeriods: 'academicSession',
  courses: 'course',
  classes: 'class',
  users: 'user',
  students: 'user',
  teachers: 'user',
  enrollments: 'enrollment',
  demographics: 'demographics',
};

/** A generated district plus what the generator leaves out: a profile, a guardian, a grading period, an extension. */
function conformanceRoster(): Roster {
  const g = generateDistrict({ schools: 2, students: 40, seed: 'conformance', version: '1.2' });
  const student = g.table('users').get(g.table('users').size - 1);
  const b = new RosterBuilder('1.2');
  for (const e of g.entities())
    for (const r of g.table(e))
      b.addNormalized(
        e,
        e === 'roles' && r.userSourcedId === student.sourcedId
          ? { ...r, userProfileSourcedId: 'prof-1' }
          : { ...r },
      );
  const school = [...g.table('orgs')].find((o) => o.type === 'school')!.sourcedId!;
  const term = [...g.table('academicSessions')].find((s) => s.type === 'term' || s.type === 'semester')!;
  b.add('academicSessions', {
    sourcedId: 'gp-1',
    title: 'Quarter 1',
    type: 'gradingPeriod',
    startDate: term.startDate!,
    endDate: term.endDate!,
    parentSourcedId: term.sourcedId!,
    schoolYear: term.schoolYear!,
  });
  b.add('users', {
    sourcedId: 'grd-1',
    username: 'pat.guardian',
    enabledUser: 'true',
    givenName: 'Pat',
    familyName: 'Guardian',
    agentSourcedIds: student.sourcedId!,
  });
  b.add('roles', {
    sourcedId: 'rol-grd-1',
    userSourcedId: 'grd-1',
    roleType: 'primary',
    role: 'guardian',
    orgSourcedId: school,
  });
  b.add('userProfiles', {
    sourcedId: 'prof-1',
    userSourcedId: student.sourcedId!,
    profileType: 'reading app',
    vendorId: 'vendor-1',
    credentialType: 'password',
    username: 'reader1',
    password: 'never-served',
  });
  return b.build();
}

async function deliver(sb: TestSandbox, roster: Roster): Promise<void> {
  const zip = join(sb.dataDir, 'delivery.zip');
  await writeOneRosterZip(roster, zip);
  writeTree(new PortalStore(sb.dataDir).landingDir('district'), { 'OneRoster.zip': readFileSync(zip) });
  const [sync] = await sb.sync();
  expect(sync?.status, JSON.stringify(sync?.rejections.slice(0, 3))).toBe('succeeded');
  expect(sync?.rejections, JSON.stringify(sync?.rejections.slice(0, 3))).toEqual([]);
}

async function bearer(url: string): Promise<string> {
  const res = await request(`${url}/oauth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: 'grant_type=client_credentials&client_id=reader&client_secret=reader-secret-123',
  });
  return ((await res.body.json()) as { access_token: string }).access_token;
}

const BASES = { '1.1': '/ims/oneroster/v1p1', '1.2': '/ims/oneroster/rostering/v1p2' } as const;

describe('sandbox REST API: conformance with the OneRoster JSON schemas', () => {
  let sb: TestSandbox;
  let token: string;
  let roster: Roster;
  const get = async (path: string, init: { method?: 'GET' | 'POST'; auth?: boolean } = {}) => {
    const res = await request(`${sb.http.url}${path}`, {
      method: init.method ?? 'GET',
      headers: init.auth === false ? {} : { authorization: `Bearer ${token}` },
    });
    const text = await res.body.text();
    expect(String(res.headers['content-type']), `${path}: ${text.slice(0, 200)}`).toContain(
      'application/json',
    );
    return {
      status: res.statusCode,
      headers: res.headers,
      json: JSON.parse(text) as Record<string, unknown>,
    };
  };
  const expectValid = (version: '1.1' | '1.2', key: string, body: unknown, where: string) => {
    const v = validator(version, key);
    expect(v(body), `${version} ${where}: ${JSON.stringify(v.errors?.slice(0, 3))}`).toBe(true);
  };

  const dataDir = mkdtempSync(join(tmpdir(), 'roster-rest-'));
  afterAll(async () => {
    await sb?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });
  beforeAll(async () => {
    sb = await testSandbox({ dataDir, suite: true });
    token = await bearer(sb.http.url);
    roster = conformanceRoster();
    await deliver(sb, roster);
  });

  for (const version of ['1.1', '1.2'] as const) {
    it(`${version}: every collection, item and nested endpoint validates`, async () => {
      const base = BASES[version];
      const first: Record<string, string> = {};
      for (const name of Object.keys(SINGLE)) {
        const r = await get(`${base}/${name}?limit=10000`);
        expect(r.status, name).toBe(200);
        const key = Object.keys(r.json)[0]!;
        expectValid(version, key, r.json, name);
        const items = r.json[key] as { sourcedId: string }[];
        expect(items.length, `${version} ${name} is empty`).toBeGreaterThan(0);
        expect(Number(r.headers['x-total-count'])).toBe(items.length);
        first[name] = items[0]!.sourcedId;
        const one = await get(`${base}/${name}/${encodeURIComponent(first[name]!)}`);
        expect(one.status).toBe(200);
        expectValid(
          version,
          SINGLE[name] === 'demographics' ? 'singleDemographics' : SINGLE[name]!,
          one.json,
          `${name}/{id}`,
        );
      }
      const klass = roster.table('classes').get(0);
      const nested = [
        `schools/${first.schools}/classes`,
        `schools/${first.schools}/courses`,
        `schools/${first.schools}/enrollments`,
        `schools/${first.schools}/students`,
        `schools/${first.schools}/teachers`,
        `schools/${first.schools}/terms`,
        `schools/${klass.schoolSourcedId}/classes/${klass.sourcedId}/enrollments`,
        `schools/${klass.schoolSourcedId}/classes/${klass.sourcedId}/students`,
        `schools/${klass.schoolSourcedId}/classes/${klass.sourcedId}/teachers`,
        `classes/${klass.sourcedId}/students`,
        `classes/${klass.sourcedId}/teachers`,
        `courses/${klass.courseSourcedId}/classes`,
        `terms/${first.terms}/classes`,
        `terms/${roster.table('academicSessions').get(roster.table('academicSessions').size - 1).parentSourcedId}/gradingPeriods`,
        `students/${first.students}/classes`,
        `teachers/${first.teachers}/classes`,
        `users/${first.students}/classes`,
      ];
      for (const path of nested) {
        const r = await get(`${base}/${path}`);
        expect(r.status, path).toBe(200);
        const key = Object.keys(r.json)[0]!;
        expectValid(version, key, r.json, path);
        expect((r.json[key] as unknown[]).length, `${version} ${path} is empty`).toBeGreaterThan(0);
      }
    });

    it(`${version}: errors are shaped as the binding says, and bad parameters are refused`, async () => {
      const base = BASES[version];
      const cases: [string, number, 'GET' | 'POST', boolean][] = [
        [`${base}/users/nobody`, 404, 'GET', true],
        [`${base}/classes/nope/students`, 404, 'GET', true],
        [`${base}/schools/nope/classes/nope/students`, 404, 'GET', true],
        [`${base}/widgets`, 404, 'GET', true],
        [`${base}/users?limit=-1`, 400, 'GET', true],
        [`${base}/users?limit=0`, 400, 'GET', true],
        [`${base}/users?limit=abc`, 400, 'GET', true],
        [`${base}/users?offset=x`, 400, 'GET', true],
        [`${base}/users?orderBy=sideways`, 400, 'GET', true],
        [`${base}/users?sort=shoeSize`, 400, 'GET', true],
        [`${base}/users?fields=shoeSize`, 400, 'GET', true],
        [`${base}/users?filter=${encodeURIComponent("shoeSize='9'")}`, 400, 'GET', true],
        [`${base}/users?filter=${encodeURIComponent("orgs.colour='red'")}`, 400, 'GET', true],
        [`${base}/users?filter=nonsense`, 400, 'GET', true],
        [`${base}/users`, 401, 'GET', false],
        [`${base}/users`, 405, 'POST', true],
      ];
      for (const [path, status, method, auth] of cases) {
        const r = await get(path, { method, auth });
        expect(r.status, path).toBe(status);
        expectValid(version, 'error', r.json, `${method} ${path}`);
      }
      const gradebook = version === '1.2' ? '/ims/oneroster/gradebook/v1p2/lineItems' : `${base}/lineItems`;
      const r = await get(gradebook);
      expect(r.status).toBe(501);
      expectValid(version, 'error', r.json, gradebook);
    });
  }

  it('serves absolute hrefs, leaves absent values out, and never serves a password', async () => {
    const r = await get(`${BASES['1.2']}/users?limit=10000`);
    const text = JSON.stringify(r.json);
    expect(text).not.toContain('null');
    expect(text).not.toMatch(/:""/);
    expect(text).not.toContain('never-served');
    const hrefs = [...text.matchAll(/"href":"([^"]+)"/g)].map((m) => m[1]!);
    expect(hrefs.length).toBeGreaterThan(0);
    for (const h of hrefs) expect(h.startsWith(`${sb.http.url}/ims/oneroster/`), h).toBe(true);
    const users = r.json.users as Record<string, unknown>[];
    const withProfile = users.find((u) => u.userProfiles);
    expect(withProfile?.userProfiles).toEqual([
      expect.objectContaining({
        profileType: 'reading app',
        vendorId: 'vendor-1',
        credentials: [{ type: 'password', username: 'reader1' }],
      }),
    ]);
    expect(users.find((u) => u.sourcedId === 'grd-1')).toMatchObject({
      roles: [{ role: 'guardian', roleType: 'primary' }],
      agents: [{ type: 'user' }],
    });
  });

  it('filters on dotted fields as the spec allows: roles.role, orgs.sourcedId, school.sourcedId', async () => {
    const school = roster.table('classes').get(0).schoolSourcedId!;
    const q = (f: string) => `filter=${encodeURIComponent(f)}&limit=10000`;
    const teachers12 = (await get(`${BASES['1.2']}/users?${q("roles.role='teacher'")}`)).json.users as {
      roles: { role: string }[];
    }[];
    expect(teachers12.length).toBeGreaterThan(0);
    for (const u of teachers12) expect(u.roles.some((x) => x.role === 'teacher')).toBe(true);
    const inSchool11 = (await get(`${BASES['1.1']}/users?${q(`orgs.sourcedId='${school}'`)}`)).json.users as {
      orgs: { sourcedId: string }[];
    }[];
    expect(inSchool11.length).toBeGreaterThan(0);
    for (const u of inSchool11) expect(u.orgs.map((o) => o.sourcedId)).toContain(school);
    const classes = (
      await get(`${BASES['1.2']}/classes?${q(`school.sourcedId='${school}' AND classType='homeroom'`)}`)
    ).json.classes as { school: { sourcedId: string }; classType: string }[];
    expect(classes.length).toBeGreaterThan(0);
    for (const c of classes) expect([c.school.sourcedId, c.classType]).toEqual([school, 'homeroom']);
  });

  it("keeps each record's dateLastModified: a later sync changes only what it changed", async () => {
    const before = (await get(`${BASES['1.2']}/users?limit=10000`)).json.users as {
      sourcedId: string;
      dateLastModified: string;
      givenName: string;
    }[];
    const changedId = before[0]!.sourcedId;
    await new Promise((r) => setTimeout(r, 20));
    const b = new RosterBuilder('1.2');
    for (const e of roster.entities() as EntityName[])
      for (const r of roster.table(e))
        b.addNormalized(
          e,
          e === 'users' && r.sourcedId === changedId ? { ...r, givenName: 'Renamed' } : { ...r },
        );
    roster = b.build();
    await deliver(sb, roster);
    const after = (await get(`${BASES['1.2']}/users?limit=10000`)).json.users as typeof before;
    const was = new Map(before.map((u) => [u.sourcedId, u.dateLastModified]));
    const moved = after.filter((u) => u.dateLastModified !== was.get(u.sourcedId)).map((u) => u.sourcedId);
    expect(moved).toEqual([changedId]);
    const since = before
      .map((u) => u.dateLastModified)
      .sort()
      .at(-1)!;
    const delta = (
      await get(`${BASES['1.2']}/users?filter=${encodeURIComponent(`dateLastModified>'${since}'`)}`)
    ).json.users as { sourcedId: string; givenName: string }[];
    expect(delta.map((u) => [u.sourcedId, u.givenName])).toEqual([[changedId, 'Renamed']]);
  });
});
