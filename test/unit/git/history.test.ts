/** The record history's pure parts: record diffs of file versions, pull requests from subjects, textconv text. */
import { describe, expect, it } from 'vitest';
import { diffRecordFiles, recordsMentioning } from '../../../src/git/record-diff.js';
import { ownPullRequest } from '../../../src/git/record-history.js';
import { recordsText } from '../../../src/render/history.js';

const USERS =
  'sourcedId,status,dateLastModified,enabledUser,orgSourcedIds,role,username,givenName,familyName,grades\n';
const file = (path: string, text: string) => ({ path, bytes: Buffer.from(text) });

describe('diffRecordFiles', () => {
  it('compares CSV by lines, and finds the records that changed, went and came', async () => {
    const before = file(
      'roster/users.csv',
      `${USERS}u1,,,true,s1,student,ben,Ben,Lee,03\nu2,,,true,s1,student,cara,Cara,Wu,03\n`,
    );
    const after = file(
      'roster/users.csv',
      `${USERS}u1,,,true,s1,student,ben,Ben,Lee,04\nu3,,,true,s1,student,dee,Dee,Ok,07\n`,
    );
    const changes = await diffRecordFiles([before], [after]);
    expect(changes.map((c) => [c.id, c.before?.grades, c.after?.grades])).toEqual([
      ['users/u1', '03', '04'],
      ['users/u2', '03', undefined],
      ['users/u3', undefined, '07'],
    ]);
  });

  it('sees no change where only the order, line endings or quoting changed', async () => {
    const before = file(
      'users.csv',
      `${USERS}u1,,,true,s1,student,ben,Ben,Lee,03\nu2,,,true,s1,student,cara,Cara,Wu,03\n`,
    );
    const after = file(
      'users.csv',
      `${USERS.replace('\n', '\r\n')}"u2",,,true,s1,student,cara,"Cara",Wu,03\r\nu1,,,true,s1,student,ben,Ben,Lee,03\r\n`,
    );
    expect(await diffRecordFiles([before], [after])).toEqual([]);
  });

  it('reads a value with a line break inside quotes whole (no line comparison then)', async () => {
    const before = file('users.csv', `${USERS}u1,,,true,s1,student,ben,"Ben\nJr",Lee,03\n`);
    const after = file('users.csv', `${USERS}u1,,,true,s1,student,ben,"Ben\nSr",Lee,03\n`);
    const [change] = await diffRecordFiles([before], [after]);
    // (Values as the roster reads them: control characters such as the line break are dropped.)
    expect(change).toMatchObject({
      id: 'users/u1',
      before: { givenName: 'BenJr' },
      after: { givenName: 'BenSr' },
    });
  });

  it('matches records across a switch from CSV to YAML', async () => {
    const csv = file('roster/users.csv', `${USERS}u1,,,true,s1,student,ben,Ben,Lee,03\n`);
    const yaml = file(
      'roster/roster.yaml',
      'oneroster: "1.1"\nusers:\n  - { sourcedId: u1, enabledUser: true, orgSourcedIds: [s1], role: student, username: ben, givenName: Ben, familyName: Lee, grades: ["04"] }\n',
    );
    const changes = await diffRecordFiles([csv], [yaml]);
    expect(changes).toEqual([
      expect.objectContaining({
        id: 'users/u1',
        before: expect.objectContaining({ grades: '03' }),
        after: expect.objectContaining({ grades: '04' }),
      }),
    ]);
  });

  it('finds the records that are or name an id, from their lines', async () => {
    const enrollments = file(
      'enrollments.csv',
      'sourcedId,status,dateLastModified,classSourcedId,schoolSourcedId,userSourcedId,role\ne1,,,k1,s1,u1,student\ne2,,,k1,s1,u11,student\n',
    );
    const found = await recordsMentioning(
      [enrollments, file('users.csv', `${USERS}u1,,,true,s1,student,ben,Ben,Lee,03\n`)],
      'u1',
    );
    expect([...found.keys()].sort()).toEqual(['enrollments/e1', 'users/u1']);
  });
});

describe('ownPullRequest', () => {
  it('reads merge, squash and branch subjects', () => {
    expect(ownPullRequest('Merge pull request #7 from district/fix-grades')).toEqual({
      number: 7,
      branch: 'district/fix-grades',
    });
    expect(ownPullRequest('Drop Cara from Math 3A (#8)')).toEqual({ number: 8 });
    expect(ownPullRequest("Merge branch 'spring-rollover'")).toEqual({ branch: 'spring-rollover' });
    expect(ownPullRequest('Nightly SIS export')).toBeUndefined();
    expect(ownPullRequest('Issue #8 fixed')).toBeUndefined();
  });
});

describe('recordsText (the git diff driver)', () => {
  it('writes each record as a header line and one value per line, sorted', () => {
    const text = recordsText(
      new Map<string, Record<string, string>>([
        ['users/u2', { sourcedId: 'u2', givenName: 'Cara' }],
        ['users/u1', { sourcedId: 'u1', givenName: 'Ben', grades: '03' }],
      ]),
    );
    expect(text).toBe('users/u1\n\tgivenName: Ben\n\tgrades: 03\nusers/u2\n\tgivenName: Cara\n');
  });
});
