import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MANIFEST_FILES } from '../../../src/model/entities.js';
import { validatePath } from '../../../src/services/validate.js';
import {
  codes,
  csv,
  diagnostics,
  package11,
  tempDir,
  validateTree,
  withLine,
  withLines,
  writeTree,
} from '../../helpers/fixtures.js';

describe('manifest.csv', () => {
  const manifest = package11()['manifest.csv']!.toString();

  it('reports a missing manifest (a OneRoster 1.0 package)', async () => {
    expect(codes(await validateTree(package11({ 'manifest.csv': null })))).toEqual(['MANIFEST_MISSING']);
  });

  it('reports a bad manifest.version and oneroster.version', async () => {
    const m = manifest
      .replace('manifest.version,1.0', 'manifest.version,1')
      .replace('oneroster.version,1.1', 'oneroster.version,2.0');
    expect(diagnostics(await validateTree(package11({ 'manifest.csv': m })))).toEqual([
      'MANIFEST_VERSION_INVALID manifest.csv:2',
      'ONEROSTER_VERSION_INVALID manifest.csv:3',
    ]);
  });

  it('suggests the right property for a misspelled one', async () => {
    const result = await validateTree(
      package11({ 'manifest.csv': manifest.replace('manifest.version', 'mainfest.version') }),
    );
    expect(codes(result)).toEqual(['MANIFEST_PROPERTY_MISSING', 'MANIFEST_PROPERTY_UNKNOWN']);
    expect(result.diagnostics.find((d) => d.code === 'MANIFEST_PROPERTY_UNKNOWN')?.hint).toBe(
      'Did you mean manifest.version?',
    );
  });

  it('reports blank and invalid modes', async () => {
    const m = manifest
      .replace('file.lineItems,absent', 'file.lineItems,')
      .replace('file.orgs,bulk', 'file.orgs,Bulk');
    expect(codes(await validateTree(package11({ 'manifest.csv': m })))).toEqual([
      'MANIFEST_MODE_INVALID',
      'MANIFEST_MODE_INVALID',
    ]);
  });

  it('refuses a bulk file that the manifest promises but the package lacks', async () => {
    const result = await validateTree(package11({ 'demographics.csv': null }));
    expect(codes(result)).toEqual(['MANIFEST_FILE_MISSING']);
    expect(result.diagnostics[0]?.message).toContain(
      'a receiver would remove every demographics record it holds',
    );
    expect(result.diagnostics[0]?.line).toBe(10);
  });

  it('reports a file present but marked absent', async () => {
    const m = manifest.replace('file.demographics,bulk', 'file.demographics,absent');
    expect(codes(await validateTree(package11({ 'manifest.csv': m })))).toEqual(['MANIFEST_FILE_NOT_LISTED']);
  });

  it('accepts oneroster.version 1.2.1 as 1.2', async () => {
    const m = csv('propertyName,value', 'manifest.version,1.0', 'oneroster.version,1.2.1', 'file.orgs,bulk');
    const result = await validateTree({ 'manifest.csv': m, 'orgs.csv': package11()['orgs.csv']! });
    expect(result.roster.version).toBe('1.2');
    expect(result.diagnostics.filter((d) => d.code !== 'MANIFEST_FILE_ROW_MISSING')).toEqual([]);
  });

  it('names files whose name is wrongly cased or not part of the version', async () => {
    const p = package11();
    const result = await validateTree({
      ...p,
      'Users.csv': p['users.csv']!,
      'users.csv': p['users.csv']!,
      'roles.csv': 'x\n',
      'lineItems.csv': 'x\n',
    });
    expect(diagnostics(result)).toEqual([
      'FILE_UNKNOWN Users.csv',
      'FILE_NOT_ROSTERING lineItems.csv',
      'FILE_UNKNOWN roles.csv',
    ]);
    expect(result.diagnostics[0]?.hint).toBe('Rename it to users.csv (file names are case-sensitive).');
  });
});

describe('roster rules', () => {
  it('reports duplicate sourcedIds with their line, keeping the first record', async () => {
    const p = package11();
    const users = withLines(
      p['users.csv']!.toString(),
      'u1,,,true,s1,student,ben.lee2,{SIS:1003},Ben,Lee,,S003,ben.lee2@students.springfield.example,,,,03,',
    );
    const result = await validateTree({ ...p, 'users.csv': users });
    expect(diagnostics(result)).toEqual(['DUPLICATE_SOURCED_ID users.csv:5']);
    expect(result.roster.table('users').size).toBe(3);
  });

  it('reports every reference that does not resolve', async () => {
    const p = package11();
    const enrollments = withLines(
      p['enrollments.csv']!.toString(),
      'e4,,,k9,s1,u1,student,,,',
      'e5,,,k1,s1,nobody,student,,,',
    );
    const classes = withLine(
      p['classes.csv']!.toString(),
      1,
      'k1,,,Math 3A,03,c9,M3A,scheduled,Room 12,s1,"fall25,spring26",Mathematics,02052,1',
    );
    const result = await validateTree({ ...p, 'enrollments.csv': enrollments, 'classes.csv': classes });
    expect(result.diagnostics.map((d) => `${d.code} ${d.file}:${d.line} ${d.field}`)).toEqual([
      'REFERENCE_MISSING classes.csv:2 courseSourcedId',
      'REFERENCE_MISSING classes.csv:2 termSourcedIds',
      'REFERENCE_MISSING enrollments.csv:5 classSourcedId',
      'REFERENCE_MISSING enrollments.csv:6 userSourcedId',
    ]);
  });

  it('reports a school reference to an org that is not a school', async () => {
    const p = package11();
    const classes = withLine(
      p['classes.csv']!.toString(),
      1,
      'k1,,,Math 3A,03,c1,M3A,scheduled,Room 12,d1,fall25,Mathematics,02052,1',
    );
    const result = await validateTree({ ...p, 'classes.csv': classes });
    expect(codes(result)).toEqual(['REFERENCE_WRONG_TYPE']);
    expect(result.diagnostics[0]?.message).toBe(
      'schoolSourcedId "d1" is an org of type district, not a school',
    );
  });

  it('reports a whole referenced file missing once, not per row', async () => {
    const manifest = package11()
      ['manifest.csv']!.toString()
      .replace('file.courses,bulk', 'file.courses,absent');
    const result = await validateTree(package11({ 'manifest.csv': manifest, 'courses.csv': null }));
    expect(codes(result)).toEqual(['REFERENCE_FILE_MISSING']);
  });

  it('does not require delta rows to resolve inside the package', async () => {
    const manifest = package11()
      ['manifest.csv']!.toString()
      .replace('file.enrollments,bulk', 'file.enrollments,delta');
    const enrollments = csv(
      'sourcedId,status,dateLastModified,classSourcedId,schoolSourcedId,userSourcedId,role,primary,beginDate,endDate',
      'e9,active,2025-09-01T12:00:00.000Z,k1,s1,held-by-vendor,student,,,',
    );
    const result = await validateTree(
      package11({ 'manifest.csv': manifest, 'enrollments.csv': enrollments }),
    );
    expect(result.diagnostics).toEqual([]);
  });

  it('reports cycles in org parents', async () => {
    const orgs = csv(
      'sourcedId,status,dateLastModified,name,type,identifier,parentSourcedId',
      'd1,,,District,district,,s1',
      's1,,,Lincoln Elementary,school,0042,d1',
    );
    const result = await validateTree(package11({ 'orgs.csv': orgs }));
    expect(codes(result)).toEqual(['REFERENCE_CYCLE']);
  });

  it('does not enforce rules official valid packages break', async () => {
    // Class terms of type schoolYear, and an enrollment role that differs from the user's role.
    const p = package11();
    const classes = withLine(
      p['classes.csv']!.toString(),
      1,
      'k1,,,Math 3A,03,c1,M3A,scheduled,Room 12,s1,sy26,Mathematics,02052,1',
    );
    const enrollments = withLine(p['enrollments.csv']!.toString(), 1, 'e1,,,k1,s1,t1,administrator,,,');
    expect(
      (await validateTree({ ...p, 'classes.csv': classes, 'enrollments.csv': enrollments })).diagnostics,
    ).toEqual([]);
  });

  it('warns on an e-mail address shared by two people', async () => {
    const p = package11();
    const users = withLine(
      p['users.csv']!.toString(),
      3,
      'u2,,,true,s1,student,cara.wu,{SIS:1002},Cara,Wu,,S002,ben.lee@students.springfield.example,,,,03,',
    );
    expect(codes(await validateTree({ ...p, 'users.csv': users }))).toEqual(['EMAIL_SHARED']);
  });

  it('compares e-mail addresses in lower case, Unicode included, and not for the same username', async () => {
    const p = package11();
    const shared = async (first: string, second: string, username = 'cara.wu') => {
      const users = withLine(
        withLine(
          p['users.csv']!.toString(),
          2,
          `u1,,,true,s1,student,ben.lee,{SIS:1001},Ben,Lee,,S001,${first},,,,03,`,
        ),
        3,
        `u2,,,true,s1,student,${username},{SIS:1002},Cara,Wu,,S002,${second},,,,03,`,
      );
      return codes(await validateTree({ ...p, 'users.csv': users })).includes('EMAIL_SHARED');
    };
    expect(await shared('ben.lee@x.example', 'BEN.Lee@X.example')).toBe(true);
    expect(await shared('bén.lee@x.example', 'BÉN.LEE@X.EXAMPLE')).toBe(true);
    // KELVIN SIGN lower-cases to an ASCII k.
    expect(await shared('kim@x.example', '\u212Aim@x.example')).toBe(true);
    expect(await shared('ben.lee@x.example', 'ben.lee@x.example', 'ben.lee')).toBe(false);
    expect(await shared('ben.lee@x.example', 'ben.le@x.example')).toBe(false);
    expect(await shared('bén.lee@x.example', 'ben.lee@x.example')).toBe(false);
  });
});

describe('OneRoster 1.2', () => {
  const manifest12 = csv(
    'propertyName,value',
    'manifest.version,1.0',
    'oneroster.version,1.2',
    'file.orgs,bulk',
    'file.users,bulk',
    'file.roles,bulk',
    'file.userProfiles,bulk',
  );
  const orgs = package11()['orgs.csv']!;
  const users121 =
    'sourcedId,status,dateLastModified,enabledUser,username,userIds,givenName,familyName,middleName,identifier,email,sms,phone,agentSourcedIds,grades,password,userMasterIdentifier,preferredGivenName,preferredMiddleName,preferredFamilyName,primaryOrgSourcedId,pronouns';
  const roles = csv(
    'sourcedId,status,dateLastModified,userSourcedId,roleType,role,beginDate,endDate,orgSourcedId,userProfileSourcedId',
    'r1,,,t1,primary,teacher,,,s1,p1',
    'r2,,,t1,secondary,teacher,,,d1,',
  );
  const profiles = csv(
    'sourcedId,status,dateLastModified,userSourcedId,profileType,vendorId,applicationId,description,credentialType,username,password',
    'p1,,,t1,lms,v1,,,password,ana,',
  );
  const only = (errs: string[]) => errs.filter((c) => c !== 'MANIFEST_FILE_ROW_MISSING');

  it('accepts both users.csv shapes (1.2.1 with 22 columns, 1.2 Final with 23)', async () => {
    const a = await validateTree({
      'manifest.csv': manifest12,
      'orgs.csv': orgs,
      'roles.csv': roles,
      'userProfiles.csv': profiles,
      'users.csv': csv(users121, 't1,,,true,ana,,Ana,Diaz,,,,,,,,,,,,,s1,'),
    });
    expect(only(codes(a))).toEqual([]);
    const final = users121.replace('userMasterIdentifier,', 'userMasterIdentifier,resourceSourcedIds,');
    const b = await validateTree({
      'manifest.csv': manifest12,
      'orgs.csv': orgs,
      'roles.csv': roles,
      'userProfiles.csv': profiles,
      'users.csv': csv(final, 't1,,,true,ana,,Ana,Diaz,,,,,,,,,,res1,,,,s1,'),
    });
    expect(only(codes(b))).toEqual([]);
    expect(b.roster.table('users').get(0).resourceSourcedIds).toBe('res1');
  });

  it('reports a 1.1 users header in a 1.2 package', async () => {
    const users11 = package11()['users.csv']!;
    const result = await validateTree({
      'manifest.csv': manifest12,
      'orgs.csv': orgs,
      'roles.csv': roles,
      'userProfiles.csv': profiles,
      'users.csv': users11,
    });
    expect(only(codes(result))).toContain('HEADER_VERSION_MISMATCH');
  });

  it('checks roles: one primary per user and org, primary org backed by a role', async () => {
    const badRoles = withLines(roles, 'r3,,,t1,primary,aide,,,s1,');
    const result = await validateTree({
      'manifest.csv': manifest12,
      'orgs.csv': orgs,
      'roles.csv': badRoles,
      'userProfiles.csv': profiles,
      'users.csv': csv(users121, 't1,,,true,ana,,Ana,Diaz,,,,,,,,,,,,,d9,'),
    });
    expect(only(codes(result)).sort()).toEqual([
      'PRIMARY_ORG_WITHOUT_ROLE',
      'REFERENCE_MISSING',
      'ROLE_PRIMARY_COUNT',
    ]);
    expect(result.diagnostics.find((d) => d.code === 'ROLE_PRIMARY_COUNT')?.line).toBe(4);
  });
});

describe('roster folders with symbolic links', () => {
  it('reads linked files and folders, once each, and counts a dangling link for nothing', async () => {
    const root = tempDir();
    const exports = writeTree(join(root, 'exports'), package11());
    const roster = join(root, 'roster');
    mkdirSync(roster);
    for (const name of Object.keys(package11())) symlinkSync(join(exports, name), join(roster, name));
    symlinkSync(root, join(roster, 'loop')); // a link back up the tree
    symlinkSync(join(root, 'gone'), join(roster, 'gone.csv'));
    const result = await validatePath(roster);
    expect(codes(result)).toEqual([]);
    expect(result.roster.table('users').size).toBe(3);
  });

  it('reads roster YAML whose school files stand in a linked folder', async () => {
    const root = tempDir();
    writeTree(join(root, 'shared'), {
      's1.yaml': 'schools:\n  - sourcedId: s1\n    name: Lincoln\n    parentSourcedId: d1\n',
    });
    const roster = writeTree(join(root, 'roster'), {
      'roster.yaml': 'oneroster: "1.1"\norgs:\n  - sourcedId: d1\n    name: District\n    type: district\n',
    });
    symlinkSync(join(root, 'shared'), join(roster, 'schools'));
    const result = await validatePath(roster);
    expect(codes(result)).toEqual([]);
    expect(result.roster.table('orgs').size).toBe(2);
  });
});

describe('packages without rostering records', () => {
  const manifest = (modes: Record<string, string>) =>
    `${[
      'propertyName,value',
      'manifest.version,1.0',
      'oneroster.version,1.1',
      ...MANIFEST_FILES['1.1'].map((f) => `file.${f},${modes[f] ?? 'absent'}`),
    ].join('\n')}\n`;

  it('a manifest that marks every file absent is valid: nothing to do', async () => {
    const result = await validateTree({ 'manifest.csv': manifest({}) });
    expect(result.diagnostics).toEqual([]);
    expect(result.valid).toBe(true);
  });

  it('demographics without users: one REFERENCE_FILE_MISSING', async () => {
    const p = package11();
    const result = await validateTree({
      'manifest.csv': manifest({ demographics: 'bulk' }),
      'demographics.csv': p['demographics.csv']!,
    });
    expect(diagnostics(result)).toEqual(['REFERENCE_FILE_MISSING demographics.csv:2']);
    expect(result.diagnostics[0]!.message).toBe(
      'demographics.csv references users.csv (sourcedId), but the package has no users.csv',
    );
  });

  it('a gradebook-only package is valid, its files noted as not read', async () => {
    const result = await validateTree({
      'manifest.csv': manifest({ categories: 'bulk' }),
      'categories.csv': 'sourcedId,status,dateLastModified,title\nc1,,,Homework\n',
    });
    expect(result.diagnostics.map((d) => `${d.severity} ${d.code}`)).toEqual(['info FILE_NOT_ROSTERING']);
    expect(result.valid).toBe(true);
  });
});

describe('zip packages', () => {
  function zipOf(dir: string, files: Record<string, string>, name = 'OneRoster.zip'): string {
    writeTree(join(dir, 'src'), files);
    const zip = join(dir, name);
    execFileSync('zip', ['-q', '-X', zip, ...Object.keys(files)], { cwd: join(dir, 'src') });
    return zip;
  }
  /** A zip with entry names no zip tool would write (python's zipfile writes any name). */
  function craftedZip(dir: string, entries: Record<string, string>): string {
    const zip = join(dir, 'crafted.zip');
    writeTree(dir, { 'entries.json': JSON.stringify(entries) });
    const script =
      'import sys,zipfile,json\nz=zipfile.ZipFile(sys.argv[1],"w",zipfile.ZIP_DEFLATED)\nfor k,v in json.load(open(sys.argv[2])).items(): z.writestr(k,v)\nz.close()';
    execFileSync('python3', ['-c', script, zip, join(dir, 'entries.json')]);
    return zip;
  }

  it('reads a zip like a folder', async () => {
    const dir = tempDir();
    const result = await validatePath(zipOf(dir, package11() as Record<string, string>));
    expect(result.diagnostics).toEqual([]);
    expect(result.format).toBe('oneroster-zip');
    expect(result.roster.table('enrollments').size).toBe(3);
  });

  it('refuses entries that point outside the package, and nested folders', async () => {
    const dir = tempDir();
    const files = {
      ...(package11() as Record<string, string>),
      '../evil.csv': 'x\n',
      'sub/users.csv': 'x\n',
      '/abs.csv': 'x\n',
    };
    const result = await validatePath(craftedZip(dir, files));
    expect(codes(result).sort()).toEqual(['ZIP_NESTED_FOLDER', 'ZIP_UNSAFE_PATH', 'ZIP_UNSAFE_PATH']);
  });

  it('refuses a zip that expands beyond the limit (zip bomb)', async () => {
    const dir = tempDir();
    const big = 'a'.repeat(2_000_000);
    const result = await validatePath(craftedZip(dir, { 'manifest.csv': big }), {
      maxExpandedBytes: 1_000_000,
    });
    expect(codes(result)).toEqual(['ZIP_TOO_LARGE']);
  });

  it('reports a damaged zip', async () => {
    const dir = tempDir();
    writeTree(dir, { 'broken.zip': Buffer.from('PK\u0003\u0004 this is not really a zip') });
    expect(codes(await validatePath(join(dir, 'broken.zip')))).toContain('ZIP_INVALID');
  });

  it('refuses an entry whose bytes fail its CRC-32 (a flipped byte is never read as data)', async () => {
    const dir = tempDir();
    writeTree(join(dir, 'src'), package11() as Record<string, string>);
    const zip = join(dir, 'stored.zip');
    // -0: stored, so that a byte of users.csv can be flipped in place without breaking inflation.
    execFileSync('zip', ['-q', '-X', '-0', zip, ...Object.keys(package11())], { cwd: join(dir, 'src') });
    expect((await validatePath(zip)).diagnostics).toEqual([]);
    const bytes = readFileSync(zip);
    const at = bytes.indexOf(',Cara,');
    expect(at).toBeGreaterThan(0);
    bytes[at + 1] = 'K'.charCodeAt(0);
    writeFileSync(zip, bytes);
    await expect(validatePath(zip)).rejects.toMatchObject({
      code: 'ZIP_INVALID',
      message: expect.stringContaining('fails its CRC-32 check'),
    });
  });
});
