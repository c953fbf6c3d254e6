/**
 * A seeded synthetic district: schools (elementary, middle, high), a school year with two
 * semesters, courses and classes with teachers, students with enrollments and demographics.
 * The same options always give the same Roster. Everything is invented; ids carry no personal data.
 */
import { convertVersion } from '../model/convert-version.js';
import { derivedEnrollmentId } from '../model/derived-ids.js';
import type { RosterVersion } from '../model/entities.js';
import { type Roster, RosterBuilder } from '../model/roster.js';
import { FAMILY_NAMES, GIVEN_NAMES, PLACE_NAMES } from './names.js';

export interface GenerateOptions {
  readonly schools: number;
  readonly students: number;
  readonly seed: string | number;
  readonly version?: RosterVersion;
  /** The district's town name (default: picked by the seed). */
  readonly name?: string;
  /** The school year, named by the year it ends (OneRoster's schoolYear). Default 2026. */
  readonly schoolYear?: number;
}

/** mulberry32: a small, fast, seedable PRNG (uniform in [0, 1)). */
export function seededRandom(seed: string | number): () => number {
  let h = 1779033703 ^ String(seed).length;
  for (const ch of String(seed)) {
    h = Math.imul(h ^ ch.charCodeAt(0), 3432918353);
    h = (h << 13) | (h >>> 19);
  }
  let a = h >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Level = 'elementary' | 'middle' | 'high';
const GRADES: Record<Level, string[]> = {
  elementary: ['KG', '01', '02', '03', '04', '05'],
  middle: ['06', '07', '08'],
  high: ['09', '10', '11', '12'],
};
/** Subjects with SCED-style codes, for middle and high schools. */
const SUBJECTS: [string, string, string][] = [
  ['English Language Arts', 'ELA', '01001'],
  ['Mathematics', 'MATH', '02052'],
  ['Science', 'SCI', '03051'],
  ['Social Studies', 'SOC', '04051'],
  ['Physical Education', 'PE', '08001'],
  ['Visual Arts', 'ART', '05154'],
  ['Music', 'MUS', '05105'],
  ['World Languages', 'WL', '06101'],
];
/** Elementary students have a homeroom and seven subject classes: eight classes a day, like everyone. */
const ELEMENTARY_SUBJECTS: [string, string, string][] = [
  ['Homeroom', 'HR', ''],
  ...SUBJECTS.filter(([, code]) => code !== 'WL'),
];
const CLASS_SIZE = 25;
const SECTIONS_PER_TEACHER = 5;

export function generateDistrict(options: GenerateOptions): Roster {
  const rnd = seededRandom(options.seed);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(rnd() * list.length)]!;
  const year = options.schoolYear ?? 2026;
  const b = new RosterBuilder('1.1');
  const pad = (n: number, width: number) => String(n).padStart(width, '0');
  const town = options.name ?? pick(PLACE_NAMES);
  const domain = `${town.toLowerCase().replace(/\s+/g, '')}.k12.example`;

  b.add('orgs', {
    sourcedId: 'district',
    name: `${town} Public Schools`,
    type: 'district',
    identifier: pad(Math.floor(rnd() * 1e7), 7),
  });
  const sy = `sy-${year}`;
  const fall = `${sy}-fall`;
  const spring = `${sy}-spring`;
  b.add('academicSessions', {
    sourcedId: sy,
    title: `${year - 1}-${year} School Year`,
    type: 'schoolYear',
    startDate: `${year - 1}-08-18`,
    endDate: `${year}-06-06`,
    schoolYear: String(year),
  });
  b.add('academicSessions', {
    sourcedId: fall,
    title: `Fall ${year - 1}`,
    type: 'semester',
    startDate: `${year - 1}-08-18`,
    endDate: `${year}-01-10`,
    parentSourcedId: sy,
    schoolYear: String(year),
  });
  b.add('academicSessions', {
    sourcedId: spring,
    title: `Spring ${year}`,
    type: 'semester',
    startDate: `${year}-01-12`,
    endDate: `${year}-06-06`,
    parentSourcedId: sy,
    schoolYear: String(year),
  });

  const schoolCount = Math.max(1, options.schools);
  const levels: Level[] = Array.from(
    { length: schoolCount },
    (_, i) => (['elementary', 'middle', 'high'] as const)[i % 3]!,
  );
  const gradeSlots = levels.reduce((n, l) => n + GRADES[l].length, 0);
  const width = Math.max(3, String(schoolCount).length);
  let studentNo = 0;
  let staffNo = 0;
  const studentWidth = Math.max(6, String(options.students).length);
  const usedPlaces = new Map<string, number>();

  const person = (kind: 'student' | 'staff') => {
    const givenName = pick(GIVEN_NAMES);
    const familyName = pick(FAMILY_NAMES);
    const n = kind === 'student' ? ++studentNo : ++staffNo;
    const username = `${givenName}.${familyName}${n}`.toLowerCase();
    return { givenName, familyName, n, username };
  };

  levels.forEach((level, s) => {
    const schoolId = `sch-${pad(s + 1, width)}`;
    const place = pick(PLACE_NAMES);
    const count = (usedPlaces.get(place) ?? 0) + 1;
    usedPlaces.set(place, count);
    const suffix =
      level === 'elementary' ? 'Elementary School' : level === 'middle' ? 'Middle School' : 'High School';
    b.add('orgs', {
      sourcedId: schoolId,
      name: `${place}${count > 1 ? ` ${count}` : ''} ${suffix}`,
      type: 'school',
      identifier: pad(Math.floor(rnd() * 1e12), 12),
      parentSourcedId: 'district',
    });

    const principal = person('staff');
    b.add('users', {
      sourcedId: `stf-${pad(principal.n, 5)}`,
      enabledUser: 'true',
      orgSourcedIds: schoolId,
      role: 'administrator',
      username: principal.username,
      givenName: principal.givenName,
      familyName: principal.familyName,
      email: `${principal.username}@${domain}`,
    });

    for (const grade of GRADES[level]) {
      // Students spread evenly over every grade of every school; the remainder goes to the first grades.
      const slot =
        levels.slice(0, s).reduce((n, l) => n + GRADES[l].length, 0) + GRADES[level].indexOf(grade);
      const inGrade =
        Math.floor(options.students / gradeSlots) + (slot < options.students % gradeSlots ? 1 : 0);
      const students: string[] = [];
      for (let k = 0; k < inGrade; k++) {
        const p = person('student');
        const id = `stu-${pad(p.n, studentWidth)}`;
        students.push(id);
        b.add('users', {
          sourcedId: id,
          enabledUser: 'true',
          orgSourcedIds: schoolId,
          role: 'student',
          username: p.username,
          userIds: `{SIS:${pad(100000 + p.n, 7)}}`,
          givenName: p.givenName,
          familyName: p.familyName,
          identifier: `S${pad(Math.floor(rnd() * 1e9), 9)}`,
          email: `${p.username}@students.${domain}`,
          grades: grade,
        });
        const age = grade === 'KG' ? 5 : Number(grade) + 5;
        const born = new Date(
          Date.UTC(year - 1 - age, 8 - Math.floor(rnd() * 12), 1 + Math.floor(rnd() * 28)),
        );
        const hispanic = rnd() < 0.28;
        const race = rnd();
        b.add('demographics', {
          sourcedId: id,
          birthDate: born.toISOString().slice(0, 10),
          sex: rnd() < 0.5 ? 'female' : 'male',
          americanIndianOrAlaskaNative: String(race < 0.01),
          asian: String(race >= 0.01 && race < 0.07),
          blackOrAfricanAmerican: String(race >= 0.07 && race < 0.22),
          nativeHawaiianOrOtherPacificIslander: String(race >= 0.22 && race < 0.23),
          white: String(race >= 0.23 && race < 0.93),
          demographicRaceTwoOrMoreRaces: String(race >= 0.93),
          hispanicOrLatinoEthnicity: String(hispanic),
        });
      }
      const sections = Math.max(1, Math.ceil(students.length / CLASS_SIZE));
      const subjects: [string, string, string][] = level === 'elementary' ? ELEMENTARY_SUBJECTS : SUBJECTS;
      let teacher: { id: string; load: number } | undefined;
      for (const [subject, code, sced] of subjects) {
        const courseId = `crs-${schoolId.slice(4)}-${code.toLowerCase()}-${grade.toLowerCase()}`;
        b.add('courses', {
          sourcedId: courseId,
          schoolYearSourcedId: sy,
          title: code === 'HR' ? `Grade ${gradeLabel(grade)} Homeroom` : `${subject} ${grade}`,
          courseCode: `${code}-${grade}`,
          grades: grade,
          orgSourcedId: schoolId,
          subjects: sced ? subject : '',
          subjectCodes: sced,
        });
        for (let sec = 1; sec <= sections; sec++) {
          if (!teacher || teacher.load >= (code === 'HR' ? 1 : SECTIONS_PER_TEACHER)) {
            const t = person('staff');
            teacher = { id: `stf-${pad(t.n, 5)}`, load: 0 };
            b.add('users', {
              sourcedId: teacher.id,
              enabledUser: 'true',
              orgSourcedIds: schoolId,
              role: 'teacher',
              username: t.username,
              givenName: t.givenName,
              familyName: t.familyName,
              email: `${t.username}@${domain}`,
              grades: grade,
            });
          }
          teacher.load++;
          const classId = `${courseId}-${sec}`;
          const period = String(1 + ((SUBJECTS.findIndex(([n]) => n === subject) + sec) % SUBJECTS.length));
          b.add('classes', {
            sourcedId: classId,
            title: `${code === 'HR' ? `Grade ${gradeLabel(grade)} Homeroom` : `${subject} ${grade}`} - Section ${sec}`,
            grades: grade,
            courseSourcedId: courseId,
            classCode: `${code}-${grade}-${sec}`,
            classType: code === 'HR' ? 'homeroom' : 'scheduled',
            location: `Room ${100 + Math.floor(rnd() * 200)}`,
            schoolSourcedId: schoolId,
            termSourcedIds: `${fall},${spring}`,
            subjects: sced ? subject : '',
            subjectCodes: sced,
            periods: code === 'HR' ? '' : period,
          });
          b.add('enrollments', {
            sourcedId: derivedEnrollmentId(classId, teacher.id, 'teacher'),
            classSourcedId: classId,
            schoolSourcedId: schoolId,
            userSourcedId: teacher.id,
            role: 'teacher',
            primary: 'true',
          });
          for (let k = sec - 1; k < students.length; k += sections) {
            b.add('enrollments', {
              sourcedId: derivedEnrollmentId(classId, students[k]!, 'student'),
              classSourcedId: classId,
              schoolSourcedId: schoolId,
              userSourcedId: students[k]!,
              role: 'student',
            });
          }
        }
        // A homeroom teacher has one section; the subject classes get teachers of their own.
        if (code === 'HR') teacher = undefined;
      }
    }
  });
  b.source = { systemName: 'roster-as-code generator', systemCode: `seed-${options.seed}` };
  const roster = b.build();
  return options.version === '1.2' ? convertVersion(roster, '1.2').roster : roster;
}

function gradeLabel(grade: string): string {
  return grade === 'KG' ? 'K' : String(Number(grade));
}
