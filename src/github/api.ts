/**
 * The few GitHub REST calls the Action makes (comments, issues, pull requests, labels), over undici.
 * Reached at GITHUB_API_URL (https://api.github.com, a GitHub Enterprise server, or a test's fake
 * server on 127.0.0.1). Lists are read page by page through the `Link` header.
 */
import { request } from 'undici';
import { RosterError } from '../errors.js';

/** A GitHub API call that failed: `status` is the HTTP status (0 when there was no answer). */
export class GitHubApiError extends RosterError {
  constructor(
    readonly status: number,
    what: string,
    detail: string,
  ) {
    super('GITHUB_API', `GitHub API: ${what} failed${status ? ` (HTTP ${status})` : ''}: ${detail}`, {
      hint:
        status === 403 || status === 404
          ? "Check the workflow's permissions (pull-requests: write, issues: write) and the token; a pull request from a fork gets a read-only token."
          : status === 401
            ? 'The token was refused: check the github-token input.'
            : 'Run the job again; if it keeps failing, check https://www.githubstatus.com.',
    });
    this.name = 'GitHubApiError';
  }
}

export interface Comment {
  readonly id: number;
  readonly body: string;
  readonly user: { readonly login: string } | null;
  readonly html_url: string;
  readonly created_at: string;
  readonly updated_at: string;
}

export interface Issue {
  readonly number: number;
  readonly title: string;
  readonly body: string | null;
  readonly state: string;
  readonly user: { readonly login: string } | null;
  readonly html_url: string;
  readonly pull_request?: unknown;
}

export interface PullRequest {
  readonly number: number;
  readonly state: string;
  readonly merged_at: string | null;
  readonly merge_commit_sha: string | null;
  readonly html_url: string;
  readonly head: { readonly sha: string };
  readonly base: { readonly ref: string };
}

export interface IssueEvent {
  readonly event: string;
  readonly created_at: string;
  readonly actor: { readonly login: string } | null;
  readonly label?: { readonly name: string };
}

/** The login GitHub gives the workflow's own token (GITHUB_TOKEN), which cannot call GET /user. */
export const ACTIONS_BOT_LOGIN = 'github-actions[bot]';

export class GitHubClient {
  private readonly base: string;

  constructor(
    apiUrl: string,
    private readonly token: string,
    /** "owner/name" */
    readonly repository: string,
  ) {
    this.base = apiUrl.replace(/\/+$/, '');
  }

  private async call<T>(
    method: 'GET' | 'POST' | 'PATCH',
    path: string,
    what: string,
    body?: unknown,
  ): Promise<{ data: T; next: string | undefined }> {
    const url = path.startsWith('http') ? path : `${this.base}${path}`;
    for (let attempt = 1; ; attempt++) {
      let status = 0;
      let text = '';
      let link: string | undefined;
      try {
        const res = await request(url, {
          method,
          headers: {
            accept: 'application/vnd.github+json',
            authorization: `Bearer ${this.token}`,
            'user-agent': 'roster-as-code',
            'x-github-api-version': '2022-11-28',
            ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
          headersTimeout: 30_000,
          bodyTimeout: 30_000,
        });
        status = res.statusCode;
        text = await res.body.text();
        const header = res.headers.link;
        link = Array.isArray(header) ? header.join(', ') : header;
      } catch (err) {
        if (attempt < 3) {
          await pause(attempt);
          continue;
        }
        throw new GitHubApiError(0, what, (err as Error).message);
      }
      // Server errors are retried (GitHub has short outages); a client error is final.
      if (status >= 500 && attempt < 3) {
        await pause(attempt);
        continue;
      }
      if (status < 200 || status >= 300) {
        let message = text.slice(0, 300);
        try {
          message = (JSON.parse(text) as { message?: string }).message ?? message;
        } catch {}
        throw new GitHubApiError(status, what, message || 'no message');
      }
      return { data: (text ? JSON.parse(text) : undefined) as T, next: nextPage(link) };
    }
  }

  /** Every page of a list. */
  private async all<T>(path: string, what: string): Promise<T[]> {
    const out: T[] = [];
    let next: string | undefined = `${path}${path.includes('?') ? '&' : '?'}per_page=100`;
    while (next) {
      const page: { data: T[]; next: string | undefined } = await this.call<T[]>('GET', next, what);
      for (const item of page.data) out.push(item);
      next = page.next;
    }
    return out;
  }

  private repo(path: string): string {
    return `/repos/${this.repository}${path}`;
  }

  /**
   * The token's own login: comments and issues are ours only when written by it. The workflow's
   * GITHUB_TOKEN cannot read /user (HTTP 403); it writes as github-actions[bot].
   */
  async login(): Promise<string> {
    try {
      return (await this.call<{ login: string }>('GET', '/user', 'reading the token’s user')).data.login;
    } catch (err) {
      if (err instanceof GitHubApiError && err.status === 403) return ACTIONS_BOT_LOGIN;
      throw err;
    }
  }

  issueComments(issue: number): Promise<Comment[]> {
    return this.all<Comment>(this.repo(`/issues/${issue}/comments`), `listing the comments of #${issue}`);
  }

  async createComment(issue: number, body: string): Promise<Comment> {
    return (
      await this.call<Comment>('POST', this.repo(`/issues/${issue}/comments`), `commenting on #${issue}`, {
        body,
      })
    ).data;
  }

  async updateComment(id: number, body: string): Promise<Comment> {
    return (
      await this.call<Comment>('PATCH', this.repo(`/issues/comments/${id}`), `editing comment ${id}`, {
        body,
      })
    ).data;
  }

  /** The pull requests a commit belongs to (for a merge commit: the one it merged). */
  async pullsOfCommit(sha: string): Promise<PullRequest[]> {
    return (
      await this.call<PullRequest[]>(
        'GET',
        this.repo(`/commits/${sha}/pulls`),
        `diagnostic the pull request of ${sha}`,
      )
    ).data;
  }

  async pull(number: number): Promise<PullRequest> {
    return (
      await this.call<PullRequest>('GET', this.repo(`/pulls/${number}`), `reading pull request #${number}`)
    ).data;
  }

  /** When a commit was committed (as the commit says). */
  async commitDate(sha: string): Promise<string> {
    const { data } = await this.call<{ commit: { committer: { date: string } } }>(
      'GET',
      this.repo(`/commits/${sha}`),
      `reading commit ${sha}`,
    );
    return data.commit.committer.date;
  }

  issueEvents(issue: number): Promise<IssueEvent[]> {
    return this.all<IssueEvent>(this.repo(`/issues/${issue}/events`), `reading the events of #${issue}`);
  }

  /** "admin", "maintain", "write", "triage", "read" or "none". */
  async permission(login: string): Promise<string> {
    const { data } = await this.call<{ permission: string; role_name?: string }>(
      'GET',
      this.repo(`/collaborators/${encodeURIComponent(login)}/permission`),
      `reading the permission of ${login}`,
    );
    return data.role_name ?? data.permission;
  }

  /** Open issues (pull requests left out). */
  async openIssues(): Promise<Issue[]> {
    return (await this.all<Issue>(this.repo('/issues?state=open'), 'listing open issues')).filter(
      (i) => !i.pull_request,
    );
  }

  async createIssue(title: string, body: string): Promise<Issue> {
    return (await this.call<Issue>('POST', this.repo('/issues'), 'opening an issue', { title, body })).data;
  }

  async updateIssue(number: number, change: { body?: string; state?: 'open' | 'closed' }): Promise<Issue> {
    return (
      await this.call<Issue>('PATCH', this.repo(`/issues/${number}`), `updating issue #${number}`, change)
    ).data;
  }
}

/** The `rel="next"` address of a Link header. */
function nextPage(link: string | undefined): string | undefined {
  return link ? /<([^>]+)>\s*;\s*rel="next"/.exec(link)?.[1] : undefined;
}

function pause(attempt: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 500 * attempt));
}
