/**
 * A fake GitHub REST API on 127.0.0.1: the calls the Action makes, with GitHub's shapes, paging
 * (`per_page`, `page`, `Link`), permissions per token, and a record of every request. Its clock
 * moves one second per write, so that "created after" questions have clear answers.
 */
import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { onTestFinished } from 'vitest';

export const REPO = 'lincoln-ps/roster';
/** The workflow's GITHUB_TOKEN: cannot read /user, writes as github-actions[bot]. */
export const BOT_TOKEN = 'ghs_bot_token';
/** A fork's pull request: a read-only token. */
export const READ_ONLY_TOKEN = 'ghs_read_only';
/** A personal access token of the user "roster-admin". */
export const PAT_TOKEN = 'ghp_personal';

export interface FakeComment {
  id: number;
  body: string;
  user: { login: string };
  html_url: string;
  created_at: string;
  updated_at: string;
}

export interface FakeIssue {
  number: number;
  title: string;
  body: string;
  state: 'open' | 'closed';
  user: { login: string };
  html_url: string;
  pull_request?: object;
}

export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly body: unknown;
  readonly token: string;
}

export interface FakeGitHub {
  readonly url: string;
  readonly requests: RecordedRequest[];
  readonly comments: Map<number, FakeComment[]>;
  readonly issues: FakeIssue[];
  readonly pulls: Map<number, { head: string; merge_commit_sha: string | null; merged_at: string | null }>;
  /** commit sha -> pull request numbers (the commits->pulls API). */
  readonly commitPulls: Map<string, number[]>;
  /** commit sha -> committer date. */
  readonly commitDates: Map<string, string>;
  readonly events: Map<
    number,
    { event: string; created_at: string; actor: { login: string }; label?: { name: string } }[]
  >;
  readonly permissions: Map<string, string>;
  /** The server's clock (ISO): moves one second per write. */
  now(): string;
  tick(): string;
  /** Adds a comment as `login` (another user, or ours). */
  addComment(issue: number, login: string, body: string): FakeComment;
  /** Writes made (POST and PATCH), optionally to paths matching. */
  writes(match?: RegExp): RecordedRequest[];
}

const LOGIN_OF: Record<string, string> = {
  [BOT_TOKEN]: 'github-actions[bot]',
  [READ_ONLY_TOKEN]: 'github-actions[bot]',
  [PAT_TOKEN]: 'roster-admin',
};

export async function fakeGitHub(): Promise<FakeGitHub> {
  let clock = Date.parse('2026-12-01T09:00:00Z');
  let nextId = 1000;
  const requests: RecordedRequest[] = [];
  const comments = new Map<number, FakeComment[]>();
  const issues: FakeIssue[] = [];
  const pulls: FakeGitHub['pulls'] = new Map();
  const commitPulls = new Map<string, number[]>();
  const commitDates = new Map<string, string>();
  const events: FakeGitHub['events'] = new Map();
  const permissions = new Map<string, string>();
  let base = '';

  const now = () => new Date(clock).toISOString();
  const tick = () => {
    clock += 1000;
    return now();
  };
  const addComment = (issue: number, login: string, body: string): FakeComment => {
    const at = tick();
    const id = nextId++;
    const c: FakeComment = {
      id,
      body,
      user: { login },
      html_url: `https://github.example/${REPO}/pull/${issue}#issuecomment-${id}`,
      created_at: at,
      updated_at: at,
    };
    const list = comments.get(issue) ?? [];
    list.push(c);
    comments.set(issue, list);
    return c;
  };

  const send = (res: ServerResponse, status: number, data: unknown, headers: Record<string, string> = {}) => {
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
    res.end(JSON.stringify(data));
  };
  const page = <T>(req: URL, res: ServerResponse, all: readonly T[]) => {
    const per = Math.min(100, Number(req.searchParams.get('per_page') ?? 30));
    const n = Number(req.searchParams.get('page') ?? 1);
    const items = all.slice((n - 1) * per, n * per);
    const headers: Record<string, string> = {};
    if (n * per < all.length) {
      const next = new URL(req.href);
      next.searchParams.set('page', String(n + 1));
      headers.link = `<${base}${next.pathname}${next.search}>; rel="next"`;
    }
    send(res, 200, items, headers);
  };

  const server = createServer(async (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    const body = text ? JSON.parse(text) : undefined;
    const url = new URL(req.url ?? '/', base);
    const token = (req.headers.authorization ?? '').replace(/^Bearer /, '');
    requests.push({ method: req.method ?? 'GET', path: url.pathname + url.search, body, token });
    const login = LOGIN_OF[token];
    if (!login) return send(res, 401, { message: 'Bad credentials' });
    const write = req.method === 'POST' || req.method === 'PATCH';
    if (write && token === READ_ONLY_TOKEN)
      return send(res, 403, { message: 'Resource not accessible by integration' });
    const path = url.pathname;
    if (path === '/user') {
      if (token !== PAT_TOKEN) return send(res, 403, { message: 'Resource not accessible by integration' });
      return send(res, 200, { login });
    }
    const prefix = `/repos/${REPO}`;
    if (!path.startsWith(prefix)) return send(res, 404, { message: 'Not Found' });
    const rest = path.slice(prefix.length);
    const at = (pattern: RegExp) => pattern.exec(rest);
    const commentsPath = at(/^\/issues\/(\d+)\/comments$/);
    if (commentsPath) {
      const issue = Number(commentsPath[1]);
      if (req.method === 'GET') return page(url, res, comments.get(issue) ?? []);
      if (req.method === 'POST') return send(res, 201, addComment(issue, login, body.body));
    }
    const commentPath = at(/^\/issues\/comments\/(\d+)$/);
    if (commentPath && req.method === 'PATCH') {
      const c = [...comments.values()].flat().find((x) => x.id === Number(commentPath![1]));
      if (!c) return send(res, 404, { message: 'Not Found' });
      if (c.user.login !== login) return send(res, 403, { message: 'Must be the author' });
      c.body = body.body;
      c.updated_at = tick();
      return send(res, 200, c);
    }
    const commitPullsPath = at(/^\/commits\/([0-9a-f]+)\/pulls$/);
    if (commitPullsPath) {
      const numbers = commitPulls.get(commitPullsPath[1]!) ?? [];
      return send(
        res,
        200,
        numbers.map((n) => ({ number: n, state: 'closed', html_url: '', ...pullOf(n) })),
      );
    }
    const commitPath = at(/^\/commits\/([0-9a-f]+)$/);
    if (commitPath) {
      const date = commitDates.get(commitPath[1]!);
      if (!date) return send(res, 404, { message: 'No commit found' });
      return send(res, 200, { sha: commitPath[1], commit: { committer: { date } } });
    }
    const pullPath = at(/^\/pulls\/(\d+)$/);
    if (pullPath) {
      const n = Number(pullPath[1]);
      if (!pulls.has(n)) return send(res, 404, { message: 'Not Found' });
      return send(res, 200, { number: n, state: 'open', html_url: '', ...pullOf(n) });
    }
    const eventsPath = at(/^\/issues\/(\d+)\/events$/);
    if (eventsPath) return page(url, res, events.get(Number(eventsPath[1])) ?? []);
    const permissionPath = at(/^\/collaborators\/([^/]+)\/permission$/);
    if (permissionPath)
      return send(res, 200, {
        permission: permissions.get(decodeURIComponent(permissionPath[1]!)) ?? 'read',
      });
    if (rest === '/issues' && req.method === 'GET')
      return page(
        url,
        res,
        issues.filter((i) => i.state === (url.searchParams.get('state') ?? 'open')),
      );
    if (rest === '/issues' && req.method === 'POST') {
      const number = 500 + issues.length;
      const issue: FakeIssue = {
        number,
        title: body.title,
        body: body.body,
        state: 'open',
        user: { login },
        html_url: `https://github.example/${REPO}/issues/${number}`,
      };
      tick();
      issues.push(issue);
      return send(res, 201, issue);
    }
    const issuePath = at(/^\/issues\/(\d+)$/);
    if (issuePath && req.method === 'PATCH') {
      const issue = issues.find((i) => i.number === Number(issuePath![1]));
      if (!issue) return send(res, 404, { message: 'Not Found' });
      if (body.body !== undefined) issue.body = body.body;
      if (body.state !== undefined) issue.state = body.state;
      tick();
      return send(res, 200, issue);
    }
    return send(res, 404, { message: 'Not Found', documentation_url: 'https://docs.github.com/rest' });
  });

  const pullOf = (n: number) => {
    const p = pulls.get(n)!;
    return {
      merged_at: p.merged_at,
      merge_commit_sha: p.merge_commit_sha,
      head: { sha: p.head },
      base: { ref: 'main' },
    };
  };

  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  onTestFinished(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return {
    url: base,
    requests,
    comments,
    issues,
    pulls,
    commitPulls,
    commitDates,
    events,
    permissions,
    now,
    tick,
    addComment,
    writes: (match) =>
      requests.filter((r) => (r.method === 'POST' || r.method === 'PATCH') && (!match || match.test(r.path))),
  };
}
