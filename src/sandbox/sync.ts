/**
 * A sync: take what waits complete in each user's landing folder, process it, commit the portal's
 * store, and write the report to the user's outbox (JSON and CSV) and to the sync history.
 * Files still being written (open in the SFTP server) or with temporary names are left for later.
 */
import { existsSync, mkdirSync, readdirSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Diagnostics } from '../diagnostic.js';
import { csvLine } from '../formats/csv/write-csv.js';
import { readOneRoster } from '../formats/oneroster-csv/read.js';
import { directoryFiles, zipFiles } from '../formats/package-files.js';
import { fingerprintRoster } from '../model/fingerprint.js';
import { faultPoint } from '../targets/faults.js';
import { checkRoster } from '../validate/roster-rules.js';
import { processDelivery, spreadsheetSafe, stampModified } from './process.js';
import { newId, type PortalStore, type SyncRecord } from './store.js';

export interface SyncOptions {
  /** True for a file the SFTP server still has open for writing. */
  readonly busy?: (path: string) => boolean;
  readonly maxUploadBytes?: number;
  readonly maxExpandedBytes?: number;
  readonly now?: () => Date;
}

const TEMPORARY = /(\.tmp|\.part|\.filepart|\.partial|~)$|^\./i;

/** Runs one sync over every user's landing folder. Returns the syncs made (none when nothing waits). */
export async function runSync(store: PortalStore, options: SyncOptions = {}): Promise<SyncRecord[]> {
  const release = store.lock();
  try {
    await store.recover();
    const done: SyncRecord[] = [];
    for (const user of readdirSync(join(store.dataDir, 'landing')).sort()) {
      const record = await syncUser(store, user, options);
      if (record) done.push(record);
    }
    return done;
  } finally {
    release();
  }
}

async function syncUser(
  store: PortalStore,
  user: string,
  options: SyncOptions,
): Promise<SyncRecord | undefined> {
  const landing = store.landingDir(user);
  const now = options.now ?? (() => new Date());
  const files = readdirSync(landing, { withFileTypes: true })
    .filter((e) => e.isFile() && !TEMPORARY.test(e.name))
    .map((e) => e.name)
    .sort();
  if (files.length === 0) return undefined;
  // A package is taken whole or not at all: wait while any part is still being written.
  if (files.some((f) => options.busy?.(join(landing, f)))) return undefined;

  const zips = files.filter((f) => f.toLowerCase().endsWith('.zip'));
  const csvs = files.filter((f) => f.toLowerCase().endsWith('.csv'));
  const other = files.filter((f) => !zips.includes(f) && !csvs.includes(f));
  const id = newId(now());
  const taken = [...files];
  const filesDir = join(store.syncDir(id), 'files');
  mkdirSync(filesDir, { recursive: true });
  for (const f of taken) renameSync(join(landing, f), join(filesDir, f));
  const base: SyncRecord = {
    id,
    source: 'sftp',
    user,
    status: 'running',
    startedAt: now().toISOString(),
    files: taken,
    counts: {},
    rejections: [],
  };
  store.saveSync(base);
  await faultPoint('sandbox:after-take');

  let record: SyncRecord;
  const tooBig = taken.filter(
    (f) => statSync(join(filesDir, f)).size > (options.maxUploadBytes ?? Number.POSITIVE_INFINITY),
  );
  if (tooBig.length > 0 || (zips.length === 0 && csvs.length === 0) || zips.length > 1) {
    const why =
      tooBig.length > 0
        ? `${tooBig.join(', ')} exceed(s) the upload limit of ${options.maxUploadBytes} bytes`
        : zips.length > 1
          ? `${zips.length} zips arrived together (${zips.join(', ')}); send one OneRoster.zip`
          : `${other.join(', ')} ${other.length === 1 ? 'is' : 'are'} not a OneRoster zip or CSV file`;
    record = {
      ...base,
      status: 'rejected',
      finishedAt: now().toISOString(),
      message: why,
      rejections: [{ file: taken[0]!, code: 'UPLOAD_REJECTED', message: why }],
    };
  } else {
    let committingStarted = false;
    try {
      const diagnostics = new Diagnostics();
      const source =
        zips.length === 1
          ? await zipFiles(join(filesDir, zips[0]!), diagnostics, {
              maxExpandedBytes: options.maxExpandedBytes,
            })
          : directoryFiles(filesDir);
      const { roster: delivered } = await readOneRoster(source, diagnostics);
      if (!source.rejected) checkRoster(delivered, diagnostics);
      const current = await store.current();
      const processed = processDelivery(current, delivered, diagnostics.sorted());
      const result =
        processed.outcome === 'applied'
          ? { ...processed, next: stampModified(current, processed.next!, now().toISOString()) }
          : processed;
      const ignored =
        zips.length === 1 && csvs.length > 0
          ? `A zip and loose CSV files arrived together: the zip was processed, ${csvs.join(', ')} ignored.`
          : undefined;
      if (result.outcome === 'rejected') {
        record = {
          ...base,
          status: 'rejected',
          finishedAt: now().toISOString(),
          rejections: result.rejections,
          message:
            'The delivery cannot be used as a whole; nothing was changed. Fix the errors and send the complete set again.',
        };
      } else {
        const committing: SyncRecord = {
          ...base,
          status: 'committing',
          counts: result.counts,
          rejections: result.rejections,
          held: Object.fromEntries(result.next!.entities().map((e) => [e, result.next!.table(e).size])),
          resultFingerprint: fingerprintRoster(result.next!),
        };
        committingStarted = true;
        store.saveSync(committing);
        await faultPoint('sandbox:before-commit');
        await store.commit(result.next!);
        await faultPoint('sandbox:after-commit');
        record = {
          ...committing,
          status: 'succeeded',
          finishedAt: now().toISOString(),
          ...(ignored ? { message: ignored } : {}),
        };
      }
    } catch (err) {
      // A package the readers cannot get through (a damaged zip): the sync is rejected with a
      // report, never left running. A failure while committing is not the package's fault.
      if (committingStarted) throw err;
      const why = `${zips[0] ?? taken[0]} cannot be read: ${String((err as Error).message ?? err)
        .replaceAll(filesDir, '')
        .replaceAll(store.dataDir, '')}`;
      record = {
        ...base,
        status: 'rejected',
        finishedAt: now().toISOString(),
        message: 'The delivery cannot be read; nothing was changed. Export the package again and send it.',
        rejections: [{ file: zips[0] ?? taken[0]!, code: 'ZIP_INVALID', message: why }],
      };
    }
  }
  store.saveSync(record);
  writeOutbox(landing, record);
  return record;
}

/** The report in the user's outbox, as JSON and CSV. */
export function writeOutbox(landing: string, record: SyncRecord): void {
  const outbox = join(landing, 'outbox');
  if (!existsSync(outbox)) mkdirSync(outbox, { recursive: true });
  writeFileSync(join(outbox, `${record.id}-report.json`), `${JSON.stringify(reportOf(record), null, 2)}\n`);
  writeFileSync(join(outbox, `${record.id}-report.csv`), reportCsv(record));
}

/** "users 2 created, 1 updated; enrollments 5 removed; 3 rejected": counts only, never data. */
export function syncSummary(record: SyncRecord): string {
  const parts = Object.entries(record.counts)
    .map(([entity, c]) => {
      const said = (['created', 'updated', 'removed'] as const)
        .filter((k) => c[k] > 0)
        .map((k) => `${c[k]} ${k}`);
      return said.length ? `${entity} ${said.join(', ')}` : '';
    })
    .filter(Boolean);
  return `${parts.length ? parts.join('; ') : 'no changes'}; ${record.rejections.length} rejected`;
}

/** The report as users see it (versioned). */
export function reportOf(record: SyncRecord) {
  return {
    formatVersion: '1.0',
    sync: record.id,
    status: record.status,
    startedAt: record.startedAt,
    finishedAt: record.finishedAt ?? null,
    files: record.files,
    ...(record.message ? { message: record.message } : {}),
    counts: record.counts,
    ...(record.held ? { held: record.held } : {}),
    rejections: record.rejections,
  };
}

/** The report as CSV: counts per entity, then each rejection (cells safe to open in a spreadsheet). */
export function reportCsv(record: SyncRecord): string {
  const line = (cells: string[]) => csvLine(cells.map(spreadsheetSafe));
  let out = line([
    'kind',
    'entity',
    'created',
    'updated',
    'unchanged',
    'removed',
    'rejected',
    'file',
    'line',
    'recordId',
    'field',
    'code',
    'message',
  ]);
  for (const [entity, c] of Object.entries(record.counts)) {
    out += line([
      'count',
      entity,
      String(c.created),
      String(c.updated),
      String(c.unchanged),
      String(c.removed),
      String(c.rejected),
      '',
      '',
      '',
      '',
      '',
      '',
    ]);
  }
  for (const r of record.rejections) {
    out += line([
      'rejection',
      '',
      '',
      '',
      '',
      '',
      '',
      r.file,
      r.line === undefined ? '' : String(r.line),
      r.recordId ?? '',
      r.field ?? '',
      r.code,
      r.message,
    ]);
  }
  return out;
}
