/** Saved plan files: versioned JSON checked against schemas/plan.schema.json on reading. */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Ajv } from 'ajv';
import { InputError } from '../errors.js';
import type { Plan } from './plan.js';

const SCHEMA_FILE = fileURLToPath(new URL('../../schemas/plan.schema.json', import.meta.url));
let validator: ReturnType<Ajv['compile']> | undefined;

/** Checks a plan object against the schema; returns the problems (empty when valid). */
export function checkPlan(data: unknown): string[] {
  if (!validator)
    validator = new Ajv({ allErrors: true, strict: false, validateFormats: false }).compile(
      JSON.parse(readFileSync(SCHEMA_FILE, 'utf8')),
    );
  return validator(data) ? [] : (validator.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message}`);
}

export function writePlanFile(path: string, plan: Plan): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, `${JSON.stringify(plan, null, 2)}\n`);
  renameSync(tmp, path);
}

export function readPlanFile(path: string): Plan {
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    const missing = (err as NodeJS.ErrnoException).code === 'ENOENT';
    throw new InputError(
      'PLAN_INVALID',
      missing ? `${path} does not exist` : `${path} is not a plan file (not JSON)`,
      'Make one with `roster plan --out FILE`.',
    );
  }
  const problems = checkPlan(data);
  if (problems.length > 0) {
    throw new InputError(
      'PLAN_INVALID',
      `${path} is not a valid plan file: ${problems.slice(0, 3).join('; ')}`,
      'Make one with `roster plan --out FILE` (with this version of roster-as-code).',
    );
  }
  return data as Plan;
}
