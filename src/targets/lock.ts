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
