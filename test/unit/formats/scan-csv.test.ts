import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { Diagnostics } from '../../../src/diagnostic.js';
import { quotesTaken, scanCsv, splitQuotedLine } from '../../../src/formats/csv/scan-csv.js';
import { readOneRoster } from '../../../src/formats/oneroster-csv/read.js';
import { directoryFiles } from '../../../src/formats/package-files.js';
import { csv, package11, tempDir, writeTree } from '../../helpers/fixtures.js';

/** Scans `chunks` (fed one by one, as a stream would) into rows of strings. */
async function scan(...chunks: (string | Buffer)[]) {
  const rows: { line: number; cells: string[] }[] = [];
  const outcome = await scanCsv(
    Readable.from(chunks.map((c) => (typeof c === 'string' ? Buffer.from(c) : c))),
    {
      row(r, line) {
        const cells =
          r.cells ??
          Array.from({ length: r.count }, (_, k) => r.bytes.toString('utf8', r.starts[k], r.ends[k]));
        rows.push({ line, cells });
      },
    },
  );
  return { outcome, rows };
}

describe('the fast CSV scanner', () => {
  it('takes a line of 12.5 MB in 16 KB pieces (as a zip inflates) in linear time, in order', async () => {
    const long = 'x'.repeat(12_500_000);
    const text = Buffer.from(`a,b\n1,${long}\n2,3`);
    const pieces: Buffer[] = [];
    for (let at = 0; at < text.length; at += 16_384) pieces.push(text.subarray(at, at + 16_384));
    const started = performance.now();
    const { outcome, rows } = await scan(...pieces);
    // Joining at every piece took 15 s here; linear is well under a second.
    expect(performance.now() - started).toBeLessThan(5000);
    expect(outcome).toMatchObject({ kind: 'done', rows: 3, finalNewline: false });
    expect(rows.map((r) => [r.line, r.cells[0], r.cells[1]!.length])).toEqual([
      [1, 'a', 1],
      [2, '1', long.length],
      [3, '2', 1],
    ]);
  });

  it('finds fields and line numbers across chunk boundaries, with CRLF, a BOM and blank lines', async () => {
    const { outcome, rows } = await scan('\ufeffa,b,c\r\n1,2', ',3\r\n\r\n  \n4,"x, ""y""",\n');
    expect(outcome).toEqual({ kind: 'done', rows: 3, empty: false, finalNewline: true });
    expect(rows).toEqual([
      { line: 1, cells: ['a', 'b', 'c'] },
      { line: 2, cells: ['1', '2', '3'] },
      { line: 5, cells: ['4', 'x, "y"', ''] },
    ]);
  });

  it('keeps a multi-byte character split between two chunks whole', async () => {
    const bytes = Buffer.from('id,name\n1,Zoë\n');
    const cut = bytes.indexOf(0xc3) + 1;
    const { rows } = await scan(bytes.subarray(0, cut), bytes.subarray(cut));
    expect(rows[1]!.cells).toEqual(['1', 'Zoë']);
  });

  it('tells of a last line without a line break, and of an empty file', async () => {
    expect((await scan('a,b\n1,2')).outcome).toMatchObject({ kind: 'done', rows: 2, finalNewline: false });
    expect((await scan('\n \n')).outcome).toMatchObject({ kind: 'done', rows: 0, empty: true });
  });

  it.each([
    ['a quoted value over a line break', 'a,b\n1,"x\ny"\n'],
    ['an unclosed quote', 'a,b\n1,"x\n'],
    ['text after a closing quote', 'a,b\n1,"x"y\n'],
    ['a quote inside an unquoted value', 'a,b\n1,x"y\n'],
    ['bytes that are not UTF-8', Buffer.from([0x61, 0x0a, 0x63, 0x61, 0x66, 0xe9, 0x0a])],
    ['UTF-16', Buffer.from([0xff, 0xfe, 0x61, 0x00])],
    ['a bare carriage return', 'a,b\r1,2\n'],
  ])('hands %s over to the general parser', async (_what, input) => {
    expect((await scan(input)).outcome.kind).toBe('fallback');
  });

  it('splits quoted lines as RFC 4180 says', () => {
    expect(splitQuotedLine('"a","b,c",,"d""e"')).toEqual(['a', 'b,c', '', 'd"e']);
    expect(splitQuotedLine('"",x')).toEqual(['', 'x']);
    expect(splitQuotedLine('"a"b')).toBeUndefined();
  });

  it('takes, on the bytes, exactly the quoted lines splitQuotedLine takes', () => {
    // Every line of up to six characters from a small alphabet, and random longer ones.
    const alphabet = ['"', ',', 'a', 'é'];
    const lines: string[] = [''];
    for (let k = 0, from = 0; k < 6; k++) {
      const to = lines.length;
      for (let i = from; i < to; i++) for (const c of alphabet) lines.push(lines[i]! + c);
      from = to;
    }
    let seed = 7;
    const random = () => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed;
    };
    for (let n = 0; n < 2000; n++)
      lines.push(
        Array.from({ length: 8 + (random() % 30) }, () => alphabet[random() % alphabet.length]).join(''),
      );
    const taken = { yes: 0, no: 0 };
    for (const line of lines) {
      // (Inside a longer buffer: the line's edges are where the function is told they are.)
      const bytes = Buffer.from(`x\n${line}\ny`);
      const expected = splitQuotedLine(line) !== undefined;
      expect(quotesTaken(bytes, 2, bytes.length - 2), line).toBe(expected);
      taken[expected ? 'yes' : 'no']++;
    }
    expect(taken.yes).toBeGreaterThan(500);
    expect(taken.no).toBeGreaterThan(500);
  });
});

describe('the fast and the general reader', () => {
  async function read(dir: string, reader: 'auto' | 'general') {
    const diagnostics = new Diagnostics();
    const { roster } = await readOneRoster(directoryFiles(dir), diagnostics, { reader });
    const tables = Object.fromEntries(
      roster.entities().map((e) => [e, { fields: roster.table(e).fields, records: [...roster.table(e)] }]),
    );
    return { tables, diagnostics: diagnostics.list };
  }

  it('read the same records and report the same diagnostics, values needing normalization included', async () => {
    const p = package11();
    const users = csv(
      ...p['users.csv']!.toString().trim().split('\n'),
      // Spaces, a tab, upper-case booleans and enumerations, a duplicate and a wrong width.
      'u9,, , TRUE ,s1,Student,alice9 ,,Ali\tce,Smith,,,,,,,03,',
      'u9,,,true,s1,student,alice9,,Alice,Smith,,,,,,,03,',
      'u10,,,true,s1,student,alice10,,Alice,Smith,,,,,,,03,,extra',
    );
    const dir = writeTree(tempDir(), { ...p, 'users.csv': users });
    const fast = await read(dir, 'auto');
    const general = await read(dir, 'general');
    expect(fast).toEqual(general);
    expect(fast.diagnostics.map((d) => d.code)).toContain('DUPLICATE_SOURCED_ID');
    expect(fast.tables.users!.records.find((u) => u.sourcedId === 'u9')).toMatchObject({
      enabledUser: 'true',
      role: 'student',
      username: 'alice9',
      givenName: 'Alice',
    });
  });

  it('find the same field diagnostics when the fast reader skips rows it knows are clean', async () => {
    const p = package11();
    const enrollments = csv(
      ...p['enrollments.csv']!.toString().trim().split('\n'),
      'e4,,,k1,s1,u1,student,,,', // clean, and like many others (remembered answers)
      'e5,,,k1,s1,u2,Student,TRUE,2025-02-30,', // enumeration case, boolean case, impossible date
      'e6,,,,s1,u2,student,,,', // a required reference missing
      'e 7,,,k1,s1,u2,student,,,', // not a sourcedId
      'e8,active,,k1,s1,u1,student,,,', // status in a bulk file
      'e9,,,k1,s1,u1,proctor,false,2025-08-18,2026-01-10',
      'e10,,,k1,s1,u1,student,,,',
    );
    const dir = writeTree(tempDir(), { ...p, 'enrollments.csv': enrollments });
    const fast = await read(dir, 'auto');
    const general = await read(dir, 'general');
    expect(fast).toEqual(general);
    const codes = fast.diagnostics.map((d) => `${d.code}@${d.line}`);
    for (const c of [
      'VALUE_ENUM@6',
      'VALUE_BOOLEAN@6',
      'VALUE_DATE@6',
      'VALUE_REQUIRED@7',
      'VALUE_GUID@8',
      'STATUS_IN_BULK@9',
    ])
      expect(codes).toContain(c);
  });

  it('judge e-mail addresses as the rule does, those checked on their bytes included', async () => {
    const p = package11();
    const emails = [
      'ana@x.example', // clean
      'ana@x', // no dot
      'ana@.example', // dot right after @
      'ana@x.', // dot at the end
      'ana@@x.example',
      '@x.example',
      'a;b@x.example',
      'ana@x.ex ample',
      'anä@x.example', // not ASCII: checked as a string (clean)
      'a\u0001@x.example', // a control character: checked as a string
      'a.b@c.d.e',
    ];
    const users = csv(
      ...p['users.csv']!.toString().trim().split('\n'),
      ...emails.map((email, i) => `m${i},,,true,s1,student,m${i},,Ana,Mo,,,${email},,,,03,`),
    );
    const dir = writeTree(tempDir(), { ...p, 'users.csv': users });
    const fast = await read(dir, 'auto');
    const general = await read(dir, 'general');
    expect(fast).toEqual(general);
    const flagged = fast.diagnostics.filter((d) => d.code === 'VALUE_EMAIL').map((d) => d.recordId);
    expect(flagged).toEqual(['m1', 'm2', 'm3', 'm4', 'm5', 'm6', 'm7']);
  });

  it('judge dates and user ids as the rules do, those checked on their bytes included', async () => {
    const p = package11();
    const dates = [
      '2017-03-04', // clean
      '2016-02-29', // a leap day
      '2000-02-29', // a leap day (divisible by 400)
      '1900-02-29', // not a leap year
      '2017-02-29',
      '2017-04-31',
      '2017-13-01',
      '2017-00-10',
      '17-03-04',
      '2017/03/04',
      '0050-01-01', // checked as a string (the rule's own answer)
      '2017-03-4',
    ];
    const ids = [
      '{SIS:1001}', // clean
      '{SIS:1001},{state:X-9}', // clean
      '{SIS:a:b}', // a colon in the id: clean
      '{SIS:a,b}', // a comma inside: clean
      'SIS:1001',
      '{SIS1001}',
      '{:1001}',
      '{SIS:}',
      '{SIS:1},',
      '{SIS:1} ,{X:2}',
      '{SIS:1}{X:2}',
      '{ SIS:1}', // a space: checked as a string
    ];
    const demographics = csv(
      ...p['demographics.csv']!.toString().trim().split('\n'),
      ...dates.map((d, i) => `d${i},,,${d},male,false,false,false,false,true,false,false,,,,`),
    );
    const users = csv(
      ...p['users.csv']!.toString().trim().split('\n'),
      ...ids.map((id, i) => `n${i},,,true,s1,student,n${i},"${id}",Ana,Mo,,,,,,,03,`),
    );
    const dir = writeTree(tempDir(), { ...p, 'demographics.csv': demographics, 'users.csv': users });
    const fast = await read(dir, 'auto');
    const general = await read(dir, 'general');
    expect(fast).toEqual(general);
    const flagged = (code: string) => fast.diagnostics.filter((d) => d.code === code).map((d) => d.recordId);
    expect(flagged('VALUE_DATE')).toEqual(['d3', 'd4', 'd5', 'd6', 'd7', 'd8', 'd9', 'd10', 'd11']);
    expect(flagged('VALUE_USER_IDS')).toEqual(['n4', 'n5', 'n6', 'n7', 'n8', 'n9', 'n10']);
  });
});
