import { relative } from 'node:path';
import { Args, Flags } from '@oclif/core';
import { BaseCommand, progressOption } from '../base-command.js';
import { UsageError } from '../errors.js';
import { renderValidation } from '../render/validation.js';
import {
  IMPORT_SOURCES,
  importRoster,
  SPREADSHEET_ENCODINGS,
  type SpreadsheetEncoding,
} from '../services/import.js';
import { DEFAULT_PAGE_SIZE } from '../source/oneroster-api.js';

export default class Import extends BaseCommand {
  static override summary = "Make the repo's roster from what the district has: a OneRoster export or API.";
  static override description =
    'Reads SOURCE (a OneRoster 1.1 or 1.2 CSV folder or zip), validates it and writes it into the roster folder of roster.config.yaml as roster YAML (or OneRoster CSV with --format csv). Never replaces uncommitted changes there (--force does); an invalid roster is not written unless --allow-invalid. Exit 0 imported, 1 invalid, 64 refused.';
  static override examples = [
    '<%= config.bin %> import --from oneroster ./export.zip',
    '<%= config.bin %> import --from oneroster ./sis-export/ --format csv',
    '<%= config.bin %> import --from oneroster-api https://sis.example/ims/oneroster/v1p1 --client-id-env SIS_ID --client-secret-env SIS_SECRET',
    '<%= config.bin %> import --from-target vendor',
  ];
  static override args = {
    source: Args.string({
      description:
        'The OneRoster CSV folder or zip, or the REST service’s base URL (…/v1p1 or …/rostering/v1p2).',
    }),
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
        'oneroster, a folder saved by a spreadsheet: the files\' encoding (Excel\'s plain "CSV" is windows-1252).',
    }),
    delimiter: Flags.string({
      description: 'oneroster, a folder saved by a spreadsheet: the field separator (";", "tab" or "|").',
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

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Import);
    const fromTarget = flags['from-target'];
    if (fromTarget ? flags.from || args.source : !flags.from || !args.source)
      throw new UsageError(
        'USAGE',
        fromTarget
          ? '--from-target takes no SOURCE and no --from'
          : 'roster import needs --from and a SOURCE',
        'roster import --from oneroster EXPORT.zip, --from oneroster-api URL, or --from-target NAME.',
      );
    const api = flags.from === 'oneroster-api' ? apiCredentials(flags) : undefined;
    const result = await importRoster({
      repo: flags.repo,
      from: fromTarget ? 'target' : (flags.from as 'oneroster' | 'oneroster-api'),
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
    if (!result.validation.valid) this.exit(1);
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
