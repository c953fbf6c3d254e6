import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '../base-command.js';
import { UsageError } from '../errors.js';
import { ENTITY_NAMES, type EntityName } from '../model/entities.js';
import { indexNote, type LogResult, renderLog } from '../render/history.js';
import { recordLog } from '../services/history.js';

/** A --since/--until value: a date (2026-08-01), a time, or what Date reads. */
export function parseWhen(flag: string, value: string | undefined, endOfDay = false): Date | undefined {
  if (value === undefined) return undefined;
  const day = /^\d{4}-\d{2}-\d{2}$/.test(value);
  const when = new Date(day ? `${value}T${endOfDay ? '23:59:59.999' : '00:00:00'}Z` : value);
  if (Number.isNaN(when.getTime()))
    throw new UsageError(
      `HISTORY_BAD_DATE`,
      `--${flag} ${value} is not a date`,
      'Give a date as 2026-08-01 (UTC), or a time as 2026-08-01T14:00:00+02:00.',
    );
  return when;
}

/** The history's progress as a progress line. */
export function historyProgress(progress: ReturnType<BaseCommand['progress']>) {
  return progress
    ? (done: number, total: number) =>
        progress({ stage: 'read', detail: `git history: commit ${done} of ${total}` })
    : undefined;
}

export default class Log extends BaseCommand {
  static override summary =
    'Show every commit that created, changed or removed a record (or a filtered listing of changes).';
  static override description =
    "Reads the roster's git history record by record: renamed and split files and a switch between CSV and YAML keep a record's history whole. Each entry names the commit, its author, its pull request when known, every changed field as before → after, and the first apply of each target that delivered that version. A record-level index is kept under .git/roster/ (never committed) and brought up to date with each new commit. Personal data is masked as in plans unless --show-personal-data; redacted fields always are.";
  static override examples = [
    '<%= config.bin %> log stu-000131',
    '<%= config.bin %> log stu-000131 --related',
    '<%= config.bin %> log enrollments/enr-88 --format json',
    '<%= config.bin %> log --school sch-002 --since 2026-08-01 --entity enrollments',
  ];
  static override args = {
    record: Args.string({
      description:
        'The record: a sourcedId, or entity/sourcedId. Omit it to list every change that passes the filters.',
    }),
  };
  static override flags = {
    repo: BaseCommand.repoFlags.repo,
    related: Flags.boolean({
      description: "Also show the records that point at it (a user's enrollments, demographics).",
    }),
    since: Flags.string({
      description: 'Commits from this date or time on (committer date; a date is UTC).',
    }),
    until: Flags.string({ description: 'Commits up to this date or time.' }),
    author: Flags.string({
      description: "Commits whose author's name or e-mail address contains this (any case).",
    }),
    school: Flags.string({
      description: 'Records of this school (its sourcedId): the school and records that name it.',
    }),
    entity: Flags.string({
      options: [...ENTITY_NAMES],
      multiple: true,
      description: 'Records of this entity (repeatable).',
    }),
    limit: Flags.integer({ min: 1, description: 'At most this many commits (the newest).' }),
    rev: Flags.string({ description: 'History up to this revision (default: the checked-out commit).' }),
    format: Flags.string({
      options: ['text', 'markdown', 'json'],
      default: 'text',
      description: 'Output format.',
    }),
    'show-personal-data': Flags.boolean({
      description: 'Show names, e-mail addresses and other personal data.',
    }),
  };

  async run(): Promise<LogResult> {
    const { args, flags } = await this.parse(Log);
    if (flags.related && args.record === undefined)
      throw new UsageError(
        'USAGE',
        '--related needs a record',
        'Name the record: roster log stu-000131 --related.',
      );
    const progress = historyProgress(this.progress(flags.quiet));
    const since = parseWhen('since', flags.since);
    const until = parseWhen('until', flags.until, true);
    const log = await recordLog({
      repo: flags.repo,
      ...(args.record !== undefined ? { record: args.record } : {}),
      related: flags.related,
      ...(since ? { since } : {}),
      ...(until ? { until } : {}),
      ...(flags.author ? { author: flags.author } : {}),
      ...(flags.school ? { school: flags.school } : {}),
      ...(flags.entity ? { entities: flags.entity as EntityName[] } : {}),
      ...(flags.limit ? { limit: flags.limit } : {}),
      ...(flags.rev ? { revision: flags.rev } : {}),
      showPersonalData: flags['show-personal-data'],
      ...(progress ? { progress } : {}),
    });
    const note = indexNote(log.index);
    this.endProgress();
    if (note && !flags.quiet) process.stderr.write(`${note}\n`);
    if (flags.format === 'json') this.write(`${JSON.stringify(log, null, 2)}\n`);
    else this.write(renderLog(log, flags.format as 'text' | 'markdown', this.styleFor(flags['no-color'])));
    return this.done(log);
  }
}
