/**
 * Table tests of the plan engine: each folder of test/fixtures/plan/<case>/ (test/helpers/plan-cases.ts)
 * gives the plan in its expected.json. Run with UPDATE_GOLDEN=1 to (re)write expected.json after a deliberate change; review the diff.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { computePlan } from '../../../src/plan/compute.js';
import { checkPlan } from '../../../src/plan/plan-file.js';
import { planCaseNames, readPlanCase } from '../../helpers/plan-cases.js';

describe.each(planCaseNames())('plan case %s', (name) => {
  it('plans exactly the expected changes, holds and warnings', async () => {
    const { dir, spec, policy, desired, current } = await readPlanCase(name);
    const plan = computePlan({
      desired,
      current,
      // Entities the case does not list are wholly managed (everything current was delivered).
      ...(spec.managed && current
        ? {
            managed: Object.fromEntries(
              current
                .entities()
                .map((e) => [e, new Set(spec.managed![e] ?? [...current.table(e)].map((r) => r.sourcedId!))]),
            ),
          }
        : {}),
      target: { name: 'vendor', kind: 'dir', mode: spec.mode ?? 'bulk', policy },
      state: current ? { lineage: 'lineage-1', serial: 3 } : undefined,
      commit: null,
      now: new Date('2026-03-02T12:00:00Z'),
      showPersonalData: spec.showPersonalData ?? false,
    });
    expect(checkPlan(plan)).toEqual([]);
    const actual = {
      summary: plan.summary,
      changes: plan.changes,
      holds: plan.holds,
      warnings: plan.warnings,
      unmanaged: plan.unmanaged,
    };
    const expectedFile = join(dir, 'expected.json');
    if (process.env.UPDATE_GOLDEN) writeFileSync(expectedFile, `${JSON.stringify(actual, null, 2)}\n`);
    expect(actual).toEqual(JSON.parse(readFileSync(expectedFile, 'utf8')));
  });
});
