/** A target state for tests. */
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
