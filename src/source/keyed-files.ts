/**
 * Reading CSV files as keyed lines (formats/csv/keyed-lines.ts) on two threads: roster diff reads
 * both versions of every file, and the two threads take them one by one, largest first, from a
 * shared counter (a city's enrollments are two thirds of the bytes: one side each). The lines come
 * back without a copy (their buffers are transferred). Small inputs, runs without the compiled
 * worker (the sources under the test runner) and ROSTER_THREADS=1 use this thread alone (see
 * threads.ts).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { type KeyedLines, keyedLines } from '../formats/csv/keyed-lines.js';
import { threadWanted } from './threads.js';

/** One file to read: `file` in the folder `dir`. */
export interface KeyedFile {
  readonly dir: string;
  readonly file: string;
}

/** @internal What the worker is given: the files, and the counter both threads take them by. */
export interface KeyedFilesRequest {
  readonly files: readonly KeyedFile[];
  readonly next: Int32Array;
}

/** @internal What the worker answers for each file it took. */
export interface KeyedFileMessage {
  readonly index: number;
  readonly lines: KeyedLines | string;
}

const WORKER = new URL('./keyed-files-worker.js', import.meta.url);

/**
 * The keyed lines of each of `files` (in that order; put the largest first), or why a file cannot
 * be seen so. `bytes`: their total size, which decides whether a second thread is worth it.
 */
export async function readKeyedFiles(
  files: readonly KeyedFile[],
  bytes: number,
): Promise<(KeyedLines | string)[]> {
  const results: (KeyedLines | string | undefined)[] = files.map(() => undefined);
  const next = new Int32Array(new SharedArrayBuffer(4));
  const take = () => Atomics.add(next, 0, 1);
  if (!threadWanted(WORKER, () => bytes)) {
    for (let k = take(); k < files.length; k = take()) results[k] = readKeyedFile(files[k]!);
    return results as (KeyedLines | string)[];
  }
  const worker = new Worker(WORKER, { workerData: { files, next } satisfies KeyedFilesRequest });
  let mine = true; // (this thread still taking files: the worker may take more)
  let allIn = () => {};
  const done = new Promise<void>((resolve) => {
    allIn = () => {
      if (!mine && results.every((r) => r !== undefined)) resolve();
    };
    worker.on('message', (message: KeyedFileMessage) => {
      results[message.index] = revive(message.lines);
      allIn();
    });
    // (A worker that failed: what it took and did not answer is read here.)
    worker.once('exit', () => resolve());
    worker.once('error', () => {});
  });
  for (let k = take(); k < files.length; k = take()) results[k] = readKeyedFile(files[k]!);
  mine = false;
  allIn();
  await done;
  void worker.terminate();
  return results.map((r, k) => r ?? readKeyedFile(files[k]!));
}

/** One file's keyed lines, read on this thread. */
export function readKeyedFile({ dir, file }: KeyedFile): KeyedLines | string {
  let bytes: Buffer;
  try {
    bytes = readFileSync(join(dir, file));
  } catch {
    return 'it cannot be read whole'; // (past 2 GiB, or gone meanwhile)
  }
  return keyedLines(bytes);
}

/** @internal The buffers a KeyedLines is made of, each once (to transfer them). */
export function buffersOf(lines: KeyedLines | string): ArrayBuffer[] {
  if (typeof lines === 'string') return [];
  const buffers = new Set<ArrayBuffer>();
  // (A small file's bytes may share a buffer with other allocations: those are copied.)
  if (lines.bytes.buffer instanceof ArrayBuffer && lines.bytes.byteLength === lines.bytes.buffer.byteLength)
    buffers.add(lines.bytes.buffer);
  const own = [lines.starts, lines.keyEnds, lines.order, lines.lateBefore];
  if (lines.sorted) own.push(lines.sorted.starts, lines.sorted.keyEnds, lines.sorted.ends);
  for (const v of own) if (v && v.buffer instanceof ArrayBuffer) buffers.add(v.buffer);
  return [...buffers];
}

/** Buffers again where the message made plain byte arrays of them. */
function revive(lines: KeyedLines | string): KeyedLines | string {
  if (typeof lines === 'string') return lines;
  const buffer = (view: Uint8Array) => Buffer.from(view.buffer, view.byteOffset, view.byteLength);
  return { ...lines, bytes: buffer(lines.bytes), header: buffer(lines.header) };
}
