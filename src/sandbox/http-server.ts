/**
 * The portal's HTTP front door: the status page (/), the batch API (/api/...; bearer tokens from
 * the sandbox config), on-demand syncs, OAuth 2 client credentials (/oauth/token) and the
 * OneRoster REST read API. A wrong or missing token is a 401 and nothing else.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import {
  createWriteStream,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import busboy from 'busboy';
import type { RosterVersion } from '../model/entities.js';
import { batchErrorsCsv, exportBatch, processBatch } from './batch.js';
import type { SandboxConfig } from './config.js';
import { stampModified } from './process.js';
import { REST_BASES, RestView, restError, UNSUPPORTED_BASES } from './rest.js';
import { portInUse } from './sftp-server.js';
import { renderStatusPage } from './status-page.js';
import { newId, type PortalStore, type SyncRecord } from './store.js';
import { reportCsv, reportOf, syncSummary } from './sync.js';

export interface HttpFrontDoor {
  readonly url: string;
  close(): Promise<void>;
}

export interface HttpOptions {
  readonly store: PortalStore;
  readonly config: SandboxConfig;
  /** Runs a landing-zone sync now (serialized with scheduled ones). */
  readonly runSync: () => Promise<SyncRecord[]>;
  /** Runs `task` in the sync queue (one change to the store at a time). */
  readonly enqueue: <T>(task: () => Promise<T>) => Promise<T>;
  readonly notify: (record: SyncRecord) => Promise<void>;
  readonly sftpAddress: () => string;
  /** Called with a log line (counts and ids, never personal data). */
  readonly log?: (line: string) => void;
}

export interface BatchJob {
  readonly id: string;
  readonly status: 'queued' | 'running' | 'succeeded' | 'failed';
  readonly createdAt: string;
  readonly finishedAt?: string;
  readonly counts?: SyncRecord['counts'];
  readonly errors?: number;
  readonly problems?: readonly string[];
}

const same = (a: string, b: string) =>
  a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));

function send(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = typeof body === 'string' ? body : `${JSON.stringify(body, null, 2)}\n`;
  res.writeHead(status, {
    'Content-Type': typeof body === 'string' ? 'text/plain; charset=utf-8' : 'application/json',
    ...headers,
  });
  res.end(text);
}

function unauthorized(res: ServerResponse): void {
  res.writeHead(401, { 'WWW-Authenticate': 'Bearer' });
  res.end();
}

function readBody(req: IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let size = 0;
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        reject(new Error('too large'));
        req.destroy();
      } else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

export function startHttp(options: HttpOptions): Promise<HttpFrontDoor> {
  const { store, config } = options;
  const log = options.log ?? (() => {});
  const oauthTokens = new Map<string, number>();
  let restWindow = { second: 0, served: 0 };
  const views = new Map<RosterVersion, { key: string; view: RestView }>();
  const batchDir = join(store.dataDir, 'batch');

  const bearer = (req: IncomingMessage) => /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
  const apiAuthorized = (req: IncomingMessage) => {
    const token = bearer(req);
    return token !== undefined && config.http.tokens.some((t) => same(t, token));
  };
  const restAuthorized = (req: IncomingMessage) => {
    const token = bearer(req);
    const expires = token ? oauthTokens.get(token) : undefined;
    return expires !== undefined && expires > Date.now();
  };
  const view = async (version: RosterVersion, origin: string): Promise<RestView> => {
    const key = `${storeKey()}|${origin}`;
    const cached = views.get(version);
    if (cached?.key === key) return cached.view;
    const roster = await store.current();
    const at = store.history().find((s) => s.status === 'succeeded')?.finishedAt ?? new Date(0).toISOString();
    const v = new RestView(roster, version, origin, at);
    views.set(version, { key, view: v });
    return v;
  };
  /**
   * Which state the store is in: its roster file's size and time, and the syncs (their number,
   * the latest, and when its record last changed). Read per request, so cheap: one stat and one
   * listing, never the store itself (a city's is hundreds of MB).
   */
  const storeKey = () => {
    const current = statSync(store.currentFile, { throwIfNoEntry: false });
    const syncs = join(store.dataDir, 'syncs');
    const ids = readdirSync(syncs);
    const last = ids.sort().at(-1);
    const lastChanged = last
      ? (statSync(join(syncs, last, 'sync.json'), { throwIfNoEntry: false })?.mtimeMs ?? 0)
      : 0;
    return `${current ? `${current.size}:${current.mtimeMs}` : 'empty'}|${ids.length}|${last ?? ''}:${lastChanged}`;
  };
  /** Where hrefs and links point: the configured public URL, else the request's own origin. */
  const originOf = (req: IncomingMessage): string => {
    if (config.http.publicUrl) return config.http.publicUrl.replace(/\/+$/, '');
    const host = req.headers.host ?? '';
    return /^[A-Za-z0-9.-]+(:\d+)?$|^\[[0-9A-Fa-f:.]+\](:\d+)?$/.test(host) ? `http://${host}` : localUrl;
  };
  let localUrl = '';
  // The status page is rendered once per store state (a sync or batch job changes it), not per
  // request: reading a city's store takes seconds.
  let page: { key: string; html: string } | undefined;
  const statusPage = async (origin: string): Promise<string> => {
    const key = `${storeKey()}|${origin}`;
    if (page?.key !== key)
      page = {
        key,
        html: renderStatusPage(await store.current(), store.history(), {
          sftp: options.sftpAddress(),
          http: origin,
        }),
      };
    return page.html;
  };
  const job = (id: string): BatchJob | undefined => {
    const file = join(batchDir, id, 'job.json');
    return /^[\w-]+$/.test(id) && existsSync(file)
      ? (JSON.parse(readFileSync(file, 'utf8')) as BatchJob)
      : undefined;
  };
  const saveJob = (j: BatchJob) =>
    writeFileSync(join(batchDir, j.id, 'job.json'), `${JSON.stringify(j, null, 2)}\n`);

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', `http://${req.headers.host ?? 'localhost'}`);
    const path = url.pathname;
    const method = req.method ?? 'GET';

    if (path === '/' && method === 'GET') {
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-cache' });
      res.end(await statusPage(originOf(req)));
      return;
    }
    const syncReport = /^\/syncs\/([\w-]+)\/report\.(json|csv)$/.exec(path);
    if (syncReport && method === 'GET') {
      const s = store.sync(syncReport[1]!);
      if (!s) return send(res, 404, { error: `there is no sync ${syncReport[1]}` });
      return syncReport[2] === 'json'
        ? send(res, 200, reportOf(s))
        : send(res, 200, reportCsv(s), {
            'Content-Type': 'text/csv; charset=utf-8',
            'Content-Disposition': `attachment; filename="${s.id}-report.csv"`,
          });
    }

    if (path === '/oauth/token' && method === 'POST') {
      const body = new URLSearchParams(await readBody(req, 64 * 1024));
      let id = body.get('client_id') ?? '';
      let secret = body.get('client_secret') ?? '';
      const basic = /^Basic (.+)$/.exec(req.headers.authorization ?? '')?.[1];
      if (basic) [id = '', secret = ''] = Buffer.from(basic, 'base64').toString('utf8').split(':');
      if (body.get('grant_type') !== 'client_credentials')
        return send(res, 400, { error: 'unsupported_grant_type' });
      const client = config.oauthClients.find((c) => same(c.clientId, id) && same(c.clientSecret, secret));
      if (!client) return send(res, 401, { error: 'invalid_client' });
      const token = randomBytes(24).toString('base64url');
      oauthTokens.set(token, Date.now() + config.limits.tokenSeconds * 1000);
      return send(res, 200, {
        access_token: token,
        token_type: 'bearer',
        expires_in: config.limits.tokenSeconds,
        scope: body.get('scope') ?? 'https://purl.imsglobal.org/spec/or/v1p2/scope/roster.readonly',
      });
    }

    for (const [version, base] of Object.entries(REST_BASES) as [RosterVersion, string][]) {
      if (path === base || path.startsWith(`${base}/`)) {
        const answer = (r: ReturnType<typeof restError>) => send(res, r.status, r.body, r.headers);
        if (!restAuthorized(req))
          return answer(
            restError(version, 401, 'unauthorisedrequest', 'send a bearer token from /oauth/token', {
              headers: { 'WWW-Authenticate': 'Bearer' },
            }),
          );
        // A rate limit, as production services have: the next second's window, then 429.
        const limit = config.limits.restRequestsPerSecond;
        if (limit !== undefined) {
          const second = Math.floor(Date.now() / 1000);
          if (second !== restWindow.second) restWindow = { second, served: 0 };
          if (++restWindow.served > limit)
            return answer(
              restError(version, 429, 'server_busy', `at most ${limit} requests per second`, {
                headers: { 'Retry-After': '1' },
              }),
            );
        }
        if (method !== 'GET')
          return answer(
            restError(version, 405, undefined, 'the sandbox serves the read API only (GET)', {
              codeMajor: 'unsupported',
              headers: { Allow: 'GET' },
            }),
          );
        return answer((await view(version, originOf(req))).get(path.slice(base.length), url.searchParams));
      }
    }
    if (UNSUPPORTED_BASES.some((b) => path === b || path.startsWith(`${b}/`)))
      return send(
        res,
        501,
        restError('1.2', 501, undefined, 'the sandbox serves the rostering service only', {
          codeMajor: 'unsupported',
        }).body,
      );

    if (path.startsWith('/api/')) {
      if (!apiAuthorized(req)) return unauthorized(res);
      if (path === '/api/sync' && method === 'POST') {
        const syncs = await options.runSync();
        return send(res, 200, { syncs: syncs.map(reportOf) });
      }
      if (path === '/api/syncs' && method === 'GET')
        return send(res, 200, { syncs: store.history().map(reportOf) });
      const sync = /^\/api\/syncs\/([\w-]+)$/.exec(path);
      if (sync && method === 'GET') {
        const s = store.sync(sync[1]!);
        return s ? send(res, 200, reportOf(s)) : send(res, 404, { error: 'no such sync' });
      }
      // What rows may refer to: the orgs and sessions set up in the portal (the batch files
      // cannot create them). The batch target reads them to foresee refusals in its plans.
      if ((path === '/api/orgs' || path === '/api/terms') && method === 'GET') {
        const roster = await store.current();
        if (path === '/api/orgs')
          return send(res, 200, {
            orgs: [...(roster?.table('orgs') ?? [])].map((o) => ({
              sourcedId: o.sourcedId,
              name: o.name,
              type: o.type,
            })),
          });
        return send(res, 200, {
          terms: [...(roster?.table('academicSessions') ?? [])].map((t) => ({
            sourcedId: t.sourcedId,
            title: t.title,
            type: t.type,
          })),
        });
      }
      if (path === '/api/export/users.csv' && method === 'GET')
        return send(res, 200, exportBatch(await store.current()).users, {
          'Content-Type': 'text/csv; charset=utf-8',
        });
      if (path === '/api/export/demographics.csv' && method === 'GET')
        return send(res, 200, exportBatch(await store.current()).demographics, {
          'Content-Type': 'text/csv; charset=utf-8',
        });
      if (path === '/api/batch' && method === 'POST') return upload(req, res);
      const m = /^\/api\/batch\/([\w-]+)(\/report|\/errors\.csv)?$/.exec(path);
      if (m && method === 'GET') {
        const j = job(m[1]!);
        if (!j) return send(res, 404, { error: 'no such job' });
        if (!m[2]) return send(res, 200, j);
        const file = join(batchDir, j.id, m[2] === '/report' ? 'report.json' : 'errors.csv');
        if (!existsSync(file))
          return send(res, 409, { error: `job is ${j.status}; no ${m[2].slice(1)} yet` });
        return send(res, 200, readFileSync(file, 'utf8'), {
          'Content-Type': m[2] === '/report' ? 'application/json' : 'text/csv; charset=utf-8',
        });
      }
      return send(res, 404, { error: 'not found' });
    }
    if (path.startsWith('/ims/'))
      return send(res, 404, restError('1.2', 404, 'unknownobject', `there is no endpoint ${path}`).body);
    send(res, 404, { error: `there is no page ${path}` });
  };

  /**
   * POST /api/batch: multipart form with a `users` file and an optional `demographics` file. The
   * files stream to disk (never held in memory) and are refused past limits.maxBatchBytes; the
   * job runs from the files, so a job queued when the portal stops runs after it restarts.
   */
  const upload = (req: IncomingMessage, res: ServerResponse) => {
    const id = newId();
    const dir = join(batchDir, id);
    const max = config.limits.maxBatchBytes;
    let parser: busboy.Busboy;
    try {
      parser = busboy({ headers: req.headers, limits: { fileSize: max, files: 2 } });
    } catch {
      return send(res, 400, {
        error: 'send multipart/form-data with a users file (and a demographics file)',
      });
    }
    mkdirSync(dir, { recursive: true });
    const written: Promise<void>[] = [];
    const received = new Set<string>();
    let tooLarge = false;
    parser.on('file', (name, stream) => {
      if (name !== 'users' && name !== 'demographics') return stream.resume();
      received.add(name);
      const out = createWriteStream(join(dir, `${name}.csv`));
      written.push(
        new Promise((resolve, reject) => {
          out.on('finish', resolve);
          out.on('error', reject);
        }),
      );
      stream.on('limit', () => {
        tooLarge = true;
      });
      stream.pipe(out);
    });
    parser.on('error', () => {
      rmSync(dir, { recursive: true, force: true });
      if (!res.headersSent) send(res, 400, { error: 'the multipart form cannot be read' });
    });
    parser.on('close', () => {
      void Promise.all(written).then(
        () => {
          if (tooLarge || !received.has('users')) {
            rmSync(dir, { recursive: true, force: true });
            if (tooLarge) {
              log(`batch: refused an upload over the limit of ${max} bytes`);
              return send(res, 413, {
                error: `a file exceeds the batch API's limit of ${max} bytes; send larger sets as a OneRoster package to the SFTP landing zone`,
              });
            }
            return send(res, 400, { error: 'the form has no "users" file' });
          }
          const queued: BatchJob = { id, status: 'queued', createdAt: new Date().toISOString() };
          saveJob(queued);
          log(`batch job ${id}: queued (${[...received].sort().join(', ')})`);
          send(res, 202, {
            ...queued,
            links: {
              status: `/api/batch/${id}`,
              report: `/api/batch/${id}/report`,
              errors: `/api/batch/${id}/errors.csv`,
            },
          });
          void options.enqueue(() => runJob(queued));
        },
        () => {
          rmSync(dir, { recursive: true, force: true });
          send(res, 500, { error: 'the upload could not be stored' });
        },
      );
    });
    req.pipe(parser);
  };

  const runJob = async (queued: BatchJob) => {
    saveJob({ ...queued, status: 'running' });
    const release = store.lock();
    try {
      const users = readFileSync(join(batchDir, queued.id, 'users.csv'), 'utf8');
      const demographicsFile = join(batchDir, queued.id, 'demographics.csv');
      const demographics = existsSync(demographicsFile) ? readFileSync(demographicsFile, 'utf8') : undefined;
      const current = await store.current();
      const result = processBatch(current, users, demographics);
      const finishedAt = new Date().toISOString();
      if (result.outcome === 'applied') await store.commit(stampModified(current, result.next!, finishedAt));
      const record: SyncRecord = {
        id: queued.id,
        source: 'batch',
        user: 'batch api',
        status: result.outcome === 'applied' ? 'succeeded' : 'rejected',
        startedAt: queued.createdAt,
        finishedAt,
        files: demographics === undefined ? ['users.csv'] : ['users.csv', 'demographics.csv'],
        counts: result.counts,
        rejections: result.errors.map((e) => ({
          file: e.file,
          line: e.line,
          code: 'BATCH_ROW',
          message: e.message,
          ...(e.row.user_sis_id ? { recordId: e.row.user_sis_id } : {}),
        })),
        ...(result.problems.length ? { message: result.problems.join('; ') } : {}),
      };
      store.saveSync(record);
      writeFileSync(
        join(batchDir, queued.id, 'report.json'),
        `${JSON.stringify(reportOf(record), null, 2)}\n`,
      );
      writeFileSync(join(batchDir, queued.id, 'errors.csv'), batchErrorsCsv(result.errors));
      saveJob({
        ...queued,
        status: result.outcome === 'applied' ? 'succeeded' : 'failed',
        finishedAt,
        counts: result.counts,
        errors: result.errors.length,
        problems: result.problems,
      });
      log(
        `batch job ${queued.id}: ${result.outcome === 'applied' ? 'succeeded' : 'failed'}; ${syncSummary(record)}`,
      );
      await options.notify(record);
    } catch (err) {
      saveJob({
        ...queued,
        status: 'failed',
        finishedAt: new Date().toISOString(),
        problems: [(err as Error).message],
      });
      log(`batch job ${queued.id}: failed (${(err as Error).message})`);
    } finally {
      release();
    }
  };

  // Jobs the portal took but had not finished when it stopped: queued ones run now; one that was
  // running is failed (it changed nothing: the store is replaced in one rename at its end).
  for (const entry of existsSync(batchDir) ? readdirSync(batchDir).sort() : []) {
    const j = job(entry);
    if (j?.status === 'queued') {
      log(`batch job ${j.id}: queued before the restart, running it now`);
      void options.enqueue(() => runJob(j));
    } else if (j?.status === 'running')
      saveJob({
        ...j,
        status: 'failed',
        finishedAt: new Date().toISOString(),
        problems: ['the portal stopped while this job ran; send the files again'],
      });
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: Error) => {
      // The portal's log has the details; the client never sees the server's paths.
      log(`http: ${req.method} ${req.url?.split('?')[0]} failed: ${err.message}`);
      if (!res.headersSent) send(res, 500, { error: 'the portal failed to answer; its log says why' });
      else res.end();
    });
  });
  return new Promise((resolve, reject) => {
    server.on('error', (err: NodeJS.ErrnoException) =>
      reject(err.code === 'EADDRINUSE' ? portInUse('HTTP', config.host, config.http.port, 'http.port') : err),
    );
    server.listen(config.http.port, config.host, () => {
      const { port } = server.address() as AddressInfo;
      const host = config.host.includes(':') ? `[${config.host}]` : config.host;
      localUrl = `http://${host}:${port}`;
      resolve({
        url: localUrl,
        close: () =>
          new Promise((r) => {
            server.closeAllConnections();
            server.close(() => r());
          }),
      });
    });
  });
}
