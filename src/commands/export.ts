import { Flags } from '@oclif/core';
import { BaseCommand } from '../base-command.js';
import { commandResult } from '../render/results.js';
import { exportDelivery } from '../services/export.js';

export default class Export extends BaseCommand {
  static override summary = 'Write exactly what a target would receive now, for a manual upload.';
  static override description =
    "After the target's policy: in bulk mode the whole roster, in delta mode only the changes (status and dateLastModified filled). `--format batch` writes the two-file batch (users.csv with an action column, demographics.csv).";
  static override examples = [
    '<%= config.bin %> export --format oneroster --out upload/',
    '<%= config.bin %> export --format oneroster --out OneRoster.zip --target vendor',
    '<%= config.bin %> export --format batch --out upload/ --target vendor-batch',
  ];
  static override flags = {
    ...BaseCommand.repoFlags,
    format: Flags.string({
      options: ['oneroster', 'batch'],
      default: 'oneroster',
      description: 'OneRoster CSV, or the two-file batch.',
    }),
    out: Flags.string({ required: true, description: 'Folder to write (or a .zip for oneroster).' }),
    force: Flags.boolean({ description: 'Replace the roster files (or the zip) already in --out.' }),
  };

  async run(): Promise<ReturnType<typeof commandResult>> {
    const { flags } = await this.parse(Export);
    const r = await exportDelivery({
      repo: flags.repo,
      ...(flags.target ? { target: flags.target } : {}),
      format: flags.format as 'oneroster' | 'batch',
      out: flags.out,
      force: flags.force,
    });
    this.write(
      `Wrote ${r.files.length} file(s) to ${flags.out} (${flags.format}, ${r.mode}, ${r.changes} change(s) against what the target holds).\n`,
    );
    return this.done(
      commandResult('export', {
        out: flags.out,
        format: flags.format,
        mode: r.mode,
        changes: r.changes,
        files: r.files,
      }),
    );
  }
}
