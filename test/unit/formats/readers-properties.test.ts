/**
 * Property tests (fast-check) of what reads files a spreadsheet, a SIS or an attacker produced:
 * the CSV, zip and YAML readers and `diff` never crash, whatever the bytes (only diagnostics, or a
 * typed error that the CLI renders), and rosters survive CSV and YAML round trips exactly.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RosterError } from '../../../src/errors.js';
import { writeOneRosterDir } from '../../../src/formats/oneroster-csv/write.js';
import { writeRosterYaml } from '../../../src/formats/yaml/write.js';
import { RosterBuilder, rostersEqual } from '../../../src/model/roster.js';
import { diffRosters } from '../../../src/services/diff.js';
import { validatePath } from '../../../src/services/validate.js';
import { loadRoster } from '../../../src/source/load.js';
import { package11, tempDir, validateTree, writeTree } from '../../helpers/fixtures.js';

/** Characters that matter to CSV and YAML, and a few that matter to people. */
const TRICKY = [
  ',',
  '"',
  '\n',
  '\r',
  ' ',
  ':',
  '-',
  '#',
  '{',
  '}',
  '[',
  ']',
  '&',
  '*',
  '!',
  '|',
  '>',
  "'",
  'é',
  '💡',
  '\u0000',
  '\t',
  'a',
  'b',
  '1',
];
const trickyText = fc.string({ unit: fc.constantFrom(...TRICKY), maxLength: 80 });

/** Runs `read`; a typed RosterError is a clean answer too (the CLI renders it); anything else is a crash. */
async function neverCrashes(read: () => Promise<unknown>): Promise<void> {
  try {
    await read();
  } catch (err) {
    if (!(err instanceof RosterError)) throw err;
  }
}

describe('readers never crash', () => {
  it('CSV: any text in users.csv gives diagnostics, never a crash', async () => {
    const p = package11();
    const header = p['users.csv']!.toString().split('\n')[0]!;
    await fc.assert(
      fc.asyncProperty(fc.array(trickyText, { maxLength: 6 }), async (lines) => {
        await neverCrashes(() => validateTree({ ...p, 'users.csv': `${header}\n${lines.join('\n')}` }));
      }),
      { numRuns: 60 },
    );
  });

  it('CSV: any bytes in users.csv give diagnostics, never a crash', async () => {
    const p = package11();
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 400 }), async (bytes) => {
        await neverCrashes(() => validateTree({ ...p, 'users.csv': Buffer.from(bytes) }));
      }),
      { numRuns: 60 },
    );
  });

  it('YAML: any text as roster.yaml gives diagnostics, never a crash', async () => {
    await fc.assert(
      fc.asyncProperty(trickyText, fc.array(trickyText, { maxLength: 5 }), async (head, lines) => {
        const text = `oneroster: "1.1"\norgs:\n  - sourcedId: d1\n    name: ${head}\n${lines.join('\n')}\n`;
        await neverCrashes(() => validateTree({ 'roster.yaml': text }));
      }),
      { numRuns: 60 },
    );
  });

  it('zip: any bytes, and a real zip with any byte changed, give diagnostics or ZIP_INVALID, never a crash', async () => {
    const dir = tempDir();
    const p = package11();
    const csvDir = writeTree(join(dir, 'pkg'), p as Record<string, string>);
    const { execFileSync } = await import('node:child_process');
    const zip = join(dir, 'ok.zip');
    execFileSync('zip', ['-q', '-X', zip, ...Object.keys(p)], { cwd: csvDir });
    const good = (await import('node:fs')).readFileSync(zip);
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b)),
          fc.tuple(fc.nat(good.length - 1), fc.integer({ min: 0, max: 255 })).map(([at, v]) => {
            const copy = Buffer.from(good);
            copy[at] = v;
            return copy;
          }),
        ),
        async (bytes) => {
          const file = join(dir, 'any.zip');
          writeFileSync(file, bytes);
          await neverCrashes(() => validatePath(file));
        },
      ),
      { numRuns: 60 },
    );
  });

  it('diff: two packages with any users.csv compare or refuse with a typed error, never crash', async () => {
    const p = package11();
    const header = p['users.csv']!.toString().split('\n')[0]!;
    const old = writeTree(join(tempDir(), 'old'), p as Record<string, string>);
    await fc.assert(
      fc.asyncProperty(fc.array(trickyText, { maxLength: 4 }), async (lines) => {
        const next = writeTree(join(tempDir(), 'new'), {
          ...(p as Record<string, string>),
          'users.csv': `${header}\n${lines.join('\n')}\n`,
        });
        await neverCrashes(() => diffRosters(old, next));
      }),
      { numRuns: 30 },
    );
  });
});

describe('round trips', () => {
  /** A roster of one district, one school and users with any names. */
  function rosterWith(names: readonly (readonly [string, string])[]) {
    const b = new RosterBuilder('1.1');
    b.add('orgs', { sourcedId: 'd1', name: 'District', type: 'district' });
    b.add('orgs', { sourcedId: 's1', name: 'School', type: 'school', parentSourcedId: 'd1' });
    for (const [i, [given, family]] of names.entries())
      b.add('users', {
        sourcedId: `u${i}`,
        enabledUser: 'true',
        orgSourcedIds: 's1',
        role: 'student',
        username: `user${i}`,
        givenName: given,
        familyName: family,
      });
    return b.build();
  }
  // Values as a SIS may send them: commas, quotes, unicode, YAML-looking text (no line breaks,
  // which OneRoster forbids in a field, and no surrounding blanks, which normalization trims).
  const value = fc
    .string({
      unit: fc.constantFrom(...TRICKY.filter((c) => !'\n\r\t\u0000'.includes(c))),
      minLength: 1,
      maxLength: 30,
    })
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  const names = fc.array(fc.tuple(value, value), { minLength: 1, maxLength: 8 });

  it('OneRoster CSV: written and read back, the same roster', async () => {
    await fc.assert(
      fc.asyncProperty(names, async (n) => {
        const roster = rosterWith(n);
        const dir = tempDir();
        await writeOneRosterDir(roster, dir);
        const back = await loadRoster(dir);
        expect(rostersEqual(back.roster, roster)).toBe(true);
      }),
      { numRuns: 40 },
    );
  });

  it('roster YAML: written and read back, the same roster', async () => {
    await fc.assert(
      fc.asyncProperty(names, async (n) => {
        const roster = rosterWith(n);
        const dir = writeTree(tempDir(), Object.fromEntries(writeRosterYaml(roster, { layout: 'single' })));
        const back = await loadRoster(dir);
        expect(back.diagnostics.list.filter((d) => d.severity === 'error')).toEqual([]);
        expect(rostersEqual(back.roster, roster)).toBe(true);
      }),
      { numRuns: 40 },
    );
  });
});
