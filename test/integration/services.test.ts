/**
 * Services in process (not through the built CLI): what a command's one service call returns,
 * on a district repo in a temp folder and its local `dir` target.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadRepoConfig, selectTarget } from '../../src/config/config.js';
import { renderStatus } from '../../src/render/status.js';
import { PLAIN } from '../../src/render/style.js';
import { convertRoster } from '../../src/services/convert.js';
import { targetStatuses } from '../../src/services/status.js';
import { unlockTarget } from '../../src/services/unlock.js';
import { createTarget } from '../../src/targets/create.js';
import { package11, tempDir, writeTree } from '../helpers/fixtures.js';
import { districtRepo } from '../helpers/repo.js';

describe('services, in process', () => {
  it('convertRoster writes a valid roster and says what it wrote; an invalid one writes nothing', async () => {
    const src = tempDir();
    writeTree(src, package11() as Record<string, string>);
    const out = join(tempDir(), 'yaml');
    const converted = await convertRoster({ src, to: 'yaml', out, layout: 'single' });
    expect(converted.validation.valid).toBe(true);
    expect(converted.written?.version).toBe('1.1');
    expect(converted.written?.files.length).toBeGreaterThan(0);
    for (const f of converted.written!.files) expect(existsSync(f) || existsSync(join(out, f))).toBe(true);

    const bad = tempDir();
    const p = package11();
    writeTree(bad, { ...p, 'users.csv': String(p['users.csv']).replace('u2,,,true', 'u2,,,maybe') } as Record<
      string,
      string
    >);
    const refused = await convertRoster({ src: bad, to: 'yaml', out: join(tempDir(), 'never') });
    expect(refused.validation.valid).toBe(false);
    expect(refused.written).toBeUndefined();
    expect(existsSync(join(tempDir(), 'never'))).toBe(false);
  });

  it('unlockTarget removes a lock and says whose it was; targetStatuses shows it until then', async () => {
    const repo = districtRepo({ students: 5, git: false });
    const target = createTarget(selectTarget(loadRepoConfig(repo.dir), 'local'));
    await target.lock('apply', 0);
    const [locked] = await targetStatuses({ repo: repo.dir });
    expect(locked!.lock).toMatchObject({ operation: 'apply', stale: false });
    expect(renderStatus([locked!], PLAIN)).toContain('  locked by ');

    const removed = await unlockTarget({ repo: repo.dir, target: 'local' });
    expect(removed).toMatchObject({ operation: 'apply' });
    const [after] = await targetStatuses({ repo: repo.dir });
    expect(after!.lock).toBeNull();
    expect(renderStatus([after!], PLAIN)).toBe(
      `local (dir, bulk) at ${after!.location}\n  never applied\n  not locked\n`,
    );
    expect(await unlockTarget({ repo: repo.dir, target: 'local' })).toBeUndefined();
    expect(readdirSync(repo.dir)).toContain('roster');
  });
});
