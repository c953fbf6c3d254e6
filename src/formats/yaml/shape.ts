/**
 * The shape of roster YAML: which records nest where, which fields are implied by where a record
 * stands, and how omitted enrollment and role ids are derived. Shared by the reader, the writer and
 * the JSON Schema, so the three cannot disagree.
 *
 *   oneroster: "1.1"
 *   orgs: [district and other non-school orgs]
 *   academicSessions: [...]
 *   schools:                       # orgs of type school; `type` is implied
 *     - sourcedId: sch-lincoln
 *       name: Lincoln Elementary
 *       courses: [...]             # orgSourcedId: the school (implied)
 *       staff: [...]               # users; orgSourcedIds: [the school] (implied)
 *       students: [...]            # users; role: student (implied)
 *       classes:                   # schoolSourcedId: the school (implied)
 *         - sourcedId: cls-1
 *           teachers: [usr-t1]     # one enrollment per line; ids derived when omitted
 *           students: [usr-s1, usr-s2]
 *   courses / classes / users / enrollments / demographics / roles / userProfiles:
 *     records that stand under no school, with every field written out.
 */
import { ENTITY_NAMES, type EntityName } from '../../model/entities.js';

/** Lists of a class that hold its enrollments, and the enrollment role each stands for. */
export const CLASS_ENROLLMENT_LISTS = {
  teachers: 'teacher',
  students: 'student',
  administrators: 'administrator',
  proctors: 'proctor',
} as const;
export type ClassEnrollmentList = keyof typeof CLASS_ENROLLMENT_LISTS;

/** Top-level lists, in the order they are written (dependency order). `schools` is handled on its own. */
export const TOP_LEVEL_LISTS: readonly EntityName[] = ENTITY_NAMES;

/** Keys of a document that are not record lists. */
export const DOCUMENT_KEYS = [
  'oneroster',
  'source',
  'files',
  'extensionColumns',
  'schools',
  ...TOP_LEVEL_LISTS,
] as const;

/** The key under which a record keeps its extension columns (`metadata.*` and others), verbatim. */
export const EXTENSIONS_KEY = 'extensions';

export { derivedEnrollmentId, derivedRoleId } from '../../model/derived-ids.js';
