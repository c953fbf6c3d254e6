import { Flags } from '@oclif/core';
import { BaseCommand } from '../../base-command.js';
import { ExitCode } from '../../exit-codes.js';
import { syncOnce } from '../../sandbox/sandbox.js';

export default class SandboxSync extends BaseCommand {
  static override summary = "Run a sync of what waits in the sandbox's landing zone now.";
  static override examples = ['<%= config.bin %> sandbox sync --data .sandbox'];
  static override flags = {
    data: Flags.string({ required: true, description: "The sandbox's data folder." }),
    config: Flags.string({
      description: 'The sandbox config, when it is not <data>/sandbox.yaml (for its limits).',
    }),
    format: Flags.string({ options: ['text', 'json'], default: 'text', description: 'Output format.' }),
  };

  async run(): Promise<{ syncs: Awaited<ReturnType<typeof syncOnce>> }> {
    const { flags } = await this.parse(SandboxSync);
    const records = await syncOnce(flags.data, flags.config);
    if (flags.format === 'json') {
      this.write(`${JSON.stringify({ syncs: records }, null, 2)}\n`);
    } else if (records.length === 0) {
      this.write('Nothing waits in the landing zone.\n');
    } else {
      for (const r of records) {
        const counts = Object.entries(r.counts)
          .map(
            ([e, c]) =>
              `${e} +${c.created} ~${c.updated} -${c.removed}${c.rejected ? ` !${c.rejected}` : ''}`,
          )
          .join(', ');
        this.write(
          `sync ${r.id} (${r.user}): ${r.status}${counts ? `: ${counts}` : ''}; ${r.rejections.length} rejected${r.message ? `\n  ${r.message}` : ''}\n`,
        );
      }
    }
    return this.done(
      { syncs: records },
      { exitCode: records.some((r) => r.status === 'rejected') ? ExitCode.Failure : undefined },
    );
  }
}
