import { Flags } from '@oclif/core';
import { BaseCommand } from '../base-command.js';
import { ExitCode } from '../exit-codes.js';
import { renderStatus } from '../render/status.js';
import { STATUS_FORMAT_VERSION, type TargetStatus, targetStatuses } from '../services/status.js';

export default class Status extends BaseCommand {
  static override summary = 'Show what each target holds: applied commit, serial, when, lock.';
  static override examples = ['<%= config.bin %> status', '<%= config.bin %> status --format json'];
  static override flags = {
    ...BaseCommand.repoFlags,
    format: Flags.string({ options: ['text', 'json'], default: 'text', description: 'Output format.' }),
  };

  async run(): Promise<{ formatVersion: string; targets: TargetStatus[] }> {
    const { flags } = await this.parse(Status);
    const rows = await targetStatuses({
      repo: flags.repo,
      ...(flags.target ? { target: flags.target } : {}),
    });
    const result = { formatVersion: STATUS_FORMAT_VERSION, targets: rows };
    if (flags.format === 'json') this.write(`${JSON.stringify(result, null, 2)}\n`);
    else this.write(renderStatus(rows, this.styleFor(flags['no-color'])));
    // Every target shown; the exit code says that not all could be read.
    return this.done(result, { exitCode: rows.some((r) => r.error) ? ExitCode.Failure : undefined });
  }
}
