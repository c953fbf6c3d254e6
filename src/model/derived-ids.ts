/**
 * Ids derived for records written without one (roster YAML enrollments and roles, 1.1 -> 1.2
 * roles): stable for the same inputs, short, and free of personal data.
 */
import { hash } from 'node:crypto';

// (The one-shot hash(): the same SHA-1 as createHash, at half the cost per call; a city in roster
// YAML derives eight million enrollment ids.)
function shortHash(parts: readonly string[]): string {
  return hash('sha1', parts.join('\n'), 'hex').slice(0, 16);
}

/** The sourcedId of an enrollment given without one: `enr-` + a hash of (class, user, role). */
export function derivedEnrollmentId(classId: string, userId: string, role: string): string {
  return `enr-${shortHash([classId, userId, role])}`;
}

/** The sourcedId of a 1.2 role row given without one: `rol-` + a hash of (user, org, role). */
export function derivedRoleId(userId: string, orgId: string, role: string): string {
  return `rol-${shortHash([userId, orgId, role])}`;
}
