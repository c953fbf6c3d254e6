/**
 * Reads a whole roster from a OneRoster 1.1 or 1.2 REST rostering service (the base URL says
 * which: `.../ims/oneroster/v1p1` or `.../ims/oneroster/rostering/v1p2`), for `roster import
 * --from oneroster-api`. OAuth 2 client credentials (renewed when the service says the token
 * expired), every collection paged with limit/offset (following `Link: rel="next"`, else
 * `X-Total-Count`), 429 and 503 retried after `Retry-After`. Records come back in the CSV's shape
 * (GUIDRefs to `...SourcedId`, arrays to lists, `metadata` to `metadata.*` columns).
 */

import { request } from 'undici';
import { Diagnostics } from '../diagnostic.js';
import { RosterError } from '../errors.js';
import { checkRecordFields } from '../formats/field-rules.js';
import { derivedRoleId } from '../model/derived-ids.js';
import { ENTITIES, type EntityName, type RosterVersion } from '../model/entities.js';
import { type Roster, RosterBuilder } from '../model/roster.js';
import type { ProgressListener } from '../progress.js';

export interface OneRosterApiOptions {
  /** The service's base URL (up to and including v1p1 or v1p2). */
  readonly url: string;
  readonly clientId: string;
  readonly clientSecret: string;
  /** The OAuth 2 token endpoint (default: `/oauth/token` on the service's host). */
  readonly tokenUrl?: string;
  /** Records asked for per page (default DEFAULT_PAGE_SIZE; a service may give fewer). */
  readonly pageSize?: number;
  readonly progress?: ProgressListener;
  readonly signal?: AbortSignal;
}

/** The service could not be read: `status` is its HTTP status (0 when it did not answer). */
export class OneRosterApiError extends RosterError {
  constructor(code: string, message: string, hint: string) {
    super(code, message, { hint });
    this.name = 'OneRosterApiError';
  }
}

/**
 * Records asked for per page. Large, because a request costs a service far more than a record
 * (the sandbox at 100,000 students: 28 s at 10,000 a page, 105 s at 1,000); a service that gives
 * fewer is read on until its total or an empty page.
 */
export const DEFAULT_PAGE_SIZE = 10_000;

/** Collections read, in this order, and the entity each fills. */
const COLLECTIONS: readonly [string, EntityName][] = [
  ['orgs', 'orgs'],
  ['academicSessions', 'academicSessions'],
  ['courses', 'courses'],
  ['classes', 'classes'],
  ['users', 'users'],
  ['enrollments', 'enrollments'],
  ['demographics', 'demographics'],
];

/** CSV columns whose JSON name is not the column's own (1.2 users). */
const JSON_NAME: Record<string, string> = {
  preferredGivenName: 'preferredFirstName',
  preferredFamilyName: 'preferredLastName',
};

type Json = Record<string, unknown>;

/** What an import from an API took: pages read, waits for the rate limit, tokens renewed (expired or refused). */
export interface ApiReadStats {
  pages: number;
  rateLimited: number;
  tokensRenewed: number;
}

/**
 * Reads every collection of the service into a Roster. Each record is checked with the field
 * rules as it arrives (a value outside an enumeration, a date that is not one); diagnostics name the
 * collection and the record (`diagnostics`).
 */
export async function readOneRosterApi(
  options: OneRosterApiOptions,
): Promise<{ roster: Roster; stats: ApiReadStats; diagnostics: Diagnostics }> {
  const diagnostics = new Diagnostics();
  const stats: ApiReadStats = { pages: 0, rateLimited: 0, tokensRenewed: 0 };
  const base = options.url.replace(/\/+$/, '');
  const version: RosterVersion = /v1p2/.test(base) ? '1.2' : '1.1';
  const tokens = new TokenSource(options, base, () => stats.tokensRenewed++);
  const builder = new RosterBuilder(version);
  const pageSize = options.pageSize ?? DEFAULT_PAGE_SIZE;
  for (const [collection, entity] of COLLECTIONS) {
    let next: string | undefined = `${base}/${collection}?limit=${pageSize}&offset=0`;
    let read = 0;
    while (next) {
      options.signal?.throwIfAborted();
      const page = await get(next, tokens, stats, options.signal);
      stats.pages++;
      const items = (page.body as Json)[collection] ?? (page.body as Json)[entity];
      if (!Array.isArray(items))
        throw new OneRosterApiError(
          'ONEROSTER_API_RESPONSE',
          `${next} did not answer a "${collection}" list`,
          'Check that the URL is the base of a OneRoster rostering service (…/ims/oneroster/v1p1 or …/rostering/v1p2).',
        );
      for (const item of items as Json[]) addRecord(builder, entity, item, version, collection, diagnostics);
      read += items.length;
      options.progress?.({
        stage: 'read',
        detail: `${collection}: ${read.toLocaleString('en-US')} record(s)`,
      });
      next = nextPage(page, next, read, items.length);
    }
  }
  return { roster: builder.build(), stats, diagnostics };
}

/**
 * The next page: the Link header's; else by offset until X-Total-Count is reached, or, without
 * it, until an empty page (a service may give fewer records than asked for without saying so).
 */
function nextPage(page: Page, url: string, read: number, got: number): string | undefined {
  const link = /<([^>]+)>\s*;\s*rel="?next"?/.exec(page.link ?? '')?.[1];
  if (link) return new URL(link, url).href;
  if (got === 0) return undefined;
  if (page.total !== undefined && read >= page.total) return undefined;
  const next = new URL(url);
  next.searchParams.set('offset', String(Number(next.searchParams.get('offset') ?? 0) + got));
  return next.href;
}

function addRecord(
  builder: RosterBuilder,
  entity: EntityName,
  item: Json,
  version: RosterVersion,
  collection: string,
  diagnostics: Diagnostics,
): void {
  const record: Record<string, string> = {};
  for (const column of ENTITIES[entity].columns[version] ?? []) {
    if (column === 'status' || column === 'dateLastModified') continue; // a bulk roster leaves them empty
    const value = fieldOf(item, column);
    // JSON always says `primary: "false"`; a CSV leaves a student's primary empty (false).
    if (value !== '' && !(entity === 'enrollments' && column === 'primary' && value === 'false'))
      record[column] = value;
  }
  const metadata = item.metadata;
  if (metadata && typeof metadata === 'object')
    for (const [k, v] of Object.entries(metadata as Json)) record[`metadata.${k}`] = text(v);
  checkRecordFields(
    record,
    { entity, version, mode: 'bulk', file: collection, position: () => ({}) },
    diagnostics,
  );
  builder.add(entity, record);
  // 1.2: a user's roles are rows of their own.
  if (entity === 'users' && version === '1.2' && Array.isArray(item.roles))
    for (const r of item.roles as Json[]) {
      const org = refId(r.org);
      const role = text(r.role);
      builder.add('roles', {
        sourcedId: derivedRoleId(text(item.sourcedId), org, role),
        userSourcedId: text(item.sourcedId),
        roleType: text(r.roleType),
        role,
        orgSourcedId: org,
        ...(r.beginDate ? { beginDate: text(r.beginDate) } : {}),
        ...(r.endDate ? { endDate: text(r.endDate) } : {}),
        ...(r.userProfile ? { userProfileSourcedId: refId(r.userProfile) } : {}),
      });
    }
}

/** A CSV column's value from the JSON binding's record. */
function fieldOf(item: Json, column: string): string {
  if (column === 'userIds') {
    const ids = item.userIds;
    return Array.isArray(ids)
      ? (ids as Json[]).map((x) => `{${text(x.type)}:${text(x.identifier)}}`).join(',')
      : text(ids);
  }
  if (column.endsWith('SourcedIds')) {
    // orgSourcedIds <- orgs, termSourcedIds <- terms, agentSourcedIds <- agents, ...
    const refs = item[`${column.slice(0, -'SourcedIds'.length)}s`];
    return Array.isArray(refs) ? refs.map(refId).join(',') : '';
  }
  if (column.endsWith('SourcedId') && column !== 'sourcedId') {
    const ref = item[column.slice(0, -'SourcedId'.length)];
    return ref === undefined || ref === null ? text(item[column]) : refId(ref);
  }
  const value = item[JSON_NAME[column] ?? column];
  return Array.isArray(value) ? value.map(text).join(',') : text(value);
}

function refId(ref: unknown): string {
  return ref && typeof ref === 'object' ? text((ref as Json).sourcedId) : text(ref);
}

function text(v: unknown): string {
  return v === undefined || v === null ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v);
}

interface Page {
  readonly body: unknown;
  readonly link: string | undefined;
  readonly total: number | undefined;
}

/** GET with the token: renewed once on 401, 429/503 retried after Retry-After (at most 10 times). */
async function get(
  url: string,
  tokens: TokenSource,
  stats: ApiReadStats,
  signal: AbortSignal | undefined,
): Promise<Page> {
  let renewed = false;
  for (let attempt = 1; ; attempt++) {
    const res = await request(url, {
      headers: { authorization: `Bearer ${await tokens.token()}`, accept: 'application/json' },
      headersTimeout: 60_000,
      bodyTimeout: 120_000,
      ...(signal ? { signal } : {}),
    }).catch((err: Error) => {
      throw new OneRosterApiError(
        'ONEROSTER_API_UNREACHABLE',
        `${url} did not answer: ${err.message}`,
        'Check the URL and that this machine can reach the service.',
      );
    });
    const body = await res.body.text();
    if (res.statusCode === 401 && !renewed) {
      renewed = true; // the service refused the token (expired early, revoked): a new one, then the same page
      tokens.expire();
      continue;
    }
    if ((res.statusCode === 429 || res.statusCode === 503) && attempt <= 10) {
      stats.rateLimited++;
      await wait(retryAfter(res.headers['retry-after']) ?? Math.min(30, 2 ** attempt), signal);
      continue;
    }
    if (res.statusCode !== 200)
      throw new OneRosterApiError(
        'ONEROSTER_API_STATUS',
        `${url} answered HTTP ${res.statusCode}: ${body.slice(0, 200)}`,
        res.statusCode === 401 || res.statusCode === 403
          ? 'The client may not read rosters: check its id, secret and scope.'
          : 'Check the URL; if the service is busy, import again later.',
      );
    const header = (name: string) => {
      const v = res.headers[name];
      return Array.isArray(v) ? v.join(', ') : v;
    };
    const total = Number(header('x-total-count'));
    try {
      return {
        body: JSON.parse(body),
        link: header('link'),
        total: Number.isFinite(total) && header('x-total-count') ? total : undefined,
      };
    } catch {
      throw new OneRosterApiError(
        'ONEROSTER_API_RESPONSE',
        `${url} did not answer JSON`,
        'Check that the URL is a OneRoster REST service.',
      );
    }
  }
}

/** Seconds to wait from a Retry-After header (seconds or an HTTP date). */
function retryAfter(value: string | string[] | undefined): number | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  if (!v) return undefined;
  const seconds = Number(v);
  if (Number.isFinite(seconds)) return Math.max(0, Math.min(seconds, 300));
  const at = Date.parse(v);
  return Number.isFinite(at) ? Math.max(0, Math.min((at - Date.now()) / 1000, 300)) : undefined;
}

function wait(seconds: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, seconds * 1000);
    signal?.addEventListener('abort', () => {
      clearTimeout(timer);
      reject(signal.reason);
    });
  });
}

/** OAuth 2 client credentials: one token at a time, renewed before it expires or when refused. */
class TokenSource {
  private current: { token: string; until: number } | undefined;
  private readonly url: string;
  private fetched = 0;

  constructor(
    private readonly options: OneRosterApiOptions,
    base: string,
    /** Told each time a token replaces an expired or refused one. */
    private readonly onRenew: () => void,
  ) {
    this.url = options.tokenUrl ?? `${new URL(base).origin}/oauth/token`;
  }

  expire(): void {
    this.current = undefined;
  }

  async token(): Promise<string> {
    if (this.current && this.current.until > Date.now()) return this.current.token;
    if (this.fetched++ > 0) this.onRenew();
    const basic = Buffer.from(`${this.options.clientId}:${this.options.clientSecret}`).toString('base64');
    const res = await request(this.url, {
      method: 'POST',
      headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'client_credentials' }).toString(),
      headersTimeout: 30_000,
    }).catch((err: Error) => {
      throw new OneRosterApiError(
        'ONEROSTER_API_UNREACHABLE',
        `${this.url} did not answer: ${err.message}`,
        'Check the token URL (--token-url).',
      );
    });
    const body = await res.body.text();
    if (res.statusCode !== 200)
      throw new OneRosterApiError(
        'ONEROSTER_API_AUTH',
        `the token endpoint ${this.url} refused the client (HTTP ${res.statusCode})`,
        'Check the client id and secret (their environment variables), and --token-url.',
      );
    const data = JSON.parse(body) as { access_token?: string; expires_in?: number };
    if (!data.access_token)
      throw new OneRosterApiError(
        'ONEROSTER_API_AUTH',
        `${this.url} gave no access_token`,
        'Check --token-url.',
      );
    // Renewed a little before the service would refuse it.
    const seconds = Number(data.expires_in ?? 3600);
    this.current = {
      token: data.access_token,
      until: Date.now() + (seconds > 120 ? seconds - 60 : seconds) * 1000,
    };
    return data.access_token;
  }
}
