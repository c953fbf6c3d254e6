import { createRequire as __roster_createRequire } from 'node:module';
import { fileURLToPath as __roster_fileURLToPath } from 'node:url';
import { dirname as __roster_dirname } from 'node:path';
const require = __roster_createRequire(import.meta.url);
const __filename = __roster_fileURLToPath(import.meta.url);
const __dirname = __roster_dirname(__filename);
import { t as keyedLines } from "./keyed-lines-YsdwO67z.js";
import { join } from "node:path";
import { Worker, parentPort, workerData } from "node:worker_threads";
import { readFileSync } from "node:fs";

// dist/source/keyed-files.js
/**
* Reading CSV files as keyed lines (formats/csv/keyed-lines.ts) on two threads: roster diff reads
* both versions of every file, and the two threads take them one by one, largest first, from a
* shared counter (a city's enrollments are two thirds of the bytes: one side each). The lines come
* back without a copy (their buffers are transferred). Small inputs, runs without the compiled
* worker (the sources under the test runner) and ROSTER_THREADS=1 use this thread alone (see
* threads.ts).
*/
const WORKER = new URL("./keyed-files-worker.js", import.meta.url);
/** One file's keyed lines, read on this thread. */
function readKeyedFile({ dir, file }) {
	let bytes;
	try {
		bytes = readFileSync(join(dir, file));
	} catch {
		return "it cannot be read whole";
	}
	return keyedLines(bytes);
}
/** @internal The buffers a KeyedLines is made of, each once (to transfer them). */
function buffersOf(lines) {
	if (typeof lines === "string") return [];
	const buffers = /* @__PURE__ */ new Set();
	if (lines.bytes.buffer instanceof ArrayBuffer && lines.bytes.byteLength === lines.bytes.buffer.byteLength) buffers.add(lines.bytes.buffer);
	const own = [
		lines.starts,
		lines.keyEnds,
		lines.order,
		lines.lateBefore
	];
	if (lines.sorted) own.push(lines.sorted.starts, lines.sorted.keyEnds, lines.sorted.ends);
	for (const v of own) if (v && v.buffer instanceof ArrayBuffer) buffers.add(v.buffer);
	return [...buffers];
}

// dist/source/keyed-files-worker.js
/** The worker side of readKeyedFiles: takes files by the shared counter until none is left. */
const { files, next } = workerData;
for (let index = Atomics.add(next, 0, 1); index < files.length; index = Atomics.add(next, 0, 1)) {
	const lines = readKeyedFile(files[index]);
	const message = {
		index,
		lines
	};
	parentPort.postMessage(message, buffersOf(lines));
}

export {  };