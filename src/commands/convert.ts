import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '../base-command.js';
import { ExitCode } from '../exit-codes.js';
import { commandResult } from '../render/results.js';
import { renderValidation, validationReport } from '../render/validation.js';
import { type ConvertResult, convertRoster } from '../services/convert.js';
import { OUTPUT_FORMATS, type OutputFormat } from '../services/write.js';

export default class Convert extends BaseCommand {
  static override summary = 'Convert a roster between roster YAML and OneRoster CSV 1.1 / 1.2.';
  static override description =
    'SRC is anything `roster validate` reads. The roster is validated first; an invalid roster is not converted (exit 1). YAML and CSV of the same version convert losslessly; 1.1 <-> 1.2 follows the spec (roles rows from orgSourcedIds x role, and back) and says what has no place in the other version.';
  static override examples = [
    '<%= config.bin %> convert OneRoster.zip --to yaml --out roster',
    '<%= config.bin %> convert roster --to oneroster-1.2 --out export',
    '<%= config.bin %> convert roster --to oneroster-1.1 --out OneRoster.zip',
  ];
  static override args = {
    src: Args.string({ required: true, description: 'Repo, roster folder or zip to read.' }),
  };
  static override flags = {
    to: Flags.string({ options: [...OUTPUT_FORMATS], required: true, description: 'Output format.' }),
    out: Flags.string({
      required: true,
      description: 'Folder to write; for OneRoster, a path ending in .zip writes a zip.',
    }),
    layout: Flags.string({
      options: ['single', 'per-school'],
      default: 'per-school',
      description: 'YAML only: one file, or one file per school.',
    }),
    force: Flags.boolean({ description: 'Replace roster files already in --out.' }),
    ignore: Flags.string({
      multiple: true,
      description: 'Leave out diagnostics with this code (repeatable).',
    }),
  };

  async run(): Promise<ReturnType<typeof convertJson>> {
    const { args, flags } = await this.parse(Convert);
    const converted = await convertRoster({
      src: args.src,
      to: flags.to as OutputFormat,
      out: flags.out,
      force: flags.force,
      layout: flags.layout as 'single' | 'per-school',
      ignore: flags.ignore ?? [],
    });
    if (!converted.written) {
      process.stderr.write(
        renderValidation(converted.validation, 'text', {
          base: args.src,
          style: this.styleFor(flags['no-color'], process.stderr),
        }),
      );
      process.stderr.write('Nothing was written: fix the errors above, then convert again.\n');
      return this.done(convertJson(converted, flags.out, args.src), { exitCode: ExitCode.Failure });
    }
    for (const note of converted.notes) process.stderr.write(`note: ${note}\n`);
    this.write(
      `Wrote ${converted.written.files.length} file(s) to ${flags.out} (${flags.to}, OneRoster ${converted.written.version}).\n`,
    );
    return this.done(convertJson(converted, flags.out, args.src));
  }
}

function convertJson(converted: ConvertResult, out: string, src: string) {
  return commandResult('convert', {
    out,
    written: converted.written !== undefined,
    files: converted.written?.files ?? [],
    ...(converted.written ? { oneRosterVersion: converted.written.version } : {}),
    notes: converted.notes,
    validation: validationReport(converted.validation, { base: src }),
  });
}
