/**
 * Saved plan files read back: versioned JSON checked against schemas/plan.schema.json. (Plans are
 * written by render/plan-json.ts.)
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { InputError } from '../errors.js';
import { compileSchema, type ValidateFunction } from '../schema.js';
import type { Plan } from './plan.js';

const SCHEMA_FILE = fileURLToPath(new URL('../../schemas/plan.schema.json', import.meta.url));
let validator: ValidateFunction | undefined;

/** Checks a plan object against the schema; returns the problems (empty when valid). */
export function checkPlan(data: unknown): string[] {
  if (!validator)
    validator = compileSchema(JSON.parse(readFileSync(SCHEMA_FILE, 'utf8')), {
      allErrors: true,
      strict: false,
      validateFormats: false,
    });
  return validator(data) ? [] : (validator.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message}`);
}

/** Saved plans above this size are refused (JSON.parse needs the whole text as one string). */
export const PLAN_FILE_MAX_BYTES = 256 << 20;

export function readPlanFile(path: string): Plan {
  let data: unknown;
  if (existsSync(path) && statSync(path).size > PLAN_FILE_MAX_BYTES) {
    throw new InputError(
      'PLAN_TOO_LARGE',
      `${path} is a plan of ${Math.round(statSync(path).size / 1048576)} MiB, too large to read back (the limit is ${PLAN_FILE_MAX_BYTES / 1048576} MiB)`,
      'Run `roster apply` without a plan file: it plans again, shows the plan and asks before applying (or use --auto-approve in CI).',
    );
  }
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
