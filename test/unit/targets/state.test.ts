import { describe, expect, it } from 'vitest';
import { parseState, STATE_FORMAT_VERSION } from '../../../src/targets/state.js';
import { testState } from '../../helpers/state.js';

describe('target state', () => {
  it('reads format 2 as written', () => {
    const state = testState('local', 3, { recordCounts: { users: 2 } });
    expect(parseState(JSON.stringify(state), 'state.json', 'local')).toEqual(state);
    expect(STATE_FORMAT_VERSION).toBe(2);
  });

  it('reads a format 1 state (every record listed) as counts', () => {
    const { recordCounts: _, ...rest } = testState('local', 3);
    const v1 = {
      ...rest,
      formatVersion: 1,
      records: { users: { t1: 'aa', u1: 'bb' }, orgs: { d1: 'cc' } },
    };
    const state = parseState(JSON.stringify(v1), 'state.json', 'local');
    expect(state.formatVersion).toBe(2);
    expect(state.recordCounts).toEqual({ users: 2, orgs: 1 });
    expect(state).not.toHaveProperty('records');
    expect(state.serial).toBe(3);
  });

  it.each([
    ['not JSON', '{', 'STATE_CORRUPT'],
    ['another tool', '{"tool":"x"}', 'STATE_FOREIGN'],
    ['a newer format', JSON.stringify({ ...testState('local', 1), formatVersion: 3 }), 'STATE_VERSION'],
    ['another target', JSON.stringify(testState('other', 1)), 'STATE_FOREIGN'],
    ['no counts', JSON.stringify({ ...testState('local', 1), recordCounts: undefined }), 'STATE_CORRUPT'],
  ])('refuses %s', (_what, text, code) => {
    expect(() => parseState(text, 'state.json', 'local')).toThrow(expect.objectContaining({ code }));
  });
});
