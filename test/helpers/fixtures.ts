/** Small, readable OneRoster packages and temp folders for tests. */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { onTestFinished } from 'vitest';
import { validatePath } from '../../src/services/validate.js';
import type { ValidationResult } from '../../src/validate/validate.js';

/** A temporary folder, removed when the current test finishes. */
export function tempDir(prefix = 'roster-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export type Tree = Record<string, string | Buffer>;

export function writeTree(dir: string, files: Tree): string {
  for (const [name, content] of Object.entries(files)) {
    const full = join(dir, name);
    mkdirSync(dirname(full), { recursive: true });
    writeFileSync(full, content);
  }
  return dir;
}

/** Lines joined with LF and a final newline. */
export const csv = (...lines: string[]) => `${lines.join('\n')}\n`;

const MANIFEST_11 = [
  'propertyName,value',
  'manifest.version,1.0',
  'oneroster.version,1.1',
  'file.academicSessions,bulk',
  'file.categories,absent',
  'file.classes,bulk',
  'file.classResources,absent',
  'file.courses,bulk',
  'file.courseResources,absent',
  'file.demographics,bulk',
  'file.enrollments,bulk',
  'file.lineItems,absent',
  'file.orgs,bulk',
  'file.resources,absent',
  'file.results,absent',
  'file.users,bulk',
];

/** A valid OneRoster 1.1 bulk package: a district, one school, one class, a teacher and two students. */
export function package11(overrides: Partial<Record<string, string | null>> = {}): Tree {
  const base: Record<string, string> = {
    'manifest.csv': csv(...MANIFEST_11),
    'orgs.csv': csv(
      'sourcedId,status,dateLastModified,name,type,identifier,parentSourcedId',
      'd1,,,Springfield Public Schools,district,,',
      's1,,,Lincoln Elementary,school,0042,d1',
    ),
    'academicSessions.csv': csv(
      'sourcedId,status,dateLastModified,title,type,startDate,endDate,parentSourcedId,schoolYear',
      'sy26,,,2025-2026,schoolYear,2025-08-18,2026-06-06,,2026',
      'fall25,,,Fall 2025,semester,2025-08-18,2026-01-10,sy26,2026',
    ),
    'courses.csv': csv(
      'sourcedId,status,dateLastModified,schoolYearSourcedId,title,courseCode,grades,orgSourcedId,subjects,subjectCodes',
      'c1,,,sy26,Grade 3 Math,MATH-03,03,s1,Mathematics,02052',
    ),
    'classes.csv': csv(
      'sourcedId,status,dateLastModified,title,grades,courseSourcedId,classCode,classType,location,schoolSourcedId,termSourcedIds,subjects,subjectCodes,periods',
      'k1,,,Math 3A,03,c1,M3A,scheduled,Room 12,s1,fall25,Mathematics,02052,1',
    ),
    'users.csv': csv(
      'sourcedId,status,dateLastModified,enabledUser,orgSourcedIds,role,username,userIds,givenName,familyName,middleName,identifier,email,sms,phone,agentSourcedIds,grades,password',
      't1,,,true,s1,teacher,ana.diaz,{SIS:9001},Ana,Diaz,,,ana.diaz@springfield.example,,,,,',
      'u1,,,true,s1,student,ben.lee,{SIS:1001},Ben,Lee,,S001,ben.lee@students.springfield.example,,,,03,',
      'u2,,,true,s1,student,cara.wu,{SIS:1002},Cara,Wu,,S002,cara.wu@students.springfield.example,,,,03,',
    ),
    'enrollments.csv': csv(
      'sourcedId,status,dateLastModified,classSourcedId,schoolSourcedId,userSourcedId,role,primary,beginDate,endDate',
      'e1,,,k1,s1,t1,teacher,true,,',
      'e2,,,k1,s1,u1,student,,2025-08-18,2026-01-10',
      'e3,,,k1,s1,u2,student,,,',
    ),
    'demographics.csv': csv(
      'sourcedId,status,dateLastModified,birthDate,sex,americanIndianOrAlaskaNative,asian,blackOrAfricanAmerican,nativeHawaiianOrOtherPacificIslander,white,demographicRaceTwoOrMoreRaces,hispanicOrLatinoEthnicity,countryOfBirthCode,stateOfBirthAbbreviation,cityOfBirth,publicSchoolResidenceStatus',
      'u1,,,2017-03-04,male,false,false,false,false,true,false,false,,,,',
    ),
  };
  for (const [name, content] of Object.entries(overrides)) {
    if (content === null) delete base[name];
    else if (content !== undefined) base[name] = content;
  }
  return base;
}

/** Replaces one line (0 = header) of a CSV text. */
export function withLine(text: string, index: number, line: string): string {
  const lines = text.split('\n');
  lines[index] = line;
  return lines.join('\n');
}

/** Appends data lines to a CSV text. */
export function withLines(text: string, ...lines: string[]): string {
  return text + lines.map((l) => `${l}\n`).join('');
}

export async function validateTree(
  files: Tree,
  options: { ignore?: string[] } = {},
): Promise<ValidationResult> {
  const dir = writeTree(tempDir(), files);
  return validatePath(dir, options);
}

/** Codes of the diagnostics, with their file and line, in report order: "CODE file:line". */
export function diagnostics(result: ValidationResult, severity?: 'error' | 'warning' | 'info'): string[] {
  return result.diagnostics
    .filter((d) => !severity || d.severity === severity)
    .map((d) => `${d.code} ${d.file ?? ''}${d.line !== undefined ? `:${d.line}` : ''}`);
}

export function codes(result: ValidationResult): string[] {
  return result.diagnostics.filter((d) => d.severity !== 'info').map((d) => d.code);
}
