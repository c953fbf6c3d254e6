/**
 * Manual edits (roster add, set, enroll, drop, move, withdraw) on every roster layout: OneRoster
 * CSV 1.1 (LF, unquoted), CSV 1.1 with CRLF, BOM and every cell quoted, CSV 1.2, roster YAML in
 * one hand-written file (comments, anchors, flow and block styles) and one file per school. The
 * edited files are golden files, checked byte for byte (UPDATE_GOLDEN=1 rewrites them), and git
 * counts only the intended lines as changed.
 */
import { execFileSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RosterError } from '../../src/errors.js';
import { writeOneRosterDir } from '../../src/formats/oneroster-csv/write.js';
import { writeRosterYaml } from '../../src/formats/yaml/write.js';
import { convertVersion } from '../../src/model/convert-version.js';
import { type EditRequest, editRoster } from '../../src/services/edit.js';
import { loadRoster } from '../../src/source/load.js';

const GOLDEN = 'test/golden/edit';
const VARIANTS = ['csv-1.1', 'csv-crlf-bom-quoted', 'csv-1.2', 'yaml-single', 'yaml-per-school'] as const;
type Variant = (typeof VARIANTS)[number];

/** Each command, and the lines git counts as added and removed per variant kind (CSV, YAML). */
const CASES: { name: string; request: EditRequest }[] = [
  {
    name: 'set',
    request: { kind: 'set', record: 'users/u1', fields: { grades: '04', email: 'ben.lee@new.example' } },
  },
  {
    name: 'add-user',
    request: {
      kind: 'add-user',
      role: 'student',
      givenName: 'Ana',
      familyName: 'Ruiz',
      school: 's1',
      grades: ['03'],
      username: 'ana.ruiz',
      id: 'u5',
    },
  },
  {
    name: 'add-class',
    request: { kind: 'add-class', course: 'c1', school: 's1', terms: ['fall26'], title: 'Math 3B', id: 'k3' },
  },
  { name: 'enroll', request: { kind: 'enroll', user: 'u3', class: 'k1', role: 'student', primary: false } },
  { name: 'drop', request: { kind: 'drop', user: 'u4', class: 'k1' } },
  { name: 'move', request: { kind: 'move', user: 'u1', school: 's2' } },
  { name: 'withdraw', request: { kind: 'withdraw', user: 'u2' } },
];

let root: string;
const CONFIG = 'roster: roster\ntargets:\n  - { name: local, kind: dir, path: .roster/targets/local }\n';

/** CSV as a spreadsheet may save it: a BOM, CRLF line endings, every cell quoted. */
function quotedCrlf(text: string): string {
  const lines = text.split('\n').filter((l) => l !== '');
  return `\uFEFF${lines
    .map((l) =>
      l
        .split(',')
        .map((c) => `"${c}"`)
        .join(','),
    )
    .join('\r\n')}\r\n`;
}

async function makeVariant(variant: Variant, dir: string): Promise<void> {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'roster.config.yaml'), CONFIG);
  const out = join(dir, 'roster');
  if (variant === 'yaml-single') {
    cpSync('test/fixtures/edit/yaml-single', out, { recursive: true });
    return;
  }
  const { roster } = await loadRoster('test/fixtures/history');
  if (variant === 'yaml-per-school') {
    for (const [name, text] of writeRosterYaml(roster, { layout: 'per-school' })) {
      mkdirSync(join(out, name, '..'), { recursive: true });
      writeFileSync(join(out, name), text);
    }
    return;
  }
  await writeOneRosterDir(variant === 'csv-1.2' ? convertVersion(roster, '1.2').roster : roster, out);
  if (variant === 'csv-crlf-bom-quoted')
    for (const f of readdirSync(out))
      writeFileSync(join(out, f), quotedCrlf(readFileSync(join(out, f), 'utf8')));
}

/** A fresh copy of a variant's repo. */
function copyOf(variant: Variant): string {
  const dir = mkdtempSync(join(root, `${variant}-`));
  cpSync(join(root, variant), dir, { recursive: true });
  return dir;
}

/** Every file of the roster folder (path → bytes). */
function snapshot(dir: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  const walk = (d: string, base: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(d, e.name), `${base}${e.name}/`);
      else out.set(`${base}${e.name}`, readFileSync(join(d, e.name)));
    }
  };
  walk(join(dir, 'roster'), '');
  return out;
}

/** `git diff --no-index --numstat` of two files: [added, removed] lines. */
function numstat(a: Buffer, b: Buffer): [number, number] {
  const dir = mkdtempSync(join(root, 'numstat-'));
  writeFileSync(join(dir, 'a'), a);
  writeFileSync(join(dir, 'b'), b);
  let out = '';
  try {
    execFileSync('git', ['diff', '--no-index', '--numstat', 'a', 'b'], { cwd: dir, encoding: 'utf8' });
  } catch (err) {
    out = String((err as { stdout?: string }).stdout ?? '');
  }
  const [added, removed] = out.trim().split('\t').map(Number);
  return [added ?? 0, removed ?? 0];
}

async function errorOf(run: () => Promise<unknown>): Promise<RosterError> {
  try {
    await run();
  } catch (err) {
    if (err instanceof RosterError) return err;
    throw err;
  }
  throw new Error('no error');
}

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'roster-edit-'));
  for (const v of VARIANTS) await makeVariant(v, join(root, v));
});

afterAll(() => rmSync(root, { recursive: true, force: true }));

describe.each(VARIANTS)('%s', (variant) => {
  it.each(CASES.map((c) => [c.name, c] as const))(
    '%s: the smallest diff, byte for byte',
    async (name, { request }) => {
      const dir = copyOf(variant);
      const before = snapshot(dir);
      const result = await editRoster({ repo: dir, request });
      expect(result.written).toBe(true);
      const after = snapshot(dir);
      const changed = [...after.keys()].filter((f) => !before.get(f)!.equals(after.get(f)!));
      expect(changed.sort()).toEqual(result.files.map((f) => f.path.replace(/^roster\//, '')).sort());
      for (const file of changed) {
        const golden = join(GOLDEN, variant, name, file);
        if (process.env.UPDATE_GOLDEN) {
          mkdirSync(join(golden, '..'), { recursive: true });
          writeFileSync(golden, after.get(file)!);
        }
        if (!existsSync(golden))
          throw new Error(`${golden} is missing: run with UPDATE_GOLDEN=1, and review it`);
        expect(after.get(file)!.equals(readFileSync(golden)), `${golden} differs`).toBe(true);
      }
      // git sees only the edited lines: every line added or removed is part of a changed record.
      const [added, removed] = changed
        .map((f) => numstat(before.get(f)!, after.get(f)!))
        .reduce(([a, r], [x, y]) => [a + x, r + y], [0, 0]);
      const records = result.changes.length;
      if (variant.startsWith('csv')) {
        expect(added).toBe(result.changes.filter((c) => c.after).length);
        expect(removed).toBe(result.changes.filter((c) => c.before).length);
      } else expect(added + removed).toBeGreaterThan(0);
      expect(records).toBeGreaterThan(0);
    },
  );

  it('writes nothing for an invalid edit, and names what is near an unknown id', async () => {
    const dir = copyOf(variant);
    const before = snapshot(dir);
    const invalid = await errorOf(() =>
      editRoster({ repo: dir, request: { kind: 'set', record: 'u1', fields: { enabledUser: 'maybe' } } }),
    );
    expect(invalid.code).toBe('ROSTER_INVALID');
    const unknown = await errorOf(() =>
      editRoster({
        repo: dir,
        request: { kind: 'enroll', user: 'u1', class: 'k9', role: 'student', primary: false },
      }),
    );
    expect(unknown).toMatchObject({
      code: 'EDIT_NOT_FOUND',
      message: 'there is no class k9 in the roster; did you mean k1?',
    });
    const same = await errorOf(() =>
      editRoster({ repo: dir, request: { kind: 'set', record: 'u1', fields: { givenName: 'Ben' } } }),
    );
    expect(same.code).toBe('EDIT_NOTHING');
    expect(snapshot(dir)).toEqual(before);
  });

  it('refuses a file that changed on disk during the edit', async () => {
    const dir = copyOf(variant);
    const file = join(
      dir,
      'roster',
      variant.startsWith('csv') ? 'users.csv' : variant === 'yaml-single' ? 'roster.yaml' : 'schools/s1.yaml',
    );
    const meanwhile = Buffer.concat([
      readFileSync(file),
      Buffer.from(variant.startsWith('csv') ? '\n' : '# edited meanwhile\n'),
    ]);
    const conflict = await errorOf(() =>
      editRoster({
        repo: dir,
        request: { kind: 'set', record: 'u1', fields: { familyName: 'Leigh' } },
        beforeWrite: () => writeFileSync(file, meanwhile),
      }),
    );
    expect(conflict.code).toBe('EDIT_CONFLICT');
    expect(readFileSync(file).equals(meanwhile)).toBe(true);
  });
});

describe('dry run and commit', () => {
  it('--dry-run gives the unified diff and writes nothing; --commit commits only the edited files', async () => {
    const dir = copyOf('csv-1.1');
    const git = (...args: string[]) =>
      execFileSync('git', args, {
        cwd: dir,
        encoding: 'utf8',
        env: {
          ...process.env,
          GIT_AUTHOR_NAME: 'Ana',
          GIT_AUTHOR_EMAIL: 'a@d.example',
          GIT_COMMITTER_NAME: 'Ana',
          GIT_COMMITTER_EMAIL: 'a@d.example',
        },
      });
    git('init', '-q', '-b', 'main');
    git('add', '-A');
    git('commit', '-q', '-m', 'Roster');
    const before = snapshot(dir);
    const dry = await editRoster({
      repo: dir,
      request: { kind: 'enroll', user: 'u3', class: 'k1', role: 'student', primary: false },
      dryRun: true,
    });
    expect(dry.written).toBe(false);
    expect(snapshot(dir)).toEqual(before);
    expect(dry.diff).toContain('--- a/roster/enrollments.csv\n+++ b/roster/enrollments.csv\n');
    expect(dry.diff).toMatch(/^\+enr-[0-9a-f]{16},,,k1,s1,u3,student,,,$/m);

    writeFileSync(join(dir, 'notes.txt'), 'not part of the edit\n');
    const done = await editRoster({
      repo: dir,
      request: { kind: 'drop', user: 'u4', class: 'k1' },
      commit: true,
    });
    expect(done.commit).toMatch(/^[0-9a-f]{7,40}$/);
    expect(git('log', '-1', '--format=%s').trim()).toBe('roster: drop u4 from k1');
    expect(git('show', '--name-only', '--format=', 'HEAD').trim()).toBe('roster/enrollments.csv');
    expect(git('status', '--porcelain').trim()).toBe('?? notes.txt');
  });

  it('gives a new record the next id of the config template', async () => {
    const dir = copyOf('csv-1.1');
    writeFileSync(join(dir, 'roster.config.yaml'), `${CONFIG}ids:\n  users: "u{seq:1}"\n`);
    const result = await editRoster({
      repo: dir,
      request: {
        kind: 'add-user',
        role: 'student',
        givenName: 'Ana',
        familyName: 'Ruiz',
        school: 's1',
        username: 'ana.ruiz',
      },
    });
    expect(result.changes.map((c) => c.id)).toEqual(['users/u5']);
    const none = await errorOf(() =>
      editRoster({
        repo: copyOf('csv-1.1'),
        request: {
          kind: 'add-user',
          role: 'student',
          givenName: 'Ana',
          familyName: 'Ruiz',
          school: 's1',
          username: 'ana.ruiz',
        },
      }),
    );
    expect(none.code).toBe('EDIT_ID_NEEDED');
  });
});
