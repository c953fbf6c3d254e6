import { describe, expect, it } from 'vitest';
import {
  codes,
  csv,
  diagnostics,
  package11,
  validateTree,
  withLine,
  withLines,
} from '../../helpers/fixtures.js';

describe('a valid OneRoster 1.1 package', () => {
  it('has no diagnostics and loads every record', async () => {
    const result = await validateTree(package11());
    expect(result.diagnostics).toEqual([]);
    expect(result.valid).toBe(true);
    expect(result.roster.version).toBe('1.1');
    expect(result.roster.table('users').size).toBe(3);
    expect(result.roster.table('enrollments').size).toBe(3);
  });
});

describe('CSV syntax', () => {
  it('reads UTF-8 with a BOM and CRLF line endings', async () => {
    const p = package11();
    const users = `\ufeff${p['users.csv']!.toString().replace(/\n/g, '\r\n')}`;
    const result = await validateTree({ ...p, 'users.csv': users });
    expect(result.diagnostics).toEqual([]);
    expect(result.roster.table('users').get(0).sourcedId).toBe('t1');
  });

  it('reads RFC 4180 quoting: commas and doubled quotes inside quoted fields', async () => {
    const p = package11();
    const classes = withLine(
      p['classes.csv']!.toString(),
      1,
      'k1,,,"Math 3A, ""Rockets""",03,c1,M3A,scheduled,Room 12,s1,fall25,Mathematics,02052,"1,3"',
    );
    const result = await validateTree({ ...p, 'classes.csv': classes });
    expect(result.diagnostics).toEqual([]);
    const record = result.roster.table('classes').get(0);
    expect(record.title).toBe('Math 3A, "Rockets"');
    expect(record.periods).toBe('1,3');
  });

  it('reports an unbalanced quote with its line', async () => {
    const p = package11();
    const users = withLines(
      p['users.csv']!.toString(),
      'u9,,,true,s1,student,"dan.ko,{SIS:1},Dan,Ko,,,,,,,03,',
    );
    const result = await validateTree({ ...p, 'users.csv': users });
    expect(diagnostics(result, 'error')).toContain('CSV_QUOTE users.csv:5');
  });

  it('reports ragged rows with line and field counts', async () => {
    const p = package11();
    const users = withLine(
      p['users.csv']!.toString(),
      2,
      'u1,,,true,s1,student,ben.lee,{SIS:1001},Ben,Lee,,S001,ben.lee@students.springfield.example,,,,03,,extra',
    );
    const result = await validateTree({ ...p, 'users.csv': users });
    const d = result.diagnostics.find((x) => x.code === 'CSV_ROW_WIDTH');
    expect(d).toMatchObject({ file: 'users.csv', line: 3 });
    expect(d?.message).toContain('has 19 fields; the header has 18');
  });

  it('reports a line break inside a field, and counts lines past it', async () => {
    const p = package11();
    const classes = withLines(
      p['classes.csv']!.toString(),
      'k2,,,"Math\n3B",03,c1,M3B,scheduled,Room 12,s1,fall25,Mathematics,02052,1',
      'k3,,,Math 3C,03,c1,M3C,Scheduled,Room 12,s1,fall25,Mathematics,02052,1',
    );
    const result = await validateTree({ ...p, 'classes.csv': classes });
    expect(diagnostics(result, 'error')).toEqual([
      'CSV_LINE_BREAK_IN_FIELD classes.csv:3',
      'VALUE_ENUM classes.csv:5',
    ]);
  });

  it('warns on a header-only file, and the warning can be switched off', async () => {
    const p = package11({
      'demographics.csv': csv(
        'sourcedId,status,dateLastModified,birthDate,sex,americanIndianOrAlaskaNative,asian,blackOrAfricanAmerican,nativeHawaiianOrOtherPacificIslander,white,demographicRaceTwoOrMoreRaces,hispanicOrLatinoEthnicity,countryOfBirthCode,stateOfBirthAbbreviation,cityOfBirth,publicSchoolResidenceStatus',
      ),
    });
    const result = await validateTree(p);
    expect(diagnostics(result)).toEqual(['CSV_HEADER_ONLY demographics.csv:1']);
    expect(result.valid).toBe(true);
    const quiet = await validateTree(p, { ignore: ['CSV_HEADER_ONLY'] });
    expect(quiet.diagnostics).toEqual([]);
  });

  it('reports an empty file as an error', async () => {
    const result = await validateTree(package11({ 'demographics.csv': '' }));
    expect(diagnostics(result, 'error')).toEqual(['CSV_EMPTY_FILE demographics.csv:1']);
  });

  it('names the encoding of a non-UTF-8 file and the line of the first bad byte', async () => {
    const p = package11();
    const text = withLines(
      p['users.csv']!.toString(),
      'u9,,,true,s1,student,jose.pena,{SIS:1},José,Peña,,,,,,,03,',
    );
    const latin1 = Buffer.from(text, 'latin1');
    const result = await validateTree({ ...p, 'users.csv': latin1 });
    const d = result.diagnostics.find((x) => x.code === 'CSV_ENCODING');
    expect(d).toMatchObject({ file: 'users.csv', line: 5, severity: 'error' });
    expect(d?.message).toMatch(/not UTF-8.*Latin-1|Windows-1252/);
  });

  it('reports the cause once, not its follow-ons: a users.csv that cannot be read whole gives no REFERENCE_MISSING and no false "empty"', async () => {
    const p = package11();
    // Windows-1252 at the first data row: nothing of users.csv is read.
    const cp1252 = Buffer.from(
      withLine(p['users.csv']!.toString(), 1, 't1,,,true,s1,teacher,ana.diaz,{SIS:9001},Ana,Díaz,,,,,,,,'),
      'latin1',
    );
    const encoding = await validateTree({ ...p, 'users.csv': cp1252 });
    expect(diagnostics(encoding)).toEqual(['CSV_ENCODING users.csv:2', 'REFERENCES_UNCHECKED users.csv']);
    expect(encoding.diagnostics[1]!.message).toBe(
      '4 reference(s) to users were not checked: users.csv was not read whole (the diagnostic above)',
    );
    expect(encoding.errors).toBe(1);
    // An unclosed quote: the rest of the file is one field.
    const unclosed = withLine(
      p['users.csv']!.toString(),
      2,
      'u1,,,true,s1,student,ben.lee,{SIS:1001},"Ben,Lee,,S001,,,,,03,',
    );
    const quote = await validateTree({ ...p, 'users.csv': unclosed });
    expect(codes(quote)).toEqual(['CSV_QUOTE', 'REFERENCES_UNCHECKED']);
  });

  it('warns of a quote inside an unquoted value (RFC 4180), naming line and field but not the value; quoted quotes are fine', async () => {
    const p = package11();
    const users = withLines(
      p['users.csv']!.toString(),
      'u8,,,true,s1,student,leo.b,{SIS:8},Le"o,B,,,,,,,03,',
      'u9,,,true,s1,student,"jo ""the"" b",{SIS:9},"Jo, ""Jr""",B,,,,,,,03,',
    );
    const result = await validateTree({ ...p, 'users.csv': users });
    expect(diagnostics(result)).toEqual(['CSV_STRAY_QUOTE users.csv:5']);
    expect(result.diagnostics[0]).toMatchObject({ severity: 'warning', column: 9 });
    expect(result.diagnostics[0]!.message).not.toContain('Le"o');
    expect(result.roster.table('users').get(3).givenName).toBe('Le"o');
    expect(result.roster.table('users').get(4).givenName).toBe('Jo, "Jr"');
  });

  it('names a spreadsheet separator (semicolons, tabs) once, instead of a diagnostic per column and row', async () => {
    const p = package11();
    const semicolons = p['users.csv']!.toString().replaceAll(',', ';');
    const result = await validateTree({ ...p, 'users.csv': semicolons });
    expect(diagnostics(result)).toEqual(['CSV_DELIMITER users.csv:1', 'REFERENCES_UNCHECKED users.csv']);
    expect(result.diagnostics[0]!.message).toBe(
      'users.csv separates its fields with semicolons (;), not commas: its rows were not read',
    );
    const tabs = await validateTree({ ...p, 'orgs.csv': p['orgs.csv']!.toString().replaceAll(',', '\t') });
    expect(codes(tabs)[0]).toBe('CSV_DELIMITER');
    expect(tabs.diagnostics[0]!.message).toContain('with tabs');
  });

  it('recognises UTF-16', async () => {
    const p = package11();
    const utf16 = Buffer.concat([
      Buffer.from([0xff, 0xfe]),
      Buffer.from(p['users.csv']!.toString(), 'utf16le'),
    ]);
    const result = await validateTree({ ...p, 'users.csv': utf16 });
    expect(result.diagnostics.find((x) => x.code === 'CSV_ENCODING')?.message).toContain('UTF-16');
  });

  it('notes a missing final newline without failing', async () => {
    const p = package11();
    const result = await validateTree({ ...p, 'courses.csv': p['courses.csv']!.toString().trimEnd() });
    expect(diagnostics(result)).toEqual(['CSV_NO_FINAL_NEWLINE courses.csv:2']);
    expect(result.valid).toBe(true);
  });
});

describe('headers', () => {
  const usersHeader =
    'sourcedId,status,dateLastModified,enabledUser,orgSourcedIds,role,username,userIds,givenName,familyName,middleName,identifier,email,sms,phone,agentSourcedIds,grades,password';
  const withUsersHeader = (header: string) => {
    const p = package11();
    return { ...p, 'users.csv': withLine(p['users.csv']!.toString(), 0, header) };
  };

  it('reports a misspelled column and still reads its values', async () => {
    const result = await validateTree(withUsersHeader(usersHeader.replace('givenName', 'givneName')));
    expect(codes(result)).toEqual(['HEADER_MISSPELLED']);
    expect(result.diagnostics[0]?.message).toContain('"givneName" looks like a misspelling of "givenName"');
    expect(result.diagnostics[0]?.column).toBe(9);
    expect(result.roster.table('users').get(0).givenName).toBe('Ana');
  });

  it('reports a wrongly-cased column', async () => {
    const result = await validateTree(withUsersHeader(usersHeader.replace('familyName', 'FamilyName')));
    expect(codes(result)).toEqual(['HEADER_WRONG_CASE']);
  });

  it('reports a missing column, naming required ones', async () => {
    const header = usersHeader.replace(',password', '');
    const p = package11();
    const users = p['users.csv']!.toString()
      .split('\n')
      .map((l, i) => (i === 0 ? header : l.replace(/,$/, '')))
      .join('\n');
    const result = await validateTree({ ...p, 'users.csv': users });
    expect(codes(result)).toEqual(['HEADER_MISSING_COLUMN']);
    expect(result.diagnostics[0]?.message).toBe('users.csv has no "password" column');
  });

  it('reports duplicate and empty column names', async () => {
    const result = await validateTree(
      withUsersHeader(usersHeader.replace('sms', 'email').replace('phone', '')),
    );
    expect(codes(result).sort()).toEqual([
      'HEADER_DUPLICATE',
      'HEADER_EMPTY',
      'HEADER_MISSING_COLUMN',
      'HEADER_MISSING_COLUMN',
    ]);
  });

  it('reports columns out of spec order', async () => {
    const result = await validateTree(
      withUsersHeader(usersHeader.replace('givenName,familyName', 'familyName,givenName')),
    );
    expect(codes(result)).toEqual(['HEADER_ORDER']);
  });

  it('keeps metadata.* extension columns at the right end without a diagnostic', async () => {
    const p = package11();
    const orgs = csv(
      'sourcedId,status,dateLastModified,name,type,identifier,parentSourcedId,metadata.address1,metadata.city',
      'd1,,,Springfield Public Schools,district,,,1 Main St,Springfield',
      's1,,,Lincoln Elementary,school,0042,d1,,',
    );
    const result = await validateTree({ ...p, 'orgs.csv': orgs });
    expect(result.diagnostics).toEqual([]);
    expect(result.roster.table('orgs').get(0)['metadata.city']).toBe('Springfield');
  });

  it('warns on an unknown column but keeps it as an extension, and on extensions before spec columns', async () => {
    const p = package11();
    const orgs = csv(
      'sourcedId,status,dateLastModified,name,type,identifier,metadata.code,parentSourcedId,ext_vendorId',
      'd1,,,District,district,,X,,v1',
      's1,,,Lincoln Elementary,school,0042,Y,d1,v2',
    );
    const result = await validateTree({ ...p, 'orgs.csv': orgs });
    expect(diagnostics(result)).toEqual([
      'HEADER_EXTENSION_POSITION orgs.csv:1',
      'HEADER_UNKNOWN orgs.csv:1',
    ]);
    expect(result.valid).toBe(true);
    expect(result.roster.table('orgs').get(1).ext_vendorId).toBe('v2');
  });

  it('takes column names from the file as names: __proto__, constructor and toString are unknown columns, nothing more', async () => {
    const p = package11();
    // users.csv: an entity with OneRoster 1.0 column names to look names up in.
    const users = p['users.csv']!.toString().trimEnd().split('\n');
    const withProto = [
      `${users[0]},__proto__,constructor,toString`,
      ...users.slice(1).map((l) => `${l},a,b,c`),
    ];
    const result = await validateTree({ ...p, 'users.csv': `${withProto.join('\n')}\n` });
    const messages = result.diagnostics.map((d) => d.message);
    expect(messages).toEqual([
      'users.csv column "__proto__" is not a OneRoster 1.1 column',
      'users.csv column "constructor" is not a OneRoster 1.1 column',
      'users.csv column "toString" is not a OneRoster 1.1 column',
    ]);
    expect(messages.join('\n')).not.toMatch(/object Object|function|native code/);
  });

  it('maps a header of 40,000 unknown columns in linear time (it was quadratic: 15 s)', async () => {
    const p = package11();
    const extra = Array.from({ length: 40_000 }, (_, i) => `x${i}`);
    const started = performance.now();
    const result = await validateTree({
      ...p,
      'orgs.csv': csv(extra.join(','), extra.map(() => '').join(',')),
    });
    // A ceiling far above the linear time (~1 s here), far below the quadratic one.
    expect(performance.now() - started).toBeLessThan(8000);
    expect(codes(result).filter((c) => c === 'HEADER_UNKNOWN')).toHaveLength(40_000);
  });

  it('names legacy OneRoster 1.0 columns as such', async () => {
    const p = package11();
    const classes = withLine(
      p['classes.csv']!.toString(),
      0,
      'sourcedId,status,dateLastModified,title,grade,courseSourcedId,classCode,classType,location,schoolSourcedId,termSourcedId,subjects,subjectCodes,periods',
    );
    const result = await validateTree({ ...p, 'classes.csv': classes });
    expect(codes(result)).toEqual(['HEADER_LEGACY', 'HEADER_LEGACY']);
    expect(result.diagnostics.map((d) => d.message)).toContain(
      'classes.csv uses the OneRoster 1.0 column "termSourcedId"; OneRoster 1.1 names it "termSourcedIds"',
    );
  });
});

describe('values', () => {
  const usersLine = (fields: Partial<Record<string, string>>) => {
    const base: Record<string, string> = {
      sourcedId: 'u9',
      status: '',
      dateLastModified: '',
      enabledUser: 'true',
      orgSourcedIds: 's1',
      role: 'student',
      username: 'x.y',
      userIds: '',
      givenName: 'X',
      familyName: 'Y',
      middleName: '',
      identifier: '',
      email: '',
      sms: '',
      phone: '',
      agentSourcedIds: '',
      grades: '03',
      password: '',
    };
    return Object.values({ ...base, ...fields })
      .map((v = '') => (v.includes(',') ? `"${v}"` : v))
      .join(',');
  };
  const withUser = (fields: Partial<Record<string, string>>) => {
    const p = package11();
    return { ...p, 'users.csv': withLines(p['users.csv']!.toString(), usersLine(fields)) };
  };

  it.each([
    [{ enabledUser: 'TRUE' }, 'VALUE_BOOLEAN', 'Write "true" in lower case.'],
    [{ role: 'Student' }, 'VALUE_ENUM', 'Values are case-sensitive: write "student".'],
    [{ grades: '3' }, 'VALUE_GRADE', 'Write "03": CEDS grade levels 01-09 keep the leading zero.'],
    [{ grades: 'K' }, 'VALUE_GRADE', 'Write "KG" for kindergarten.'],
    [{ email: 'not-an-email' }, 'VALUE_EMAIL', undefined],
    [{ userIds: 'LDAP:jdoe' }, 'VALUE_USER_IDS', undefined],
    [{ sourcedId: 'u 9' }, 'VALUE_GUID', undefined],
    [{ givenName: '' }, 'VALUE_REQUIRED', undefined],
    [{ status: 'active' }, 'STATUS_IN_BULK', undefined],
  ])('%j is reported as %s', async (fields, code, hint) => {
    const result = await validateTree(withUser(fields));
    expect(codes(result)).toEqual([code]);
    expect(result.diagnostics[0]).toMatchObject({ file: 'users.csv', line: 5, code });
    if (hint) expect(result.diagnostics[0]?.hint).toBe(hint);
  });

  it('never prints personal data in messages', async () => {
    const result = await validateTree(
      withUser({ email: 'secret-person@nowhere', givenName: 'Zeldaxyz', grades: '3' }),
    );
    const text = JSON.stringify(result.diagnostics);
    expect(text).not.toContain('secret-person');
    const bad = await validateTree(withUser({ enabledUser: 'TRUE', middleName: 'Q' }));
    expect(JSON.stringify(bad.diagnostics)).not.toContain('Zeldaxyz');
  });

  it('checks dates, date-times and years', async () => {
    const p = package11();
    const sessions = withLines(
      p['academicSessions.csv']!.toString(),
      'bad1,,,Bad,term,8/27/2025,2026-01-10,sy26,2026',
      'bad2,,,Bad,term,2025-02-30,2026-01-10,sy26,26',
      'bad3,,,Bad,term,2026-01-10,2025-08-18,sy26,2026',
    );
    const result = await validateTree({ ...p, 'academicSessions.csv': sessions });
    expect(diagnostics(result)).toEqual([
      'VALUE_DATE academicSessions.csv:4',
      'VALUE_DATE academicSessions.csv:5',
      'VALUE_YEAR academicSessions.csv:5',
      'DATE_ORDER academicSessions.csv:6',
    ]);
  });

  it('allows ext: vocabulary only in 1.2', async () => {
    const p = package11();
    const classes = withLine(
      p['classes.csv']!.toString(),
      1,
      'k1,,,Math 3A,03,c1,M3A,ext:lab,Room 12,s1,fall25,Mathematics,02052,1',
    );
    expect(codes(await validateTree({ ...p, 'classes.csv': classes }))).toEqual(['VALUE_ENUM']);
  });

  it('requires status and dateLastModified in delta files and checks them', async () => {
    const p = package11();
    const manifest = p['manifest.csv']!.toString().replace('file.courses,bulk', 'file.courses,delta');
    const courses = csv(
      'sourcedId,status,dateLastModified,schoolYearSourcedId,title,courseCode,grades,orgSourcedId,subjects,subjectCodes',
      'c1,active,2025-08-01T00:00:00.000Z,sy26,Grade 3 Math,MATH-03,03,s1,Mathematics,02052',
      'c2,,,sy26,Grade 4 Math,MATH-04,04,s1,Mathematics,02052',
      'c3,inactive,2025-08-01,sy26,Grade 5 Math,MATH-05,05,s1,Mathematics,02052',
    );
    const result = await validateTree({ ...p, 'manifest.csv': manifest, 'courses.csv': courses });
    expect(diagnostics(result)).toEqual([
      'STATUS_REQUIRED_IN_DELTA courses.csv:3',
      'STATUS_REQUIRED_IN_DELTA courses.csv:3',
      'STATUS_INACTIVE courses.csv:4',
      'VALUE_DATETIME courses.csv:4',
    ]);
    // `inactive` is read as tobedeleted.
    expect(result.roster.table('courses').get(2).status).toBe('tobedeleted');
  });

  it('checks that subjects and subjectCodes pair up', async () => {
    const p = package11();
    const courses = withLine(
      p['courses.csv']!.toString(),
      1,
      'c1,,,sy26,Grade 3 Math,MATH-03,03,s1,"Mathematics,Science",02052',
    );
    expect(codes(await validateTree({ ...p, 'courses.csv': courses }))).toEqual(['VALUE_LIST_LENGTH']);
  });
});
