/**
 * The worker side of loadInBackground: reads (and, when asked, validates) one roster on its own
 * thread and hands it back without copying (its buffers are transferred).
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
    if (request.validate) validateRoster(loaded.roster, loaded.diagnostics);
    const { data, transfer } = loaded.roster.toTransfer();
    const response: LoadResponse = {
      kind: 'loaded',
      roster: data,
      diagnostics: loaded.diagnostics.list,
      format: loaded.format,
      location: loaded.location,
      duplicates: loaded.duplicates ? [...loaded.duplicates].map(([e, ids]) => [e, [...ids]]) : undefined,
    };
    parentPort!.postMessage(response, transfer);
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
