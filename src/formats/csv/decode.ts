/**
 * Text of a CSV file saved by a spreadsheet in another encoding than UTF-8 (Excel's plain "CSV" is
 * Windows-1252; "Unicode text" is UTF-16).
 */

/** Encodings a spreadsheet saves CSV in. */
export const SPREADSHEET_ENCODINGS = ['utf-8', 'windows-1252', 'latin1', 'utf-16le', 'utf-16be'] as const;
export type SpreadsheetEncoding = (typeof SPREADSHEET_ENCODINGS)[number];

/**
 * Windows-1252's bytes 0x80-0x9F (the WHATWG index): Node 20's TextDecoder decodes
 * "windows-1252" as Latin-1, turning Excel's ’ “ ” – € into control characters.
 */
const WINDOWS_1252_C1 =
  '\u20ac\u0081\u201a\u0192\u201e\u2026\u2020\u2021\u02c6\u2030\u0160\u2039\u0152\u008d\u017d\u008f' +
  '\u0090\u2018\u2019\u201c\u201d\u2022\u2013\u2014\u02dc\u2122\u0161\u203a\u0153\u009d\u017e\u0178';

/** A function that decodes a whole file's bytes from `encoding` (a BOM is kept: callers drop it). */
export function decoderFor(encoding: SpreadsheetEncoding): (bytes: Buffer) => string {
  if (encoding === 'windows-1252')
    return (bytes) =>
      bytes.toString('latin1').replace(/[\u0080-\u009f]/g, (c) => WINDOWS_1252_C1[c.charCodeAt(0) - 0x80]!);
  const decoder = new TextDecoder(encoding);
  return (bytes) => decoder.decode(bytes);
}

/** The 1-based line of the first byte sequence that is not UTF-8, or undefined when all are. */
export function firstNonUtf8Line(bytes: Buffer): number | undefined {
  const text = bytes.toString('utf8');
  const bad = text.indexOf('\ufffd');
  if (bad < 0) return undefined;
  // (A genuine U+FFFD in the file is EF BF BD: keep looking past those.)
  let at = bad;
  while (at >= 0) {
    const before = Buffer.byteLength(text.slice(0, at), 'utf8');
    if (!(bytes[before] === 0xef && bytes[before + 1] === 0xbf && bytes[before + 2] === 0xbd)) break;
    at = text.indexOf('\ufffd', at + 1);
  }
  if (at < 0) return undefined;
  let line = 1;
  for (let i = text.indexOf('\n'); i >= 0 && i < at; i = text.indexOf('\n', i + 1)) line++;
  return line;
}
