import {
  chmodSync,
  copyFileSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import type { DirTargetConfig } from '../config/config.js';
import { ensurePrivateDir, PRIVATE_FILE_MODE } from '../config/workspace.js';
import { Diagnostics, unreadable } from '../diagnostic.js';
import { DiskFullError, InputError, isDiskFull, LockHeldError, StalePlanError } from '../errors.js';
import { readOneRoster } from '../formats/oneroster-csv/read.js';
import { writeOneRosterZip } from '../formats/oneroster-csv/write.js';
import { zipFiles } from '../formats/package-files.js';
import { readRosterImage, writeRosterImage } from '../formats/roster-image.js';
import type { Roster } from '../model/roster.js';
import { faultPoint } from './faults.js';
import { type LockFiles, lockStatus, newLockInfo, removeStaleLock } from './lock.js';
import { imageBinding, parseState, type TargetState } from './state.js';
import type { DeliveryReceipt, LockInfo, LockStatus, Target } from './target.js';

const KEEP_GENERATIONS = 5;
/**
 * The snapshot's roster image (formats/roster-image.ts): the same records in their in-memory form,
 * read in ~1 s where snapshot.zip takes ~16 s at city scale. Only the current generation keeps
 * one (it is as large as the CSV); older ones are read from their zip.
 */
const IMAGE_FILE = 'snapshot.image';

export class DirTarget implements Target {
  readonly kind = 'dir';
  readonly name: string;
  readonly location: string;

  constructor(config: Pick<DirTargetConfig, 'name' | 'path'>) {
    this.name = config.name;
    this.location = config.path;
  }

  private get current(): string {
    return join(this.location, 'current');
  }

  async readState(): Promise<TargetState | undefined> {
    if (!isSymlink(this.current)) return undefined;
    const file = join(this.current, 'state.json');
    if (!existsSync(file)) {
      throw new InputError(
        'STATE_CORRUPT',
        `${file} is missing`,
        'The target folder is damaged; restore it from a backup or move it away.',
      );
    }
    return parseState(readFileSync(file, 'utf8'), file, this.name);
  }

  async readCurrent(state: TargetState): Promise<Roster> {
    const image = await readRosterImage(join(this.current, IMAGE_FILE), imageBinding(state));
    if (typeof image !== 'string' && image.version === state.oneRosterVersion) return image;
    const file = join(this.current, 'snapshot.zip');
    const diagnostics = new Diagnostics();
    // (No index is kept: a plan walks a sorted snapshot side by side, and builds one otherwise.)
    const { roster } = await readOneRoster(await zipFiles(file, diagnostics), diagnostics, {
      checkFields: false,
      keepIndexes: false,
    });
    if (unreadable(diagnostics)) {
      throw new InputError(
        'STATE_CORRUPT',
        `${file} cannot be read back (${diagnostics.list[0]?.message})`,
        'The target folder is damaged; restore it from a backup.',
      );
    }
    if (roster.version !== state.oneRosterVersion) {
      throw new InputError(
        'STATE_CORRUPT',
        `${file} does not match state.json`,
        'The target folder is damaged; restore it from a backup.',
      );
    }
    // A generation written before images existed (or whose image was damaged) gets one now, so
    // the next plan is fast; a cache that cannot be written only means a slower plan.
    try {
      writeRosterImage(roster, join(this.current, IMAGE_FILE), imageBinding(state));
    } catch {
      // (writeRosterImage leaves no partial file; an old image stays refused)
    }
    return roster;
  }

  async lock(operation: string, timeoutMs: number, signal?: AbortSignal): Promise<LockInfo> {
    // Deliveries are children's records: a folder of the owner's only, that git never stages.
    ensurePrivateDir(this.location);
    const info = newLockInfo(operation);
    const deadline = Date.now() + timeoutMs;
    let replaced: LockStatus | undefined;
    for (;;) {
      signal?.throwIfAborted();
      try {
        writeFileSync(this.lockFile, `${JSON.stringify(info, null, 2)}\n`, { flag: 'wx', mode: 0o600 });
        return replaced ? { ...info, replaced } : info;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      const held = await this.readLock();
      if (!held) continue; // released between our two looks: try again
      if (held.stale) {
        if (await removeStaleLock(localLockFiles, this.lockFile, held)) replaced = held;
        continue;
      }
      if (Date.now() >= deadline) throw new LockHeldError(this.name, held, false);
      await new Promise((r) => setTimeout(r, Math.min(250, Math.max(10, deadline - Date.now()))));
    }
  }

  async unlock(lock: LockInfo): Promise<void> {
    const held = await this.readLock();
    if (held?.id === lock.id) rmSync(this.lockFile, { force: true });
  }

  async readLock(): Promise<LockStatus | undefined> {
    let text: string;
    try {
      text = readFileSync(this.lockFile, 'utf8');
    } catch {
      return undefined;
    }
    return lockStatus(text);
  }

  async forceUnlock(): Promise<LockStatus | undefined> {
    const held = await this.readLock();
    rmSync(this.lockFile, { force: true });
    return held;
  }

  async deliver(
    delivery: Roster,
    snapshot: Roster,
    state: TargetState,
    expectedSerial: number,
    signal?: AbortSignal,
  ): Promise<DeliveryReceipt> {
    const before = await this.readState();
    if ((before?.serial ?? 0) !== expectedSerial) {
      throw new StalePlanError(
        `target "${this.name}" changed since this plan was made (serial ${before?.serial ?? 0}, expected ${expectedSerial}); plan again`,
      );
    }
    const generations = join(this.location, 'generations');
    const name = String(state.serial).padStart(6, '0');
    const tmp = join(generations, `${name}.tmp-${process.pid}`);
    const final = join(generations, name);
    // Leftovers of runs that were killed or ran out of disk: never made current.
    this.removeLeftovers(generations);
    rmSync(final, { recursive: true, force: true });
    try {
      mkdirSync(tmp, { recursive: true, mode: 0o700 });
      await writeOneRosterZip(delivery, join(tmp, 'OneRoster.zip'));
      // A bulk delivery is the snapshot: write it once.
      if (snapshot === delivery) copyFileSync(join(tmp, 'OneRoster.zip'), join(tmp, 'snapshot.zip'));
      else await writeOneRosterZip(snapshot, join(tmp, 'snapshot.zip'));
      writeRosterImage(snapshot, join(tmp, IMAGE_FILE), imageBinding(state));
      writeFileSync(join(tmp, 'state.json'), `${JSON.stringify(state, null, 2)}\n`);
      for (const file of readdirSync(tmp)) chmodSync(join(tmp, file), PRIVATE_FILE_MODE);
      await faultPoint('dir:after-write');
      renameSync(tmp, final);
      await faultPoint('dir:before-switch');
      // The last moment to stop with nothing delivered.
      signal?.throwIfAborted();
    } catch (err) {
      rmSync(tmp, { recursive: true, force: true });
      rmSync(final, { recursive: true, force: true });
      if (isDiskFull(err)) throw new DiskFullError(this.location, err);
      throw err;
    }
    // The commit point: one rename re-points `current`.
    const link = join(this.location, `current.tmp-${process.pid}`);
    rmSync(link, { force: true });
    symlinkSync(join('generations', name), link);
    renameSync(link, this.current);
    await faultPoint('dir:after-switch');
    const drop = join(this.location, 'OneRoster.zip');
    if (!isSymlink(drop)) {
      rmSync(drop, { force: true });
      symlinkSync(join('current', 'OneRoster.zip'), drop);
    }
    this.prune(generations, name);
    return { state, warnings: [] };
  }

  /** Temporary folders of runs that were killed or failed (only ever one apply runs: the lock). */
  private removeLeftovers(generations: string): void {
    if (!existsSync(generations)) return;
    for (const n of readdirSync(generations).filter((x) => x.includes('.tmp-')))
      rmSync(join(generations, n), { recursive: true, force: true });
  }

  private get lockFile(): string {
    return join(this.location, 'lock.json');
  }

  private prune(generations: string, keep: string): void {
    const names = readdirSync(generations).sort();
    const complete = names.filter((n) => /^\d{6}$/.test(n));
    for (const n of complete.slice(0, Math.max(0, complete.length - KEEP_GENERATIONS))) {
      if (n !== keep) rmSync(join(generations, n), { recursive: true, force: true });
    }
    for (const n of complete) if (n !== keep) rmSync(join(generations, n, IMAGE_FILE), { force: true });
    this.removeLeftovers(generations);
  }
}

const localLockFiles: LockFiles = {
  rename: async (from, to) => renameSync(from, to),
  read: async (path) => {
    try {
      return readFileSync(path, 'utf8');
    } catch {
      return undefined;
    }
  },
  remove: async (path) => rmSync(path, { force: true }),
};

function isSymlink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink() && existsSync(path);
  } catch {
    return false;
  }
}

/** Reads where `current` points (for status). */
export function currentGeneration(dir: string): string | undefined {
  try {
    return readlinkSync(join(dir, 'current'));
  } catch {
    return undefined;
  }
}
