/** `roster export`: exactly what a target would receive now, after policy, for a manual upload. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeOneRosterDir, writeOneRosterZip } from '../formats/oneroster-csv/write.js';
import { buildDelivery } from '../plan/delivery.js';
import { applyPolicy } from '../plan/policy.js';
import { batchFiles } from '../targets/batch.js';
import { makePlan, type PlanOptions } from './plan.js';

export interface ExportOptions extends PlanOptions {
  readonly format: 'oneroster' | 'batch';
  readonly out: string;
}

export async function exportDelivery(
  options: ExportOptions,
): Promise<{ files: string[]; changes: number; mode: string }> {
  const ctx = await makePlan(options);
  const shared = applyPolicy(ctx.desired, ctx.targetConfig.policy);
  const desired = ctx.target.shape ? ctx.target.shape(shared) : shared;
  const { delivery, snapshot } = buildDelivery({
    desired,
    current: ctx.current,
    changes: ctx.plan.changes,
    mode: ctx.targetConfig.mode,
    policy: ctx.targetConfig.policy,
    now: new Date(),
  });
  if (options.format === 'batch') {
    const files = batchFiles(delivery, snapshot);
    mkdirSync(options.out, { recursive: true });
    writeFileSync(join(options.out, 'users.csv'), files.users);
    const written = [join(options.out, 'users.csv')];
    if (files.demographics) {
      writeFileSync(join(options.out, 'demographics.csv'), files.demographics);
      written.push(join(options.out, 'demographics.csv'));
    }
    return { files: written, changes: ctx.plan.changes.length, mode: 'delta' };
  }
  if (options.out.toLowerCase().endsWith('.zip')) {
    await writeOneRosterZip(delivery, options.out);
    return { files: [options.out], changes: ctx.plan.changes.length, mode: ctx.targetConfig.mode };
  }
  const files = await writeOneRosterDir(delivery, options.out);
  return {
    files: files.map((f) => join(options.out, f)),
    changes: ctx.plan.changes.length,
    mode: ctx.targetConfig.mode,
  };
}
