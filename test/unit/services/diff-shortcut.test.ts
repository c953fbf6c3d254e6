/**
 * roster diff's shortcut (only the lines that differ are read) against the full diff (both
 * rosters read whole): over random edits of OneRoster CSV folders, the plans are byte for byte the
 * same. Edits the shortcut cannot vouch for must send it the full way (it says why).
 */
import {
  createWriteStream,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { afterAll, describe, expect, it } from 'vitest';
import yazl from 'yazl';
import {
  linesOf as csvOfLines,
  diffKeyedLines,
  findKeys,
  type KeyedLines,
  keyedLines,
  lineBytes,
  markedLines,
} from '../../../src/formats/csv/keyed-lines.js';
import { writeOneRosterDir } from '../../../src/formats/oneroster-csv/write.js';
import { generateDistrict, seededRandom } from '../../../src/generate/generate.js';
import { planJsonChunks } from '../../../src/render/plan-json.js';
import { diffRosters, diffTarget } from '../../../src/services/diff.js';
import { diffByLines } from '../../../src/services/diff-shortcut.js';

const root = mkdtempSync(join(tmpdir(), 'diff-lines-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const now = new Date('2026-11-29T10:00:00Z');

const district = generateDistrict({ schools: 8, students: 240, seed: 'diff-lines' });
const base = join(root, 'base');
await writeOneRosterDir(district, base);

type Files = Map<string, string>;
const read = (dir: string): Files =>
  new Map(readdirSync(dir).map((f) => [f, readFileSync(join(dir, f), 'utf8')]));
let folders = 0;
function write(files: Files): string {
  const dir = join(root, `v${folders++}`);
  mkdirSync(dir);
  for (const [f, text] of files) writeFileSync(join(dir, f), text);
  return dir;
}
/** `dir`'s files (and `extra` entries) as a zip beside it. */
async function zipOf(dir: string, extra: [string, string][] = []): Promise<string> {
  const zip = new yazl.ZipFile();
  for (const f of readdirSync(dir).sort()) zip.addBuffer(readFileSync(join(dir, f)), f);
  for (const [name, text] of extra) zip.addBuffer(Buffer.from(text), name);
  zip.end();
  const path = `${dir}-${extra.length}.zip`;
  await pipeline(zip.outputStream, createWriteStream(path));
  return path;
}
const linesOf = (text: string) => text.split('\n').filter((l, i, all) => l !== '' || i < all.length - 1);
const joinLines = (lines: string[]) => `${lines.join('\n')}\n`;

async function json(a: string, b: string, full: boolean): Promise<string> {
  const { plan } = await diffRosters(a, b, { now, full });
  return [...planJsonChunks(plan)].map((c) => (typeof c === 'string' ? c : c.toString('utf8'))).join('');
}
const target = diffTarget();
/** Whether the shortcut made the diff (a reason string when it did not). */
async function shortcut(a: string, b: string): Promise<true | string> {
  const plan = await diffByLines({ oldPath: a, newPath: b, target, now, showPersonalData: false });
  return typeof plan === 'string' ? plan : true;
}

/** Diffs `base` with the edited files both ways; returns whether the shortcut made them. */
async function same(edit: (files: Files) => void, from = base): Promise<true | string> {
  const files = read(from);
  edit(files);
  const next = write(files);
  for (const [a, b] of [
    [from, next],
    [next, from],
  ] as const) {
    expect(await json(a, b, false)).toBe(await json(a, b, true));
  }
  return shortcut(from, next);
}

/** Edits the data lines (not the header) of `file`. */
function lines(files: Files, file: string, edit: (data: string[], header: string) => string[]): void {
  const all = linesOf(files.get(file)!);
  files.set(file, joinLines([all[0]!, ...edit(all.slice(1), all[0]!)]));
}
const setField = (line: string, column: number, value: string) => {
  const cells = line.split(',');
  cells[column] = value;
  return cells.join(',');
};

describe('roster diff by the lines that differ', () => {
  it('makes the full diff of random edits of every kind of line', async () => {
    const rnd = seededRandom('diff-lines-edits');
    const pick = (n: number) => Math.floor(rnd() * n);
    for (let round = 0; round < 24; round++) {
      const taken = await same((files) => {
        for (const file of [
          'users.csv',
          'enrollments.csv',
          'classes.csv',
          'demographics.csv',
          'courses.csv',
        ]) {
          lines(files, file, (data, header) => {
            const columns = header.split(',').length;
            const out = [...data];
            for (let k = 0; k < 1 + pick(4); k++) out.splice(pick(out.length), 1); // removed
            for (let k = 0; k < 1 + pick(4); k++) {
              const at = pick(out.length); // changed in one (unquoted) value
              const column = 1 + pick(columns - 1);
              if (!out[at]!.includes('"')) out[at] = setField(out[at]!, column, `x${pick(1000)}`);
            }
            // Added: at the end (out of order), or in the middle (in order).
            const model = out[pick(out.length)]!;
            if (!model.includes('"')) {
              out.push(setField(model, 0, `zz-new-${round}`));
              out.splice(pick(out.length), 0, setField(model, 0, `${model.split(',')[0]}-b${round}`));
            }
            return out;
          });
        }
      });
      expect(taken).toBe(true);
    }
  });

  it('makes the full diff of rows in no order, of values only spelled otherwise, and of line ends', async () => {
    // A file in no order: sorted by key first.
    expect(
      await same((files) =>
        lines(files, 'enrollments.csv', (data) => {
          const rnd = seededRandom('shuffle');
          const out = data.slice(5);
          for (let i = out.length - 1; i > 0; i--) {
            const j = Math.floor(rnd() * (i + 1));
            [out[i], out[j]] = [out[j]!, out[i]!];
          }
          return out;
        }),
      ),
    ).toBe(true);
    // Other bytes, the same records: unchanged (a status spelled in capitals, spaces around a value).
    expect(
      await same((files) =>
        lines(files, 'users.csv', (data, header) => {
          const status = header.split(',').indexOf('status');
          const given = header.split(',').indexOf('givenName');
          return data.map((l, i) =>
            i % 7 === 0
              ? setField(l, status, 'ACTIVE')
              : i % 5 === 0
                ? setField(l, given, ` ${l.split(',')[given]} `)
                : l,
          );
        }),
      ),
    ).toBe(true);
    // CRLF on one side, and on both; no final line break.
    expect(
      await same((files) => files.set('courses.csv', files.get('courses.csv')!.replace(/\n/g, '\r\n'))),
    ).toBe(true);
    const crlf = read(base);
    for (const [f, t] of crlf) crlf.set(f, t.replace(/\n/g, '\r\n'));
    const crlfDir = write(crlf);
    expect(await same((files) => lines(files, 'classes.csv', (data) => data.slice(1)), crlfDir)).toBe(true);
    expect(await same((files) => files.set('orgs.csv', files.get('orgs.csv')!.replace(/\n$/, '')))).toBe(
      true,
    );
  });

  it('makes the full diff of the changes that raise holds', async () => {
    // A school's enrollments all gone.
    const school = linesOf(read(base).get('orgs.csv')!)
      .map((l) => l.split(','))
      .find((c) => c.includes('school'))![0]!;
    expect(
      await same((files) =>
        lines(files, 'enrollments.csv', (data, header) => {
          const column = header.split(',').indexOf('schoolSourcedId');
          return data.filter((l) => l.split(',')[column] !== school);
        }),
      ),
    ).toBe(true);
    // A student under a new id (same e-mail, name and birth date): a suspected id change.
    const files = read(base);
    const userLine = linesOf(files.get('users.csv')!).find((l) => l.includes(',student,'))!;
    const id = userLine.split(',')[0]!;
    expect(
      await same((f) => {
        for (const file of ['users.csv', 'demographics.csv', 'enrollments.csv'])
          f.set(file, f.get(file)!.replaceAll(`${id},`, `${id}-new,`).replaceAll(`,${id},`, `,${id}-new,`));
        lines(f, 'demographics.csv', (data) => data.filter((l) => !l.startsWith(`${id},`)));
      }),
    ).toBe(true);
    // A student moved to another school, with their demographics changed (the school comes from users).
    expect(
      await same((f) => {
        lines(f, 'demographics.csv', (data, header) => {
          const sex = header.split(',').indexOf('sex');
          return data.map((l, i) =>
            i % 9 === 0 ? setField(l, sex, l.split(',')[sex] === 'male' ? 'female' : 'male') : l,
          );
        });
      }),
    ).toBe(true);
  });

  it('goes the full way when it cannot vouch for the lines', async () => {
    const reasons = [
      // A sourcedId twice (the reader keeps the first).
      await same((f) => lines(f, 'users.csv', (data) => [...data, data[3]!])),
      await same((f) => lines(f, 'users.csv', (data) => [...data].reverse().concat(data[3]!))),
      // A key that needs trimming or decoding.
      await same((f) => lines(f, 'classes.csv', (data) => data.map((l, i) => (i === 2 ? ` ${l}` : l)))),
      await same((f) =>
        lines(f, 'classes.csv', (data) =>
          data.map((l, i) => (i === 2 ? `"${l.split(',')[0]}",${l.split(',').slice(1).join(',')}` : l)),
        ),
      ),
      // Headers, manifests, files.
      await same((f) => f.set('courses.csv', f.get('courses.csv')!.replace('title', 'Title'))),
      await same((f) => f.set('manifest.csv', `${f.get('manifest.csv')!}"extra.key","x"\n`)),
      await same((f) => f.delete('demographics.csv')),
      // A carriage return inside a line, and a quote the byte scanner does not take.
      await same((f) =>
        lines(f, 'courses.csv', (data) => data.map((l, i) => (i === 1 ? setField(l, 3, 'a\rb') : l))),
      ),
      await same((f) =>
        lines(f, 'courses.csv', (data) => data.map((l, i) => (i === 1 ? setField(l, 3, 'a"b"') : l))),
      ),
      // A quoted value over a line break.
      await same((f) =>
        lines(f, 'courses.csv', (data) => data.map((l, i) => (i === 1 ? setField(l, 3, '"two\nlines"') : l))),
      ),
    ];
    for (const reason of reasons) expect(reason).toEqual(expect.any(String));
    expect(reasons[0]).toContain('a sourcedId twice');
    expect(reasons[1]).toContain('a sourcedId twice');
  });

  it('diffs zips, and a zip with a folder, by the lines that differ; not a zip it has diagnostics on', async () => {
    const files = read(base);
    lines(files, 'enrollments.csv', (data) => [
      ...data.filter((_, i) => i % 7 !== 3),
      setField(data[0]!, 0, 'enr-zip'),
    ]);
    lines(files, 'users.csv', (data) => data.map((l, i) => (i % 9 === 4 ? setField(l, 8, `Zip${i}`) : l)));
    const next = write(files);
    const [baseZip, nextZip] = await Promise.all([zipOf(base), zipOf(next)]);
    const folders = await json(base, next, false);
    for (const [a, b] of [
      [baseZip, nextZip],
      [base, nextZip],
      [nextZip, base],
    ] as const) {
      expect(await shortcut(a, b)).toBe(true);
      const shown = await json(a, b, false);
      expect(shown).toBe(await json(a, b, true));
      if (a === baseZip) expect(shown).toBe(folders);
    }
    // A zip with an entry in a folder (a diagnostic), or that is not a zip: read whole, which reports it.
    const nested = await zipOf(next, [['extra/users.csv', 'sourcedId\n']]);
    expect(await shortcut(baseZip, nested)).toEqual(expect.any(String));
    const broken = join(root, 'broken.zip');
    writeFileSync(broken, 'not a zip');
    expect(await shortcut(baseZip, broken)).toEqual(expect.any(String));
  });
});

describe('roster diff by the lines that differ, OneRoster 1.2', () => {
  it('makes the full diff of random edits of users, roles and what refers to them', async () => {
    const district12 = generateDistrict({ schools: 6, students: 200, seed: 'diff-lines-12', version: '1.2' });
    const base12 = join(root, 'base12');
    await writeOneRosterDir(district12, base12);
    expect(readdirSync(base12)).toContain('roles.csv');
    const rnd = seededRandom('diff-lines-12-edits');
    const pick = (n: number) => Math.floor(rnd() * n);
    for (let round = 0; round < 12; round++) {
      const taken = await same((files) => {
        for (const file of ['users.csv', 'roles.csv', 'demographics.csv', 'enrollments.csv']) {
          lines(files, file, (data, header) => {
            const columns = header.split(',');
            const out = [...data];
            for (let k = 0; k < 1 + pick(3); k++) out.splice(pick(out.length), 1);
            for (let k = 0; k < 1 + pick(3); k++) {
              const at = pick(out.length);
              // A user's orgs emptied (their school then comes from their roles), a role moved to
              // another org, any other value changed.
              const column =
                file === 'users.csv' && k === 0
                  ? columns.indexOf('orgSourcedIds')
                  : file === 'roles.csv' && k === 0
                    ? columns.indexOf('orgSourcedId')
                    : 1 + pick(columns.length - 1);
              if (!out[at]!.includes('"'))
                out[at] = setField(out[at]!, column, k === 0 ? '' : `x${pick(1000)}`);
            }
            return out;
          });
        }
      }, base12);
      expect(taken).toBe(true);
    }
  });
});

describe('keyed lines', () => {
  const keys = (lines: KeyedLines) =>
    Array.from({ length: lines.count }, (_, k) => {
      const i = lines.order ? lines.order[k]! : k;
      return lines.bytes.toString('utf8', lines.starts[i], lines.keyEnds[i]);
    });
  const file = (ids: string[]) =>
    Buffer.from(`sourcedId,name\n${ids.map((id) => `${id},n-${id}\n`).join('')}`);

  it('orders lines in no order, or in order but for a few, and finds every key', () => {
    const rnd = seededRandom('keyed-lines');
    for (let round = 0; round < 40; round++) {
      const ids = Array.from({ length: 200 }, (_, i) => `id-${String(i * 7 + (round % 7)).padStart(5, '0')}`);
      const shuffled = [...ids];
      const late = round % 2 === 0 ? 3 + (round % 11) : 200; // a few out of place, or all of them
      for (let k = 0; k < late; k++) {
        const i = Math.floor(rnd() * shuffled.length);
        const [moved] = shuffled.splice(i, 1);
        shuffled.splice(Math.floor(rnd() * shuffled.length), 0, moved!);
      }
      const lines = keyedLines(file(shuffled));
      if (typeof lines === 'string') throw new Error(lines);
      expect(keys(lines)).toEqual([...ids].sort());
      for (const id of ids)
        expect(
          lines.bytes
            .toString('utf8', lines.starts[findKeys(lines, [Buffer.from(id)])[0]!]!)
            .startsWith(`${id},`),
        ).toBe(true);
      expect(findKeys(lines, [Buffer.from('id-99999')])[0]).toBe(-1);
      // Against itself: everything kept.
      expect(diffKeyedLines(lines, lines)).toMatchObject({
        kept: 200,
        removed: new Int32Array(0),
        added: new Int32Array(0),
      });
      // A key twice: found when ordering a few late lines, or when walking a file sorted whole.
      const doubled = keyedLines(file([...shuffled, shuffled[round]!]));
      const found = typeof doubled === 'string' ? doubled : diffKeyedLines(lines, doubled);
      expect(found).toBe('a sourcedId twice');
      if (typeof doubled !== 'string') expect(diffKeyedLines(doubled, lines)).toBe('a sourcedId twice');
    }
  });

  it('orders keys that begin other keys, and finds one twice', () => {
    const ids = ['b', 'a', 'ab', 'abc', 'aa', 'abd', 'ab0', 'c', 'abcd', 'a0'];
    const lines = keyedLines(file(ids));
    if (typeof lines === 'string') throw new Error(lines);
    expect(keys(lines)).toEqual([...ids].sort());
    const inOrder = keyedLines(file([...ids].sort()));
    expect(typeof inOrder !== 'string' && inOrder.order).toBe(undefined);
    expect(keyedLines(file(['a', 'ab', 'ab', 'b']))).toBe('a sourcedId twice');
    expect(keyedLines(file(['a', 'ab', 'b', 'ab']))).toBe('a sourcedId twice');
  });

  it('packages marked lines as their header and lines, each with a line break', () => {
    for (const text of [
      'sourcedId,x\r\na,1\r\nb,2\r\nc,3',
      'sourcedId,x\na,1\nb,2\nc,3\n',
      'sourcedId,x\n',
    ]) {
      const lines = keyedLines(Buffer.from(text));
      if (typeof lines === 'string') throw new Error(lines);
      for (const marks of [
        [1, 0, 1],
        [0, 0, 0],
        [1, 1, 1],
        [0, 2, 0],
      ]) {
        const chosen = Uint8Array.from(marks.slice(0, lines.count));
        const expected = csvOfLines(
          lines.header,
          [...chosen.keys()].filter((i) => chosen[i] !== 0).map((i) => lineBytes(lines, i)),
        );
        expect(markedLines(lines, chosen).toString()).toBe(expected.toString());
      }
    }
  });
});
