import { Args, Flags } from '@oclif/core';
import { BaseCommand, progressOption } from '../base-command.js';
import { ExitCode } from '../exit-codes.js';
import type { Plan } from '../plan/plan.js';
import { type PlanFormat, renderPlan } from '../render/plan.js';
import { planJsonChunks } from '../render/plan-json.js';
import { diffRosters } from '../services/diff.js';

export default class Diff extends BaseCommand {
  static override summary = 'Show the keyed record diff of two rosters: two paths, or two git revisions.';
  static override description =
    'Records are matched by sourcedId and compared field by field, whatever the format (roster YAML, OneRoster CSV folder or zip) and row order. Rendered like a plan; the JSON has per-entity counts of created, updated and deleted records.';
  static override examples = [
    '<%= config.bin %> diff old/ new/',
    '<%= config.bin %> diff last-year.zip OneRoster.zip --format json',
    '<%= config.bin %> diff HEAD~1..HEAD',
  ];
  static override args = {
    old: Args.string({ required: true, description: 'The old roster (a path), or a revision range A..B.' }),
    new: Args.string({ description: 'The new roster (a path).' }),
  };
  static override flags = {
    ...BaseCommand.detailLimitFlag,
    format: Flags.string({
      options: ['text', 'markdown', 'json'],
      default: 'text',
      description: 'Output format.',
    }),
    'exit-code': Flags.boolean({ description: 'Exit 2 when the rosters differ.' }),
    full: Flags.boolean({
      description:
        'Read both rosters whole. (OneRoster CSV folders and zips are otherwise compared line by line first, and only the lines that differ are read as records: the same diff, sooner.)',
    }),
    'show-personal-data': Flags.boolean({
      description: 'Show names, e-mail addresses and other personal data.',
    }),
  };

  async run(): Promise<Plan> {
    const { args, flags } = await this.parse(Diff);
    const { plan, changedLines } = await diffRosters(args.old, args.new, {
      showPersonalData: flags['show-personal-data'],
      full: flags.full,
      ...progressOption(this.progress(flags.quiet)),
    });
    if (flags.format === 'json') await this.writeChunks(planJsonChunks(plan));
    else
      this.write(
        renderPlan(plan, flags.format as PlanFormat, {
          style: this.styleFor(flags['no-color']),
          detailLimit: flags['detail-limit'],
        }),
      );
    if (changedLines !== undefined && !flags.quiet)
      process.stderr.write(
        `Read only the ${changedLines} line(s) that differ between the two rosters (roster diff --full reads both whole).\n`,
      );
    return this.done(plan, {
      jsonChunks: () => planJsonChunks(plan),
      exitCode: flags['exit-code'] && plan.changes.length > 0 ? ExitCode.Changes : undefined,
    });
  }
}
