import { relative } from 'node:path';
import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '../base-command.js';
import { ExitCode } from '../exit-codes.js';
import {
  DEFAULT_MAX_DIAGNOSTICS,
  renderValidation,
  type ValidationFormat,
  validationReport,
} from '../render/validation.js';
import { validatePath } from '../services/validate.js';

export default class Validate extends BaseCommand {
  static override summary = 'Check a roster and report every problem at once.';
  static override description =
    'PATH is a district repo (its roster.config.yaml says where the roster is), a folder of OneRoster CSV files, a folder of roster YAML files, or a OneRoster zip. Exit code 0: valid; 1: invalid.';
  static override examples = [
    '<%= config.bin %> validate examples/springfield',
    '<%= config.bin %> validate OneRoster.zip --format json',
    '<%= config.bin %> validate roster/ --format github',
  ];
  static override args = { path: Args.string({ description: 'Repo, roster folder or zip.', default: '.' }) };
  static override flags = {
    format: Flags.string({
      options: ['text', 'json', 'github'],
      default: 'text',
      description: 'Output format.',
    }),
    ignore: Flags.string({
      multiple: true,
      description: 'Leave out diagnostics with this code (repeatable), e.g. CSV_HEADER_ONLY.',
    }),
    'max-diagnostics': Flags.integer({
      min: 1,
      // Its name until 0.x: diagnostics were also called findings.
      aliases: ['max-findings'],
      deprecateAliases: true,
      description: `List at most this many diagnostics; the rest are counted (the summary is always exact). Default: ${DEFAULT_MAX_DIAGNOSTICS} for text and github, all for json.`,
    }),
    'max-size': Flags.integer({
      description: 'Refuse zips that expand beyond this many bytes.',
      default: 8 * 1024 ** 3,
    }),
  };

  async run(): Promise<ReturnType<typeof validationReport>> {
    const { args, flags } = await this.parse(Validate);
    const result = await validatePath(args.path, {
      ignore: flags.ignore ?? [],
      maxExpandedBytes: flags['max-size'],
    });
    const options = {
      base: relative(process.cwd(), result.location) || '.',
      style: this.styleFor(flags['no-color']),
      ...(flags['max-diagnostics'] ? { maxDiagnostics: flags['max-diagnostics'] } : {}),
    };
    this.write(renderValidation(result, flags.format as ValidationFormat, options));
    return this.done(validationReport(result, options), {
      exitCode: result.valid ? undefined : ExitCode.Failure,
    });
  }
}
