/**
 * A district's roster written as Clever's SFTP files (schools, students, teachers, sections,
 * enrollments), as a SIS export for Clever would hold it: the test input of the `clever` mapping.
 * Each section has one term (the roster's school year) and its class's first teacher.
 */
import Papa from 'papaparse';
import type { Roster } from '../../src/model/roster.js';
import type { Tree } from './fixtures.js';

const CLEVER_GRADE: Record<string, string> = {
  KG: 'Kindergarten',
  PK: 'PreKindergarten',
  TK: 'TransitionalKindergarten',
};
/** Clever's race codes, by the OneRoster flag that is true. */
const RACE_CODE: Record<string, string> = {
  americanIndianOrAlaskaNative: 'I',
  asian: 'A',
  blackOrAfricanAmerican: 'B',
  nativeHawaiianOrOtherPacificIslander: 'P',
  white: 'W',
  demographicRaceTwoOrMoreRaces: 'M',
};

export const cleverGrade = (g: string) => CLEVER_GRADE[g] ?? (g ? String(Number(g)) : '');
const us = (iso: string) => (iso ? `${iso.slice(5, 7)}/${iso.slice(8, 10)}/${iso.slice(0, 4)}` : '');
const csvOf = (rows: Record<string, string>[]) => `${Papa.unparse(rows, { newline: '\n' })}\n`;

export function cleverFiles(roster: Roster): Tree {
  const year = [...roster.table('academicSessions')].find((s) => s.type === 'schoolYear')!;
  const courses = new Map([...roster.table('courses')].map((c) => [c.sourcedId!, c]));
  const demographics = new Map([...roster.table('demographics')].map((d) => [d.sourcedId!, d]));
  const teacherOf = new Map<string, string>();
  const students: Record<string, string>[] = [];
  const teachers: Record<string, string>[] = [];
  const enrollments: Record<string, string>[] = [];
  for (const e of roster.table('enrollments')) {
    if (e.role === 'teacher' && !teacherOf.has(e.classSourcedId!))
      teacherOf.set(e.classSourcedId!, e.userSourcedId!);
    if (e.role === 'student')
      enrollments.push({
        School_id: e.schoolSourcedId!,
        Section_id: e.classSourcedId!,
        Student_id: e.userSourcedId!,
      });
  }
  for (const u of roster.table('users')) {
    if (u.role === 'student') {
      const d = demographics.get(u.sourcedId!);
      const race = d ? Object.keys(RACE_CODE).find((f) => d[f] === 'true') : undefined;
      students.push({
        School_id: u.orgSourcedIds!,
        Student_id: u.sourcedId!,
        Student_number: u.identifier ?? '',
        Last_name: u.familyName!,
        Middle_name: u.middleName ?? '',
        First_name: u.givenName!,
        Grade: cleverGrade(u.grades ?? ''),
        Gender: d?.sex === 'female' ? 'F' : d?.sex === 'male' ? 'M' : '',
        DOB: us(d?.birthDate ?? ''),
        Race: race ? RACE_CODE[race]! : '',
        Hispanic_Latino: d ? (d.hispanicOrLatinoEthnicity === 'true' ? 'Y' : 'N') : '',
        Student_email: u.email ?? '',
        Username: u.username!,
        Password: 'not-imported',
      });
    } else if (u.role === 'teacher')
      teachers.push({
        School_id: u.orgSourcedIds!,
        Teacher_id: u.sourcedId!,
        Teacher_number: '',
        Teacher_email: u.email ?? '',
        First_name: u.givenName!,
        Last_name: u.familyName!,
        Username: u.username!,
      });
  }
  const sections = [...roster.table('classes')].map((c) => {
    const course = courses.get(c.courseSourcedId!)!;
    return {
      School_id: c.schoolSourcedId!,
      Section_id: c.sourcedId!,
      Teacher_id: teacherOf.get(c.sourcedId!) ?? '',
      Teacher_2_id: '',
      Name: c.title!,
      Section_number: c.classCode ?? '',
      Grade: cleverGrade(c.grades ?? ''),
      Course_name: course.title!,
      Course_number: course.courseCode ?? '',
      Subject: c.subjects ?? '',
      Period: c.periods ?? '',
      Term_name: year.title!,
      Term_start: us(year.startDate!),
      Term_end: us(year.endDate!),
    };
  });
  const schools = [...roster.table('orgs')]
    .filter((o) => o.type === 'school')
    .map((o) => ({
      School_id: o.sourcedId!,
      School_name: o.name!,
      School_number: o.identifier ?? '',
      Principal: '',
    }));
  return {
    'schools.csv': csvOf(schools),
    'students.csv': csvOf(students),
    'teachers.csv': csvOf(teachers),
    'sections.csv': csvOf(sections),
    'enrollments.csv': csvOf(enrollments),
  };
}
