/** `roster export`: exactly what a target would receive now, after policy, for a manual upload. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeOneRosterDir, writeOneRosterZip } from '../formats/oneroster-csv/write.js';
import { batchFiles } from '../targets/batch.js';
import { deliveryFor, makePlan, type PlanOptions } from './plan.js';
import { writeOutput } from './write.js';

export interface ExportOptions extends PlanOptions {
  readonly format: 'oneroster' | 'batch';
  readonly out: string;
  /** Replace roster files already in `out` (refused otherwise). */
  readonly force?: boolean;
}

export async function exportDelivery(
  options: ExportOptions,
): Promise<{ files: string[]; changes: number; mode: string }> {
  const ctx = await makePlan(options);
  const { delivery, snapshot } = deliveryFor(ctx, new Date());
  const changes = ctx.plan.changes.length;
  if (options.format === 'batch') {
    const files = batchFiles(delivery, snapshot);
    const written = await writeOutput(
      { out: options.out, extensions: ['.csv'], force: options.force },
      async (dir) => {
        writeFileSync(join(dir, 'users.csv'), files.users);
        if (!files.demographics) return ['users.csv'];
        writeFileSync(join(dir, 'demographics.csv'), files.demographics);
        return ['users.csv', 'demographics.csv'];
      },
    );
    return { files: written, changes, mode: 'delta' };
  }
  const written = await writeOutput(
    { out: options.out, extensions: ['.csv'], force: options.force },
    (dir) => writeOneRosterDir(delivery, dir),
    (zip) => writeOneRosterZip(delivery, zip),
  );
  return { files: written, changes, mode: ctx.targetConfig.mode };
}
