/**
 * The plan hash: one short string that names exactly what a plan would do, so that CI applies
 * only what a pull request's reviewers saw (the GitHub Action posts it with the plan and compares
 * it before applying). It covers the target, the state the plan starts from (lineage and serial),
 * the desired roster's fingerprint, the holds and every change with its fields as shown. It leaves
 * out when and from which commit the plan was made: the same change planned again, from a merge
 * commit or an hour later, has the same hash.
 */
import { createHash } from 'node:crypto';
import type { Plan } from './plan.js';

/** Version of the hash's input: bumped when what it covers changes (an old hash then never matches). */
const PLAN_HASH_VERSION = 'roster-plan-hash/2';

/** "sha256:" and 64 hex digits. */
export function planHash(plan: Plan): string {
  const hash = createHash('sha256');
  // Each value length-prefixed (unambiguous whatever it holds), fed to the hash in large pieces:
  // a city's first delivery has ten million changes.
  let buffer = '';
  const line = (...parts: (string | number | null | undefined)[]) => {
    for (const p of parts) {
      if (p === undefined || p === null) buffer += '~';
      else {
        const text = String(p);
        buffer += `${text.length}:${text}`;
      }
    }
    buffer += '\n';
    if (buffer.length > 1 << 20) {
      hash.update(buffer);
      buffer = '';
    }
  };
  line(PLAN_HASH_VERSION);
  line('target', plan.target.name, plan.target.kind, plan.target.mode);
  line('state', plan.basis.stateLineage, plan.basis.stateSerial);
  line('roster', plan.basis.desiredFingerprint, plan.basis.oneRosterVersion);
  for (const h of plan.holds) line('hold', h.code, h.entity, h.school);
  for (const c of plan.changes) {
    line(c.action, c.entity, c.key, c.sourcedId, c.school, c.reason);
    for (const f of c.fields ?? []) line(f.name, f.before, f.after);
  }
  hash.update(buffer);
  return `sha256:${hash.digest('hex')}`;
}

/** The first 12 hex digits, for people ("a1b2c3d4e5f6"). */
export function shortPlanHash(hash: string): string {
  return hash.replace(/^sha256:/, '').slice(0, 12);
}
