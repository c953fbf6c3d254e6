/**
 * `roster diff`: the keyed record diff of two rosters (two paths, or two git revisions of the
 * repo's roster), computed by the plan engine as "what turns OLD into NEW" and rendered like a plan.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { findConfig, loadConfig } from '../config/config.js';
import { firstUnparsed } from '../diagnostic.js';
import { InputError, UsageError } from '../errors.js';
import { computePlan, PlanKeyError } from '../plan/compute.js';
import type { Plan, PlanTarget } from '../plan/plan.js';
import { defaultPolicy } from '../plan/policy.js';
import type { ProgressListener } from '../progress.js';
import { loadInBackground } from '../source/background.js';
import { loadRoster } from '../source/load.js';
import { diffByLines } from './diff-shortcut.js';

export interface DiffOptions {
  readonly showPersonalData?: boolean;
  readonly now?: Date;
  readonly progress?: ProgressListener;
  /** Read both rosters whole, even where only the lines that differ would do (see diff-shortcut.ts). */
  readonly full?: boolean;
}

/** A revision range `A..B` of the repo at `repo` → the roster folder at each revision (temp folders). */
function checkoutRevisions(repo: string, range: string): { old: string; next: string; cleanup: () => void } {
  const [a, b] = range.split('..') as [string, string];
  const config = findConfig(repo);
  const top = execFileSync('git', ['rev-parse', '--show-toplevel'], { cwd: repo, encoding: 'utf8' }).trim();
  const rosterDir = relative(top, config ? loadConfig(config).rosterPath : repo) || '.';
  const dirs: string[] = [];
  const extract = (rev: string) => {
    const dir = mkdtempSync(join(tmpdir(), 'roster-diff-'));
    dirs.push(dir);
    try {
      execFileSync(
        'sh',
        ['-c', `git archive --format=tar "$1" -- "$2" | tar -x -C "$3"`, 'sh', rev, rosterDir, dir],
        { cwd: top, stdio: ['ignore', 'ignore', 'pipe'] },
      );
    } catch (err) {
      throw new UsageError(
        'REVISION_NOT_FOUND',
        `cannot read ${rosterDir} at revision ${rev}: ${String((err as { stderr?: Buffer }).stderr ?? err).trim()}`,
        'Give two revisions that hold the roster, e.g. roster diff HEAD~1..HEAD.',
      );
    }
    return join(dir, rosterDir);
  };
  return {
    old: extract(a),
    next: extract(b || 'HEAD'),
    cleanup: () => {
      for (const d of dirs) rmSync(d, { recursive: true, force: true });
    },
  };
}

/** What a diff plans for: everything is compared and nothing is held (a diff reports, it does not deliver). */
export function diffTarget(): PlanTarget {
  const policy = {
    ...defaultPolicy(),
    thresholds: {
      deletePercent: 100,
      updatePercent: 100,
      minimumChanges: Number.MAX_SAFE_INTEGER,
      perEntity: {},
    },
  };
  return { name: 'diff', kind: 'diff', mode: 'bulk', policy };
}

/** What roster diff found. */
export interface DiffResult {
  readonly plan: Plan;
  /** Read only the lines that differ (two CSV folders): how many; undefined when both were read whole. */
  readonly changedLines: number | undefined;
}

/** For a revision range, which revision a side is ("HEAD~1:roster"), for messages; undefined for paths. */
function revisionLabel(
  oldPath: string,
  newPath: string | undefined,
  side: 'old' | 'new',
): string | undefined {
  if (newPath !== undefined) return undefined;
  const [a, b] = oldPath.split('..') as [string, string];
  return `revision ${side === 'old' ? a : b || 'HEAD'}`;
}

/** Diffs two rosters. `oldPath`/`newPath` are paths, or `oldPath` is a range `A..B` (newPath undefined). */
export async function diffRosters(
  oldPath: string,
  newPath: string | undefined,
  options: DiffOptions = {},
): Promise<DiffResult> {
  let cleanup = () => {};
  let a = oldPath;
  let b = newPath;
  if (b === undefined) {
    if (!oldPath.includes('..'))
      throw new UsageError(
        'USAGE',
        'roster diff needs two paths or a revision range A..B',
        'e.g. roster diff old/ new/ or roster diff HEAD~1..HEAD',
      );
    const revs = checkoutRevisions('.', oldPath);
    a = revs.old;
    b = revs.next;
    cleanup = revs.cleanup;
  }
  try {
    const target = diffTarget();
    const now = options.now ?? new Date();
    const showPersonalData = options.showPersonalData ?? false;
    if (!options.full) {
      const lines = await diffByLines({
        oldPath: a,
        newPath: b,
        target,
        now,
        showPersonalData,
        ...(options.progress ? { progress: options.progress } : {}),
      });
      if (typeof lines !== 'string') return lines;
    }
    // The new side on another thread while this one reads the old side (whose sourcedId index,
    // built while reading, the plan engine then uses here).
    const [before, after] = await Promise.all([
      loadRoster(a, { checkFields: false }),
      loadInBackground(b, { checkFields: false, keepIndexes: false }),
    ]);
    // A side that does not read cleanly is an error, never an empty or partial roster (which
    // would show its records as removed).
    for (const [loaded, path] of [
      [before, revisionLabel(oldPath, newPath, 'old') ?? a],
      [after, revisionLabel(oldPath, newPath, 'new') ?? b],
    ] as const) {
      const first = firstUnparsed(loaded.diagnostics);
      if (first)
        throw new InputError(
          'ROSTER_UNREADABLE',
          `${path} cannot be read as a roster: ${first.file ? `${first.file}${first.line ? `:${first.line}` : ''}: ` : ''}${first.message} (${first.code})`,
          'Run `roster validate` on it to see every problem; a diff compares rosters that read cleanly.',
        );
    }
    try {
      const plan = computePlan({
        desired: after.roster,
        current: before.roster,
        target,
        state: { lineage: 'diff', serial: 0 },
        commit: null,
        now,
        showPersonalData,
        // A diff is never applied: no need to fingerprint the whole new roster for staleness.
        desiredFingerprint: '0'.repeat(32),
      });
      return { plan, changedLines: undefined };
    } catch (err) {
      if (err instanceof PlanKeyError)
        throw new InputError(
          'KEY_MISSING',
          `${err.message.replace(', which this target identifies them by', '')}: a diff matches records by their sourcedId (e.g. ${err.sourcedIds
            .slice(0, 3)
            .map((s) => s || '(empty)')
            .join(', ')})`,
          'Fill the sourcedId of every record (`roster validate` shows where).',
        );
      throw err;
    }
  } finally {
    cleanup();
  }
}
