/**
 * The contract every Target passes (dir, sftp against OpenSSH and the sandbox, batch): state,
 * delivery, staleness, locks, and deliver()'s promises: one step (a delivery stopped before it is
 * visible leaves the old state and roster, and the next one goes through), and records the portal
 * refuses recorded in the state and counted as not delivered. Call runTargetContract with a
 * factory that makes a fresh, empty target and the fixture behind it (a folder, a server), which
 * the other hooks are given: no hook reaches into a target's private fields.
 *
 * Capability differences are reasoned skips: a target without `refusing` has no portal that can
 * refuse a record (a folder, a bare SFTP server). A process killed midway (SIGKILL) cannot be
 * shown in process: test/e2e/interrupt.test.ts kills `roster apply` at the fault points of the dir
 * and sftp targets (src/targets/faults.ts) and checks the same promise; the batch target has no
 * fault points yet.
 */
import { describe, expect, it } from 'vitest';
import { generateDistrict } from '../../src/generate/generate.js';
import type { EntityName } from '../../src/model/entities.js';
import { fingerprintRoster } from '../../src/model/fingerprint.js';
import { type Roster, RosterBuilder, rostersEqual } from '../../src/model/roster.js';
import type { TargetState } from '../../src/targets/state.js';
import type { Target } from '../../src/targets/target.js';
import { testState } from '../helpers/state.js';

export interface ContractHooks<F> {
  /** A fresh target with nothing applied, and what stands behind it (its folder, its server). */
  make(): Promise<{ target: Target; fixture: F }>;
  /** Makes the stored state unreadable (garbage), to check the target refuses it. */
  corruptState(fixture: F, target: Target): Promise<void>;
  /** Leaves a lock as a crashed process would (its holder gone), on this host unless `host` is given. */
  leaveDeadLock(fixture: F, target: Target, host?: string): Promise<void>;
  /** Lets the portal take a delivery (a sync), so the next one can land. */
  settle?(fixture: F): Promise<void>;
  /** The target applies changes only (batch): a later delivery adds and updates, never removes. */
  readonly deltaOnly?: boolean;
  /**
   * For a portal that checks records and reports the ones it refuses: a target whose delivery
   * waits for that report, a roster the portal refuses one record of (made from `base`), and what
   * runs the portal meanwhile. Absent where nothing can be refused (a reasoned skip: a folder and
   * a bare SFTP server take every file as it is).
   */
  readonly refusing?: {
    make(): Promise<{ target: Target; fixture: F }>;
    refusedRoster(base: Roster): {
      roster: Roster;
      refused: { entity: EntityName; key: string; code?: string };
    };
    /** Runs the portal while the delivery waits (e.g. syncs); returns how to stop it. */
    whileDelivering?(fixture: F): () => void;
  };
}

/** `base` with one record's field set to `value` (a record the portal is to refuse). */
export function withValue(
  base: Roster,
  entity: EntityName,
  index: number,
  field: string,
  value: string,
): Roster {
  const b = new RosterBuilder(base.version);
  for (const e of base.entities()) {
    const table = base.table(e);
    for (const f of table.extensionFields) b.table(e).declareField(f);
    for (let i = 0; i < table.size; i++) {
      const record = table.get(i);
      b.addNormalized(e, e === entity && i === index ? { ...record, [field]: value } : record);
    }
  }
  return b.build();
}

function stateFor(target: Target, serial: number): TargetState {
  return testState(target.name, serial, {
    lineage: 'contract-lineage',
    recordCounts: { orgs: 1 },
  });
}

export function runTargetContract<F>(kind: string, hooks: ContractHooks<F>): void {
  describe(`Target contract: ${kind}`, () => {
    const roster = generateDistrict({ schools: 2, students: 30, seed: 'contract' });
    const next = generateDistrict({ schools: 2, students: 31, seed: 'contract' });
    const shaped = (t: Target, r: typeof roster) => (t.shape ? t.shape(r) : r);
    const fixtures = new Map<Target, F>();
    const make = async () => {
      const { target, fixture } = await hooks.make();
      fixtures.set(target, fixture);
      return target;
    };
    const deliver = async (t: Target, r: typeof roster, serial: number, expected: number) => {
      const receipt = await t.deliver(r, r, stateFor(t, serial), expected);
      await hooks.settle?.(fixtures.get(t)!);
      return receipt;
    };

    it('has no state before the first delivery', async () => {
      const target = await make();
      expect(await target.readState()).toBeUndefined();
      await target.close?.();
    });

    it('delivers, then reads back the state and the roster it holds', async () => {
      const target = await make();
      const lock = await target.lock('apply', 0);
      const receipt = await deliver(target, roster, 1, 0);
      await target.unlock(lock);
      expect(receipt.state.serial).toBe(1);
      const state = await target.readState();
      expect(state).toMatchObject({ serial: 1, lineage: 'contract-lineage', target: target.name });
      const current = await target.readCurrent(state!);
      expect(rostersEqual(current, shaped(target, roster))).toBe(true);
      expect(fingerprintRoster(current)).toBe(fingerprintRoster(shaped(target, roster)));
      await target.close?.();
    });

    it('refuses a delivery based on a stale serial, and keeps the old state and roster', async () => {
      const target = await make();
      await deliver(target, roster, 1, 0);
      await expect(target.deliver(next, next, stateFor(target, 2), 0)).rejects.toMatchObject({
        code: 'PLAN_STALE',
      });
      const state = await target.readState();
      expect(state?.serial).toBe(1);
      expect(rostersEqual(await target.readCurrent(state!), shaped(target, roster))).toBe(true);
      await deliver(target, next, 2, 1);
      expect((await target.readState())?.serial).toBe(2);
      const now = await target.readCurrent((await target.readState())!);
      if (hooks.deltaOnly) {
        const want = shaped(target, next);
        for (const e of want.entities())
          expect(now.table(e).size, e).toBeGreaterThanOrEqual(want.table(e).size);
      } else {
        expect(rostersEqual(now, shaped(target, next))).toBe(true);
      }
      await target.close?.();
    });

    it('delivers nothing when stopped before the delivery is visible: the old state and roster stay', async () => {
      const target = await make();
      await deliver(target, roster, 1, 0);
      const stop = new AbortController();
      stop.abort(new Error('SIGTERM received'));
      await expect(target.deliver(next, next, stateFor(target, 2), 1, stop.signal)).rejects.toThrow(
        'SIGTERM received',
      );
      await hooks.settle?.(fixtures.get(target)!);
      const state = await target.readState();
      expect(state?.serial).toBe(1);
      expect(rostersEqual(await target.readCurrent(state!), shaped(target, roster))).toBe(true);
      // And the next delivery goes through as if nothing happened.
      await deliver(target, next, 2, 1);
      expect((await target.readState())?.serial).toBe(2);
      await target.close?.();
    });

    it.skipIf(!hooks.refusing)(
      'records the records the portal refuses in the state, and leaves them out of what it holds',
      async () => {
        const refusing = hooks.refusing!;
        const { target, fixture } = await refusing.make();
        const { roster: refusedRoster, refused } = refusing.refusedRoster(roster);
        const stop = refusing.whileDelivering?.(fixture);
        try {
          const sent = shaped(target, refusedRoster);
          const recordCounts = Object.fromEntries(sent.entities().map((e) => [e, sent.table(e).size]));
          const sentState = testState(target.name, 1, { lineage: 'contract-lineage', recordCounts });
          const receipt = await target.deliver(sent, sent, sentState, 0);
          expect(receipt.state.rejected).toEqual([expect.objectContaining(refused)]);
          expect(receipt.warnings.join('\n')).toMatch(/refused|rejected/);
          const state = await target.readState();
          expect(state?.serial).toBe(1);
          expect(state?.rejected).toEqual([expect.objectContaining(refused)]);
          // Counted as not delivered: the next plan leaves it out of the current roster
          // (services/plan.ts, withoutRejected) and so sends it again.
          expect(state?.recordCounts[refused.entity]).toBe(sent.table(refused.entity).size - 1);
        } finally {
          stop?.();
          await target.close?.();
        }
      },
    );

    it('lets one process hold the lock: a second lock fails at once, naming the holder', async () => {
      const target = await make();
      const lock = await target.lock('apply', 0);
      const started = Date.now();
      await expect(target.lock('apply', 0)).rejects.toMatchObject({ code: 'LOCK_HELD' });
      expect(Date.now() - started).toBeLessThan(5000);
      const held = await target.readLock();
      expect(held).toMatchObject({ id: lock.id, operation: 'apply', pid: process.pid, stale: false });
      await target.unlock(lock);
      expect(await target.readLock()).toBeUndefined();
      await target.close?.();
    });

    it('waits for the lock with a timeout', async () => {
      const target = await make();
      const lock = await target.lock('apply', 0);
      setTimeout(() => void target.unlock(lock), 300);
      const second = await target.lock('apply', 5000);
      expect(second.id).not.toBe(lock.id);
      await target.unlock(second);
      await target.close?.();
    });

    it('does not release a lock it does not hold', async () => {
      const target = await make();
      const lock = await target.lock('apply', 0);
      await target.unlock({ ...lock, id: 'someone-else' });
      expect((await target.readLock())?.id).toBe(lock.id);
      await target.unlock(lock);
      await target.close?.();
    });

    it('takes over the lock of a dead holder on this host, saying whose it was', async () => {
      const target = await make();
      await hooks.leaveDeadLock(fixtures.get(target)!, target);
      expect((await target.readLock())?.stale).toBe(true);
      const lock = await target.lock('apply', 0);
      expect(lock.replaced).toMatchObject({ id: 'dead', holder: 'ci@host', stale: true });
      expect(await target.readLock()).toMatchObject({ id: lock.id, stale: false });
      await target.unlock(lock);
      expect(await target.readLock()).toBeUndefined();
      await target.close?.();
    });

    it('keeps the lock of a holder on another host until force-unlocked, naming host and age', async () => {
      const target = await make();
      await hooks.leaveDeadLock(fixtures.get(target)!, target, 'runner-elsewhere');
      expect((await target.readLock())?.stale).toBe(false);
      await expect(target.lock('apply', 0)).rejects.toThrow(/locked by ci@host \(apply, since .+ ago\)/);
      await expect(target.lock('apply', 0)).rejects.toMatchObject({
        hint: expect.stringContaining('runner-elsewhere'),
      });
      const removed = await target.forceUnlock();
      expect(removed).toMatchObject({ id: 'dead', host: 'runner-elsewhere' });
      const lock = await target.lock('apply', 0);
      expect(lock.replaced).toBeUndefined();
      await target.unlock(lock);
      await target.close?.();
    });

    it('refuses a corrupt state with a clear error', async () => {
      const target = await make();
      await deliver(target, roster, 1, 0);
      await hooks.corruptState(fixtures.get(target)!, target);
      await expect(target.readState()).rejects.toMatchObject({ code: 'STATE_CORRUPT' });
      await target.close?.();
    });
  });
}
