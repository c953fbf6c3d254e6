/**
 * Lock files, shared by every target (and the sandbox's sync lock): who holds a lock, and whether
 * that holder is known to be gone (same host, process no longer running).
 */
import { randomUUID } from 'node:crypto';
import { hostname, userInfo } from 'node:os';
import type { LockInfo, LockStatus } from './target.js';

/** Whether process `pid` runs on this host (EPERM: it runs, as someone else). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** A new lock for `operation`, held by this process. */
export function newLockInfo(operation: string): LockInfo {
  let user = 'unknown';
  try {
    user = userInfo().username;
  } catch {}
  return {
    id: randomUUID(),
    holder: `${user}@${hostname()}`,
    host: hostname(),
    pid: process.pid,
    operation,
    createdAt: new Date().toISOString(),
  };
}

/** The file operations a lock take-over needs (local files, or a remote folder over SFTP). */
export interface LockFiles {
  rename(from: string, to: string): Promise<void>;
  /** The file's text, or undefined when it does not exist. */
  read(path: string): Promise<string | undefined>;
  remove(path: string): Promise<void>;
}

/**
 * Removes a stale lock (`stale`, read from `file` a moment ago) so that its place can be taken,
 * without ever removing a live lock that another process created in between: the lock is first
 * renamed aside (one atomic step), and only removed when what was moved is the stale one; a live
 * lock moved by mistake is put back. Returns whether the stale lock is gone.
 */
export async function removeStaleLock(io: LockFiles, file: string, stale: LockStatus): Promise<boolean> {
  const aside = `${file}.${randomUUID()}.stale`;
  try {
    await io.rename(file, aside);
  } catch {
    return false; // gone already, or taken by another: look again
  }
  const text = await io.read(aside);
  const moved = text === undefined ? undefined : lockStatus(text);
  if (moved?.id === stale.id && moved.stale) {
    await io.remove(aside);
    return true;
  }
  // Not the lock we judged stale: put it back (it belongs to a live process).
  await io.rename(aside, file).catch(() => undefined);
  return false;
}

/** The status of a lock file's text. A file cut short by a crash while it was written is stale. */
export function lockStatus(text: string): LockStatus {
  try {
    const info = JSON.parse(text) as LockInfo;
    return { ...info, stale: info.host === hostname() && !processAlive(info.pid) };
  } catch {
    return {
      id: '',
      holder: 'unknown',
      host: '',
      pid: 0,
      operation: 'unknown',
      createdAt: 'unknown',
      stale: true,
    };
  }
}
