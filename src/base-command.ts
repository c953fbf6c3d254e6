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
import { renderValidation } from './render/validation.js';
import { InvalidRosterError } from './validate/validate.js';

/** `{ progress }` when there is a listener, `{}` otherwise (for options objects). */
export function progressOption(progress: ProgressListener | undefined): { progress?: ProgressListener } {
  return progress ? { progress } : {};
}

export abstract class BaseCommand extends Command {
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

  protected write(text: string): void {
    this.endProgress();
    process.stdout.write(text);
  }

  /** Writes pieces of output as the reader takes them (a city's JSON plan is gigabytes). */
  protected async writeChunks(chunks: Iterable<string | Uint8Array>): Promise<void> {
    this.endProgress();
    for (const chunk of chunks) if (!process.stdout.write(chunk)) await once(process.stdout, 'drain');
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
      // An invalid roster: the findings first, then the error.
      if (err instanceof InvalidRosterError) {
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
      this.printError(
        'USAGE',
        err.message.split('\n')[0] ?? err.message,
        `Run \`roster ${this.id?.replace(/:/g, ' ') ?? ''} --help\` for usage.`,
      );
      return this.exit(ExitCode.Usage);
    }
    const bug = new BugError(err.message || String(err), err);
    this.printError(bug.code, bug.message, bug.hint);
    if (debug && err.stack) process.stderr.write(`${err.stack}\n`);
    return this.exit(bug.exitCode);
  }

  private printError(code: string, message: string, hint: string | undefined): void {
    const s = this.styleFor(false, process.stderr);
    process.stderr.write(`${s.red('Error')} ${s.dim(`[${code}]`)} ${message}\n`);
    if (hint) process.stderr.write(`${s.dim(`hint: ${hint}`)}\n`);
  }
}
