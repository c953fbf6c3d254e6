/**
 * The OneRoster REST reader against a small server that behaves as production services do at
 * their edges: paging by X-Total-Count without Link headers, a token refused before its stated
 * expiry (401, renewed, the page asked again), a 503 with an HTTP-date Retry-After.
 */
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it, onTestFinished } from 'vitest';
import { readOneRosterApi } from '../../src/source/oneroster-api.js';

describe('readOneRosterApi', () => {
  it('pages by X-Total-Count, renews a refused token, waits out a 503', async () => {
    const orgs = Array.from({ length: 7 }, (_, i) => ({
      sourcedId: `sch-${i}`,
      status: 'active',
      name: `School ${i}`,
      type: i === 0 ? 'district' : 'school',
      identifier: '',
      parent: i === 0 ? null : { href: '/orgs/sch-0', sourcedId: 'sch-0', type: 'org' },
      metadata: { nces: `0${i}` },
    }));
    let issued = 0;
    let busy = false;
    const seen: string[] = [];
    const server = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      const json = (status: number, body: unknown, headers: Record<string, string> = {}) => {
        res.writeHead(status, { 'content-type': 'application/json', ...headers });
        res.end(JSON.stringify(body));
      };
      if (url.pathname === '/oauth/token')
        return json(200, { access_token: `t${++issued}`, expires_in: 3600 });
      const token = req.headers.authorization?.replace('Bearer ', '');
      seen.push(`${token} ${url.pathname}?${url.searchParams}`);
      const offset = Number(url.searchParams.get('offset'));
      // The first token dies after two pages, long before its stated hour.
      if (token === 't1' && offset >= 4) return json(401, { imsx_codeMajor: 'failure' });
      if (url.pathname.endsWith('/orgs') && offset === 6 && !busy) {
        busy = true;
        return json(503, {}, { 'retry-after': new Date(Date.now() + 1000).toUTCString() });
      }
      const collection = url.pathname.split('/').pop()!;
      const all = collection === 'orgs' ? orgs : [];
      const limit = Number(url.searchParams.get('limit'));
      json(200, { [collection]: all.slice(offset, offset + limit) }, { 'x-total-count': String(all.length) });
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    onTestFinished(() => new Promise<void>((done) => server.close(() => done())));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/ims/oneroster/v1p1`;
    const { roster, stats } = await readOneRosterApi({
      url: base,
      clientId: 'a',
      clientSecret: 'b',
      pageSize: 2,
    });
    expect(roster.table('orgs').size).toBe(7);
    expect(roster.table('orgs').get(3)).toMatchObject({
      sourcedId: 'sch-3',
      parentSourcedId: 'sch-0',
      'metadata.nces': '03',
    });
    expect(stats).toEqual({ pages: 4 + 6, rateLimited: 1, tokensRenewed: 1 });
    // The refused page was asked again with the new token; nothing was skipped or read twice.
    expect(seen.filter((s) => s.includes('/orgs?') && s.includes('offset=4'))).toEqual([
      expect.stringMatching(/^t1 /),
      expect.stringMatching(/^t2 /),
    ]);
  });

  it('reads on past a page shorter than asked for when the service gives no total and no links', async () => {
    const users = Array.from({ length: 7 }, (_, i) => ({
      sourcedId: `u${i}`,
      role: i === 6 ? 'pupil' : 'student',
      username: `u${i}`,
      givenName: 'A',
      familyName: 'B',
      enabledUser: 'true',
      orgs: [{ sourcedId: 's1' }],
    }));
    const server = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      res.writeHead(200, { 'content-type': 'application/json' });
      if (url.pathname === '/oauth/token')
        return res.end(JSON.stringify({ access_token: 't', expires_in: 60 }));
      const collection = url.pathname.split('/').pop()!;
      const offset = Number(url.searchParams.get('offset'));
      // At most 3 a page, whatever was asked, and no X-Total-Count or Link.
      res.end(
        JSON.stringify({ [collection]: collection === 'users' ? users.slice(offset, offset + 3) : [] }),
      );
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    onTestFinished(() => new Promise<void>((done) => server.close(() => done())));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/ims/oneroster/v1p1`;
    const { roster, stats, diagnostics } = await readOneRosterApi({
      url: base,
      clientId: 'a',
      clientSecret: 'b',
    });
    expect(roster.table('users').size).toBe(7);
    // Each record is checked with the field rules as it arrives: the diagnostic names the collection and record.
    expect(diagnostics.list.map((d) => `${d.code} ${d.file} ${d.recordId} ${d.field}`)).toEqual([
      'VALUE_ENUM users u6 role',
    ]);
    expect(stats.pages).toBe(4 + 6); // 3 + 3 + 1 + an empty page for users, one empty page for each other
  });
});
