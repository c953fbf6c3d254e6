/**
 * The git plumbing the record history reads with: the commits of HEAD with their metadata, the
 * roster files each commit changed, and blobs. Short questions go through simple-git; the two
 * streams that take a line per commit or per blob (`diff-tree --stdin`, `cat-file --batch`) are
 * git processes of their own fed on stdin (simple-git runs a command per call, which for a year of
 * daily commits would be thousands of processes).
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { simpleGit } from 'simple-git';

/** A commit as the history shows it. */
export interface CommitInfo {
  readonly sha: string;
  readonly parents: readonly string[];
  readonly author: string;
  readonly authorEmail: string;
  /** ISO 8601, with the author's offset. */
  readonly authorDate: string;
  readonly committer: string;
  readonly committerEmail: string;
  readonly committerDate: string;
  readonly subject: string;
}

/** A roster file a commit changed: its path (from the repo's top) and blob on each side (undefined: absent). */
export interface FileChange {
  readonly path: string;
  readonly before: string | undefined;
  readonly after: string | undefined;
}

const FIELD = '\x1f';
const RECORD = '\x1e';
const NO_BLOB = /^0+$/;

/** Runs git with `args` in `top`; its stdout. Throws with git's own message. */
export async function gitText(top: string, args: string[]): Promise<string> {
  return simpleGit({ baseDir: top }).raw(args);
}

/** True when `ancestor` is `commit` or one of its ancestors. */
export async function isAncestor(top: string, ancestor: string, commit: string): Promise<boolean> {
  try {
    // (Not --is-ancestor: it answers with its exit code alone, which simple-git does not take as
    // an error without a message on stderr.)
    return (await gitText(top, ['merge-base', ancestor, commit])).trim() === ancestor;
  } catch {
    return false; // (a commit that no longer exists)
  }
}

/**
 * The commits reachable from `head` and not from `exclude`, parents before children (topological
 * order), with their metadata.
 */
export async function listCommits(
  top: string,
  head: string,
  exclude: readonly string[] = [],
): Promise<CommitInfo[]> {
  const format = ['%H', '%P', '%an', '%ae', '%aI', '%cn', '%ce', '%cI', '%s'].join(FIELD);
  const text = await gitText(top, [
    'log',
    '--topo-order',
    '--reverse',
    `--format=${RECORD}${format}`,
    head,
    ...exclude.map((c) => `^${c}`),
    '--',
  ]);
  const commits: CommitInfo[] = [];
  for (const entry of text.split(RECORD)) {
    if (entry.trim() === '') continue;
    const [sha, parents, author, authorEmail, authorDate, committer, committerEmail, committerDate, subject] =
      entry.replace(/\n$/, '').split(FIELD);
    commits.push({
      sha: sha!,
      parents: parents ? parents.split(' ') : [],
      author: author ?? '',
      authorEmail: authorEmail ?? '',
      authorDate: authorDate ?? '',
      committer: committer ?? '',
      committerEmail: committerEmail ?? '',
      committerDate: committerDate ?? '',
      subject: subject ?? '',
    });
  }
  return commits;
}

/** A pair to compare: `commit` against `parent` (undefined: against nothing, a root commit). */
export interface ComparedPair {
  readonly commit: string;
  readonly parent: string | undefined;
}

/**
 * The files under `pathspec` that differ between each pair's parent and commit (renames are an
 * old path removed and a new one added), in the order of `pairs`. One git process for them all.
 */
export async function changedFiles(
  top: string,
  pairs: readonly ComparedPair[],
  pathspec: string,
): Promise<FileChange[][]> {
  if (pairs.length === 0) return [];
  const child = spawn(
    'git',
    [
      'diff-tree',
      '--stdin',
      '--root',
      '--always',
      '-r',
      '-z',
      '--no-renames',
      `--format=${RECORD}%H`,
      '--',
      pathspec,
    ],
    { cwd: top, stdio: ['pipe', 'pipe', 'pipe'] },
  );
  const chunks: Buffer[] = [];
  const errors: Buffer[] = [];
  child.stdout.on('data', (c: Buffer) => chunks.push(c));
  child.stderr.on('data', (c: Buffer) => errors.push(c));
  const closed = once(child, 'close');
  child.stdin.on('error', () => {}); // (a git that stopped early says why on stderr)
  child.stdin.end(pairs.map((p) => (p.parent ? `${p.commit} ${p.parent}\n` : `${p.commit}\n`)).join(''));
  const [code] = (await closed) as [number | null];
  if (code !== 0)
    throw new Error(Buffer.concat(errors).toString('utf8').trim() || `git diff-tree exited ${code}`);
  const out = Buffer.concat(chunks).toString('utf8');
  const records = out.split(RECORD).slice(1);
  if (records.length !== pairs.length)
    throw new Error(`git diff-tree answered ${records.length} of ${pairs.length} comparisons`);
  return records.map((record) => {
    // "<sha>\0\n" then ":<modes> <blobs> <status>\0<path>\0" per file.
    const parts = record.split('\0');
    const files: FileChange[] = [];
    for (let i = 1; i + 1 < parts.length; i += 2) {
      const meta = parts[i]!.replace(/^\n/, '');
      if (!meta.startsWith(':')) continue;
      const [, , before, after] = meta.slice(1).split(' ');
      files.push({
        path: parts[i + 1]!,
        before: before && !NO_BLOB.test(before) ? before : undefined,
        after: after && !NO_BLOB.test(after) ? after : undefined,
      });
    }
    return files;
  });
}

/** The blobs under `pathspec` at `commit`: path → blob id. */
export async function treeFiles(top: string, commit: string, pathspec: string): Promise<Map<string, string>> {
  const text = await gitText(top, ['ls-tree', '-r', '-z', '--full-tree', commit, '--', pathspec]);
  const files = new Map<string, string>();
  for (const entry of text.split('\0')) {
    const tab = entry.indexOf('\t');
    if (tab < 0) continue;
    const [, type, blob] = entry.slice(0, tab).split(' ');
    if (type === 'blob') files.set(entry.slice(tab + 1), blob!);
  }
  return files;
}

/**
 * Reads blobs through one `git cat-file --batch`: ask in any order, answers come in order. The
 * last few blobs are kept (a file changed by one commit is read again as the next one's "before").
 */
export class BlobReader {
  private readonly child;
  private buffered: Buffer[] = [];
  private bufferedBytes = 0;
  private readonly waiting: (() => void)[] = [];
  private ended = false;
  private queue: Promise<unknown> = Promise.resolve();
  private readonly kept = new Map<string, Buffer>();

  constructor(
    top: string,
    private readonly keep = 4,
  ) {
    this.child = spawn('git', ['cat-file', '--batch'], { cwd: top, stdio: ['pipe', 'pipe', 'ignore'] });
    this.child.stdin.on('error', () => {});
    this.child.stdout.on('data', (c: Buffer) => {
      this.buffered.push(c);
      this.bufferedBytes += c.length;
      this.wakeUp();
    });
    this.child.stdout.on('end', () => {
      this.ended = true;
      this.wakeUp();
    });
  }

  private wakeUp(): void {
    for (const wake of this.waiting.splice(0)) wake();
  }

  /** Waits until `bytes` are buffered (false: git ended first). */
  private async need(bytes: number): Promise<boolean> {
    while (this.bufferedBytes < bytes) {
      if (this.ended) return false;
      await new Promise<void>((wake) => this.waiting.push(wake));
    }
    return true;
  }

  private take(bytes: number): Buffer {
    const all = this.buffered.length === 1 ? this.buffered[0]! : Buffer.concat(this.buffered);
    const out = all.subarray(0, bytes);
    const rest = all.subarray(bytes);
    this.buffered = rest.length > 0 ? [rest] : [];
    this.bufferedBytes = rest.length;
    // (Copied when small beside what it came with, so that a small answer does not hold a large chunk.)
    return out.length * 4 < all.length ? Buffer.from(out) : out;
  }

  /** The header line, once buffered. */
  private async headerLine(): Promise<string> {
    for (;;) {
      const all = this.buffered.length === 1 ? this.buffered[0]! : Buffer.concat(this.buffered);
      this.buffered = all.length > 0 ? [all] : [];
      const lf = all.indexOf(0x0a);
      if (lf >= 0) return this.take(lf + 1).toString('utf8', 0, lf);
      if (!(await this.need(this.bufferedBytes + 1))) throw new Error('git cat-file ended');
    }
  }

  /** The blob's bytes. */
  read(blob: string): Promise<Buffer> {
    const known = this.kept.get(blob);
    if (known) return Promise.resolve(known);
    const answer = this.queue.then(async () => {
      const again = this.kept.get(blob);
      if (again) return again;
      this.child.stdin.write(`${blob}\n`);
      const header = await this.headerLine();
      const [, type, size] = header.split(' ');
      if (type !== 'blob') throw new Error(`git cat-file: ${header}`);
      const n = Number(size);
      if (!(await this.need(n + 1))) throw new Error('git cat-file ended');
      const bytes = this.take(n + 1).subarray(0, n);
      this.kept.set(blob, bytes);
      if (this.kept.size > this.keep) this.kept.delete(this.kept.keys().next().value!);
      return bytes;
    });
    this.queue = answer.catch(() => {});
    return answer;
  }

  close(): void {
    this.child.stdin.end();
    this.child.kill();
  }
}

/**
 * Sets `key` in the repository's own git config. simple-git refuses to set a diff driver's
 * textconv (a command git runs) unless told: here it is this roster's own command, set on purpose.
 */
export async function setLocalConfig(top: string, key: string, value: string): Promise<void> {
  await simpleGit({ baseDir: top, unsafe: { allowUnsafeDiffTextConv: true } } as Parameters<
    typeof simpleGit
  >[0]).raw(['config', '--local', key, value]);
}
