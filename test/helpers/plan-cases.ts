/**
 * The plan cases of test/fixtures/plan/<case>/, read for the tests that run them (the plan
 * engine's table test, and the shortcuts held to the same plans):
 *   desired.yaml   the roster in the repo (roster YAML)
 *   current.yaml   what the target holds (as delivered); absent: never applied
 *   case.yaml      target mode and policy (as in roster.config.yaml), managed keys (optional)
 *   expected.json  the plan's summary, changes, holds, warnings and unmanaged counts
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { parse } from 'yaml';
import { Diagnostics } from '../../src/diagnostic.js';
import { memoryFiles } from '../../src/formats/package-files.js';
import { readRosterYaml } from '../../src/formats/yaml/read.js';
import type { EntityName } from '../../src/model/entities.js';
import type { Roster } from '../../src/model/roster.js';
import { defaultPolicy, type Policy } from '../../src/plan/policy.js';

export const PLAN_CASES = 'test/fixtures/plan';

export interface CaseFile {
  mode?: 'bulk' | 'delta';
  policy?: Partial<Policy> & { ids?: Partial<Policy['ids']>; thresholds?: Partial<Policy['thresholds']> };
  managed?: Partial<Record<EntityName, string[]>>;
  showPersonalData?: boolean;
}

export interface PlanCase {
  readonly name: string;
  readonly dir: string;
  readonly spec: CaseFile;
  readonly policy: Policy;
  readonly desired: Roster;
  readonly current: Roster | undefined;
}

export function planCaseNames(): string[] {
  return readdirSync(PLAN_CASES).sort();
}

async function readYamlRoster(file: string): Promise<Roster> {
  const diagnostics = new Diagnostics();
  const { roster } = await readRosterYaml(
    memoryFiles(file, new Map([['roster.yaml', readFileSync(file)]])),
    diagnostics,
  );
  expect(
    diagnostics.list.filter((d) => d.severity === 'error'),
    file,
  ).toEqual([]);
  return roster;
}

export async function readPlanCase(name: string): Promise<PlanCase> {
  const dir = join(PLAN_CASES, name);
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
  return { name, dir, spec, policy, desired, current };
}
