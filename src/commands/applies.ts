import { Flags } from '@oclif/core';
import { BaseCommand } from '../base-command.js';
import { ExitCode } from '../exit-codes.js';
import { type AppliesResult, renderApplies } from '../render/history.js';
import { listApplies } from '../services/history.js';

export default class Applies extends BaseCommand {
  static override summary =
    'Show the past applies of each target: serial, when, commit range, changes, rejected records.';
  static override description =
    'Read from each target\'s state, which keeps the applies before the current one. "When did the vendor get it": roster log RECORD names the apply that delivered each version.';
  static override examples = [
    '<%= config.bin %> applies',
    '<%= config.bin %> applies --target vendor --format json',
  ];
  static override flags = {
    ...BaseCommand.repoFlags,
    target: Flags.string({ description: 'Only this target (default: every target in roster.config.yaml).' }),
    format: Flags.string({
      options: ['text', 'markdown', 'json'],
      default: 'text',
      description: 'Output format.',
    }),
  };

  async run(): Promise<AppliesResult> {
    const { flags } = await this.parse(Applies);
    const result = await listApplies({ repo: flags.repo, ...(flags.target ? { target: flags.target } : {}) });
    if (flags.format === 'json') this.write(`${JSON.stringify(result, null, 2)}\n`);
    else
      this.write(
        renderApplies(result, flags.format as 'text' | 'markdown', this.styleFor(flags['no-color'])),
      );
    // Every target shown; the exit code says that not all could be read.
    return this.done(result, {
      exitCode: result.targets.some((t) => t.error) ? ExitCode.Failure : undefined,
    });
  }
}
