/**
 * Loading a roster on another thread, so that two can be read at once (the plan reads the
 * desired roster while the target's snapshot is read; a diff read whole reads both sides): on a
 * 2-core runner that takes a third or more off the wall time. The roster comes back without a
 * copy (shared memory), before the roster rules have run (see BackgroundLoad).
 *
 * A small roster is loaded on this thread: starting this worker costs ~0.3 s, more than it saves
 * for small rosters. So is every roster when the compiled worker is not there (the sources run
 * under the test runner) or with ROSTER_THREADS=1; ROSTER_THREADS=2 always uses the worker (see
 * threads.ts).
 */
import { Worker } from 'node:worker_threads';
import { type Diagnostic, Diagnostics } from '../diagnostic.js';
import { BugError, InputError, RosterError, UsageError } from '../errors.js';
import type { ExitCode } from '../exit-codes.js';
import { readEntityFileAlone } from '../formats/oneroster-csv/read.js';
import { directoryFiles } from '../formats/package-files.js';
import type { EntityName, RosterVersion } from '../model/entities.js';
import { type IndexData, KeyIndex } from '../model/key-index.js';
import { sharedArray, type TableData } from '../model/record-table.js';
import { type FileMode, Roster, type RosterData } from '../model/roster.js';
import type { ProgressEvent } from '../progress.js';
import { validateRoster } from '../validate/validate.js';
import { type LoadedRoster, type LoadOptions, loadRoster, type RosterFormat, rosterBytes } from './load.js';
import { threadWanted } from './threads.js';

export interface BackgroundLoadOptions extends LoadOptions {
  /** Also run the roster rules (validateRoster) on that thread. */
  readonly validate?: boolean;
  /**
   * Then compute the tables' content sums there too (what the roster fingerprint is made of),
   * unless this thread has come to them first (RecordTable.contentSums is computed once).
   */
  readonly contentSums?: boolean;
}

/** @internal What the worker is asked. */
export interface LoadRequest {
  readonly kind: 'load';
  readonly path: string;
  readonly options: Omit<LoadOptions, 'progress' | 'elsewhere'>;
  readonly validate: boolean;
  readonly contentSums: boolean;
  /**
   * Who reads the offered file (see `offer`): 0 nobody yet, else READ_HERE or READ_THERE; taken
   * with Atomics.compareExchange, so exactly one thread reads it.
   */
  readonly offeredFile: Int32Array;
}

/** @internal Values of LoadRequest.offeredFile. */
export const READ_HERE = 1;
export const READ_THERE = 2;

/** @internal The calling thread's answer once it has read the offered file. */
export type PartMessage =
  | {
      readonly kind: 'part';
      readonly table: TableData;
      readonly indexes: IndexData[];
      readonly diagnostics: readonly Diagnostic[];
      readonly duplicates: string[];
    }
  | { readonly kind: 'part-failed'; readonly error: FailedError };

type FailedError = Extract<LoadResponse, { kind: 'failed' }>['error'];

/** @internal What the worker answers: progress, then `read`, then (when validating) `validated`; or `failed`. */
export type LoadResponse =
  | { readonly kind: 'progress'; readonly event: ProgressEvent }
  | {
      /** One file the calling thread may read instead (see ReadElsewhere), once it is free. */
      readonly kind: 'offer';
      readonly location: string;
      readonly entity: EntityName;
      readonly version: RosterVersion;
      readonly mode: FileMode;
    }
  | {
      readonly kind: 'read';
      readonly roster: RosterData;
      readonly diagnostics: readonly Diagnostic[];
      readonly format: RosterFormat;
      readonly location: string;
      readonly duplicates: [EntityName, string[]][] | undefined;
    }
  | { readonly kind: 'validated'; readonly diagnostics: readonly Diagnostic[] }
  | {
      readonly kind: 'failed';
      readonly error: {
        name: string;
        message: string;
        code?: string | undefined;
        hint?: string | undefined;
        exitCode?: ExitCode | undefined;
        stack?: string | undefined;
      };
    };

/**
 * A roster being loaded: `read` settles once it is read (its field diagnostics in `diagnostics`),
 * `validated` once the roster rules have run too (their diagnostics added to the same diagnostics).
 * With `concurrent`, the rules run on another thread, so the roster may be used (read only)
 * between the two, e.g. to compute a plan while it is being validated.
 */
export interface BackgroundLoad {
  readonly read: Promise<LoadedRoster>;
  readonly validated: Promise<LoadedRoster>;
  readonly concurrent: boolean;
  /**
   * Call when this thread has nothing else to do: if the other thread has not come to it yet,
   * reads its largest file here (a city's enrollments: two thirds of the bytes) and hands it over.
   * Settles when that is done, or at once; never rejects (a failure reaches `read`).
   */
  help(): Promise<void>;
}

const WORKER = new URL('./load-worker.js', import.meta.url);

function useWorker(path: string): boolean {
  return threadWanted(WORKER, () => rosterBytes(path));
}

/** Loads (and optionally validates) the roster at `path` on another thread when one is available. */
export function loadInBackground(path: string, options: BackgroundLoadOptions = {}): Promise<LoadedRoster> {
  return startLoading(path, options).validated;
}

/**
 * Starts loading (and optionally validating) the roster at `path`, on another thread when one is
 * available; see BackgroundLoad for what settles when.
 */
export function startLoading(path: string, options: BackgroundLoadOptions = {}): BackgroundLoad {
  const { progress, validate, contentSums, ...rest } = options;
  if (!useWorker(path)) {
    const read = loadRoster(path, options);
    const validated = read.then((loaded) => {
      if (validate) validateRoster(loaded.roster, loaded.diagnostics);
      return loaded;
    });
    // (The roster is validated before anyone sees it read: one thread gains nothing from overlap.)
    return { read: validated, validated, concurrent: false, help: async () => {} };
  }
  let onRead!: { resolve: (loaded: LoadedRoster) => void; reject: (err: Error) => void };
  let onValidated!: typeof onRead;
  const read = new Promise<LoadedRoster>((resolve, reject) => {
    onRead = { resolve, reject };
  });
  const validated = new Promise<LoadedRoster>((resolve, reject) => {
    onValidated = { resolve, reject };
  });
  // Whoever waits only for `read` must not see an unhandled rejection of `validated` (and back).
  read.catch(() => {});
  validated.catch(() => {});
  let loaded: LoadedRoster | undefined;
  let settled = false;
  const fail = (err: Error) => {
    settled = true;
    onRead.reject(err);
    onValidated.reject(err);
  };
  const worker = new Worker(WORKER);
  const offeredFile = sharedArray(Int32Array, 1);
  let onOffer!: (offer: Extract<LoadResponse, { kind: 'offer' }> | undefined) => void;
  const offered = new Promise<Extract<LoadResponse, { kind: 'offer' }> | undefined>((resolve) => {
    onOffer = resolve;
  });
  worker.on('message', (message: LoadResponse) => {
    if (message.kind !== 'progress' && message.kind !== 'offer') onOffer(undefined);
    switch (message.kind) {
      case 'progress':
        progress?.(message.event);
        return;
      case 'offer':
        onOffer(message);
        return;
      case 'read': {
        const diagnostics = new Diagnostics(rest.ignore);
        // (Not push(...): a broken file can have more diagnostics than a call takes arguments.)
        for (const d of message.diagnostics) diagnostics.list.push(d);
        loaded = {
          roster: Roster.fromShared(message.roster),
          diagnostics,
          format: message.format,
          location: message.location,
          ...(message.duplicates
            ? { duplicates: new Map(message.duplicates.map(([e, ids]) => [e, new Set(ids)])) }
            : {}),
        };
        onRead.resolve(loaded);
        if (validate) return;
        break;
      }
      case 'validated':
        for (const d of message.diagnostics) loaded!.diagnostics.list.push(d);
        break;
      case 'failed':
        fail(revive(message.error));
        break;
    }
    if (!settled && loaded) onValidated.resolve(loaded);
    settled = true;
    void worker.terminate();
  });
  worker.on('error', (err) => {
    onOffer(undefined);
    if (!settled) fail(new BugError(`reading ${path} failed: ${err.message}`, err));
  });
  worker.on('exit', (code) => {
    onOffer(undefined);
    if (!settled) fail(new BugError(`the thread reading ${path} stopped (exit code ${code})`));
  });
  worker.postMessage({
    kind: 'load',
    path,
    options: rest,
    validate: validate ?? false,
    contentSums: contentSums ?? false,
    offeredFile,
  } satisfies LoadRequest);
  const help = async (): Promise<void> => {
    const offer = await offered;
    if (!offer || Atomics.compareExchange(offeredFile, 0, 0, READ_HERE) !== 0) return;
    let answer: PartMessage;
    try {
      const diagnostics = new Diagnostics(rest.ignore);
      const part = await readEntityFileAlone(
        directoryFiles(offer.location),
        offer.entity,
        offer.version,
        offer.mode,
        diagnostics,
        {
          checkFields: rest.checkFields !== false,
          keepIndexes: rest.keepIndexes !== false,
          ...(progress ? { progress } : {}),
        },
      );
      answer = {
        kind: 'part',
        table: part.table.share(),
        indexes: KeyIndex.shareFor(part.table),
        diagnostics: part.diagnostics,
        duplicates: [...part.duplicates],
      };
    } catch (err) {
      answer = { kind: 'part-failed', error: failure(err) };
    }
    worker.postMessage(answer);
  };
  return { read, validated, concurrent: true, help };
}

/** @internal An error as plain data for another thread (revived by `revive`). */
export function failure(err: unknown): FailedError {
  const e = err as Partial<RosterError> & Error;
  return {
    name: e.name,
    message: e.message,
    code: e instanceof RosterError ? e.code : undefined,
    hint: e instanceof RosterError ? e.hint : undefined,
    exitCode: e instanceof RosterError ? e.exitCode : undefined,
    stack: e.stack,
  };
}

/** @internal An error from another thread as the typed error it was (rendered by the one error handler). */
export function revive(e: FailedError): Error {
  if (e.code === undefined) {
    const err = new BugError(e.message);
    if (e.stack) err.stack = e.stack;
    return err;
  }
  if (e.name === 'UsageError') return new UsageError(e.code, e.message, e.hint);
  if (e.name === 'InputError') return new InputError(e.code, e.message, e.hint);
  return new RosterError(e.code, e.message, {
    ...(e.hint !== undefined ? { hint: e.hint } : {}),
    ...(e.exitCode !== undefined ? { exitCode: e.exitCode } : {}),
  });
}
