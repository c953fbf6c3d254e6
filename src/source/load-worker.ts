/**
 * The worker side of loadInBackground: reads (and, when asked, validates) one roster on its own
 * thread and hands it back without copying (its memory is shared), before validating it. Its
 * largest file is offered to the calling thread, which may read it meanwhile (BackgroundLoad.help).
 */
import { parentPort } from 'node:worker_threads';
import type { EntityFileRead, ReadElsewhere } from '../formats/oneroster-csv/read.js';
import { KeyIndex } from '../model/key-index.js';
import { RecordTable } from '../model/record-table.js';
import { validateRoster } from '../validate/validate.js';
import {
  failure,
  type LoadRequest,
  type LoadResponse,
  type PartMessage,
  READ_HERE,
  READ_THERE,
  revive,
} from './background.js';
import { loadRoster, locateRoster } from './load.js';

const post = (message: LoadResponse) => parentPort!.postMessage(message);

/** The file offered to the calling thread: the largest by far in a city's roster. */
const OFFERED = 'enrollments';

let onPart: ((message: PartMessage) => void) | undefined;
const part = new Promise<PartMessage>((resolve) => {
  onPart = resolve;
});

parentPort!.on('message', (message: LoadRequest | PartMessage) => {
  if (message.kind === 'load') void load(message);
  else onPart?.(message);
});

async function load(request: LoadRequest): Promise<void> {
  try {
    const { location } = locateRoster(request.path);
    const elsewhere: ReadElsewhere = {
      entity: OFFERED,
      offer: (version, mode) => post({ kind: 'offer', location, entity: OFFERED, version, mode }),
      // Read here unless the calling thread took it first; then wait for its table.
      claim: () =>
        Atomics.compareExchange(request.offeredFile, 0, 0, READ_THERE) === READ_HERE
          ? part.then(received)
          : undefined,
    };
    const loaded = await loadRoster(request.path, {
      ...request.options,
      elsewhere,
      progress: (event) => post({ kind: 'progress', event }),
    });
    // The roster goes back as soon as it is read (shared memory: nothing is copied), so the
    // caller can use it while the roster rules run here; their diagnostics follow.
    const found = loaded.diagnostics.list.length;
    post({
      kind: 'read',
      roster: loaded.roster.share(),
      diagnostics: loaded.diagnostics.list.slice(),
      format: loaded.format,
      location: loaded.location,
      duplicates: loaded.duplicates ? [...loaded.duplicates].map(([e, ids]) => [e, [...ids]]) : undefined,
    });
    if (request.validate) {
      validateRoster(loaded.roster, loaded.diagnostics);
      // Before saying so: the calling thread ends this thread once the roster is validated.
      if (request.contentSums) for (const e of loaded.roster.entities()) loaded.roster.table(e).contentSums();
      post({ kind: 'validated', diagnostics: loaded.diagnostics.list.slice(found) });
    }
  } catch (err) {
    post({ kind: 'failed', error: failure(err) });
  }
}

/** The table the calling thread read, as this thread's own (shared memory). */
function received(message: PartMessage): EntityFileRead {
  if (message.kind === 'part-failed') throw revive(message.error);
  const table = RecordTable.fromShared(message.table);
  KeyIndex.fromShared(table, message.indexes);
  return { table, diagnostics: message.diagnostics, duplicates: new Set(message.duplicates) };
}
