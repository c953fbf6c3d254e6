import { relative } from 'node:path';
import { Args, Flags } from '@oclif/core';
import { BaseCommand, progressOption } from '../base-command.js';
import { UsageError } from '../errors.js';
import { ExitCode } from '../exit-codes.js';
import { commandResult } from '../render/results.js';
import { renderValidation, validationReport } from '../render/validation.js';
import {
  IMPORT_SOURCES,
  type ImportSource,
  importRoster,
  SPREADSHEET_ENCODINGS,
  type SpreadsheetEncoding,
} from '../services/import.js';
import { DEFAULT_PAGE_SIZE } from '../source/oneroster-api.js';

export default class Import extends BaseCommand {
  static override summary =
    "Make the repo's roster from what the district has: a OneRoster export or API, another export through a mapping, the two-file batch, or a target.";
  static override description =
    'Reads SOURCE, validates it and writes it into the roster folder of roster.config.yaml as roster YAML (or OneRoster CSV with --format csv). SOURCE is a OneRoster 1.1 or 1.2 CSV folder or zip (--from oneroster), a OneRoster REST service (--from oneroster-api), an export folder read through a mapping (--from mapped --mapping clever|batch|FILE; docs/import.md), or the two-file batch (--from batch USERS [DEMOGRAPHICS]). Never replaces uncommitted changes there (--force does); an invalid roster is not written unless --allow-invalid. Exit 0 imported, 1 invalid, 64 refused.';
  static override examples = [
    '<%= config.bin %> import --from oneroster ./export.zip',
    '<%= config.bin %> import --from oneroster ./sis-export/ --format csv',
    '<%= config.bin %> import --from oneroster-api https://sis.example/ims/oneroster/v1p1 --client-id-env SIS_ID --client-secret-env SIS_SECRET',
    '<%= config.bin %> import --from mapped ./clever-export/ --mapping clever',
    '<%= config.bin %> import --from mapped ./sis-export/ --mapping ./sis-mapping.yaml --encoding windows-1252',
    '<%= config.bin %> import --from batch ./users.csv ./demographics.csv',
    '<%= config.bin %> import --from-target vendor',
  ];
  static override args = {
    source: Args.string({
      description:
        'The OneRoster CSV folder or zip; the REST service’s base URL (…/v1p1 or …/rostering/v1p2); the export folder (mapped); the users file or a folder of both files (batch).',
    }),
    demographics: Args.string({ description: 'batch: the demographics file.' }),
  };
  static override flags = {
    repo: BaseCommand.repoFlags.repo,
    from: Flags.string({ options: [...IMPORT_SOURCES], description: 'What SOURCE is.' }),
    'from-target': Flags.string({
      description:
        'Instead of SOURCE: what roster-as-code last delivered to this target (a dir or sftp target), so that the first plan is empty.',
    }),
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
    encoding: Flags.string({
      options: [...SPREADSHEET_ENCODINGS],
      description:
        'Files saved by a spreadsheet: their encoding (Excel\'s plain "CSV" is windows-1252). A mapping may set it per file.',
    }),
    delimiter: Flags.string({
      description:
        'Files saved by a spreadsheet: the field separator (";", "tab" or "|"). A mapping may set it per file.',
    }),
    mapping: Flags.string({
      description:
        'mapped: a preset (clever, batch) or the path of a mapping file (schemas/import-mapping.schema.json).',
    }),
    'allow-invalid': Flags.boolean({
      description: 'Write a roster that does not validate, with its report in .roster/import-report.json.',
    }),
    force: Flags.boolean({ description: 'Replace the roster folder even if it has uncommitted changes.' }),
    'client-id-env': Flags.string({
      description: 'oneroster-api: the environment variable holding the OAuth 2 client id.',
    }),
    'client-secret-env': Flags.string({
      description:
        'oneroster-api: the environment variable holding the client secret (never on the command line).',
    }),
    'page-size': Flags.integer({
      min: 1,
      default: DEFAULT_PAGE_SIZE,
      description: 'oneroster-api: records asked for per page (a service that gives fewer is read on).',
    }),
    'token-url': Flags.string({
      description: 'oneroster-api: the OAuth 2 token endpoint (default: /oauth/token on the same host).',
    }),
  };

  async run(): Promise<ReturnType<typeof commandResult>> {
    const { args, flags } = await this.parse(Import);
    const fromTarget = flags['from-target'];
    if (fromTarget ? flags.from || args.source : !flags.from || !args.source)
      throw new UsageError(
        'USAGE',
        fromTarget
          ? '--from-target takes no SOURCE and no --from'
          : 'roster import needs --from and a SOURCE',
        'roster import --from oneroster EXPORT.zip, --from oneroster-api URL, --from mapped FOLDER --mapping clever, --from batch USERS.csv [DEMOGRAPHICS.csv], or --from-target NAME.',
      );
    if (args.demographics && flags.from !== 'batch')
      throw new UsageError(
        'USAGE',
        `roster import --from ${flags.from ?? '...'} takes one SOURCE`,
        'Only --from batch takes a second file (the demographics file).',
      );
    if (flags.mapping && flags.from !== 'mapped')
      throw new UsageError(
        'USAGE',
        '--mapping goes with --from mapped',
        'roster import --from mapped ./export --mapping clever (or a mapping file).',
      );
    const api = flags.from === 'oneroster-api' ? apiCredentials(flags) : undefined;
    const result = await importRoster({
      repo: flags.repo,
      from: fromTarget ? 'target' : (flags.from as ImportSource),
      ...(args.demographics ? { demographics: args.demographics } : {}),
      ...(flags.mapping ? { mapping: flags.mapping } : {}),
      ...(api ? { api } : {}),
      ...progressOption(this.progress(flags.quiet)),
      source: fromTarget ?? args.source!,
      format: flags.format as 'yaml' | 'csv',
      layout: flags.layout as 'single' | 'per-school',
      allowInvalid: flags['allow-invalid'],
      ...(flags.encoding || flags.delimiter
        ? {
            spreadsheet: {
              ...(flags.encoding ? { encoding: flags.encoding as SpreadsheetEncoding } : {}),
              ...(flags.delimiter ? { delimiter: delimiterOf(flags.delimiter) } : {}),
            },
          }
        : {}),
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
    const stats = result.apiStats;
    if (stats)
      process.stderr.write(
        `Read ${stats.pages} page(s) from the service; waited out its rate limit ${stats.rateLimited} time(s); renewed an expired token ${stats.tokensRenewed} time(s).\n`,
      );
    this.write(
      `Imported ${counts || 'no records'} into ${where} (${result.files.length} file(s)).\n${
        result.reportFile
          ? `The roster does not validate: its report is in ${relative(process.cwd(), result.reportFile)}. Fix it before planning.\n`
          : 'Review with git diff, commit, then: roster plan\n'
      }`,
    );
    return this.done(
      commandResult('import', {
        rosterPath: where,
        files: result.files,
        records: result.records,
        valid: result.validation.valid,
        ...(result.reportFile ? { reportFile: relative(process.cwd(), result.reportFile) } : {}),
        notes: result.notes,
        ...(stats ? { apiStats: stats } : {}),
        validation: validationReport(result.validation, { base }),
      }),
      { exitCode: result.validation.valid ? undefined : ExitCode.Failure },
    );
  }
}

/** The client's id and secret, read from the environment variables the flags name. */
function apiCredentials(flags: {
  'client-id-env'?: string | undefined;
  'client-secret-env'?: string | undefined;
  'token-url'?: string | undefined;
  'page-size': number;
}): { clientId: string; clientSecret: string; tokenUrl?: string; pageSize: number } {
  const read = (flag: 'client-id-env' | 'client-secret-env') => {
    const name = flags[flag];
    if (!name)
      throw new UsageError(
        'USAGE',
        `--from oneroster-api needs --${flag}`,
        `Name the environment variable, e.g. --${flag} SIS_${flag === 'client-id-env' ? 'CLIENT_ID' : 'CLIENT_SECRET'}.`,
      );
    const value = process.env[name];
    if (!value)
      throw new UsageError(
        'SECRET_MISSING',
        `the environment variable ${name} (--${flag}) is not set`,
        `Set ${name} before running roster import.`,
      );
    return value;
  };
  return {
    clientId: read('client-id-env'),
    clientSecret: read('client-secret-env'),
    ...(flags['token-url'] ? { tokenUrl: flags['token-url'] } : {}),
    pageSize: flags['page-size'],
  };
}

/** ";", "|", ",", or a tab written as "tab" or "\\t". */
function delimiterOf(text: string): string {
  if (text === 'tab' || text === '\\t' || text === '\t') return '\t';
  if ([';', '|', ','].includes(text)) return text;
  throw new UsageError(
    'USAGE',
    `--delimiter "${text}" is not a separator spreadsheets use`,
    'Give ";", "tab" or "|".',
  );
}
