/**
 * The worker side of loadInBackground: reads (and, when asked, validates) one roster on its own
 * thread and hands it back without copying (its memory is shared), before validating it.
 */
import { parentPort } from 'node:worker_threads';
import { RosterError } from '../errors.js';
import { validateRoster } from '../validate/validate.js';
import type { LoadRequest, LoadResponse } from './background.js';
import { loadRoster } from './load.js';

parentPort!.once('message', async (request: LoadRequest) => {
  try {
    const loaded = await loadRoster(request.path, {
      ...request.options,
      progress: (event) => parentPort!.postMessage({ kind: 'progress', event } satisfies LoadResponse),
    });
    // The roster goes back as soon as it is read (shared memory: nothing is copied), so the
    // caller can use it while the roster rules run here; their findings follow.
    const found = loaded.diagnostics.list.length;
    const response: LoadResponse = {
      kind: 'read',
      roster: loaded.roster.share(),
      diagnostics: loaded.diagnostics.list.slice(),
      format: loaded.format,
      location: loaded.location,
      duplicates: loaded.duplicates ? [...loaded.duplicates].map(([e, ids]) => [e, [...ids]]) : undefined,
    };
    parentPort!.postMessage(response);
    if (request.validate) {
      validateRoster(loaded.roster, loaded.diagnostics);
      parentPort!.postMessage({
        kind: 'validated',
        diagnostics: loaded.diagnostics.list.slice(found),
      } satisfies LoadResponse);
    }
  } catch (err) {
    const e = err as Partial<RosterError> & Error;
    parentPort!.postMessage({
      kind: 'failed',
      error: {
        name: e.name,
        message: e.message,
        code: e instanceof RosterError ? e.code : undefined,
        hint: e instanceof RosterError ? e.hint : undefined,
        exitCode: e instanceof RosterError ? e.exitCode : undefined,
        stack: e.stack,
      },
    } satisfies LoadResponse);
  }
});
