/**
 * The hostile corpus: files a spreadsheet, a SIS export or an attacker can hand roster-as-code,
 * generated (the large ones are never stored), each with the diagnostic it must give and the time
 * and memory it may take. `HOSTILE_KEEP=DIR npx vitest run test/e2e/hostile.test.ts` keeps them.
 */
import { createWriteStream, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { deflateRawSync } from 'node:zlib';
import yazl from 'yazl';
import { package11, type Tree, writeTree } from './fixtures.js';

export interface HostileCase {
  readonly name: string;
  /** What `roster validate` is pointed at. */
  readonly path: string;
  /** Extra arguments of `roster validate`. */
  readonly args?: readonly string[];
  /** A diagnostic the report must hold (or the error's code), never a crash. */
  readonly code: string;
  /** The exit status (default 1: invalid). */
  readonly status?: number;
  /** Ceilings: generous, for a slow CI machine; what is measured goes to the closing note. */
  readonly maxSeconds: number;
  readonly maxMb: number;
}

type Entry = readonly [name: string, data: Buffer | string, options?: { mode?: number; compress?: boolean }];

function zip(path: string, entries: readonly Entry[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const z = new yazl.ZipFile();
    for (const [name, data, options] of entries) z.addBuffer(Buffer.from(data), name, options ?? {});
    z.outputStream.pipe(createWriteStream(path)).on('close', resolve).on('error', reject);
    z.end();
  });
}

const clean = (): [string, string][] => Object.entries(package11() as Record<string, string>);
const withUsers = (users: string | Buffer): Tree => ({ ...package11(), 'users.csv': users });
const usersHeader = () => (package11()['users.csv'] as string).split('\n')[0]!;

/** Writes the corpus into `dir` and lists its cases. */
export async function hostileCorpus(dir: string): Promise<HostileCase[]> {
  mkdirSync(dir, { recursive: true });
  const cases: HostileCase[] = [];
  const add = (c: Omit<HostileCase, 'path' | 'maxSeconds' | 'maxMb'> & Partial<HostileCase>, file: string) =>
    cases.push({ maxSeconds: 20, maxMb: 400, ...c, path: join(dir, file) });
  const folder = (name: string, tree: Tree) => writeTree(join(dir, name), tree);

  // Zips.
  // (yazl writes no such names: they are written as others of their length, then patched.)
  await zip(join(dir, 'zip-slip.zip'), [...clean(), ['xx/xx/evil.csv', 'x\n']]);
  patchEntry(join(dir, 'zip-slip.zip'), 'xx/xx/evil.csv', { name: '../../evil.csv' });
  add({ name: 'zip slip (../ in an entry name)', code: 'ZIP_UNSAFE_PATH' }, 'zip-slip.zip');
  await zip(join(dir, 'absolute.zip'), [...clean(), ['x/etc/cron.d/roster.csv', 'x\n']]);
  patchEntry(join(dir, 'absolute.zip'), 'x/etc/cron.d/roster.csv', { name: '//etc/cron.d/roster.csv' });
  add({ name: 'an absolute entry path', code: 'ZIP_UNSAFE_PATH' }, 'absolute.zip');
  await zip(join(dir, 'symlink.zip'), [
    ...clean().filter(([n]) => n !== 'users.csv'),
    ['users.csv', '/etc/passwd', { mode: 0o120777 }],
  ]);
  add({ name: 'a symbolic link entry', code: 'ZIP_UNSAFE_PATH' }, 'symlink.zip');
  await zip(join(dir, 'duplicate.zip'), [...clean(), ['users.csv', `${usersHeader()}\n`]]);
  add({ name: 'an entry twice', code: 'ZIP_DUPLICATE_ENTRY' }, 'duplicate.zip');
  await zip(join(dir, 'nested.zip'), [
    ...clean().filter(([n]) => n !== 'users.csv'),
    ['users.zip', deflateRawSync('users')],
  ]);
  add({ name: 'a zip in the zip (users.csv inside it)', code: 'REFERENCE_FILE_MISSING' }, 'nested.zip');
  // A bomb: 100 MB of zeros in 100 KB, refused from its stated size before a byte is read.
  await zip(join(dir, 'bomb.zip'), [
    ...clean().filter(([n]) => n !== 'classes.csv'),
    ['classes.csv', Buffer.alloc(100 << 20)],
  ]);
  add(
    { name: 'a zip bomb (100 MB in 100 KB)', code: 'ZIP_TOO_LARGE', args: ['--max-size', '50000000'] },
    'bomb.zip',
  );
  // Sizes that lie: the central directory says 10 bytes, the entry holds 1 MB.
  await zip(join(dir, 'lying-size.zip'), [...clean(), ['demographics.csv', 'x'.repeat(1 << 20)]]);
  patchEntry(join(dir, 'lying-size.zip'), 'demographics.csv', { size: 10 });
  add({ name: 'an entry larger than its stated size', code: 'ZIP_INVALID' }, 'lying-size.zip');
  // One 100 MB line in a 100 KB zip.
  await zip(join(dir, 'long-line.zip'), [
    ...clean().filter(([n]) => n !== 'users.csv'),
    [
      'users.csv',
      Buffer.concat([
        Buffer.from(`${usersHeader()}\nu9,,,true,s1,student,`),
        Buffer.alloc(100 << 20, 0x79),
        Buffer.from('\n'),
      ]),
    ],
  ]);
  add({ name: 'a 100 MB line in a 100 KB zip', code: 'CSV_LINE_TOO_LONG' }, 'long-line.zip');

  // CSV.
  folder(
    'field-50mb',
    withUsers(`${usersHeader()}\nu9,,,true,s1,student,${'y'.repeat(50 << 20)},,A,B,,,,,,,,\n`),
  );
  add({ name: 'a 50 MB field', code: 'CSV_LINE_TOO_LONG' }, 'field-50mb');
  folder(
    'field-200kb',
    withUsers(`${usersHeader()}\nu9,,,true,s1,student,${'y'.repeat(200_000)},,A,B,,,,,,,,\n`),
  );
  add({ name: 'a 200 KB value (a line under the limit)', code: 'VALUE_TOO_LONG' }, 'field-200kb');
  folder('million-columns', withUsers(`${Array.from({ length: 1_000_000 }, (_, i) => `c${i}`).join(',')}\n`));
  add({ name: 'a header of a million columns', code: 'CSV_LINE_TOO_LONG' }, 'million-columns');
  folder(
    'many-columns',
    withUsers(`${usersHeader()},${Array.from({ length: 40_000 }, (_, i) => `x${i}`).join(',')}\n`),
  );
  add({ name: 'a header with 40,000 unknown columns', code: 'HEADER_UNKNOWN' }, 'many-columns');
  folder('proto-columns', withUsers(`${usersHeader()},__proto__,constructor\n`));
  add({ name: 'columns named __proto__ and constructor', code: 'HEADER_UNKNOWN' }, 'proto-columns');
  folder('nul-bytes', withUsers(Buffer.from(`${usersHeader()}\nu9,,,true,s1,student,a\0b,,A,B,,,,,,,,\n`)));
  add({ name: 'a NUL byte in a value', code: 'VALUE_CONTROL_CHARACTER' }, 'nul-bytes');
  folder(
    'invalid-utf8',
    withUsers(
      Buffer.concat([
        Buffer.from(`${usersHeader()}\nu9,,,true,s1,student,a`),
        Buffer.from([0xc3, 0x28]),
        Buffer.from(',,A,B,,,,,,,,\n'),
      ]),
    ),
  );
  add({ name: 'invalid UTF-8', code: 'CSV_ENCODING' }, 'invalid-utf8');
  folder(
    'windows-1252',
    withUsers(
      Buffer.from(`${usersHeader()}\nu9,,,true,s1,student,jos\xe9,,Jos\xe9,D\x92Angelo,,,,,,,,\n`, 'latin1'),
    ),
  );
  add({ name: 'Windows-1252 (Excel "CSV")', code: 'CSV_ENCODING' }, 'windows-1252');
  folder(
    'utf-16',
    withUsers(
      Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(package11()['users.csv'] as string, 'utf16le')]),
    ),
  );
  add({ name: 'UTF-16 (Excel "Unicode text")', code: 'CSV_ENCODING' }, 'utf-16');
  folder('semicolons', withUsers((package11()['users.csv'] as string).replace(/,/g, ';')));
  add({ name: 'semicolons (a European spreadsheet)', code: 'CSV_DELIMITER' }, 'semicolons');
  folder('tabs', withUsers((package11()['users.csv'] as string).replace(/,/g, '\t')));
  add({ name: 'tabs', code: 'CSV_DELIMITER' }, 'tabs');
  folder('cr-only', withUsers((package11()['users.csv'] as string).replace(/\n/g, '\r')));
  // Read as lines (the general parser finds the line ends): valid, nothing lost.
  add({ name: 'CR-only line ends (classic Mac)', code: 'CSV_NO_FINAL_NEWLINE', status: 0 }, 'cr-only');
  // An unclosed quote near the top of a users.csv of 40,000 students: found once, not 40,000 times.
  const rows = Array.from({ length: 40_000 }, (_, i) => `u${i},,,true,s1,student,user${i},,A,B,,,,,,,09,`);
  rows[1] = rows[1]!.replace('user1', '"user1');
  folder('unclosed-quote', withUsers(`${usersHeader()}\n${rows.join('\n')}\n`));
  add({ name: 'an unclosed quote in 40,000 rows', code: 'CSV_QUOTE' }, 'unclosed-quote');

  // Roster YAML.
  const laughs = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
  for (let i = 1; i < 10; i++)
    laughs.push(
      `${'abcdefghij'[i]}: &${'abcdefghij'[i]} [${Array(9)
        .fill(`*${'abcdefghij'[i - 1]}`)
        .join(',')}]`,
    );
  folder('billion-laughs', { 'roster.yaml': `oneroster: "1.1"\n${laughs.join('\n')}\n` });
  add({ name: 'billion laughs (YAML aliases)', code: 'YAML_ALIAS_LIMIT' }, 'billion-laughs');
  folder('deep-nesting', {
    'roster.yaml': `oneroster: "1.1"\norgs: ${'['.repeat(100_000)}${']'.repeat(100_000)}\n`,
  });
  add({ name: '100,000 nested lists', code: 'YAML_SYNTAX' }, 'deep-nesting');
  folder('proto-keys', {
    'roster.yaml':
      'oneroster: "1.1"\norgs:\n  - sourcedId: d1\n    name: D\n    type: district\n    __proto__: { polluted: true }\n    constructor: x\n',
  });
  add({ name: 'YAML keys __proto__ and constructor', code: 'YAML_UNKNOWN_FIELD' }, 'proto-keys');
  folder('many-keys', {
    'roster.yaml': `oneroster: "1.1"\norgs:\n  - sourcedId: d1\n${Array.from({ length: 32_000 }, (_, i) => `    k${i}: v\n`).join('')}`,
  });
  add({ name: '32,000 keys in one record', code: 'YAML_UNKNOWN_FIELD' }, 'many-keys');
  folder('yaml-50mb', {
    'roster.yaml': `oneroster: "1.1"\norgs:\n  - sourcedId: d1\n    name: ${'x'.repeat(50 << 20)}\n    type: district\n`,
  });
  add({ name: 'a 50 MB value in YAML', code: 'YAML_LINE_TOO_LONG' }, 'yaml-50mb');
  folder('yaml-200kb', {
    'roster.yaml': `oneroster: "1.1"\norgs:\n  - sourcedId: d1\n    name: ${'x'.repeat(200_000)}\n    type: district\n`,
  });
  add({ name: 'a 200 KB value in YAML', code: 'VALUE_TOO_LONG' }, 'yaml-200kb');
  folder('latin1-yaml', {
    'roster.yaml': Buffer.from(
      'oneroster: "1.1"\norgs:\n  - { sourcedId: d1, name: "Jos\xe9", type: district }\n',
      'latin1',
    ),
  });
  add({ name: 'a Latin-1 YAML file', code: 'YAML_ENCODING' }, 'latin1-yaml');
  return cases;
}

/** Rewrites an entry's name (same length) or uncompressed size in the zip's local and central headers. */
function patchEntry(path: string, name: string, patch: { name?: string; size?: number }): void {
  const bytes = readFileSync(path);
  const encoded = Buffer.from(name);
  const PK = Buffer.from([0x50, 0x4b]);
  for (const [signature, sizeAt, nameAt] of [
    [0x04034b50, 22, 30],
    [0x02014b50, 24, 46],
  ] as const) {
    for (let i = bytes.indexOf(PK); i >= 0; i = bytes.indexOf(PK, i + 1)) {
      if (i + nameAt + encoded.length > bytes.length || bytes.readUInt32LE(i) !== signature) continue;
      if (!bytes.subarray(i + nameAt, i + nameAt + encoded.length).equals(encoded)) continue;
      if (patch.size !== undefined) bytes.writeUInt32LE(patch.size, i + sizeAt);
      if (patch.name !== undefined) Buffer.from(patch.name).copy(bytes, i + nameAt);
    }
  }
  writeFileSync(path, bytes);
}
