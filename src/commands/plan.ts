import { Flags } from '@oclif/core';
import { BaseCommand, progressOption } from '../base-command.js';
import { ExitCode } from '../exit-codes.js';
import type { Plan as PlanData } from '../plan/plan.js';
import { type PlanFormat, renderPlan } from '../render/plan.js';
import { planJsonChunks, writePlanFile } from '../render/plan-json.js';
import { fillPlanCache, makePlan } from '../services/plan.js';

export default class Plan extends BaseCommand {
  static override summary = 'Show what would change at a target, without changing anything.';
  static override description =
    "Compares the roster with what the target holds (its state) after the target's policy, and lists every record to add, change or remove, with safety holds. Exit code 0 (or with --detailed-exitcode: 0 no changes, 2 changes), 1 error.";
  static override examples = [
    '<%= config.bin %> plan',
    '<%= config.bin %> plan --out plan.json',
    '<%= config.bin %> plan --target amplify --format markdown > plan.md',
    '<%= config.bin %> plan --detailed-exitcode',
  ];
  static override flags = {
    ...BaseCommand.repoFlags,
    ...BaseCommand.detailLimitFlag,
    out: Flags.string({ description: 'Save the plan (JSON) for `roster apply FILE`.' }),
    format: Flags.string({
      options: ['text', 'markdown', 'json'],
      default: 'text',
      description: 'Output format.',
    }),
    'detailed-exitcode': Flags.boolean({
      description: 'Exit 0 when there are no changes, 2 when there are, 1 on error.',
    }),
    full: Flags.boolean({
      description:
        'Read and compare the whole roster, even when only some lines changed since the last plan that found nothing to do.',
    }),
    'show-personal-data': Flags.boolean({
      description:
        'Show names, e-mail addresses and other personal data in the plan (redacted fields stay masked).',
    }),
  };

  async run(): Promise<PlanData> {
    const { flags } = await this.parse(Plan);
    const ctx = await makePlan({
      repo: flags.repo,
      ...(flags.target ? { target: flags.target } : {}),
      showPersonalData: flags['show-personal-data'],
      incremental: !flags.full,
      ...progressOption(this.progress(flags.quiet)),
    });
    if (flags.out) writePlanFile(flags.out, ctx.plan);
    if (flags.format === 'json') await this.writeChunks(planJsonChunks(ctx.plan));
    else
      this.write(
        renderPlan(ctx.plan, flags.format as PlanFormat, {
          style: this.styleFor(flags['no-color']),
          detailLimit: flags['detail-limit'],
        }),
      );
    if (ctx.incremental && !flags.quiet)
      process.stderr.write(
        `Compared only the ${ctx.incremental.count} ${ctx.incremental.unit}(s) that changed since the last plan that found nothing to do (roster plan --full compares everything).\n`,
      );
    if (flags.out && flags.format === 'text')
      this.write(`Saved the plan to ${flags.out}. Apply exactly this plan with: roster apply ${flags.out}\n`);
    // With --json, the plan now (written once: the second done() only sets the exit code).
    await this.done(ctx.plan, { jsonChunks: () => planJsonChunks(ctx.plan) });
    // Then, when it found nothing to do, the plan cache for the next plan (once all is shown).
    await fillPlanCache(ctx);
    return this.done(ctx.plan, {
      exitCode: flags['detailed-exitcode'] && ctx.plan.changes.length > 0 ? ExitCode.Changes : undefined,
    });
  }
}
