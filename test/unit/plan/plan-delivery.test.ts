import { truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseDuration } from '../../../src/commands/apply.js';
import { loadConfig } from '../../../src/config/config.js';
import { generateDistrict } from '../../../src/generate/generate.js';
import { hashString } from '../../../src/model/byte-hash.js';
import { RosterBuilder, sortedRecords } from '../../../src/model/roster.js';
import { computePlan } from '../../../src/plan/compute.js';
import { buildDelivery } from '../../../src/plan/delivery.js';
import { PLAN_FILE_MAX_BYTES, readPlanFile } from '../../../src/plan/plan-file.js';
import { applyPolicy, defaultPolicy, type Policy } from '../../../src/plan/policy.js';
import {
  MARKDOWN_LIMIT,
  renderPlanMarkdown,
  renderPlanText,
  TEXT_DETAIL_LIMIT,
} from '../../../src/render/plan.js';
import { planJsonChunks } from '../../../src/render/plan-json.js';
import { batchRosterIds, batchShape } from '../../../src/targets/batch.js';
import { tempDir } from '../../helpers/fixtures.js';

const NOW = new Date('2026-03-02T12:00:00Z');

/** The JSON plan as text (planJsonChunks writes UTF-8 pieces). */
const jsonOf = (p: Parameters<typeof planJsonChunks>[0], chunkBytes?: number) =>
  Buffer.concat([...planJsonChunks(p, chunkBytes)]).toString('utf8');

function plan(
  desired: ReturnType<typeof generateDistrict>,
  current: ReturnType<typeof generateDistrict> | undefined,
  policy: Policy = defaultPolicy(),
  mode: 'bulk' | 'delta' = 'bulk',
) {
  return computePlan({
    desired,
    current,
    target: { name: 't', kind: 'dir', mode, policy },
    state: current ? { lineage: 'l', serial: 1 } : undefined,
    commit: null,
    now: NOW,
  });
}

describe('delivery', () => {
  const current = generateDistrict({ schools: 1, students: 20, seed: 'd' });
  // The same district with the last student gone.
  const b = new RosterBuilder('1.1');
  for (const e of current.entities())
    for (const r of current.table(e))
      if (r.sourcedId !== 'stu-000020' && r.userSourcedId !== 'stu-000020') b.addNormalized(e, r);
  const desired = b.build();

  it('bulk: the whole roster after policy', () => {
    const p = plan(desired, current);
    const { delivery, snapshot } = buildDelivery({
      desired,
      current,
      changes: p.changes,
      mode: 'bulk',
      policy: defaultPolicy(),
      now: NOW,
    });
    expect(delivery).toBe(snapshot);
    expect(delivery.table('users').size).toBe(current.table('users').size - 1);
  });

  it('delta: only the changed records, with status and dateLastModified', () => {
    const p = plan(desired, current, defaultPolicy(), 'delta');
    const { delivery } = buildDelivery({
      desired,
      current,
      changes: p.changes,
      mode: 'delta',
      policy: defaultPolicy(),
      now: NOW,
    });
    expect(delivery.mode('users')).toBe('delta');
    expect(delivery.mode('orgs')).toBe('absent');
    const users = sortedRecords(delivery, 'users');
    expect(users.map((u) => [u.sourcedId, u.status, u.dateLastModified])).toEqual([
      ['stu-000020', 'tobedeleted', '2026-03-02T12:00:00.000Z'],
    ]);
    expect(delivery.table('enrollments').size).toBe(p.summary.byEntity.enrollments!.delete);
  });

  it('soft delete keeps the user, disabled, in bulk and in delta', () => {
    const policy = { ...defaultPolicy(), deleteStyle: 'soft' as const };
    const p = plan(desired, current, policy);
    expect(p.changes.find((c) => c.entity === 'users')).toMatchObject({
      action: 'delete',
      reason: 'disable_because_absent_from_roster',
    });
    const bulk = buildDelivery({ desired, current, changes: p.changes, mode: 'bulk', policy, now: NOW });
    expect(sortedRecords(bulk.snapshot, 'users').find((u) => u.sourcedId === 'stu-000020')?.enabledUser).toBe(
      'false',
    );
    const delta = buildDelivery({ desired, current, changes: p.changes, mode: 'delta', policy, now: NOW });
    expect(sortedRecords(delta.delivery, 'users')[0]).toMatchObject({
      sourcedId: 'stu-000020',
      status: 'active',
      enabledUser: 'false',
    });
    // Already disabled: nothing more to do.
    expect(plan(desired, bulk.snapshot, policy).summary.byEntity.users).toMatchObject({
      delete: 0,
      update: 0,
    });
  });

  it('never delivers what the policy does not share', () => {
    const policy: Policy = {
      ...defaultPolicy(),
      share: {
        entities: ['orgs', 'academicSessions', 'courses', 'classes', 'users', 'enrollments'],
        withhold: { users: ['email'] },
      },
    };
    const shared = applyPolicy(current, policy);
    expect(shared.table('demographics').size).toBe(0);
    expect([...shared.table('users')].every((u) => u.email === '')).toBe(true);
    const { withheld, ...p } = plan(current, undefined, policy);
    // Only the list of what is kept back names them (by field, never a value).
    expect(withheld).toEqual({ users: ['email'], demographics: ['*'] });
    expect(JSON.stringify(p)).not.toMatch(/"email"|demographics|birthDate/);
  });
});

describe('plan renderers', () => {
  it('text: summary first and last, symbols per action, personal data masked', () => {
    const current = generateDistrict({ schools: 1, students: 5, seed: 'r' });
    const text = renderPlanText(plan(current, undefined));
    const lines = text.split('\n');
    expect(lines[2]).toMatch(/^Plan: \d+ to add, 0 to change, 0 to remove\.$/);
    expect(lines.filter((l) => l.startsWith('Plan: '))).toHaveLength(2);
    expect(text).toContain('  + users stu-000001');
    expect(text).toContain('givenName = (personal data)');
    expect(text).toContain('birthDate = (redacted)');
  });

  it('markdown: summary table first, never more than 60,000 characters, with a clear note when truncated', () => {
    const big = generateDistrict({ schools: 3, students: 2000, seed: 'big' });
    const p = plan(big, undefined);
    const md = renderPlanMarkdown(p);
    expect(md.length).toBeLessThanOrEqual(MARKDOWN_LIMIT);
    expect(md.startsWith('<!-- roster-plan:t -->\n### roster plan: `t`\n\n**Plan: ')).toBe(true);
    expect(md).toMatch(/\*\*Truncated:\*\* showing [\d,]+ of [\d,]+ changes/);
    expect(Buffer.byteLength(md)).toBeLessThanOrEqual(MARKDOWN_LIMIT);
    const small = renderPlanMarkdown(
      plan(generateDistrict({ schools: 1, students: 2, seed: 's' }), undefined),
    );
    expect(small).not.toContain('Truncated');
  });
});

describe('configuration', () => {
  it('reads targets with defaults', () => {
    const dir = tempDir();
    writeFileSync(
      join(dir, 'roster.config.yaml'),
      'roster: roster\ntargets:\n  - { name: local, kind: dir, path: out }\n',
    );
    const config = loadConfig(join(dir, 'roster.config.yaml'));
    expect(config.rosterPath).toBe(join(dir, 'roster'));
    expect(config.targets[0]).toMatchObject({
      name: 'local',
      kind: 'dir',
      mode: 'bulk',
      path: join(dir, 'out'),
    });
    expect(config.targets[0]!.policy.thresholds).toMatchObject({ deletePercent: 5, updatePercent: 50 });
  });

  it('requires https for a batch target, except on loopback, and a host key for sftp', () => {
    const dir = tempDir();
    const file = join(dir, 'roster.config.yaml');
    writeFileSync(
      file,
      'targets:\n  - { name: b, kind: batch, url: "http://portal.example.org", tokenEnv: T }\n',
    );
    expect(() => loadConfig(file)).toThrow(/url must use https/);
    writeFileSync(
      file,
      'targets:\n  - { name: b, kind: batch, url: "http://127.0.0.1:8080", tokenEnv: T }\n',
    );
    expect(loadConfig(file).targets[0]).toMatchObject({
      kind: 'batch',
      mode: 'delta',
      url: 'http://127.0.0.1:8080',
    });
    writeFileSync(
      file,
      'targets:\n  - { name: s, kind: sftp, host: h, username: u, auth: { agent: true } }\n',
    );
    expect(() => loadConfig(file)).toThrow(/must have required property 'hostKey'/);
  });

  it('reports every problem with its line and column', () => {
    const dir = tempDir();
    writeFileSync(
      join(dir, 'roster.config.yaml'),
      'roster: roster\ntargets:\n  - name: local\n    kind: ftp\n    pth: out\n    mode: Bulk\n',
    );
    expect(() => loadConfig(join(dir, 'roster.config.yaml'))).toThrow(
      /roster\.config\.yaml:4:11: targets\.0\.kind must be one of: dir[\s\S]*roster\.config\.yaml:5:5: targets\.0 has an unknown setting "pth"[\s\S]*:6:11: targets\.0\.mode must be one of: bulk, delta/,
    );
  });
});

describe('durations', () => {
  it.each([
    ['0s', 0],
    ['30s', 30_000],
    ['5m', 300_000],
    ['250ms', 250],
    ['2', 2000],
  ])('%s is %i ms', (text, ms) => expect(parseDuration(text)).toBe(ms));
  it('refuses nonsense', () => expect(() => parseDuration('soon')).toThrow(/not a duration/));
});

describe('plans of city size', () => {
  it('hold hundreds of thousands of changes (no argument spreading)', () => {
    const b = new RosterBuilder('1.1');
    for (let i = 0; i < 300_000; i++) {
      b.addNormalized('enrollments', {
        sourcedId: `e${i}`,
        classSourcedId: 'k',
        schoolSourcedId: 's',
        userSourcedId: `u${i}`,
        role: 'student',
      });
    }
    const p = computePlan({
      desired: b.build(),
      current: undefined,
      target: { name: 't', kind: 'dir', mode: 'bulk', policy: defaultPolicy() },
      state: undefined,
      commit: null,
      now: NOW,
    });
    expect(p.changes.length).toBe(300_000);
    // Text lists the first changes one by one and counts the rest.
    const text = renderPlanText(p);
    expect(text.match(/^ {2}\+ enrollments /gm)).toHaveLength(TEXT_DETAIL_LIMIT);
    expect(text).toContain('... and 298,000 more changes, counted in the summary');
    expect(text.trimEnd().endsWith('Plan: 300000 to add, 0 to change, 0 to remove.')).toBe(true);
    expect(renderPlanText(p, { detailLimit: 5 }).match(/^ {2}\+ enrollments /gm)).toHaveLength(5);
  });

  it('are the same whether both sides are sorted by key (matched side by side) or not (looked up)', () => {
    const base = generateDistrict({ schools: 2, students: 150, seed: 'side-by-side' });
    // Which records change depends on their id, not on their place.
    const pick = (r: Record<string, string>, n: number) => hashString(r.sourcedId!) % n === 0;
    const build = (roster: typeof base, order: 'sorted' | 'reversed', change: boolean) => {
      const b = new RosterBuilder('1.1');
      for (const e of roster.entities()) {
        const records = sortedRecords(roster, e);
        const first = records[0];
        if (order === 'reversed') records.reverse();
        for (const r of records) {
          if (change && pick(r, 17)) continue;
          b.addNormalized(e, change && e === 'users' && pick(r, 11) ? { ...r, givenName: 'Changed' } : r);
        }
        // Added at the end: one after every key, one before (out of order).
        if (change && e === 'courses') b.addNormalized(e, { ...first!, sourcedId: 'zz-new-course' });
        if (change && e === 'courses') b.addNormalized(e, { ...first!, sourcedId: 'aa-new-course' });
        // A key held twice (a roster builder does not refuse it): both come out the same either way.
        if (change && e === 'classes') b.addNormalized(e, { ...first!, title: 'Twice' });
      }
      return b.build();
    };
    const desired = build(base, 'sorted', true);
    expect(desired.table('enrollments').ascendingBy('sourcedId')).toBe(true);
    expect(desired.table('courses').ascendingBy('sourcedId')).toBe(false);
    expect(build(base, 'sorted', false).table('courses').ascendingBy('sourcedId')).toBe(true);
    expect(build(base, 'reversed', false).table('courses').ascendingBy('sourcedId')).toBe(false);
    const looked = plan(build(base, 'reversed', true), build(base, 'reversed', false));
    expect(looked.summary.create + looked.summary.update + looked.summary.delete).toBeGreaterThan(20);
    for (const [want, have] of [
      ['sorted', 'sorted'],
      ['reversed', 'sorted'],
      ['sorted', 'reversed'],
    ] as const) {
      const p = plan(build(base, want, true), build(base, have, false));
      expect(p.summary).toEqual(looked.summary);
      expect(JSON.stringify(p.changes)).toBe(JSON.stringify(looked.changes));
    }
  });

  it('hold a school whose every enrollment goes, and not one that keeps a single enrollment', () => {
    const current = generateDistrict({ schools: 2, students: 120, seed: 'school-holds' });
    const school = current.table('orgs').value(1, 'sourcedId');
    const enrollmentsOf = (keep: number) => {
      const b = new RosterBuilder('1.1');
      let kept = 0;
      for (const e of current.entities())
        for (const r of current.table(e)) {
          if (e === 'enrollments' && r.schoolSourcedId === school && kept++ >= keep) continue;
          b.addNormalized(e, r);
        }
      return b.build();
    };
    const held = (keep: number) =>
      plan(enrollmentsOf(keep), current).holds.filter((h) => h.code === 'SCHOOL_ENROLLMENTS_REMOVED');
    expect(held(0).map((h) => h.school)).toEqual([school]);
    expect(held(1)).toEqual([]);
  });

  it('are written as JSON piece by piece, exactly as JSON.stringify would write them whole', () => {
    const small = plan(generateDistrict({ schools: 1, students: 40, seed: 'json' }), undefined);
    const pieces = [...planJsonChunks(small, 1_000)];
    expect(pieces.length).toBeGreaterThan(5);
    expect(Buffer.concat(pieces).toString('utf8')).toBe(`${JSON.stringify(small, null, 2)}\n`);
    const none = plan(
      generateDistrict({ schools: 1, students: 3, seed: 'x' }),
      generateDistrict({ schools: 1, students: 3, seed: 'x' }),
    );
    expect(none.changes).toHaveLength(0);
    expect(jsonOf(none)).toBe(`${JSON.stringify(none, null, 2)}\n`);
  });

  it('are written as JSON.stringify would for updates, deletes, masks, escapes and read-back changes', () => {
    const current = generateDistrict({ schools: 1, students: 30, seed: 'json' });
    const b = new RosterBuilder('1.1');
    for (const e of current.entities())
      for (const r of current.table(e)) {
        if (r.sourcedId === 'stu-000003' || r.userSourcedId === 'stu-000003') continue; // deleted
        if (r.sourcedId === 'stu-000004') b.addNormalized(e, { ...r, givenName: 'Zoë "Q" \\ \u0001 \ud800' });
        else if (r.sourcedId === 'stu-000005')
          b.addNormalized(e, { ...r, middleName: '', grades: '05', dateLastModified: '2026-02-02' });
        else if (r.sourcedId === 'stu-000006') b.addNormalized(e, { ...r, dateLastModified: '2026-02-02' });
        else b.addNormalized(e, r);
      }
    b.addNormalized('orgs', { sourcedId: 'org-\u2028', name: 'Tab\there', type: 'district' });
    b.addNormalized('orgs', { sourcedId: 'org-back', name: 'Back\\slash', type: 'district' });
    const desired = b.build();
    // An extension column on one side only: the update's two records differ in layout.
    const wider = new RosterBuilder('1.1');
    for (const e of desired.entities())
      for (const r of desired.table(e))
        wider.addNormalized(
          e,
          e === 'users' && r.sourcedId === 'stu-000007' ? { ...r, 'metadata.x': 'y' } : r,
        );
    const policies: Policy[] = [
      defaultPolicy(),
      { ...defaultPolicy(), redact: ['givenName', 'metadata.*', 'demographics'] },
      { ...defaultPolicy(), deleteStyle: 'soft' },
    ];
    for (const [roster, policy, showPersonalData] of [
      [desired, policies[0]!, false],
      [desired, policies[0]!, true],
      [desired, policies[1]!, true],
      [desired, policies[2]!, false],
      [wider.build(), policies[1]!, false],
    ] as const) {
      const p = computePlan({
        desired: roster,
        current,
        target: { name: 't', kind: 'dir', mode: 'bulk', policy },
        state: { lineage: 'l', serial: 1 },
        commit: null,
        now: NOW,
        showPersonalData,
      });
      expect(new Set(p.changes.map((c) => c.action))).toEqual(new Set(['create', 'update', 'delete']));
      expect(p.changes.some((c) => c.school === undefined)).toBe(true);
      const expected = `${JSON.stringify(p, null, 2)}\n`;
      expect(jsonOf(p, 500)).toBe(expected);
      // A plan read back from a file holds plain objects: written the same way.
      const plain = { ...p, changes: JSON.parse(JSON.stringify(p.changes)) };
      expect(jsonOf(plain, 500)).toBe(expected);
    }
  });

  it('are refused as plan files when too large to read back, with a clear error', () => {
    const file = join(tempDir(), 'plan.json');
    writeFileSync(file, '{}');
    truncateSync(file, PLAN_FILE_MAX_BYTES + 1);
    expect(() => readPlanFile(file)).toThrow(expect.objectContaining({ code: 'PLAN_TOO_LARGE' }));
  });
});

describe('batch plans', () => {
  it("name enrollments by the roster's sourcedIds while keying them by class, user and role", () => {
    const g = generateDistrict({ schools: 1, students: 5, seed: 'batch-names' });
    const b = new RosterBuilder(g.version);
    for (const e of g.entities())
      for (const r of g.table(e))
        b.addNormalized(e, e === 'enrollments' ? { ...r, sourcedId: `roster-${r.sourcedId}` } : { ...r });
    const desired = b.build();
    const p = computePlan({
      desired,
      current: undefined,
      target: { name: 'portal', kind: 'batch', mode: 'delta', policy: defaultPolicy() },
      state: undefined,
      commit: null,
      now: NOW,
      shape: batchShape,
      rosterIds: batchRosterIds(desired),
    });
    const enrollments = p.changes.filter((c) => c.entity === 'enrollments');
    expect(enrollments.length).toBe(desired.table('enrollments').size);
    for (const c of enrollments) {
      expect(c.sourcedId).toMatch(/^roster-enr-/);
      expect(c.key).toMatch(/^enr-[0-9a-f]{16}$/);
      expect(c.school).toBe('sch-001');
    }
    // Users keep their own ids, and are attributed to their school although the shape has no orgs.
    expect(p.changes.filter((c) => c.entity === 'users').every((c) => c.school === 'sch-001')).toBe(true);
  });
});
