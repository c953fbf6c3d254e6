import { createRequire as __roster_createRequire } from 'node:module';
import { fileURLToPath as __roster_fileURLToPath } from 'node:url';
import { dirname as __roster_dirname } from 'node:path';
const require = __roster_createRequire(import.meta.url);
const __filename = __roster_fileURLToPath(import.meta.url);
const __dirname = __roster_dirname(__filename);
import { I as KeyIndex, a as locateRoster, i as loadRoster, n as revive, t as failure, y as validateRoster } from "./background-zl-pTkSb.js";
import { i as RecordTable } from "./scan-csv-BbICWrJu.js";
import { parentPort } from "node:worker_threads";

// dist/source/load-worker.js
/**
* The worker side of loadInBackground: reads (and, when asked, validates) one roster on its own
* thread and hands it back without copying (its memory is shared), before validating it. Its
* largest file is offered to the calling thread, which may read it meanwhile (BackgroundLoad.help).
*/
const post = (message) => parentPort.postMessage(message);
/** The file offered to the calling thread: the largest by far in a city's roster. */
const OFFERED = "enrollments";
let onPart;
const part = new Promise((resolve) => {
	onPart = resolve;
});
parentPort.on("message", (message) => {
	if (message.kind === "load") load(message);
	else onPart?.(message);
});
async function load(request) {
	try {
		const { location } = locateRoster(request.path);
		const elsewhere = {
			entity: OFFERED,
			offer: (version, mode) => post({
				kind: "offer",
				location,
				entity: OFFERED,
				version,
				mode
			}),
			claim: () => Atomics.compareExchange(request.offeredFile, 0, 0, 2) === 1 ? part.then(received) : void 0
		};
		const loaded = await loadRoster(request.path, {
			...request.options,
			elsewhere,
			progress: (event) => post({
				kind: "progress",
				event
			})
		});
		const found = loaded.diagnostics.list.length;
		post({
			kind: "read",
			roster: loaded.roster.share(),
			diagnostics: loaded.diagnostics.list.slice(),
			format: loaded.format,
			location: loaded.location,
			duplicates: loaded.duplicates ? [...loaded.duplicates].map(([e, ids]) => [e, [...ids]]) : void 0
		});
		if (request.validate) {
			validateRoster(loaded.roster, loaded.diagnostics);
			if (request.contentSums) for (const e of loaded.roster.entities()) loaded.roster.table(e).contentSums();
			post({
				kind: "validated",
				diagnostics: loaded.diagnostics.list.slice(found)
			});
		}
	} catch (err) {
		post({
			kind: "failed",
			error: failure(err)
		});
	}
}
/** The table the calling thread read, as this thread's own (shared memory). */
function received(message) {
	if (message.kind === "part-failed") throw revive(message.error);
	const table = RecordTable.fromShared(message.table);
	KeyIndex.fromShared(table, message.indexes);
	return {
		table,
		diagnostics: message.diagnostics,
		duplicates: new Set(message.duplicates)
	};
}

export {  };