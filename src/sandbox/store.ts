/**
 * The portal's store: its current roster and its sync history, as plain files under the data
 * folder (why files and not SQLite: see docs/sandbox.md).
 *
 *   <data>/store/current.zip        the portal's roster (OneRoster CSV), replaced by rename
 *   <data>/syncs/<id>/sync.json     one sync: status, counts, rejections (the report)
 *   <data>/syncs/<id>/files/        the files taken from the landing zone
 *   <data>/landing/<user>/          each SFTP user's folder; outbox/ holds the reports
 *   <data>/batch/<job>/             batch API uploads, job status, errors file
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { Diagnostics } from '../diagnostic.js';
import { InputError } from '../errors.js';
import { readOneRoster } from '../formats/oneroster-csv/read.js';
import { writeOneRosterZip } from '../formats/oneroster-csv/write.js';
import { zipFiles } from '../formats/package-files.js';
import type { EntityName } from '../model/entities.js';
import { fingerprintRoster } from '../model/fingerprint.js';
import type { Roster } from '../model/roster.js';
import { processAlive } from '../targets/lock.js';
import type { EntitySyncCounts, Rejection } from './process.js';

export type SyncStatus = 'running' | 'committing' | 'succeeded' | 'rejected' | 'interrupted' | 'failed';

export interface SyncRecord {
  readonly id: string;
  readonly source: 'sftp' | 'batch';
  /** The SFTP user (landing folder) or the batch job. */
  readonly user: string;
  readonly status: SyncStatus;
  readonly startedAt: string;
  readonly finishedAt?: string;
  readonly files: readonly string[];
  readonly counts: Partial<Record<EntityName, EntitySyncCounts>>;
  readonly rejections: readonly Rejection[];
  /** What the portal holds after this sync, per entity. */
  readonly held?: Partial<Record<EntityName, number>>;
  /** Fingerprint of the roster this sync commits (set before the commit, to recover after a crash). */
  readonly resultFingerprint?: string;
  readonly message?: string;
}

export function newId(now = new Date()): string {
  return `${now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z')}-${randomBytes(3).toString('hex')}`;
}

function writeJsonAtomic(path: string, data: unknown): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, `${JSON.stringify(data, null, 2)}\n`);
  renameSync(tmp, path);
}

export class PortalStore {
  constructor(readonly dataDir: string) {
    for (const d of ['store', 'syncs', 'landing', 'batch']) mkdirSync(join(dataDir, d), { recursive: true });
  }

  get currentFile(): string {
    return join(this.dataDir, 'store', 'current.zip');
  }

  /** The portal's roster, or undefined before the first sync. */
  async current(): Promise<Roster | undefined> {
    if (!existsSync(this.currentFile)) return undefined;
    const diagnostics = new Diagnostics();
    const { roster } = await readOneRoster(await zipFiles(this.currentFile, diagnostics), diagnostics, {
      checkFields: false,
    });
    if (diagnostics.errorCount > 0) {
      throw new InputError(
        'SANDBOX_STORE_CORRUPT',
        `${this.currentFile} cannot be read: ${diagnostics.list[0]?.message}`,
        'Restore the data folder from a backup, or start with an empty one.',
      );
    }
    return roster;
  }

  /** Replaces the portal's roster in one rename. */
  async commit(roster: Roster): Promise<void> {
    await writeOneRosterZip(roster, this.currentFile);
  }

  syncDir(id: string): string {
    return join(this.dataDir, 'syncs', id);
  }

  saveSync(record: SyncRecord): void {
    mkdirSync(this.syncDir(record.id), { recursive: true });
    writeJsonAtomic(join(this.syncDir(record.id), 'sync.json'), record);
  }

  sync(id: string): SyncRecord | undefined {
    const file = join(this.syncDir(id), 'sync.json');
    return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as SyncRecord) : undefined;
  }

  /** Every sync, newest first. */
  history(): SyncRecord[] {
    return readdirSync(join(this.dataDir, 'syncs'))
      .sort()
      .reverse()
      .map((id) => this.sync(id))
      .filter((s): s is SyncRecord => s !== undefined);
  }

  /**
   * After a crash: a sync left running never committed (interrupted); one left committing
   * committed when the store holds its result.
   */
  async recover(): Promise<SyncRecord[]> {
    const recovered: SyncRecord[] = [];
    const open = this.history().filter((s) => s.status === 'running' || s.status === 'committing');
    if (open.length === 0) return recovered;
    const current = await this.current();
    const fingerprint = current ? fingerprintRoster(current) : undefined;
    for (const s of open) {
      const committed = s.status === 'committing' && s.resultFingerprint === fingerprint;
      const record: SyncRecord = {
        ...s,
        status: committed ? 'succeeded' : 'interrupted',
        finishedAt: new Date().toISOString(),
        message: committed
          ? 'The process stopped after the store was updated; the sync had completed.'
          : 'The process stopped during this sync; the store was not changed by it.',
      };
      this.saveSync(record);
      recovered.push(record);
    }
    return recovered;
  }

  landingDir(user: string): string {
    const dir = join(this.dataDir, 'landing', user);
    mkdirSync(join(dir, 'outbox'), { recursive: true });
    return dir;
  }

  /** One sync at a time, across processes (the server and `roster sandbox sync`). */
  lock(): () => void {
    const file = join(this.dataDir, 'sync.lock');
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        writeFileSync(
          file,
          JSON.stringify({ pid: process.pid, host: hostname(), at: new Date().toISOString() }),
          { flag: 'wx' },
        );
        return () => rmSync(file, { force: true });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        let holder: { pid: number; host: string } | undefined;
        try {
          holder = JSON.parse(readFileSync(file, 'utf8'));
        } catch {
          holder = undefined;
        }
        const dead = !holder || (holder.host === hostname() && !processAlive(holder.pid));
        if (!dead)
          throw new InputError(
            'SANDBOX_BUSY',
            'another sync is running in this sandbox',
            'Wait for it to finish, then run the sync again.',
          );
        rmSync(file, { force: true }); // its holder died
      }
    }
    throw new InputError('SANDBOX_BUSY', 'cannot take the sync lock', 'Try again.');
  }
}
