/**
 * The Action's pure parts: the plan hash, the committed bundle being current, comment lookup,
 * and annotations capped per kind.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { Diagnostic } from '../../../src/diagnostic.js';
import { generateDistrict } from '../../../src/generate/generate.js';
import type { Comment } from '../../../src/github/api.js';
import { computePlan } from '../../../src/plan/compute.js';
import { planHash, shortPlanHash } from '../../../src/plan/plan-hash.js';
import { defaultPolicy } from '../../../src/plan/policy.js';
import { renderValidationGithub } from '../../../src/render/validation.js';
import { findPlanComment, hashMarker, postedPlanHash } from '../../../src/services/review.js';
import { parseOutputs } from '../../helpers/action.js';
import { tempDir } from '../../helpers/fixtures.js';

function plan(students: number, options: { serial?: number; now?: string; commit?: string | null } = {}) {
  const desired = generateDistrict({ schools: 1, students, seed: 'h' });
  return computePlan({
    desired,
    current: undefined,
    target: { name: 't', kind: 'dir', mode: 'bulk', policy: defaultPolicy() },
    state: options.serial === undefined ? undefined : { lineage: 'l', serial: options.serial },
    commit: options.commit ?? null,
    now: new Date(options.now ?? '2026-03-02T12:00:00Z'),
  });
}

describe('plan hash', () => {
  it('names what the plan does, not when or from which commit it was made', () => {
    const a = planHash(plan(10));
    expect(a).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(planHash(plan(10, { now: '2026-04-01T00:00:00Z', commit: 'a'.repeat(40) }))).toBe(a);
    expect(planHash(plan(11))).not.toBe(a); // another roster
    expect(planHash(plan(10, { serial: 3 }))).not.toBe(a); // another target state
    expect(shortPlanHash(a)).toBe(a.slice(7, 19));
  });

  it('changes when one shown field changes', () => {
    const p = plan(5);
    const [first, ...rest] = p.changes;
    const fields = (first!.fields ?? []).map((f, i) => (i === 0 ? { ...f, after: `${f.after}!` } : f));
    expect(planHash({ ...p, changes: [{ ...first!, fields }, ...rest] })).not.toBe(planHash(p));
  });
});

describe('plan comments', () => {
  const comment = (id: number, login: string, body: string): Comment => ({
    id,
    body,
    user: { login },
    html_url: `u${id}`,
    created_at: '',
    updated_at: '',
  });
  const hash = `sha256:${'a'.repeat(64)}`;

  it('are ours only when written by our login, for this target', () => {
    const list = [
      comment(1, 'mallory', `<!-- roster-plan:t -->\n${hashMarker(`sha256:${'b'.repeat(64)}`)}`),
      comment(2, 'github-actions[bot]', `<!-- roster-plan:other -->\n${hashMarker(hash)}`),
      comment(3, 'github-actions[bot]', `<!-- roster-plan:t -->\n${hashMarker(hash)}`),
    ];
    expect(findPlanComment(list, 'github-actions[bot]', 't')?.id).toBe(3);
    expect(findPlanComment(list, 'someone-else', 't')).toBeUndefined();
    expect(postedPlanHash(findPlanComment(list, 'github-actions[bot]', 't'))).toBe(hash);
    expect(postedPlanHash(list[0])).toBe(`sha256:${'b'.repeat(64)}`); // (mallory's is never looked up)
    expect(postedPlanHash(undefined)).toBeUndefined();
  });
});

describe('annotations', () => {
  it('at most N of each kind, then one notice that counts the rest', () => {
    const diagnostics: Diagnostic[] = [];
    for (let i = 1; i <= 25; i++)
      diagnostics.push({
        severity: 'error',
        code: 'REFERENCE_MISSING',
        message: `missing ${i}`,
        file: 'a.yaml',
        line: i,
      });
    for (let i = 1; i <= 3; i++)
      diagnostics.push({
        severity: 'warning',
        code: 'VALUE_GRADE',
        message: `grade ${i}`,
        file: 'a.yaml',
        line: i,
      });
    const roster = generateDistrict({ schools: 1, students: 1, seed: 'x' });
    const text = renderValidationGithub(
      {
        valid: false,
        errors: 25,
        warnings: 3,
        diagnostics,
        roster,
        format: 'roster-yaml',
        location: '.',
      } as never,
      { annotationsPerKind: 10 },
    );
    const lines = text.trimEnd().split('\n');
    expect(lines.filter((l) => l.startsWith('::error '))).toHaveLength(10);
    expect(lines.filter((l) => l.startsWith('::warning '))).toHaveLength(3);
    expect(lines.filter((l) => l.startsWith('::notice '))).toEqual([
      expect.stringMatching(/^::notice title=DIAGNOSTICS_NOT_LISTED::15 more diagnostic/),
    ]);
  });
});

describe('the committed bundle', () => {
  it('is what scripts/bundle-action.js makes from the sources (run `npm run bundle` and commit action/dist)', () => {
    const out = tempDir('roster-bundle-');
    execFileSync(process.execPath, ['scripts/bundle-action.js', out]);
    const files = readdirSync(out).sort();
    expect(readdirSync('action/dist').sort()).toEqual(files);
    for (const f of files)
      expect(readFileSync(join('action/dist', f), 'utf8') === readFileSync(join(out, f), 'utf8'), f).toBe(
        true,
      );
    const action = readFileSync('action.yml', 'utf8');
    expect(action).toMatch(/using: node24\n\s+main: action\/dist\/index\.js/);
  });

  it('outputs are read back as the runner writes them', () => {
    expect(
      parseOutputs('a<<ghadelimiter_1\nx\ny\nghadelimiter_1\nb<<ghadelimiter_2\n\nghadelimiter_2\n'),
    ).toEqual({
      a: 'x\ny',
      b: '',
    });
  });
});

describe('the example workflows', () => {
  const action = parse(readFileSync('action.yml', 'utf8')) as {
    inputs: Record<string, unknown>;
    outputs: Record<string, unknown>;
  };
  for (const file of ['roster-plan.yml', 'roster-apply.yml']) {
    it(`${file}: known inputs only, a concurrency group per target that is never cancelled, secrets from secrets`, () => {
      const text = readFileSync(join('examples/workflows', file), 'utf8');
      const workflow = parse(text) as {
        jobs: Record<
          string,
          {
            concurrency: { group: string; 'cancel-in-progress': boolean };
            steps: { uses?: string; with?: Record<string, unknown>; env?: Record<string, string> }[];
          }
        >;
      };
      for (const job of Object.values(workflow.jobs)) {
        expect(job.concurrency['cancel-in-progress']).toBe(false);
        // biome-ignore lint/suspicious/noTemplateCurlyInString: a GitHub Actions expression
        expect(job.concurrency.group).toContain('${{ matrix.target }}');
        const step = job.steps.find((s) => s.uses?.includes('roster-as-code'))!;
        for (const name of Object.keys(step.with ?? {})) expect(Object.keys(action.inputs)).toContain(name);
        for (const value of Object.values(step.env ?? {}))
          expect(value).toMatch(/^\$\{\{ secrets\.\w+ \}\}$/);
      }
      for (const m of text.matchAll(/outputs\.([\w-]+)/g))
        expect(Object.keys(action.outputs)).toContain(m[1]);
    });
  }
});
