/** A target state for tests. */
import { spawnSync } from 'node:child_process';
import { hostname } from 'node:os';
import { STATE_FORMAT_VERSION, type TargetState } from '../../src/targets/state.js';

export function testState(target: string, serial: number, extra: Partial<TargetState> = {}): TargetState {
  return {
    formatVersion: STATE_FORMAT_VERSION,
    tool: 'roster-as-code',
    target,
    lineage: 'l',
    serial,
    appliedAt: '',
    appliedCommit: null,
    appliedDirty: false,
    rosterFingerprint: '',
    oneRosterVersion: '1.1',
    mode: 'bulk',
    recordCounts: {},
    rejected: [],
    ...extra,
  };
}

/**
 * The text of a lock file left by a process that was killed five minutes ago: its pid is one
 * that surely runs no more (a child that has already exited), on this host unless `host` is given.
 */
export function deadLockText(host: string = hostname()): string {
  const pid = Number(
    spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' })
      .stdout,
  );
  return JSON.stringify({
    id: 'dead',
    holder: 'ci@host',
    host,
    pid,
    operation: 'apply',
    createdAt: new Date(Date.now() - 5 * 60_000).toISOString(),
  });
}
