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

/** The person's columns of a users.csv row. */
export function userCells(user: Row, org: string): Record<string, string> {
  return {
    org_sis_id: org,
    user_sis_id: user.sourcedId ?? '',
    role: user.role ?? '',
    username: user.username ?? '',
    firstName: user.givenName ?? '',
    lastName: user.familyName ?? '',
    userEmail: user.email ?? '',
    userGrade: user.grades ?? '',
  };
}

/** The class's columns of a users.csv row, and the enrollment's primary_teacher. */
export function classCells(klass: Row, enrollment?: Row): Record<string, string> {
  return {
    class_sis_id: klass.sourcedId ?? '',
    className: klass.title ?? '',
    classGrade: klass.grades ?? '',
    course_sis_id: klass.courseSourcedId ?? '',
    term_sis_id: klass.termSourcedIds ?? '',
    primary_teacher: enrollment?.role === 'teacher' ? enrollment.primary || 'false' : '',
  };
}
