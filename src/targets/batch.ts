/**
 * The `batch` target: the two-file batch (docs/batch-api.md) over an HTTP batch API (undici).
 *
 * - What the portal holds is read live from its export before every plan, so changes made by hand
 *   in the portal show up as drift instead of being overwritten unseen or missed.
 * - Only what the two files can carry is compared and sent (`shape`): users, classes, enrollments
 *   and demographics, with the fields the format has; enrollments are keyed by (class, user, role).
 * - A delivery is the plan's changes as rows (ADD, DROP, REMOVE-USER, REMOVE-CLASS); the job is
 *   polled with backoff (honouring Retry-After) and its errors are folded into the state.
 * - The state and lock are kept in a local folder (`path`); the portal's export is the truth for
 *   what it holds. HTTPS is required except on loopback.
 */
import Papa from 'papaparse';
import type { FormData } from 'undici';
import type { BatchTargetConfig } from '../config/config.js';
import { InputError, StalePlanError } from '../errors.js';
import {
  BATCH_CLASS_FIELDS,
  BATCH_DEMOGRAPHICS_COLUMNS,
  BATCH_USER_FIELDS,
  BATCH_USERS_COLUMNS,
  batchCsv,
  classCells,
  fieldsOfCells,
  userCells,
} from '../formats/batch/batch.js';
import { convertVersion } from '../model/convert-version.js';
import { derivedEnrollmentId } from '../model/derived-ids.js';
import type { EntityName } from '../model/entities.js';
import { splitList } from '../model/normalize.js';
import type { RosterRecord } from '../model/record-table.js';
import { type Roster, RosterBuilder } from '../model/roster.js';
import type { Plan, PlanWarning } from '../plan/plan.js';
import { DirTarget } from './dir.js';
import { withRetry } from './retry.js';
import { foldRejections, type TargetState } from './state.js';
import { type DeliveryReceipt, type LockInfo, type LockStatus, type Target, TargetError } from './target.js';

/** Fields the two-file batch carries, per entity. */
export const BATCH_FIELDS: Partial<Record<EntityName, readonly string[]>> = {
  users: ['sourcedId', 'orgSourcedIds', 'role', 'username', 'givenName', 'familyName', 'email', 'grades'],
  classes: ['sourcedId', 'title', 'grades', 'courseSourcedId', 'termSourcedIds', 'schoolSourcedId'],
  enrollments: ['sourcedId', 'classSourcedId', 'schoolSourcedId', 'userSourcedId', 'role', 'primary'],
  demographics: ['sourcedId', ...BATCH_DEMOGRAPHICS_COLUMNS.slice(1)],
};
const BATCH_ROLES = ['student', 'teacher', 'administrator', 'aide'];

/** The roster as the two files can carry it (both sides of a batch plan go through this). */
export function batchShape(roster: Roster): Roster {
  const r = convertVersion(roster, '1.1').roster;
  const b = new RosterBuilder('1.1');
  const users = new Set<string>();
  for (const u of r.table('users')) {
    if (!BATCH_ROLES.includes(u.role ?? '')) continue;
    users.add(u.sourcedId!);
    b.addNormalized('users', pick(u, BATCH_FIELDS.users!));
  }
  for (const c of r.table('classes')) b.addNormalized('classes', pick(c, BATCH_FIELDS.classes!));
  for (const e of r.table('enrollments')) {
    if (!users.has(e.userSourcedId!)) continue;
    const role = batchRole(e.role);
    b.addNormalized('enrollments', {
      ...pick(e, BATCH_FIELDS.enrollments!),
      sourcedId: derivedEnrollmentId(e.classSourcedId!, e.userSourcedId!, role),
      role,
      primary: role === 'teacher' ? e.primary || 'false' : '',
    });
  }
  for (const d of r.table('demographics'))
    if (users.has(d.sourcedId!)) b.addNormalized('demographics', pick(d, BATCH_FIELDS.demographics!));
  return b.build();
}

/** Enrollments are keyed by (class, user, role) in the batch files: the roster's sourcedId of each key. */
export function batchRosterIds(
  desired: Roster,
): Partial<Record<EntityName, (key: string) => string | undefined>> {
  const ids = new Map<string, string>();
  for (const e of convertVersion(desired, '1.1').roster.table('enrollments')) {
    const key = derivedEnrollmentId(e.classSourcedId!, e.userSourcedId!, batchRole(e.role));
    if (!ids.has(key)) ids.set(key, e.sourcedId!);
  }
  return { enrollments: (key) => ids.get(key) };
}

/** The role an enrollment has in the batch files: teacher, student, else administrator. */
function batchRole(role: string | undefined): string {
  return role === 'teacher' || role === 'student' ? role : 'administrator';
}

function pick(record: RosterRecord, fields: readonly string[]): Record<string, string> {
  return Object.fromEntries(fields.map((f) => [f, record[f] ?? '']));
}

/** The portal's export (the two files) as a Roster in batch shape. */
export function rosterFromExport(usersCsv: string, demographicsCsv: string): Roster {
  const parse = (text: string) =>
    Papa.parse<Record<string, string>>(text.replace(/^\ufeff/, ''), { header: true, skipEmptyLines: true })
      .data;
  const b = new RosterBuilder('1.1');
  const users = new Map<string, Record<string, string>>();
  const classes = new Map<string, Record<string, string>>();
  for (const row of parse(usersCsv)) {
    if (!row.user_sis_id) continue;
    const orgs = new Set(splitList(users.get(row.user_sis_id)?.orgSourcedIds ?? ''));
    if (row.org_sis_id) orgs.add(row.org_sis_id);
    users.set(row.user_sis_id, {
      ...fieldsOfCells(BATCH_USER_FIELDS, row),
      orgSourcedIds: [...orgs].join(','),
    });
    if (!row.class_sis_id) continue;
    classes.set(row.class_sis_id, {
      ...fieldsOfCells(BATCH_CLASS_FIELDS, row),
      schoolSourcedId: row.org_sis_id ?? '',
    });
    const role = row.role === 'teacher' || row.role === 'student' ? row.role : 'administrator';
    b.add('enrollments', {
      sourcedId: derivedEnrollmentId(row.class_sis_id, row.user_sis_id, role),
      classSourcedId: row.class_sis_id,
      schoolSourcedId: row.org_sis_id ?? '',
      userSourcedId: row.user_sis_id,
      role,
      primary: role === 'teacher' ? row.primary_teacher || 'false' : '',
    });
  }
  for (const u of users.values()) b.add('users', u);
  for (const c of classes.values()) b.add('classes', c);
  for (const row of parse(demographicsCsv)) {
    if (!row.user_sis_id) continue;
    const { user_sis_id, ...rest } = row;
    b.add('demographics', { sourcedId: user_sis_id, ...rest });
  }
  return b.build();
}

/** The rows that carry a delta delivery (status active/tobedeleted) to the portal. */
export function batchFiles(
  delivery: Roster,
  snapshot: Roster,
): { users: string; demographics: string | undefined } {
  const classes = new Map([...snapshot.table('classes')].map((c) => [c.sourcedId!, c]));
  const allUsers = new Map([...snapshot.table('users')].map((u) => [u.sourcedId!, u]));
  const snapshotOrgs = new Map(
    [...convertVersion(snapshot, '1.1').roster.table('users')].map((u) => [
      u.sourcedId!,
      u.orgSourcedIds ?? '',
    ]),
  );
  const rows: Record<string, string>[] = [];
  const enrolledClasses = new Set<string>();
  for (const u of delivery.table('users')) {
    if (u.status === 'tobedeleted') rows.push({ action: 'REMOVE-USER', user_sis_id: u.sourcedId! });
    else
      rows.push({ action: 'ADD', ...userCells(u, splitList(snapshotOrgs.get(u.sourcedId!) ?? '')[0] ?? '') });
  }
  for (const e of delivery.table('enrollments')) {
    const c = classes.get(e.classSourcedId!);
    const u = allUsers.get(e.userSourcedId!);
    if (e.status === 'tobedeleted')
      rows.push({ action: 'DROP', user_sis_id: e.userSourcedId!, class_sis_id: e.classSourcedId! });
    else if (c && u) {
      enrolledClasses.add(c.sourcedId!);
      rows.push({
        action: 'ADD',
        ...userCells(u, c.schoolSourcedId!),
        ...classCells(c, e),
      });
    }
  }
  // A changed class travels on one of its enrollments; a removed class is emptied.
  for (const c of delivery.table('classes')) {
    if (c.status === 'tobedeleted') {
      rows.push({ action: 'REMOVE-CLASS', class_sis_id: c.sourcedId! });
      continue;
    }
    if (enrolledClasses.has(c.sourcedId!)) continue;
    const e = [...snapshot.table('enrollments')].find((x) => x.classSourcedId === c.sourcedId);
    const u = e ? allUsers.get(e.userSourcedId!) : undefined;
    if (e && u)
      rows.push({
        action: 'ADD',
        ...userCells(u, c.schoolSourcedId!),
        ...classCells(c, e),
      });
  }
  const demographics = [...delivery.table('demographics')]
    .filter((d) => d.status !== 'tobedeleted')
    .map((d) => ({ ...d, user_sis_id: d.sourcedId! }));
  return {
    users: batchCsv(BATCH_USERS_COLUMNS, rows),
    demographics: demographics.length ? batchCsv(BATCH_DEMOGRAPHICS_COLUMNS, demographics) : undefined,
  };
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }
}

export class BatchTarget implements Target {
  readonly kind = 'batch';
  readonly name: string;
  readonly location: string;
  private readonly local: DirTarget;

  constructor(private readonly config: BatchTargetConfig) {
    this.name = config.name;
    this.location = config.url;
    this.local = new DirTarget({ name: config.name, path: config.path });
  }

  /** Both sides of a batch plan are compared as the two files can carry them. */
  shape(roster: Roster): Roster {
    return batchShape(roster);
  }

  private token(): string {
    const value = process.env[this.config.tokenEnv];
    if (!value)
      throw new InputError(
        'SECRET_MISSING',
        `environment variable ${this.config.tokenEnv} (the token of target "${this.name}") is not set`,
        `Set ${this.config.tokenEnv} in the environment (in CI: a repository secret).`,
      );
    return value;
  }

  /** One HTTP call with timeouts; idempotent calls (GET) are retried on transient failures. */
  private async call(method: 'GET' | 'POST', path: string, body?: FormData): Promise<string> {
    const url = `${this.config.url}${path}`;
    const once = async () => {
      // (undici is loaded when a batch target first calls: ~70 ms every other command need not spend.)
      const { request } = await import('undici');
      let res: Awaited<ReturnType<typeof request>>;
      try {
        res = await request(url, {
          method,
          headers: { authorization: `Bearer ${this.token()}` },
          ...(body ? { body } : {}),
          headersTimeout: this.config.connectTimeoutSeconds * 1000,
          bodyTimeout: this.config.connectTimeoutSeconds * 1000,
        });
      } catch (err) {
        if (err instanceof InputError) throw err;
        throw new HttpError(0, (err as Error).message);
      }
      const text = await res.body.text();
      if (res.statusCode >= 400) {
        const after = Number(res.headers['retry-after']);
        throw new HttpError(
          res.statusCode,
          `HTTP ${res.statusCode}${text ? `: ${text.slice(0, 200)}` : ''}`,
          Number.isFinite(after) ? after * 1000 : undefined,
        );
      }
      return text;
    };
    try {
      return await withRetry(once, {
        retries: method === 'GET' ? this.config.retries : 0,
        baseMs: 300,
        transient: (err) =>
          err instanceof HttpError && (err.status === 0 || err.status === 429 || err.status >= 500),
        retryAfterMs: (err) => (err instanceof HttpError ? err.retryAfterMs : undefined),
      });
    } catch (err) {
      if (!(err instanceof HttpError)) throw err;
      if (err.status === 401 || err.status === 403)
        throw new TargetError(
          'BATCH_AUTH_FAILED',
          `batch API refused the token: ${method} ${url} (HTTP ${err.status})`,
          `Check ${this.config.tokenEnv}.`,
          err,
        );
      throw new TargetError(
        'BATCH_REQUEST_FAILED',
        `batch API call failed: ${method} ${url}: ${err.message}`,
        'Check that the portal is up; nothing was recorded as delivered.',
        err,
      );
    }
  }

  private json<T>(text: string, what: string): T {
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new TargetError(
        'BATCH_BAD_RESPONSE',
        `batch API answered ${what} with something that is not JSON: ${JSON.stringify(text.slice(0, 80))}`,
        'The URL may point at something other than the batch API.',
      );
    }
  }

  rosterIds(desired: Roster): Partial<Record<EntityName, (key: string) => string | undefined>> {
    return batchRosterIds(desired);
  }

  /**
   * The rows the portal would refuse: the two files cannot create orgs or terms, so a user, class
   * or enrollment naming one the portal does not have (GET /api/orgs and /api/terms) is refused.
   * One warning per missing org or term, with the count and the remedy. None when the portal
   * cannot say what it has (404).
   */
  async foreseeRefusals(plan: Plan, desired: Roster): Promise<PlanWarning[]> {
    let orgs: Set<string>;
    let terms: Set<string>;
    try {
      orgs = new Set(
        this.json<{ orgs: { sourcedId: string }[] }>(
          await this.call('GET', '/api/orgs'),
          '/api/orgs',
        ).orgs.map((o) => o.sourcedId),
      );
      terms = new Set(
        this.json<{ terms: { sourcedId: string }[] }>(
          await this.call('GET', '/api/terms'),
          '/api/terms',
        ).terms.map((t) => t.sourcedId),
      );
    } catch (err) {
      if (err instanceof TargetError && err.cause instanceof HttpError && err.cause.status === 404) return [];
      throw err;
    }
    const shaped = batchShape(desired);
    const byId = (entity: EntityName) => new Map([...shaped.table(entity)].map((r) => [r.sourcedId!, r]));
    const records = { users: byId('users'), classes: byId('classes'), enrollments: byId('enrollments') };
    const missingOrgs = new Map<string, Record<'users' | 'classes' | 'enrollments', number>>();
    const missingTerms = new Map<string, number>();
    const orgMissing = (org: string | undefined, entity: 'users' | 'classes' | 'enrollments') => {
      if (!org || orgs.has(org)) return;
      const counts = missingOrgs.get(org) ?? { users: 0, classes: 0, enrollments: 0 };
      counts[entity]++;
      missingOrgs.set(org, counts);
    };
    for (const c of plan.changes) {
      if (c.action === 'delete' || !(c.entity in records)) continue;
      const entity = c.entity as 'users' | 'classes' | 'enrollments';
      const r = records[entity].get(c.key);
      if (!r) continue;
      if (entity === 'users') orgMissing(splitList(r.orgSourcedIds ?? '')[0], entity);
      else orgMissing(r.schoolSourcedId, entity);
      if (entity === 'classes')
        for (const t of splitList(r.termSourcedIds ?? ''))
          if (!terms.has(t)) missingTerms.set(t, (missingTerms.get(t) ?? 0) + 1);
    }
    const plural = (n: number, one: string, many: string) =>
      `${n.toLocaleString('en-US')} ${n === 1 ? one : many}`;
    const warnings: PlanWarning[] = [];
    for (const [org, n] of [...missingOrgs].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
      const parts = [
        n.users ? plural(n.users, 'user', 'users') : '',
        n.classes ? plural(n.classes, 'class', 'classes') : '',
        n.enrollments ? plural(n.enrollments, 'enrollment', 'enrollments') : '',
      ].filter(Boolean);
      warnings.push({
        code: 'PORTAL_REFUSES',
        message: `the portal has no org ${org}: ${parts.join(', ')} in this plan go to it and would be refused. Deliver orgs first (orgs.csv to the portal's landing zone), or set them up in the portal.`,
      });
    }
    for (const [term, n] of [...missingTerms].sort((a, b) => (a[0] < b[0] ? -1 : 1)))
      warnings.push({
        code: 'PORTAL_REFUSES',
        message: `the portal has no term ${term}: ${plural(n, 'class', 'classes')} in this plan ${n === 1 ? 'is' : 'are'} held in it and would be refused. Deliver academic sessions first, or set them up in the portal.`,
      });
    return warnings;
  }

  /** What the portal holds now, read from its export. */
  async exportCurrent(): Promise<Roster> {
    const { users, demographics } = await this.exportFiles();
    return rosterFromExport(users, demographics);
  }

  /** The portal's export: its two files, as text. */
  async exportFiles(): Promise<{ users: string; demographics: string }> {
    const users = await this.call('GET', '/api/export/users.csv');
    const demographics = await this.call('GET', '/api/export/demographics.csv');
    if (!users.startsWith(BATCH_USERS_COLUMNS.join(','))) {
      throw new TargetError(
        'BATCH_BAD_RESPONSE',
        `the export at ${this.config.url}/api/export/users.csv is not a batch users file`,
        'The URL may point at something other than the batch API.',
      );
    }
    return { users, demographics };
  }

  readState(): Promise<TargetState | undefined> {
    return this.local.readState();
  }

  readCurrent(): Promise<Roster> {
    return this.exportCurrent();
  }

  readSnapshot(state: TargetState): Promise<Roster> {
    return this.local.readCurrent(state);
  }

  lock(operation: string, timeoutMs: number, signal?: AbortSignal): Promise<LockInfo> {
    return this.local.lock(operation, timeoutMs, signal);
  }

  unlock(lock: LockInfo): Promise<void> {
    return this.local.unlock(lock);
  }

  readLock(): Promise<LockStatus | undefined> {
    return this.local.readLock();
  }

  forceUnlock(): Promise<LockStatus | undefined> {
    return this.local.forceUnlock();
  }

  async deliver(
    delivery: Roster,
    snapshot: Roster,
    state: TargetState,
    expectedSerial: number,
    signal?: AbortSignal,
  ): Promise<DeliveryReceipt> {
    const before = (await this.readState())?.serial ?? 0;
    if (before !== expectedSerial)
      throw new StalePlanError(
        `target "${this.name}" changed since this plan was made (serial ${before}, expected ${expectedSerial}); plan again`,
      );
    const files = batchFiles(delivery, snapshot);
    const { FormData } = await import('undici');
    const form = new FormData();
    form.append('users', new Blob([files.users], { type: 'text/csv' }), 'users.csv');
    if (files.demographics)
      form.append('demographics', new Blob([files.demographics], { type: 'text/csv' }), 'demographics.csv');
    // The last moment to stop with nothing delivered.
    signal?.throwIfAborted();
    const job = this.json<{ id: string }>(await this.call('POST', '/api/batch', form), 'the upload');
    const deadline = Date.now() + this.config.reportWaitSeconds * 1000;
    let status: { status: string; problems?: string[] } = { status: 'queued' };
    for (
      let wait = 200;
      status.status === 'queued' || status.status === 'running';
      wait = Math.min(wait * 2, 5000)
    ) {
      if (Date.now() > deadline) {
        throw new TargetError(
          'BATCH_TIMEOUT',
          `batch job ${job.id} did not finish within ${this.config.reportWaitSeconds} s (${this.config.url}/api/batch/${job.id})`,
          'The state was not advanced: the next plan reads the portal again and shows what is still to do.',
        );
      }
      if (signal?.aborted) {
        // Asked to stop: the job runs on at the portal; record it now (the next plan reads the
        // portal anyway, so whatever it refuses shows up there).
        await this.local.deliver(delivery, snapshot, state, expectedSerial);
        return {
          state,
          warnings: [
            `interrupted while batch job ${job.id} was running: it is recorded as delivered; the next plan reads the portal and shows anything it refused`,
          ],
        };
      }
      await new Promise((r) => setTimeout(r, wait));
      status = this.json(await this.call('GET', `/api/batch/${job.id}`), 'the job status');
    }
    if (status.status !== 'succeeded') {
      throw new TargetError(
        'DELIVERY_REJECTED',
        `the portal rejected batch job ${job.id}: ${(status.problems ?? []).join('; ') || status.status}`,
        'Nothing changed at the portal and the state was not advanced.',
      );
    }
    const report = this.json<{
      rejections?: { file: string; line?: number; code: string; message: string; recordId?: string }[];
    }>(await this.call('GET', `/api/batch/${job.id}/report`), 'the report');
    // Rows name people: a refused row is folded in as a rejected user, retried by the next plan.
    const rejections = (report.rejections ?? []).map((r) => ({ ...r, file: 'users.csv' }));
    const recorded = foldRejections(state, rejections);
    await this.local.deliver(delivery, snapshot, recorded, expectedSerial);
    const warnings = recorded.rejected.length
      ? [
          `the portal refused ${recorded.rejected.length} row(s); \`roster status\` lists them and the next plan retries them`,
        ]
      : [];
    return { state: recorded, warnings };
  }
}
