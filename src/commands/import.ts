import { relative } from 'node:path';
import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '../base-command.js';
import { renderValidation } from '../render/validation.js';
import { IMPORT_SOURCES, importRoster } from '../services/import.js';

export default class Import extends BaseCommand {
  static override summary = "Make the repo's roster from what the district has: a OneRoster export.";
  static override description =
    'Reads SOURCE (a OneRoster 1.1 or 1.2 CSV folder or zip), validates it and writes it into the roster folder of roster.config.yaml as roster YAML (or OneRoster CSV with --format csv). Never replaces uncommitted changes there (--force does); an invalid roster is not written unless --allow-invalid. Exit 0 imported, 1 invalid, 64 refused.';
  static override examples = [
    '<%= config.bin %> import --from oneroster ./export.zip',
    '<%= config.bin %> import --from oneroster ./sis-export/ --format csv',
  ];
  static override args = {
    source: Args.string({ required: true, description: 'The OneRoster CSV folder or zip.' }),
  };
  static override flags = {
    repo: BaseCommand.repoFlags.repo,
    from: Flags.string({ options: [...IMPORT_SOURCES], required: true, description: 'What SOURCE is.' }),
    format: Flags.string({
      options: ['yaml', 'csv'],
      default: 'yaml',
      description: 'How the roster is kept in the repo.',
    }),
    layout: Flags.string({
      options: ['single', 'per-school'],
      default: 'per-school',
      description: 'YAML only: one file, or one file per school.',
    }),
    'allow-invalid': Flags.boolean({
      description: 'Write a roster that does not validate, with its report in .roster/import-report.json.',
    }),
    force: Flags.boolean({ description: 'Replace the roster folder even if it has uncommitted changes.' }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Import);
    const result = await importRoster({
      repo: flags.repo,
      from: flags.from as 'oneroster',
      source: args.source,
      format: flags.format as 'yaml' | 'csv',
      layout: flags.layout as 'single' | 'per-school',
      allowInvalid: flags['allow-invalid'],
      force: flags.force,
    });
    const base = relative(process.cwd(), result.validation.location) || '.';
    if (!result.validation.valid || result.validation.warnings > 0)
      process.stderr.write(
        renderValidation(result.validation, 'text', {
          base,
          style: this.styleFor(flags['no-color'], process.stderr),
        }),
      );
    for (const note of result.notes) process.stderr.write(`note: ${note}\n`);
    const counts = Object.entries(result.records)
      .map(([e, n]) => `${n} ${e}`)
      .join(', ');
    const where = relative(process.cwd(), result.rosterPath) || '.';
    this.write(
      `Imported ${counts || 'no records'} into ${where} (${result.files.length} file(s)).\n${
        result.reportFile
          ? `The roster does not validate: its report is in ${relative(process.cwd(), result.reportFile)}. Fix it before planning.\n`
          : 'Review with git diff, commit, then: roster plan\n'
      }`,
    );
    if (!result.validation.valid) this.exit(1);
  }
}
