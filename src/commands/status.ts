import { Flags } from '@oclif/core';
import { BaseCommand } from '../base-command.js';
import { ExitCode } from '../exit-codes.js';
import { targetStatuses } from '../services/status.js';

export default class Status extends BaseCommand {
  static override summary = 'Show what each target holds: applied commit, serial, when, lock.';
  static override examples = ['<%= config.bin %> status', '<%= config.bin %> status --format json'];
  static override flags = {
    ...BaseCommand.repoFlags,
    format: Flags.string({ options: ['text', 'json'], default: 'text', description: 'Output format.' }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(Status);
    const rows = await targetStatuses({
      repo: flags.repo,
      ...(flags.target ? { target: flags.target } : {}),
    });
    const failed = rows.filter((r) => r.error).length;
    if (flags.format === 'json') {
      this.write(`${JSON.stringify({ formatVersion: '1.1', targets: rows }, null, 2)}\n`);
      if (failed > 0) this.exit(ExitCode.Failure);
      return;
    }
    const s = this.styleFor(flags['no-color']);
    for (const r of rows) {
      this.write(`${s.bold(r.target)} (${r.kind}, ${r.mode}) at ${r.location}\n`);
      if (r.error) {
        this.write(s.red(`  cannot be read: [${r.error.code}] ${r.error.message}\n`));
        if (r.error.hint) this.write(s.dim(`  hint: ${r.error.hint}\n`));
        continue;
      }
      if (!r.applied) this.write('  never applied\n');
      else {
        const a = r.applied;
        this.write(
          `  serial ${a.serial}, applied ${a.at}${a.commit ? ` from commit ${a.commit.slice(0, 12)}${a.dirty ? ' (with uncommitted changes)' : ''}` : ' (roster not in git)'}\n`,
        );
        this.write(
          `  records: ${
            Object.entries(a.records)
              .map(([e, n]) => `${n} ${e}`)
              .join(', ') || 'none'
          }; rejected: ${a.rejected}\n`,
        );
        for (const m of a.reportMismatch)
          this.write(s.yellow(`  warning: the portal's report differed from the plan: ${m}\n`));
        for (const x of a.rejectedRecords.slice(0, 20))
          this.write(`  rejected: ${x.entity} ${x.key}  ${x.code}  ${x.message}\n`);
      }
      if (r.lock)
        this.write(
          s.yellow(
            `  locked by ${r.lock.holder} (${r.lock.operation}) since ${r.lock.createdAt}${r.lock.stale ? ' - STALE: that process is gone; `roster unlock ' + r.target + ' --force`' : ''}\n`,
          ),
        );
      else this.write('  not locked\n');
    }
    // Every target shown; the exit code says that not all could be read.
    if (failed > 0) this.exit(ExitCode.Failure);
  }
}
