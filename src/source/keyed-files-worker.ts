/** The worker side of readKeyedFiles: takes files by the shared counter until none is left. */
import { parentPort, workerData } from 'node:worker_threads';
import { buffersOf, type KeyedFileMessage, type KeyedFilesRequest, readKeyedFile } from './keyed-files.js';

const { files, next } = workerData as KeyedFilesRequest;
for (let index = Atomics.add(next, 0, 1); index < files.length; index = Atomics.add(next, 0, 1)) {
  const lines = readKeyedFile(files[index]!);
  const message: KeyedFileMessage = { index, lines };
  parentPort!.postMessage(message, buffersOf(lines));
}
