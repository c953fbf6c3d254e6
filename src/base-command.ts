/**
 * The base of every command: the shared flags, and the one place where errors are rendered and
 * turned into exit codes (see src/exit-codes.ts). A user never sees a stack trace unless they ask
 * for one with DEBUG=roster.
 */
import { once } from 'node:events';
import { relative } from 'node:path';
import { Command, Errors, Flags } from '@oclif/core';
import { BugError, RosterError } from './errors.js';
import { ExitCode } from './exit-codes.js';
import type { ProgressListener } from './progress.js';
import { TEXT_DETAIL_LIMIT } from './render/plan.js';
import { progressLine } from './render/progress.js';
import { COLOR, PLAIN, type Style } from './render/style.js';
import { renderValidation, validationReport } from './render/validation.js';
import { InvalidRosterError } from './validate/validate.js';

/** `{ progress }` when there is a listener, `{}` otherwise (for options objects). */
export function progressOption(progress: ProgressListener | undefined): { progress?: ProgressListener } {
  return progress ? { progress } : {};
}

export abstract class BaseCommand extends Command {
  /**
   * `--json` on every command (oclif's enableJsonFlag): the command's result object on stdout
   * instead of its text (docs/json-output.md), and an error as `{ "error": {...} }`.
   */
  static override enableJsonFlag = true;

  static override baseFlags = {
    'no-color': Flags.boolean({
      description: 'Do not colour the output (colour is used only on a terminal anyway).',
      helpGroup: 'GLOBAL',
    }),
    quiet: Flags.boolean({
      description: 'No progress line on stderr (shown only on a terminal anyway).',
      helpGroup: 'GLOBAL',
    }),
  };

  /** Colour for text written to stdout: only on a TTY, never with --no-color or NO_COLOR. */
  protected styleFor(noColor: boolean | undefined, stream: NodeJS.WriteStream = process.stdout): Style {
    return !noColor && stream.isTTY && !process.env.NO_COLOR ? COLOR : PLAIN;
  }

  /** Writes text output (none with --json: the result is the output then). */
  protected write(text: string): void {
    this.endProgress();
    if (!this.jsonEnabled()) process.stdout.write(text);
  }

  /** Writes pieces of text output as the reader takes them (none with --json). */
  protected async writeChunks(chunks: Iterable<string | Uint8Array>): Promise<void> {
    if (!this.jsonEnabled()) await this.stream(chunks);
  }

  private async stream(chunks: Iterable<string | Uint8Array>): Promise<void> {
    this.endProgress();
    for (const chunk of chunks) if (!process.stdout.write(chunk)) await once(process.stdout, 'drain');
  }

  /** The result, once written as JSON (with --json), so that oclif does not write it again. */
  private jsonWritten = false;

  /**
   * How every command ends: with --json, `result` is written as JSON on stdout (or `jsonChunks`,
   * its JSON in pieces: a city's plan is gigabytes); then the exit code, when one is given.
   * Returns the result (what `run()` returns to a program that runs the command).
   */
  protected async done<T extends object>(
    result: T,
    options: { exitCode?: number | undefined; jsonChunks?: () => Iterable<string | Uint8Array> } = {},
  ): Promise<T> {
    if (this.jsonEnabled() && !this.jsonWritten) {
      this.jsonWritten = true;
      await this.stream(options.jsonChunks?.() ?? [`${JSON.stringify(result, null, 2)}\n`]);
    }
    if (options.exitCode) this.exit(options.exitCode);
    return result;
  }

  /** oclif writes `run()`'s result with --json: already done by `done()`; plain JSON otherwise. */
  override logJson(json: unknown): void {
    if (this.jsonWritten) return;
    this.jsonWritten = true;
    process.stdout.write(`${JSON.stringify(json, null, 2)}\n`);
  }

  private progressShown = false;

  /**
   * A progress listener that keeps one line on stderr up to date, or undefined when stderr is not
   * a terminal or --quiet was given (nothing is written then).
   */
  protected progress(quiet: boolean | undefined): ProgressListener | undefined {
    if (quiet || !process.stderr.isTTY) return undefined;
    return (event) => {
      this.progressShown = true;
      process.stderr.write(`\r\u001b[2K${progressLine(event)}`);
    };
  }

  /** Clears the progress line before other output. */
  protected endProgress(): void {
    if (this.progressShown) process.stderr.write('\r\u001b[2K');
    this.progressShown = false;
  }

  /** How many changes text output lists one by one (plan, apply, diff). */
  static detailLimitFlag = {
    'detail-limit': Flags.integer({
      min: 0,
      default: TEXT_DETAIL_LIMIT,
      description: 'List at most this many changes one by one in text output (the summary counts them all).',
    }),
  };

  /** Common flags of the commands that work on a district repo and its targets. */
  static repoFlags = {
    repo: Flags.string({
      default: '.',
      description: 'The district repo (the folder with roster.config.yaml).',
    }),
    target: Flags.string({ description: "The target's name (default: the first in roster.config.yaml)." }),
  };

  protected override async catch(
    err: Error & { exitCode?: number; oclif?: { exit?: number } },
  ): Promise<unknown> {
    this.endProgress();
    if (err instanceof Errors.ExitError) throw err;
    const debug = /\broster\b|\*/.test(process.env.DEBUG ?? '');
    if (err instanceof RosterError) {
      this.errorJson(err.code, err.message, err.hint, err.exitCode, err);
      // An invalid roster: the diagnostics first, then the error.
      if (err instanceof InvalidRosterError && !this.jsonEnabled()) {
        process.stdout.write(
          renderValidation(err.result, 'text', { base: relative(process.cwd(), err.result.location) || '.' }),
        );
      }
      this.printError(err.code, err.message, err.hint);
      if (debug && err.stack) process.stderr.write(`${err.stack}\n`);
      return this.exit(err.exitCode);
    }
    if (err instanceof Errors.CLIError && err.oclif?.exit === 2) {
      // A flag or argument oclif could not parse: a usage error.
      // oclif's message spans lines ("Missing 1 required arg:", "class  The class."): one line.
      const message = err.message
        .split('\n')
        .map((line) => line.trim().replace(/\s{2,}/g, ': '))
        .filter((line) => line && !line.startsWith('See more help'))
        .join(' ');
      const hint = `Run \`roster ${this.id?.replace(/:/g, ' ') ?? ''} --help\` for usage.`;
      this.errorJson('USAGE', message, hint, ExitCode.Usage);
      this.printError('USAGE', message, hint);
      return this.exit(ExitCode.Usage);
    }
    const bug = new BugError(err.message || String(err), err);
    this.errorJson(bug.code, bug.message, bug.hint, bug.exitCode);
    this.printError(bug.code, bug.message, bug.hint);
    if (debug && err.stack) process.stderr.write(`${err.stack}\n`);
    return this.exit(bug.exitCode);
  }

  /**
   * With --json, the error on stdout too (the text stays on stderr, for logs):
   * `{ "error": { code, message, hint, exitCode } }`, with the validation report of an invalid roster.
   */
  private errorJson(
    code: string,
    message: string,
    hint: string | undefined,
    exitCode: number,
    err?: Error,
  ): void {
    if (!this.jsonEnabled() || this.jsonWritten) return;
    this.jsonWritten = true;
    const validation =
      err instanceof InvalidRosterError
        ? validationReport(err.result, { base: relative(process.cwd(), err.result.location) || '.' })
        : undefined;
    const error = {
      code,
      message,
      ...(hint ? { hint } : {}),
      exitCode,
      ...(validation ? { validation } : {}),
    };
    process.stdout.write(`${JSON.stringify({ error }, null, 2)}\n`);
  }

  private printError(code: string, message: string, hint: string | undefined): void {
    const s = this.styleFor(false, process.stderr);
    process.stderr.write(`${s.red('Error')} ${s.dim(`[${code}]`)} ${message}\n`);
    if (hint) process.stderr.write(`${s.dim(`hint: ${hint}`)}\n`);
  }
}
