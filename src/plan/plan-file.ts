/** Saved plan files: versioned JSON checked against schemas/plan.schema.json on reading. */
import { closeSync, existsSync, openSync, readFileSync, renameSync, statSync, writeSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { InputError } from '../errors.js';
import { compileSchema, type ValidateFunction } from '../schema.js';
import { writeChangeJson } from './compute.js';
import { JsonBytes } from './json-bytes.js';
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

/**
 * The JSON plan (exactly `JSON.stringify(plan, null, 2)` and a line break, as UTF-8) in pieces
 * of about `chunkBytes`: a city's first plan is gigabytes of JSON, more than one string can hold,
 * so it is written piece by piece. Changes made by computePlan are written from their records'
 * bytes (Change.writeJson: several times faster than JSON.stringify); others (read back from a
 * file, or an update between tables of different columns) by JSON.stringify.
 */
export function* planJsonChunks(plan: Plan, chunkBytes = 1 << 20): Generator<Buffer> {
  const out = new JsonBytes(chunkBytes + (chunkBytes >> 2));
  out.text('{');
  const entries = Object.entries(plan).filter(([, v]) => v !== undefined);
  for (const [n, [key, value]] of entries.entries()) {
    out.text(`\n  ${JSON.stringify(key)}: `);
    if (key === 'changes' && Array.isArray(value) && value.length > 0) {
      out.text('[');
      for (const [i, change] of value.entries()) {
        out.text(i > 0 ? ',\n    ' : '\n    ');
        if (!writeChangeJson(change, out)) out.text(indent(JSON.stringify(change, null, 2), '    '));
        if (out.length >= chunkBytes) yield out.take();
      }
      out.text('\n  ]');
    } else {
      out.text(indent(JSON.stringify(value, null, 2), '  '));
    }
    if (n < entries.length - 1) out.text(',');
  }
  out.text('\n}\n');
  yield out.take();
}

function indent(json: string, by: string): string {
  return json.replaceAll('\n', `\n${by}`);
}

/** Writes the plan as JSON, piece by piece (a city's first plan is larger than one string). */
export function writePlanFile(path: string, plan: Plan): void {
  const tmp = `${path}.tmp-${process.pid}`;
  const fd = openSync(tmp, 'w');
  try {
    for (const chunk of planJsonChunks(plan)) writeSync(fd, chunk);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
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
