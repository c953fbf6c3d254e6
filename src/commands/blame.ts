import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '../base-command.js';
import { type BlameResult, indexNote, renderBlame } from '../render/history.js';
import { recordBlame } from '../services/history.js';
import { historyProgress } from './log.js';

export default class Blame extends BaseCommand {
  static override summary = "Show, for each field of a record's current version, the commit that set it.";
  static override examples = [
    '<%= config.bin %> blame stu-000131',
    '<%= config.bin %> blame classes/cls-alg1-03 --format json',
  ];
  static override args = {
    record: Args.string({ required: true, description: 'The record: a sourcedId, or entity/sourcedId.' }),
  };
  static override flags = {
    repo: BaseCommand.repoFlags.repo,
    rev: Flags.string({ description: 'The record as of this revision (default: the checked-out commit).' }),
    format: Flags.string({
      options: ['text', 'markdown', 'json'],
      default: 'text',
      description: 'Output format.',
    }),
    'show-personal-data': Flags.boolean({
      description: 'Show names, e-mail addresses and other personal data.',
    }),
  };

  async run(): Promise<BlameResult> {
    const { args, flags } = await this.parse(Blame);
    const progress = historyProgress(this.progress(flags.quiet));
    const blame = await recordBlame({
      repo: flags.repo,
      record: args.record,
      ...(flags.rev ? { revision: flags.rev } : {}),
      showPersonalData: flags['show-personal-data'],
      ...(progress ? { progress } : {}),
    });
    const note = indexNote(blame.index);
    this.endProgress();
    if (note && !flags.quiet) process.stderr.write(`${note}\n`);
    if (flags.format === 'json') this.write(`${JSON.stringify(blame, null, 2)}\n`);
    else
      this.write(renderBlame(blame, flags.format as 'text' | 'markdown', this.styleFor(flags['no-color'])));
    return this.done(blame);
  }
}
