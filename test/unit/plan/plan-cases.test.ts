/**
 * Table tests of the plan engine: each folder of test/fixtures/plan/<case>/ holds
 *   desired.yaml   the roster in the repo (roster YAML)
 *   current.yaml   what the target holds (as delivered); absent: never applied
 *   case.yaml      target mode and policy, managed keys (optional)
 *   expected.json  the plan's summary, changes, holds, warnings and unmanaged counts
 * Run with UPDATE_GOLDEN=1 to (re)write expected.json after a deliberate change; review the diff.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { Diagnostics } from '../../../src/diagnostic.js';
import { directoryFiles } from '../../../src/formats/package-files.js';
import { readRosterYaml } from '../../../src/formats/yaml/read.js';
import type { EntityName } from '../../../src/model/entities.js';
import type { Roster } from '../../../src/model/roster.js';
import { computePlan } from '../../../src/plan/compute.js';
import { checkPlan } from '../../../src/plan/plan-file.js';
import { defaultPolicy, type Policy } from '../../../src/plan/policy.js';
import { tempDir, writeTree } from '../../helpers/fixtures.js';

const ROOT = 'test/fixtures/plan';

async function readYamlRoster(file: string): Promise<Roster> {
  const dir = writeTree(tempDir(), { 'roster.yaml': readFileSync(file, 'utf8') });
  const diagnostics = new Diagnostics();
  const { roster } = await readRosterYaml(directoryFiles(dir), diagnostics);
  expect(
    diagnostics.list.filter((d) => d.severity === 'error'),
    file,
  ).toEqual([]);
  return roster;
}

interface CaseFile {
  mode?: 'bulk' | 'delta';
  policy?: Partial<Policy> & { ids?: Partial<Policy['ids']>; thresholds?: Partial<Policy['thresholds']> };
  managed?: Partial<Record<EntityName, string[]>>;
  showPersonalData?: boolean;
}

describe.each(readdirSync(ROOT).sort())('plan case %s', (name) => {
  it('plans exactly the expected changes, holds and warnings', async () => {
    const dir = join(ROOT, name);
    const spec = (
      existsSync(join(dir, 'case.yaml')) ? parse(readFileSync(join(dir, 'case.yaml'), 'utf8')) : {}
    ) as CaseFile;
    const base = defaultPolicy();
    const policy = {
      ...base,
      ...spec.policy,
      ids: { ...base.ids, ...spec.policy?.ids },
      thresholds: { ...base.thresholds, ...spec.policy?.thresholds },
    } as Policy;
    const desired = await readYamlRoster(join(dir, 'desired.yaml'));
    const current = existsSync(join(dir, 'current.yaml'))
      ? await readYamlRoster(join(dir, 'current.yaml'))
      : undefined;
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
