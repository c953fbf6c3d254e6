/**
 * Every case of test/fixtures/plan runs through the full path and both shortcuts, which must give
 * the same plan or decline (plan/scope.ts states what they may do):
 *
 * - roster diff's line shortcut (services/diff-shortcut.ts), on the case's two rosters written as
 *   OneRoster CSV folders, against the full plan of the same folders;
 * - the incremental plan (services/incremental.ts), in a district repo with a dir target: the
 *   current roster applied (which fills the plan cache), then the desired roster written over it
 *   and planned with the shortcut and without.
 *
 * Each case's expected outcome is in the table below: the same plan, or the reason it declines.
 * The rosters are tiny, so the share of changed bytes past which a shortcut reads everything is
 * lifted (ROSTER_MOST_CHANGED, `mostChanged`).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { Diagnostics } from '../../src/diagnostic.js';
import { readOneRoster } from '../../src/formats/oneroster-csv/read.js';
import { writeOneRosterDir } from '../../src/formats/oneroster-csv/write.js';
import { directoryFiles } from '../../src/formats/package-files.js';
import type { EntityName } from '../../src/model/entities.js';
import { type Roster, RosterBuilder } from '../../src/model/roster.js';
import { computePlan } from '../../src/plan/compute.js';
import type { Plan, PlanTarget } from '../../src/plan/plan.js';
import { partialPlanRuledOut } from '../../src/plan/scope.js';
import { type PlanCase, planCaseNames, readPlanCase } from '../helpers/plan-cases.js';

process.env.ROSTER_MOST_CHANGED = '1';
// (Read when the module loads: after the variable is set.)
const { makePlan } = await import('../../src/services/plan.js');
const { applyRoster } = await import('../../src/services/apply.js');
const { diffByLines } = await import('../../src/services/diff-shortcut.js');

const now = new Date('2026-03-02T12:00:00Z');

// The cases run at once (most of their time is spent waiting on files and git): one folder for all.
const root = mkdtempSync(join(tmpdir(), 'plan-shortcuts-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const tempDir = (prefix: string) => mkdtempSync(join(root, prefix));

/** What a shortcut must do with a case: give the full path's plan, or decline for this reason. */
const EXPECTED: Record<string, { diff: 'same' | RegExp; incremental: 'same' | RegExp }> = {
  'bulk-file-missing': { diff: 'same', incremental: 'same' },
  'create-first-delivery': { diff: 'same', incremental: /no plan cache|first delivery/ },
  'delete-student': { diff: 'same', incremental: 'same' },
  'id-settings': { diff: /ids other than sourcedId/, incremental: /ids other than sourcedId/ },
  'mass-delete-held': { diff: 'same', incremental: 'same' },
  redaction: { diff: 'same', incremental: 'same' },
  'school-enrollments-removed': { diff: 'same', incremental: 'same' },
  'share-policy': { diff: /shares part/, incremental: /shares part/ },
  'soft-delete': { diff: /soft deletes/, incremental: /soft deletes/ },
  'suspected-id-change': { diff: 'same', incremental: 'same' },
  // Records the target holds that we never sent exist only at a portal that exports what it holds.
  unmanaged: { diff: /not run/, incremental: /not run/ },
  'update-fields': { diff: 'same', incremental: 'same' },
};

/** What two ways of planning must agree on (the basis differs: when, which state, which commit). */
function planned(plan: Plan) {
  const { summary, changes, holds, warnings, unmanaged, withheld } = plan;
  return JSON.parse(JSON.stringify({ summary, changes, holds, warnings, unmanaged, withheld }));
}

function targetOf(c: PlanCase): PlanTarget {
  return { name: 'vendor', kind: 'dir', mode: c.spec.mode ?? 'bulk', policy: c.policy };
}

/** The diff shortcut on the case's rosters as CSV folders: its plan, or why it declined. */
async function throughDiff(c: PlanCase): Promise<{ shortcut: Plan | string; full?: Plan }> {
  const root = tempDir('plan-shortcut-diff-');
  const oldDir = join(root, 'old');
  const newDir = join(root, 'new');
  await writeOneRosterDir(sideOf(c, 'current'), oldDir);
  await writeOneRosterDir(sideOf(c, 'desired'), newDir);
  const target = targetOf(c);
  const showPersonalData = c.spec.showPersonalData ?? false;
  const lines = await diffByLines({
    oldPath: oldDir,
    newPath: newDir,
    target,
    now,
    showPersonalData,
    mostChanged: 1,
  });
  const read = async (dir: string) => (await readOneRoster(directoryFiles(dir), new Diagnostics())).roster;
  const full = computePlan({
    desired: await read(newDir),
    current: await read(oldDir),
    target,
    state: { lineage: 'diff', serial: 0 },
    commit: null,
    now,
    showPersonalData,
    desiredFingerprint: '0'.repeat(32),
  });
  return { shortcut: typeof lines === 'string' ? lines : lines.plan, full };
}

/**
 * A side of the case with the same files as the other, as two exports of one system have (a file
 * with no records says they are all gone); a first delivery's current side is those files, empty.
 */
function sideOf(c: PlanCase, side: 'current' | 'desired'): Roster {
  const files = new Set(
    [c.desired, c.current].flatMap((r) => (r ? r.entities().filter((e) => r.mode(e) !== 'absent') : [])),
  );
  return withFiles(c[side], c.desired.version, files);
}

/** `roster` (or no records) with a bulk file for each of `files`. */
function withFiles(
  roster: Roster | undefined,
  version: Roster['version'],
  files: ReadonlySet<EntityName>,
): Roster {
  const b = new RosterBuilder(version);
  for (const e of files) b.modes[e] = 'bulk';
  if (roster)
    for (const e of roster.entities()) {
      const table = roster.table(e);
      for (const f of table.extensionFields) b.table(e).declareField(f);
      for (let i = 0; i < table.size; i++) b.addNormalized(e, table.get(i));
    }
  return b.build();
}

/** The incremental plan in a district repo: its plan or why it declined, and the full plan. */
async function throughIncremental(c: PlanCase): Promise<{ shortcut: Plan | string; full?: Plan }> {
  const repo = tempDir('plan-shortcut-repo-');
  const target = {
    name: 'vendor',
    kind: 'dir',
    path: '.roster/t',
    mode: c.spec.mode ?? 'bulk',
    ...(c.spec.policy ? { policy: c.spec.policy } : {}),
  };
  writeFileSync(join(repo, 'roster.config.yaml'), stringify({ roster: 'roster', targets: [target] }));
  const options = { repo, target: 'vendor', now, showPersonalData: c.spec.showPersonalData ?? false };
  if (c.current) {
    await writeOneRosterDir(sideOf(c, 'current'), join(repo, 'roster'));
    await settle();
    // The apply delivers the whole roster: it fills the plan cache for the next plan.
    const applied = await applyRoster({ ...options, allowMassChange: true, confirm: async () => true });
    expect(applied.outcome, c.name).toBe('applied');
  }
  await writeOneRosterDir(sideOf(c, 'desired'), join(repo, 'roster'));
  await settle();
  // Why it declined is told to the progress line: "reading the whole roster (<why>)".
  const told: string[] = [];
  const shortcut = await makePlan({
    ...options,
    incremental: true,
    progress: (e) => told.push(e.detail ?? ''),
  });
  const full = await makePlan({ ...options, incremental: false });
  const why = told.find((d) => d.startsWith('reading the whole roster'));
  return {
    shortcut: shortcut.incremental ? shortcut.plan : (why ?? 'declined, saying nothing'),
    full: full.plan,
  };
}

/** Files written now are newer than a plan that starts at once (the plan cache takes settled files only). */
const settle = () => new Promise((r) => setTimeout(r, 80));

describe('the plan cases through the shortcuts', () => {
  it.concurrent.each(planCaseNames())(
    '%s: the full path’s plan, or a decline for the expected reason',
    async (name) => {
      const c = await readPlanCase(name);
      const expected = EXPECTED[name];
      expect(expected, `${name}: add the case to EXPECTED`).toBeDefined();
      const ruledOut = partialPlanRuledOut(c.policy, {
        shapes: false,
        exportsCurrent: c.spec.managed !== undefined,
      });
      for (const [way, run] of [
        ['diff', throughDiff],
        ['incremental', throughIncremental],
      ] as const) {
        const want = expected![way];
        if (c.spec.managed) {
          // (Not run: the case needs a portal that exports what it holds, which rules a partial plan out.)
          expect(ruledOut).toMatch(/portal/);
          expect(want).toEqual(/not run/);
          continue;
        }
        const { shortcut, full } = await run(c);
        if (want === 'same') {
          expect(typeof shortcut === 'string' ? shortcut : 'a plan', `${name} (${way})`).toBe('a plan');
          expect(planned(shortcut as Plan), `${name} (${way})`).toEqual(planned(full!));
        } else {
          expect(shortcut, `${name} (${way})`).toMatch(want);
        }
      }
      // Whatever plan/scope.ts rules out, both shortcuts decline for that very reason.
      if (ruledOut && !c.spec.managed)
        for (const want of [expected!.diff, expected!.incremental]) expect(ruledOut).toMatch(want);
    },
    60_000,
  );
});
