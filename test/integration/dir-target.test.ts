import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { generateDistrict } from '../../src/generate/generate.js';
import { rostersEqual } from '../../src/model/roster.js';
import { DirTarget } from '../../src/targets/dir.js';
import { tempDir } from '../helpers/fixtures.js';
import { deadLockText, testState } from '../helpers/state.js';
import { runTargetContract } from './target-contract.js';

runTargetContract('dir', {
  make: async () => {
    const path = join(tempDir(), 'target');
    return { target: new DirTarget({ name: 'contract', path }), fixture: { path } };
  },
  corruptState: async ({ path }) => writeFileSync(join(path, 'current', 'state.json'), '{ not json'),
  leaveDeadLock: async ({ path }, _target, host) => {
    mkdirSync(path, { recursive: true });
    writeFileSync(join(path, 'lock.json'), deadLockText(host));
  },
});

const state = (target: string, serial: number) => testState(target, serial);

describe('dir target specifics', () => {
  it("lets exactly one of many concurrent lockers take a dead holder's lock", async () => {
    const path = join(tempDir(), 't');
    mkdirSync(path, { recursive: true });
    writeFileSync(join(path, 'lock.json'), deadLockText());
    const lockers = Array.from({ length: 8 }, () => new DirTarget({ name: 'a', path }));
    const tries = await Promise.allSettled(lockers.map((t) => t.lock('apply', 0)));
    const won = tries.filter((t) => t.status === 'fulfilled');
    expect(won).toHaveLength(1);
    for (const t of tries) if (t.status === 'rejected') expect(t.reason).toMatchObject({ code: 'LOCK_HELD' });
    expect((await lockers[0]!.readLock())?.id).toBe(
      (won[0] as PromiseFulfilledResult<{ id: string }>).value.id,
    );
  });

  it('keeps deliveries private: the folder is 0700, ignored by git; its files 0600', async () => {
    const path = join(tempDir(), 't');
    const target = new DirTarget({ name: 'a', path });
    const lock = await target.lock('apply', 0);
    const roster = generateDistrict({ schools: 1, students: 5, seed: 1 });
    await target.deliver(roster, roster, state('a', 1), 0);
    await target.unlock(lock);
    expect(statSync(path).mode & 0o777).toBe(0o700);
    expect(readFileSync(join(path, '.gitignore'), 'utf8')).toMatch(/^\*$/m);
    for (const f of ['OneRoster.zip', 'snapshot.zip', 'state.json'])
      expect(statSync(join(path, 'current', f)).mode & 0o777, f).toBe(0o600);
  });

  it('refuses the state of another target', async () => {
    const path = join(tempDir(), 't');
    const a = new DirTarget({ name: 'a', path });
    const roster = generateDistrict({ schools: 1, students: 5, seed: 1 });
    await a.deliver(roster, roster, state('a', 1), 0);
    await expect(new DirTarget({ name: 'b', path }).readState()).rejects.toMatchObject({
      code: 'STATE_FOREIGN',
    });
    writeFileSync(join(path, 'current', 'state.json'), JSON.stringify({ hello: 'world' }));
    await expect(a.readState()).rejects.toMatchObject({ code: 'STATE_FOREIGN' });
  });

  it('keeps OneRoster.zip in the folder pointing at the current delivery, and prunes old generations', async () => {
    const path = join(tempDir(), 't');
    const t = new DirTarget({ name: 'a', path });
    for (let serial = 1; serial <= 7; serial++) {
      const roster = generateDistrict({ schools: 1, students: serial, seed: 1 });
      await t.deliver(roster, roster, state('a', serial), serial - 1);
    }
    const zip = readFileSync(join(path, 'OneRoster.zip'));
    expect(zip.subarray(0, 2).toString()).toBe('PK');
    expect(readFileSync(join(path, 'generations', '000007', 'OneRoster.zip')).equals(zip)).toBe(true);
    expect(readdirSync(join(path, 'generations'))).toEqual([
      '000003',
      '000004',
      '000005',
      '000006',
      '000007',
    ]);
  });

  it('keeps a roster image of the current snapshot, and reads the zip when the image is unusable', async () => {
    const path = join(tempDir(), 't');
    const t = new DirTarget({ name: 'a', path });
    const first = generateDistrict({ schools: 1, students: 8, seed: 1 });
    const second = generateDistrict({ schools: 2, students: 9, seed: 2 });
    await t.deliver(first, first, state('a', 1), 0);
    await t.deliver(second, second, state('a', 2), 1);
    // Only the current generation keeps one (older generations are read from their zip).
    expect(existsSync(join(path, 'generations', '000002', 'snapshot.image'))).toBe(true);
    expect(existsSync(join(path, 'generations', '000001', 'snapshot.image'))).toBe(false);
    const current = await t.readState();
    const fromImage = await t.readCurrent(current!);
    expect(rostersEqual(fromImage, second)).toBe(true);
    // Origins tell which way it was read: the image keeps the delivered roster's (none here).
    expect(fromImage.table('users').origin(0)).toBeUndefined();

    // An image bound to another state (here: a state.json edited to serial 7) is not used.
    const other = await t.readCurrent({ ...current!, serial: 7 });
    expect(rostersEqual(other, second)).toBe(true);
    expect(other.table('users').origin(0)).toMatchObject({ line: 2 });
    // Nor is a damaged one; reading the zip writes a good one again.
    truncateSync(join(path, 'current', 'snapshot.image'), 100);
    const fromZip = await t.readCurrent(current!);
    expect(rostersEqual(fromZip, second)).toBe(true);
    expect(fromZip.table('users').origin(0)).toMatchObject({ line: 2 });
    const again = await t.readCurrent(current!);
    expect(rostersEqual(again, second)).toBe(true);
    expect(again.table('users').origin(0)).toMatchObject({ line: 2 }); // the zip's origins, kept in the image
    expect(statSync(join(path, 'current', 'snapshot.image')).size).toBeGreaterThan(100);
  });
});
