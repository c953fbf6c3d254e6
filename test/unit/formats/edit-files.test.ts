/** The in-place editors of CSV and YAML text: round trips and the bytes they keep. */
import { describe, expect, it } from 'vitest';
import { editCsv } from '../../../src/formats/csv/edit-csv.js';
import { YamlFileEdit } from '../../../src/formats/yaml/edit-yaml.js';

const HEADER = 'sourcedId,givenName,familyName,grades\n';

describe('editCsv', () => {
  it('gives back the same bytes when there is nothing to do, whatever the file looks like', () => {
    for (const text of [
      `${HEADER}u1,Ben,Lee,03\n`,
      `\uFEFF"sourcedId","givenName"\r\n"u1","Ben"\r\n`,
      `${HEADER}u1,"Lee, Ben",Lee,03`, // no final newline, a quoted comma
      `${HEADER}u1,"Ben\nJr",Lee,03\n`, // a line break inside quotes
    ]) {
      const bytes = Buffer.from(text);
      expect(editCsv(bytes, {}).equals(bytes)).toBe(true);
    }
  });

  it('changes only the cells asked for, keeping the row quoting of the others', () => {
    const bytes = Buffer.from(`${HEADER}u1,"Ben",Lee,03\nu2,Cara,Wu,03\n`);
    const out = editCsv(bytes, {
      set: new Map([['u1', { familyName: 'Lee, Jr', grades: '04' }]]),
    }).toString();
    expect(out).toBe(`${HEADER}u1,"Ben","Lee, Jr",04\nu2,Cara,Wu,03\n`);
  });

  it('adds a row where the keys put it, and at the end of a file without a final newline', () => {
    const sorted = Buffer.from(`${HEADER}u1,Ben,Lee,03\nu3,Dee,Ok,07\n`);
    expect(editCsv(sorted, { add: [{ sourcedId: 'u2', givenName: 'Cara' }] }).toString()).toBe(
      `${HEADER}u1,Ben,Lee,03\nu2,Cara,,\nu3,Dee,Ok,07\n`,
    );
    const open = Buffer.from(`${HEADER}u3,Dee,Ok,07\nu1,Ben,Lee,03`);
    expect(editCsv(open, { add: [{ sourcedId: 'u2', givenName: 'Cara' }] }).toString()).toBe(
      `${HEADER}u3,Dee,Ok,07\nu1,Ben,Lee,03\nu2,Cara,,`,
    );
  });

  it('refuses what it cannot do in place', () => {
    const bytes = Buffer.from(`${HEADER}u1,Ben,Lee,03\n`);
    expect(() => editCsv(bytes, { remove: new Set(['u9']) })).toThrow('there is no row u9');
    expect(() => editCsv(bytes, { add: [{ sourcedId: 'u1' }] })).toThrow('a row u1 is there already');
    expect(() => editCsv(bytes, { set: new Map([['u1', { nickname: 'B' }]]) })).toThrow(
      'the header has no column nickname',
    );
  });
});

describe('YamlFileEdit', () => {
  const text =
    '# a comment\nusers: &u\n  - { sourcedId: u1, grades: ["03"] } # flow\n  - sourcedId: u2\n    grades: ["03"]\nalias: *u\n';

  it('gives back the same text without an edit', () => {
    expect(new YamlFileEdit(text).text()).toBe(text);
  });

  it('edits values where they stand and keeps every other byte', () => {
    const edit = new YamlFileEdit(text);
    const users = (
      edit.doc.contents as never as {
        items: { value: { items: { items: { key: unknown; value: never }[] }[] } }[];
      }
    ).items[0]!.value;
    const [flow, block] = users.items;
    edit.replace(flow!.items[1]!.value, '["04"]');
    edit.insertPair(block as never, 'familyName', 'Wu');
    expect(edit.text()).toBe(
      '# a comment\nusers: &u\n  - { sourcedId: u1, grades: ["04"] } # flow\n  - sourcedId: u2\n    grades: ["03"]\n    familyName: Wu\nalias: *u\n',
    );
  });
});
