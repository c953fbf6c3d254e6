/**
 * Processing a two-file batch against the portal's roster: each users row is applied on its own;
 * a row with a problem is reported in the errors file and the others still apply. The store's
 * roster is worked on in OneRoster 1.1 form (users carry role and orgs) and converted back.
 */
import Papa from 'papaparse';
import { Diagnostics } from '../diagnostic.js';
import {
  BATCH_CLASS_FIELDS,
  BATCH_DEMOGRAPHICS_COLUMNS,
  BATCH_USER_FIELDS,
  BATCH_USERS_COLUMNS,
  type BatchDemographicsRow,
  type BatchUserRow,
  batchCsv,
  checkBatchHeader,
  classCells,
  fieldsOfCells,
  userCells,
} from '../formats/batch/batch.js';
import { checkRecordFields } from '../formats/field-rules.js';
import { convertVersion } from '../model/convert-version.js';
import { derivedEnrollmentId } from '../model/derived-ids.js';
import { ENTITY_NAMES, type EntityName } from '../model/entities.js';
import { fingerprintRecord } from '../model/fingerprint.js';
import { normalizeRecord, splitList } from '../model/normalize.js';
import { type Roster, RosterBuilder } from '../model/roster.js';
import type { EntitySyncCounts } from './process.js';
import { spreadsheetSafe, withoutPersonalValues } from './process.js';

export interface BatchRowError {
  readonly file: 'users.csv' | 'demographics.csv';
  readonly line: number;
  readonly message: string;
  readonly row: Record<string, string>;
}

export interface BatchResult {
  /** `failed`: the upload as a whole was refused (a header); nothing changed. */
  readonly outcome: 'applied' | 'failed';
  readonly next: Roster | undefined;
  readonly counts: Partial<Record<EntityName, EntitySyncCounts>>;
  readonly errors: readonly BatchRowError[];
  readonly problems: readonly string[];
}

function parseCsv(text: string): string[][] {
  const result = Papa.parse<string[]>(text.replace(/^\ufeff/, ''), { delimiter: ',', skipEmptyLines: true });
  return result.data;
}

type Tables = Map<EntityName, Map<string, Record<string, string>>>;

export function processBatch(
  current: Roster | undefined,
  usersText: string,
  demographicsText: string | undefined,
): BatchResult {
  const users = parseCsv(usersText);
  const demographics = demographicsText === undefined ? undefined : parseCsv(demographicsText);
  const problems = [
    ...(users.length === 0
      ? ['users.csv is empty']
      : checkBatchHeader(users[0]!, BATCH_USERS_COLUMNS, 'users.csv')),
    ...(demographics === undefined
      ? []
      : demographics.length === 0
        ? ['demographics.csv is empty']
        : checkBatchHeader(demographics[0]!, BATCH_DEMOGRAPHICS_COLUMNS, 'demographics.csv')),
  ];
  if (problems.length > 0) return { outcome: 'failed', next: current, counts: {}, errors: [], problems };

  const version = current?.version ?? '1.1';
  const base = current ? convertVersion(current, '1.1').roster : undefined;
  const tables: Tables = new Map(ENTITY_NAMES.map((e) => [e, new Map()]));
  const before = new Map<EntityName, Map<string, string>>();
  for (const e of ENTITY_NAMES) {
    const fps = new Map<string, string>();
    for (const r of base?.table(e) ?? []) {
      // Dates are the store's to stamp after the batch (stampModified); rows are checked as bulk.
      tables.get(e)!.set(r.sourcedId!, { ...r, status: '', dateLastModified: '' });
      fps.set(r.sourcedId!, fingerprintRecord(r));
    }
    before.set(e, fps);
  }
  const errors: BatchRowError[] = [];
  const rowsOf = <T>(rows: string[][], columns: readonly string[]) =>
    rows.slice(1).map((cells, i) => ({
      line: i + 2,
      row: Object.fromEntries(columns.map((c, k) => [c, (cells[k] ?? '').trim()])) as T,
    }));
  for (const { line, row } of rowsOf<BatchUserRow>(users, BATCH_USERS_COLUMNS)) {
    const error = applyUserRow(tables, row);
    if (error) errors.push({ file: 'users.csv', line, message: error, row });
  }
  for (const { line, row } of rowsOf<BatchDemographicsRow>(demographics ?? [], BATCH_DEMOGRAPHICS_COLUMNS)) {
    const error = applyDemographicsRow(tables, row);
    if (error) errors.push({ file: 'demographics.csv', line, message: error, row });
  }

  const builder = new RosterBuilder('1.1');
  if (current) builder.source = current.source;
  const counts: Partial<Record<EntityName, EntitySyncCounts>> = {};
  for (const e of ENTITY_NAMES) {
    const c: EntitySyncCounts = { created: 0, updated: 0, unchanged: 0, removed: 0, rejected: 0 };
    const old = before.get(e)!;
    for (const [id, record] of tables.get(e)!) {
      builder.addNormalized(e, record);
      const fp = old.get(id);
      if (fp === undefined) c.created++;
      else if (fp === fingerprintRecord(record)) c.unchanged++;
      else c.updated++;
    }
    for (const id of old.keys()) if (!tables.get(e)!.has(id)) c.removed++;
    if (c.created + c.updated + c.unchanged + c.removed > 0) counts[e] = c;
  }
  const built = builder.build();
  return {
    outcome: 'applied',
    next: version === '1.2' ? convertVersion(built, '1.2').roster : built,
    counts,
    errors,
    problems: [],
  };
}

const USER_ROLES = ['student', 'teacher', 'administrator', 'aide'];

/** Checks a record with the project's field rules; returns the first error message. */
function fieldError(entity: EntityName, record: Record<string, string>): string | undefined {
  const d = new Diagnostics();
  checkRecordFields(
    record,
    { entity, version: '1.1', mode: 'bulk', file: `${entity}.csv`, position: () => ({}) },
    d,
  );
  const error = d.list.find((x) => x.severity === 'error');
  return error ? withoutPersonalValues(error) : undefined;
}

function applyUserRow(t: Tables, row: BatchUserRow): string | undefined {
  const users = t.get('users')!;
  const classes = t.get('classes')!;
  const enrollments = t.get('enrollments')!;
  const action = row.action.toUpperCase();
  if (action === 'REMOVE-CLASS') {
    if (!row.class_sis_id) return 'class_sis_id is required for REMOVE-CLASS';
    if (!classes.has(row.class_sis_id)) return `class "${row.class_sis_id}" does not exist`;
    for (const [id, e] of enrollments) if (e.classSourcedId === row.class_sis_id) enrollments.delete(id);
    return undefined;
  }
  if (!row.user_sis_id) return 'user_sis_id is required';
  if (action === 'DROP') {
    if (!row.class_sis_id) return 'class_sis_id is required for DROP';
    let dropped = 0;
    for (const [id, e] of enrollments) {
      if (e.classSourcedId === row.class_sis_id && e.userSourcedId === row.user_sis_id) {
        enrollments.delete(id);
        dropped++;
      }
    }
    return dropped === 0
      ? `user "${row.user_sis_id}" is not enrolled in class "${row.class_sis_id}"`
      : undefined;
  }
  if (action === 'REMOVE-USER') {
    if (!users.delete(row.user_sis_id)) return `user "${row.user_sis_id}" does not exist`;
    for (const [id, e] of enrollments) if (e.userSourcedId === row.user_sis_id) enrollments.delete(id);
    t.get('demographics')!.delete(row.user_sis_id);
    return undefined;
  }
  if (action !== 'ADD') return `action "${row.action}" is not one of: ADD, DROP, REMOVE-CLASS, REMOVE-USER`;

  const org = t.get('orgs')!.get(row.org_sis_id);
  if (!row.org_sis_id) return 'org_sis_id is required for ADD';
  if (!org) return `org_sis_id "${row.org_sis_id}" is not an org of the portal`;
  if (!USER_ROLES.includes(row.role)) return `role "${row.role}" is not one of: ${USER_ROLES.join(', ')}`;
  const prior = users.get(row.user_sis_id);
  // An empty cell keeps what the portal has (an ADD row updates the person).
  const user = normalizeRecord('users', {
    ...(prior ?? {}),
    ...updatedBy(BATCH_USER_FIELDS, row, prior),
    enabledUser: 'true',
    orgSourcedIds: [...new Set([...splitList(prior?.orgSourcedIds ?? ''), row.org_sis_id])].join(','),
  });
  const userError = fieldError('users', user);
  if (userError) return userError;
  let klass: Record<string, string> | undefined;
  let course: Record<string, string> | undefined;
  if (row.class_sis_id) {
    const priorClass = classes.get(row.class_sis_id);
    const term =
      row.term_sis_id ||
      priorClass?.termSourcedIds ||
      [...t.get('academicSessions')!.values()].find(
        (s) => s.type === 'schoolYear' || s.type === 'term' || s.type === 'semester',
      )?.sourcedId;
    if (!term) return 'term_sis_id is required: the portal has no terms yet';
    if (!t.get('academicSessions')!.has(splitList(term)[0]!))
      return `term_sis_id "${term}" is not a session of the portal`;
    const courseId = row.course_sis_id || priorClass?.courseSourcedId || `crs-${row.class_sis_id}`;
    if (!t.get('courses')!.has(courseId)) {
      course = normalizeRecord('courses', {
        sourcedId: courseId,
        title: row.className || courseId,
        orgSourcedId: row.org_sis_id,
        grades: row.classGrade,
      });
    }
    klass = normalizeRecord('classes', {
      ...(priorClass ?? {}),
      ...updatedBy(BATCH_CLASS_FIELDS, row, priorClass),
      courseSourcedId: courseId,
      classType: priorClass?.classType || 'scheduled',
      schoolSourcedId: priorClass?.schoolSourcedId || row.org_sis_id,
      termSourcedIds: term,
    });
    const classError = fieldError('classes', klass);
    if (classError) return classError;
  }
  users.set(user.sourcedId!, user);
  if (course) t.get('courses')!.set(course.sourcedId!, course);
  if (klass) {
    classes.set(klass.sourcedId!, klass);
    const role = row.role === 'student' ? 'student' : row.role === 'teacher' ? 'teacher' : 'administrator';
    const id = derivedEnrollmentId(klass.sourcedId!, user.sourcedId!, role);
    enrollments.set(
      id,
      normalizeRecord('enrollments', {
        sourcedId: id,
        classSourcedId: klass.sourcedId!,
        schoolSourcedId: klass.schoolSourcedId!,
        userSourcedId: user.sourcedId!,
        role,
        primary: role === 'teacher' ? row.primary_teacher.toLowerCase() : '',
      }),
    );
  }
  return undefined;
}

function applyDemographicsRow(t: Tables, row: BatchDemographicsRow): string | undefined {
  if (!row.user_sis_id) return 'user_sis_id is required';
  if (!t.get('users')!.has(row.user_sis_id)) return `user "${row.user_sis_id}" does not exist`;
  const { user_sis_id, ...fields } = row;
  const record = normalizeRecord('demographics', { sourcedId: user_sis_id, ...fields });
  const error = fieldError('demographics', record);
  if (error) return error;
  t.get('demographics')!.set(user_sis_id, record);
  return undefined;
}

/** The portal's data as the two batch files (every enrollment as an ADD row). */
export function exportBatch(roster: Roster | undefined): { users: string; demographics: string } {
  const r = roster ? convertVersion(roster, '1.1').roster : new RosterBuilder('1.1').build();
  const classes = new Map([...r.table('classes')].map((c) => [c.sourcedId!, c]));
  const users = new Map([...r.table('users')].map((u) => [u.sourcedId!, u]));
  const enrolled = new Set<string>();
  const rows: Record<string, string>[] = [];
  for (const e of [...r.table('enrollments')].sort((a, b) => (a.sourcedId! < b.sourcedId! ? -1 : 1))) {
    const u = users.get(e.userSourcedId!);
    const c = classes.get(e.classSourcedId!);
    if (!u || !c) continue;
    enrolled.add(u.sourcedId!);
    rows.push({ action: 'ADD', ...userCells(u, c.schoolSourcedId!), ...classCells(c, e) });
  }
  for (const u of [...users.values()].sort((a, b) => (a.sourcedId! < b.sourcedId! ? -1 : 1))) {
    if (!enrolled.has(u.sourcedId!))
      rows.push({ action: 'ADD', ...userCells(u, splitList(u.orgSourcedIds ?? '')[0] ?? '') });
  }
  const demo = [...r.table('demographics')].map((d) => ({ ...d, user_sis_id: d.sourcedId! }));
  return {
    users: batchCsv(BATCH_USERS_COLUMNS, rows),
    demographics: batchCsv(BATCH_DEMOGRAPHICS_COLUMNS, demo),
  };
}

/**
 * The errors file: each refused row by file, line, action and ids, with the reason; never the
 * row's names, e-mails or other personal data, and no cell a spreadsheet would run as a formula.
 */
export function batchErrorsCsv(errors: readonly BatchRowError[]): string {
  return batchCsv(
    BATCH_ERRORS_COLUMNS,
    errors.map((e) =>
      Object.fromEntries(
        Object.entries({
          file: e.file,
          line: String(e.line),
          action: e.row.action ?? '',
          user_sis_id: e.row.user_sis_id ?? '',
          class_sis_id: e.row.class_sis_id ?? '',
          error: e.message,
        }).map(([k, v]) => [k, spreadsheetSafe(v)]),
      ),
    ),
  );
}

export const BATCH_ERRORS_COLUMNS = ['file', 'line', 'action', 'user_sis_id', 'class_sis_id', 'error'];

/** The fields a row's cells give (by `columns`), each empty cell keeping the `prior` record's value. */
function updatedBy(
  columns: typeof BATCH_USER_FIELDS | typeof BATCH_CLASS_FIELDS,
  row: Readonly<Record<string, string>>,
  prior: Readonly<Record<string, string | undefined>> | undefined,
): Record<string, string> {
  const cells = fieldsOfCells(columns, row);
  for (const [field, value] of Object.entries(cells)) if (value === '') cells[field] = prior?.[field] ?? '';
  return cells;
}
