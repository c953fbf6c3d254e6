import { relative } from 'node:path';
import { defineConfig } from 'vitest/config';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/**
 * Seconds each slow file took in CI (files not listed are quick). The slowest start first, so
 * that the two workers finish together (longest-processing-time scheduling) instead of one idling
 * while the other runs a 30 s file at the end: about 30 s of the suite's wall time. Rough figures
 * are enough; refresh them when a file's weight changes a lot.
 */
const SECONDS: Record<string, number> = {
  'test/e2e/plan-apply.test.ts': 102,
  'test/e2e/incremental-plan.test.ts': 87,
  'test/e2e/action.test.ts': 73,
  'test/e2e/delivery.test.ts': 70,
  'test/e2e/init.test.ts': 60,
  'test/e2e/interrupt.test.ts': 58,
  'test/e2e/personal-data.test.ts': 46,
  'test/e2e/cli.test.ts': 41,
  'test/e2e/hostile.test.ts': 35,
  'test/e2e/diff.test.ts': 31,
  'test/integration/bench.test.ts': 27,
  'test/e2e/import-api.test.ts': 24,
  'test/integration/large-file.test.ts': 23,
  'test/e2e/history.test.ts': 21,
  'test/e2e/edit.test.ts': 20,
  'test/e2e/import-mapped.test.ts': 20,
  'test/e2e/pipes.test.ts': 20,
  'test/e2e/policy.test.ts': 19,
  'test/e2e/install.test.ts': 18,
  'test/integration/sandbox.test.ts': 18,
  'test/unit/diff-lines.test.ts': 18,
  'test/e2e/outputs.test.ts': 16,
  'test/integration/sandbox-portal.test.ts': 12,
  'test/integration/sftp-target.test.ts': 12,
  'test/unit/incremental-check.test.ts': 11,
};

class SlowestFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const seconds = (f: TestSpecification) => SECONDS[relative(process.cwd(), f.moduleId)] ?? 0;
    return [...files].sort((a, b) => seconds(b) - seconds(a));
  }
}

export default defineConfig({
  test: {
    include: ['test/unit/**/*.test.ts', 'test/integration/**/*.test.ts', 'test/e2e/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // e2e tests run the built CLI (npm test builds first); they spawn processes, so keep workers modest.
    maxWorkers: 2,
    sequence: { sequencer: SlowestFirst },
  },
});
