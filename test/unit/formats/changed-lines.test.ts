import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { changedLines, diffFiles, quotesStayOnTheirLine } from '../../../src/formats/csv/changed-lines.js';
import { seededRandom } from '../../../src/generate/generate.js';

/** The lines of `text` (split at LF) whose ranges are not listed in `ranges`, in order. */
function kept(text: Buffer, ranges: number[]): string[] {
  const listed = new Set<number>();
  for (let k = 0; k < ranges.length; k += 2) listed.add(ranges[k]!);
  const out: string[] = [];
  let at = 0;
  while (at < text.length) {
    let e = text.indexOf(0x0a, at);
    if (e < 0) e = text.length;
    if (!listed.has(at)) out.push(text.toString('latin1', at, e));
    at = e + 1;
  }
  return out;
}

/** Every listed range is a whole line of `text`. */
function wholeLines(text: Buffer, ranges: number[]): boolean {
  for (let k = 0; k < ranges.length; k += 2) {
    const [s, e] = [ranges[k]!, ranges[k + 1]!];
    if (s > 0 && text[s - 1] !== 0x0a) return false;
    if (e < text.length && text[e] !== 0x0a) return false;
  }
  return true;
}

function check(before: string, after: string) {
  const a = Buffer.from(after);
  const b = Buffer.from(before);
  const diff = changedLines(b, a)!;
  expect(wholeLines(a, diff.added)).toBe(true);
  expect(wholeLines(b, diff.removed)).toBe(true);
  // What is left on both sides is the same lines in the same order: unchanged means byte-equal.
  expect(kept(a, diff.added)).toEqual(kept(b, diff.removed));
  return diff;
}

describe('changedLines', () => {
  it('finds nothing in equal texts', () => {
    const text = 'sourcedId,name\nu1,Ann\nu2,Bob\n';
    expect(check(text, text)).toEqual({ added: [], removed: [] });
  });

  it('lists a changed line once on each side', () => {
    const diff = check('h\na\nb\nc\n', 'h\na\nB\nc\n');
    expect(diff.added).toEqual([4, 5]);
    expect(diff.removed).toEqual([4, 5]);
  });

  it('handles lines added and removed at the start, the middle and the end, and a missing final line break', () => {
    check('h\na\nb\nc\n', 'h\nx\na\nb\nc\ny');
    check('h\na\nb\nc', 'h\na\nc');
    check('h\na\nb\nc\n', 'h\na\nb\nc\nd\ne\n');
    check('h\na\nb\nc\nd\ne\n', 'h\na\nb\n');
    check('', 'h\na\n');
    check('h\na\n', '');
    check('h\r\na\r\n', 'h\r\nA\r\n');
  });

  it('stays exact over random edits of a large file (equal lines repeated, blocks moved)', () => {
    const rnd = seededRandom(7);
    for (let round = 0; round < 12; round++) {
      const lines: string[] = ['sourcedId,classSourcedId,userSourcedId,role'];
      for (let k = 0; k < 20000; k++) lines.push(`e${k},c${k % 700},u${(k * 7919) % 5000},student`);
      const edited = [...lines];
      const edits = 1 + Math.floor(rnd() * 400);
      for (let e = 0; e < edits; e++) {
        const at = 1 + Math.floor(rnd() * (edited.length - 1));
        const kind = rnd();
        if (kind < 0.3) edited[at] = `${edited[at]}x`;
        else if (kind < 0.55) edited.splice(at, 1);
        else if (kind < 0.8) edited.splice(at, 0, `new${e},c1,u1,student`);
        else if (kind < 0.9)
          edited.splice(at, 0, ''); // a blank line
        else {
          // a block of lines moved elsewhere
          const block = edited.splice(at, Math.floor(rnd() * 300));
          edited.splice(1 + Math.floor(rnd() * (edited.length - 1)), 0, ...block);
        }
      }
      const diff = check(`${lines.join('\n')}\n`, `${edited.join('\n')}${round % 2 ? '\n' : ''}`);
      // A handful of edits re-read a handful of lines, not the file.
      if (edits < 50) expect(diff.added.length / 2).toBeLessThan(5000);
    }
  });
});

describe('diffFiles (two files read piece by piece)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'line-diff-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('lists the same lines as changedLines on whole texts, whatever the piece size', async () => {
    const rnd = seededRandom(11);
    for (let round = 0; round < 6; round++) {
      const lines: string[] = ['sourcedId,classSourcedId,userSourcedId'];
      for (let k = 0; k < 5000; k++) lines.push(`e${k},c${k % 300},u${(k * 31) % 2000}`);
      const edited = [...lines];
      for (let e = 0; e < 60; e++) {
        const at = 1 + Math.floor(rnd() * (edited.length - 1));
        const kind = rnd();
        if (kind < 0.4) edited[at] = `${edited[at]}x`;
        else if (kind < 0.7) edited.splice(at, 1);
        else edited.splice(at, 0, `new${e},c1,u1`);
      }
      if (round === 4) edited.splice(3000); // the new file much shorter
      if (round === 5) for (let k = 0; k < 2000; k++) edited.push(`tail${k},c2,u2`); // much longer
      const before = Buffer.from(`${lines.join('\n')}\n`);
      const after = Buffer.from(`${edited.join('\n')}${round % 2 ? '\n' : ''}`);
      writeFileSync(join(dir, 'before.csv'), before);
      writeFileSync(join(dir, 'after.csv'), after);
      const whole = changedLines(before, after)!;
      const expected = {
        added: lineSet(after, whole.added),
        removed: lineSet(before, whole.removed),
      };
      for (const segment of [4096, 20000, 1 << 20]) {
        const diff = (await diffFiles(
          join(dir, 'before.csv'),
          join(dir, 'after.csv'),
          Number.POSITIVE_INFINITY,
          segment,
        ))!;
        // Pieces may pair lines differently near their edges; what is left on both sides must agree.
        const left = (text: Buffer, listed: Buffer[]) => {
          const counts = new Map<string, number>();
          for (const l of listed)
            counts.set(l.toString('latin1'), (counts.get(l.toString('latin1')) ?? 0) + 1);
          return kept(text, []).filter((l) => {
            const n = counts.get(l) ?? 0;
            if (n === 0) return true;
            counts.set(l, n - 1);
            return false;
          });
        };
        expect(left(after, diff.added)).toEqual(left(before, diff.removed));
        expect(diff.headerChanged).toBe(false);
        if (segment === 1 << 20) {
          expect(diff.added.map((b) => b.toString('latin1'))).toEqual(expected.added);
          expect(diff.removed.map((b) => b.toString('latin1'))).toEqual(expected.removed);
        }
      }
    }
  });

  it('says when the header changed, and gives up past the limit', async () => {
    writeFileSync(join(dir, 'a.csv'), 'sourcedId,name\nu1,Ann\n');
    writeFileSync(join(dir, 'b.csv'), 'sourcedId,givenName\nu1,Ann\n');
    expect((await diffFiles(join(dir, 'a.csv'), join(dir, 'b.csv'), 1000))!.headerChanged).toBe(true);
    writeFileSync(join(dir, 'c.csv'), 'sourcedId,name\nu1,Bob\n');
    expect(await diffFiles(join(dir, 'a.csv'), join(dir, 'c.csv'), 5)).toBeUndefined();
    expect((await diffFiles(join(dir, 'a.csv'), join(dir, 'c.csv'), 100))!.added.map(String)).toEqual([
      'u1,Bob',
    ]);
  });
});

/** The lines at the listed ranges, in order. */
function lineSet(text: Buffer, ranges: number[]): string[] {
  const out: string[] = [];
  for (let k = 0; k < ranges.length; k += 2) out.push(text.toString('latin1', ranges[k]!, ranges[k + 1]!));
  return out;
}

describe('changedLines with a limit', () => {
  it('gives up once more bytes than the limit differ', () => {
    const before = Buffer.from('h\na\nb\nc\nd\n');
    expect(changedLines(before, Buffer.from('h\nA\nB\nC\nd\n'), 4)).toBeUndefined();
    expect(changedLines(before, Buffer.from('h\nA\nb\nc\nd\n'), 4)).toEqual({
      added: [2, 3],
      removed: [2, 3],
    });
  });
});

describe('quotesStayOnTheirLine', () => {
  it('accepts quoted values on one line, doubled quotes included', () => {
    expect(quotesStayOnTheirLine(Buffer.from('a,"b, c",d\n"x ""y""",z\n'))).toBe(true);
    expect(quotesStayOnTheirLine(Buffer.from('no quotes\n'))).toBe(true);
  });
  it('refuses a quoted value over a line break, or an unclosed quote', () => {
    expect(quotesStayOnTheirLine(Buffer.from('a,"b\nc",d\n'))).toBe(false);
    expect(quotesStayOnTheirLine(Buffer.from('a,"b\n'))).toBe(false);
    // Within a range: a quote closed only past its end is not closed.
    const text = Buffer.from('x,"y\n",z\n');
    expect(quotesStayOnTheirLine(text, 0, 4)).toBe(false);
    expect(quotesStayOnTheirLine(text, 5, 9)).toBe(false);
  });
});
