/**
 * Lines past the limit are dropped before any parser holds them, reported with their line, and
 * the rest of the file is read as it is; values quoted in messages are cut short.
 */
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { LineLimit } from '../../../src/formats/csv/line-limit.js';
import { diagnostics, package11, validateTree } from '../../helpers/fixtures.js';

async function through(chunks: string[], limit: number) {
  const dropped: [number, number, string?][] = [];
  const out: Buffer[] = [];
  const stream = Readable.from(chunks.map((c) => Buffer.from(c))).pipe(
    new LineLimit(
      (line, bytes, what) => dropped.push(what === 'line' ? [line, bytes] : [line, bytes, what]),
      limit,
    ),
  );
  for await (const piece of stream) out.push(piece as Buffer);
  return { text: Buffer.concat(out).toString(), dropped };
}

describe('LineLimit', () => {
  it('passes lines up to the limit unchanged, however the chunks fall', async () => {
    const text = 'id,name\r\na,"x\ny"\nbbbbbbbbbb,c\nlast';
    for (let size = 1; size <= text.length; size++) {
      const chunks = text.match(new RegExp(`[\\s\\S]{1,${size}}`, 'g'))!;
      expect(await through(chunks, 12)).toEqual({ text, dropped: [] });
    }
  });

  it('drops a longer line, keeping the line numbers and an opened quote', async () => {
    const long = 'x'.repeat(50);
    expect(await through(['a\n', long.slice(0, 20), long.slice(20), '\nb\n'], 10)).toEqual({
      text: 'a\n\nb\n',
      dropped: [[2, 50]],
    });
    // A line that opens a quoted value (one quote) and the last line, without a line break.
    expect(await through([`a\n"${long}\nrest"\n${long}`], 10)).toEqual({
      text: 'a\n"\nrest"\n',
      dropped: [
        [2, 51],
        [4, 50],
      ],
    });
  });

  it('a header past the limit leaves nothing to read: the rest of the file is dropped too', async () => {
    expect(await through(['\n', 'h'.repeat(30), '\nrow,1\n', 'row,2\n'], 10)).toEqual({
      text: '\n',
      dropped: [[2, 30, 'header']],
    });
  });

  it('a quoted value still open past the limit ends the file there (a parser would read it again with every chunk)', async () => {
    const rows = Array.from({ length: 20 }, (_, i) => `r${i},x\n`);
    rows[1] = 'r1,"opened\n';
    const out = await through(['h,v\n', ...rows], 30);
    // Lines pass while the quote is open, up to the limit; then nothing more.
    expect(out.dropped).toEqual([[3, 32, 'quote']]);
    expect(out.text).toBe(`h,v\nr0,x\nr1,"opened\n${rows.slice(2, 7).join('')}`);
    // A quoted value that closes in time goes through whole.
    const closed = ['h,v\n', 'r1,"a\n', 'b",c\n', ...rows.filter((r) => !r.includes('"'))];
    expect(await through(closed, 30)).toEqual({ text: closed.join(''), dropped: [] });
  });
});

describe('validate on a line past the limit', () => {
  it('reports the line, reads the others, and quotes no more of a value than a message needs', async () => {
    const p = package11();
    const users = `${p['users.csv']}u-huge,,,true,${'y'.repeat(2 << 20)},student,x,X,Y,,,,,,,,,\nu-long,,,true,${'o'.repeat(600_000)},student,long,L,O,,,,,,,,,\n`;
    const result = await validateTree({ ...p, 'users.csv': users });
    expect(diagnostics(result, 'error')).toContain('CSV_LINE_TOO_LONG users.csv:5');
    expect(result.roster.table('users').size).toBe(4); // (t1, u1, u2 and u-long)
    // (u-long's orgSourcedIds is 600,000 characters: the diagnostic quotes 60.)
    const reference = result.diagnostics.find(
      (d) => d.code === 'REFERENCE_MISSING' && d.recordId === 'u-long',
    )!;
    expect(reference.message.length).toBeLessThan(200);
    expect(reference.message).toMatch(/^orgSourcedIds "o{57}\.\.\." matches no record/);
  });
});
