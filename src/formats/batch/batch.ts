/**
 * The two-file batch format (docs/batch-api.md): a users file that adds or updates staff,
 * students and classes, one row per person-and-class with an `action` column, and a demographics
 * file. Headers are exact (case-sensitive, in order, nothing extra): a wrong header fails the
 * whole upload, as vendor batch uploads do.
 */
import { ENTITIES } from '../../model/entities.js';
import { csvLine } from '../csv/write-csv.js';

export const BATCH_USERS_COLUMNS = [
  'action',
  'org_sis_id',
  'user_sis_id',
  'role',
  'username',
  'firstName',
  'lastName',
  'userEmail',
  'userGrade',
  'class_sis_id',
  'className',
  'classGrade',
  'course_sis_id',
  'term_sis_id',
  'primary_teacher',
] as const;

/** user_sis_id, then demographics.csv's birth date, sex and race/ethnicity columns. */
export const BATCH_DEMOGRAPHICS_COLUMNS: readonly string[] = [
  'user_sis_id',
  ...(ENTITIES.demographics.columns['1.1'] ?? []).slice(3, 12),
];

/**
 * ADD: add or update the person, and enrol them in the class when class_sis_id is given.
 * DROP: unenrol the person from the class. REMOVE-CLASS: unenrol everyone from the class (one row
 * per class is enough). REMOVE-USER: remove the person, their enrollments and demographics.
 */
export const BATCH_ACTIONS = ['ADD', 'DROP', 'REMOVE-CLASS', 'REMOVE-USER'] as const;
export type BatchAction = (typeof BATCH_ACTIONS)[number];

export type BatchUserRow = Record<(typeof BATCH_USERS_COLUMNS)[number], string>;
export type BatchDemographicsRow = Record<string, string> & { user_sis_id: string };

/** Problems with a header (empty when it is exactly right). */
export function checkBatchHeader(
  header: readonly string[],
  expected: readonly string[],
  file: string,
): string[] {
  const problems: string[] = [];
  for (const c of expected)
    if (!header.includes(c))
      problems.push(
        `${file}: missing column "${c}"${header.some((h) => h.toLowerCase() === c.toLowerCase()) ? ' (headers are case-sensitive)' : ''}`,
      );
  for (const h of header) if (!expected.includes(h)) problems.push(`${file}: unexpected column "${h}"`);
  if (problems.length === 0 && header.join(',') !== expected.join(','))
    problems.push(`${file}: columns must be in this order: ${expected.join(',')}`);
  return problems;
}

export function batchCsv(columns: readonly string[], rows: Iterable<Record<string, string>>): string {
  let out = csvLine(columns);
  for (const row of rows) out += csvLine(columns.map((c) => row[c] ?? ''));
  return out;
}

type Row = Readonly<Record<string, string | undefined>>;

/**
 * The batch column mapping, stated once: which users.csv column carries which roster field of
 * the person and of the class. Rows are written from it (userCells, classCells) and read back
 * with it (the batch target's export, the sandbox's batch API); the import preset
 * mappings/batch.yaml says the same (a unit test holds them together). org_sis_id, action and
 * primary_teacher mean more than one field and are handled where they are used.
 */
export const BATCH_USER_FIELDS = {
  user_sis_id: 'sourcedId',
  role: 'role',
  username: 'username',
  firstName: 'givenName',
  lastName: 'familyName',
  userEmail: 'email',
  userGrade: 'grades',
} as const;

export const BATCH_CLASS_FIELDS = {
  class_sis_id: 'sourcedId',
  className: 'title',
  classGrade: 'grades',
  course_sis_id: 'courseSourcedId',
  term_sis_id: 'termSourcedIds',
} as const;

type ColumnFields = Readonly<Record<string, string>>;

/** A row's cells as roster fields, by `columns` (BATCH_USER_FIELDS or BATCH_CLASS_FIELDS); missing cells ''. */
export function fieldsOfCells(columns: ColumnFields, row: Row): Record<string, string> {
  return Object.fromEntries(Object.entries(columns).map(([column, field]) => [field, row[column] ?? '']));
}

/** A record's fields as a row's cells, by `columns`. */
function cellsOfFields(columns: ColumnFields, record: Row): Record<string, string> {
  return Object.fromEntries(Object.entries(columns).map(([column, field]) => [column, record[field] ?? '']));
}

/** The person's columns of a users.csv row. */
export function userCells(user: Row, org: string): Record<string, string> {
  return { org_sis_id: org, ...cellsOfFields(BATCH_USER_FIELDS, user) };
}

/** The class's columns of a users.csv row, and the enrollment's primary_teacher. */
export function classCells(klass: Row, enrollment?: Row): Record<string, string> {
  return {
    ...cellsOfFields(BATCH_CLASS_FIELDS, klass),
    primary_teacher: enrollment?.role === 'teacher' ? enrollment.primary || 'false' : '',
  };
}
