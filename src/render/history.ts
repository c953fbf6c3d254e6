/**
 * The audit views: `roster log`, `roster blame` and `roster applies` as text (a terminal),
 * Markdown (a pull request, an issue) and the JSON documented in schemas/history.schema.json.
 * The views are data made by src/services/history.ts; this only formats them.
 */
import type { RecordId } from '../git/record-diff.js';
import type { BulkEvent, ChangeKind, FieldValues, PullRequestRef } from '../git/record-history.js';
import type { EntityName } from '../model/entities.js';
import { PLAIN, type Style } from './style.js';

/** The format of `roster log --format json` and `roster blame --format json` (schemas/history.schema.json). */
export const HISTORY_FORMAT_VERSION = '1.0';

/** A commit as the history output shows it. */
export interface CommitView {
  readonly sha: string;
  readonly date: string;
  readonly author: { readonly name: string; readonly email: string };
  /** When someone else committed it (a merge button, a rebase). */
  readonly committer?: { readonly name: string; readonly email: string; readonly date: string };
  readonly subject: string;
  readonly pullRequest?: PullRequestRef;
}

/** An apply that delivered a record's version to a target. */
export interface DeliveryView {
  readonly target: string;
  readonly serial: number;
  readonly appliedAt: string;
  readonly commit: string | null;
  /** The working tree had uncommitted roster changes at that apply. */
  readonly dirty: boolean;
}

export interface ChangeView {
  readonly record: RecordId;
  readonly kind: ChangeKind;
  readonly fields: readonly FieldValues[];
  /** The first apply of each target that delivered this version (none: not delivered yet, or no target's history reaches it). */
  readonly deliveredBy: readonly DeliveryView[];
}

export interface LogEntry {
  readonly commit: CommitView;
  readonly changes: readonly ChangeView[];
}

export interface BulkView extends Omit<BulkEvent, 'commit'> {
  readonly commit: CommitView;
}

/** What was read from git to answer. */
export interface IndexInfo {
  readonly commits: number;
  /** Commits read from git for this answer (0: the index was up to date). */
  readonly added: number;
  readonly rebuilt?: string;
}

export interface LogResult {
  readonly formatVersion: string;
  readonly kind: 'log';
  /** The record asked for (undefined for a listing). */
  readonly record?: RecordId;
  /** With --related: the records shown beside it. */
  readonly related?: readonly RecordId[];
  /** Newest first. */
  readonly entries: readonly LogEntry[];
  /** Commits in the range that changed too many records of an entity to list (read them with roster diff REV^..REV). */
  readonly bulk: readonly BulkView[];
  /** Targets whose applies could not be read (their deliveries are missing above). */
  readonly unreadTargets: readonly { readonly target: string; readonly message: string }[];
  readonly index: IndexInfo;
}

export interface BlameLine {
  readonly name: string;
  readonly value: string;
  readonly commit: CommitView;
}

export interface BlameResult {
  readonly formatVersion: string;
  readonly kind: 'blame';
  readonly record: RecordId;
  readonly fields: readonly BlameLine[];
  readonly index: IndexInfo;
}

/** Every target's applies (oldest first); targets that cannot be read say why. */
export interface TargetApplies {
  readonly target: string;
  readonly kind: string;
  readonly applies: readonly AppliedView[];
  readonly error?: { readonly code: string; readonly message: string; readonly hint?: string };
}

/** One apply as `roster applies` shows it (a target state's history entry). */
export interface AppliedView {
  readonly serial: number;
  readonly appliedAt: string;
  readonly appliedCommit: string | null;
  readonly appliedDirty: boolean;
  readonly mode: 'bulk' | 'delta';
  readonly planned?: Partial<Record<EntityName, { create: number; update: number; delete: number }>>;
  readonly recordCounts: Partial<Record<EntityName, number>>;
  readonly rejected: number;
}

export interface AppliesResult {
  readonly formatVersion: string;
  readonly kind: 'applies';
  readonly targets: readonly TargetApplies[];
}

const SIGN: Record<ChangeKind, string> = { created: '+', 're-added': '+', changed: '~', removed: '-' };
const short = (sha: string | null | undefined) => (sha ? sha.slice(0, 12) : '-');

function pullRequestText(pr: PullRequestRef | undefined): string {
  if (!pr) return '';
  const parts = [pr.number !== undefined ? `#${pr.number}` : '', pr.branch ? `from ${pr.branch}` : ''].filter(
    Boolean,
  );
  return parts.length ? ` (${parts.join(' ')}${pr.mergedBy ? `, merged in ${short(pr.mergedBy)}` : ''})` : '';
}

function fieldText(f: FieldValues): string {
  if (f.before === undefined) return `${f.name}: ${f.after ?? ''}`;
  return `${f.name}: ${f.before} → ${f.after ?? '(empty)'}`;
}

function deliveryText(d: DeliveryView): string {
  return `${d.target} serial ${d.serial} (${d.appliedAt}${d.dirty ? ', with uncommitted changes' : ''})`;
}

function countsText(b: { created: number; changed: number; removed: number }): string {
  return [`${b.created} created`, `${b.changed} changed`, `${b.removed} removed`].join(', ');
}

/** What reading the history took, for stderr (undefined when the index was up to date). */
export function indexNote(info: IndexInfo): string | undefined {
  if (info.rebuilt)
    return `History index built: ${info.commits} commit(s) read (kept in .git/roster/, updated as commits are added).`;
  if (info.added > 0) return `History index: ${info.added} new commit(s) read.`;
  return undefined;
}

/**
 * Records as text for git's diff (the `roster` diff driver's textconv): a line naming each record
 * (the hunk header git shows), then its values, one per line; records sorted by name, so that a
 * diff shows what changed in which record whatever the file's format or order.
 */
export function recordsText(records: ReadonlyMap<RecordId, Readonly<Record<string, string>>>): string {
  const out: string[] = [];
  for (const id of [...records.keys()].sort()) {
    out.push(id);
    for (const [name, value] of Object.entries(records.get(id)!))
      if (name !== 'sourcedId') out.push(`\t${name}: ${value}`);
  }
  return out.length ? `${out.join('\n')}\n` : '';
}

/** `roster log` as text or Markdown. */
export function renderLog(log: LogResult, format: 'text' | 'markdown', style: Style = PLAIN): string {
  const md = format === 'markdown';
  const out: string[] = [];
  const what = log.record
    ? `${log.record}${log.related?.length ? ` and ${log.related.length} related record(s)` : ''}`
    : 'Roster changes';
  const title = `${what}: ${log.entries.length} commit(s)${log.bulk.length ? `, ${log.bulk.length} bulk change(s)` : ''}`;
  out.push(md ? `### ${title}` : style.bold(title), '');
  for (const entry of log.entries) {
    const c = entry.commit;
    if (md) {
      out.push(`#### \`${short(c.sha)}\` ${escapeMd(c.subject)}`);
      out.push(
        `${c.date} · ${escapeMd(c.author.name)}${c.committer ? ` (committed by ${escapeMd(c.committer.name)})` : ''}${escapeMd(pullRequestText(c.pullRequest))}`,
        '',
      );
      for (const change of entry.changes) {
        out.push(`- **${change.kind}** \`${change.record}\``);
        for (const f of change.fields) out.push(`  - ${escapeMd(fieldText(f))}`);
        for (const d of change.deliveredBy) out.push(`  - delivered: ${escapeMd(deliveryText(d))}`);
      }
      out.push('');
      continue;
    }
    out.push(style.yellow(`commit ${short(c.sha)}`) + `  ${c.date}${pullRequestText(c.pullRequest)}`);
    out.push(`Author:    ${c.author.name} <${c.author.email}>`);
    if (c.committer) out.push(`Committer: ${c.committer.name} <${c.committer.email}>  ${c.committer.date}`);
    out.push(`    ${c.subject}`, '');
    for (const change of entry.changes) {
      const line = `  ${SIGN[change.kind]} ${change.record}  ${change.kind}`;
      out.push(
        change.kind === 'removed' ? style.red(line) : change.kind === 'changed' ? line : style.green(line),
      );
      for (const f of change.fields) out.push(`      ${fieldText(f)}`);
      out.push(
        style.dim(
          `      delivered: ${change.deliveredBy.length ? change.deliveredBy.map(deliveryText).join('; ') : 'not yet'}`,
        ),
      );
    }
    out.push('');
  }
  for (const b of log.bulk) {
    const line = `${short(b.commit.sha)} ${b.commit.date} ${b.entity}: ${countsText(b)} (too many to list: roster diff ${short(b.commit.sha)}^..${short(b.commit.sha)})`;
    out.push(md ? `- bulk change ${escapeMd(line)}` : style.dim(`bulk change ${line}`));
  }
  if (log.bulk.length) out.push('');
  for (const t of log.unreadTargets)
    out.push(
      md
        ? `> target ${t.target} could not be read: ${escapeMd(t.message)}`
        : style.yellow(
            `warning: target ${t.target} could not be read (its deliveries are not shown): ${t.message}`,
          ),
    );
  return `${out.join('\n').replace(/\n+$/, '')}\n`;
}

/** `roster blame` as text or Markdown. */
export function renderBlame(blame: BlameResult, format: 'text' | 'markdown', style: Style = PLAIN): string {
  if (format === 'markdown') {
    const rows = blame.fields.map(
      (f) =>
        `| ${f.name} | ${escapeMd(f.value)} | \`${short(f.commit.sha)}\` | ${f.commit.date.slice(0, 10)} | ${escapeMd(f.commit.author.name)} | ${escapeMd(f.commit.subject)} |`,
    );
    return `### ${blame.record}\n\n| Field | Value | Commit | Date | Author | Subject |\n|---|---|---|---|---|---|\n${rows.join('\n')}\n`;
  }
  const width = (pick: (f: BlameLine) => string) => Math.max(...blame.fields.map((f) => pick(f).length), 1);
  const wn = width((f) => f.name);
  const wv = Math.min(
    40,
    width((f) => f.value),
  );
  const wa = width((f) => f.commit.author.name);
  const lines = blame.fields.map(
    (f) =>
      `${style.yellow(short(f.commit.sha))} ${f.commit.date.slice(0, 10)} ${f.commit.author.name.padEnd(wa)}  ${f.name.padEnd(wn)}  ${f.value.padEnd(wv)}  ${style.dim(f.commit.subject)}`,
  );
  return `${style.bold(blame.record)}\n${lines.join('\n')}\n`;
}

function plannedText(a: AppliedView): string {
  if (!a.planned) return '';
  let create = 0;
  let update = 0;
  let remove = 0;
  for (const c of Object.values(a.planned)) {
    create += c?.create ?? 0;
    update += c?.update ?? 0;
    remove += c?.delete ?? 0;
  }
  return `+${create} ~${update} -${remove}`;
}

/** `roster applies` as text or Markdown: per target, newest first, with the commit range each apply delivered. */
export function renderApplies(
  result: AppliesResult,
  format: 'text' | 'markdown',
  style: Style = PLAIN,
): string {
  const md = format === 'markdown';
  const out: string[] = [];
  for (const t of result.targets) {
    out.push(md ? `### ${t.target} (${t.kind})` : style.bold(`${t.target} (${t.kind})`));
    if (t.error) {
      out.push(
        md
          ? `cannot be read: ${escapeMd(t.error.message)}`
          : style.red(`  cannot be read: [${t.error.code}] ${t.error.message}`),
      );
      if (t.error.hint && !md) out.push(style.dim(`  hint: ${t.error.hint}`));
      out.push('');
      continue;
    }
    if (t.applies.length === 0) {
      out.push(md ? 'never applied' : '  never applied', '');
      continue;
    }
    const rows = t.applies.map((a, k) => {
      const previous = t.applies[k + 1];
      const range =
        previous?.appliedCommit && a.appliedCommit && previous.appliedCommit !== a.appliedCommit
          ? `${short(previous.appliedCommit)}..${short(a.appliedCommit)}`
          : short(a.appliedCommit);
      const records = Object.values(a.recordCounts).reduce((n, c) => n + (c ?? 0), 0);
      return [
        String(a.serial),
        a.appliedAt,
        `${range}${a.appliedDirty ? ' (dirty)' : ''}`,
        a.mode,
        plannedText(a) || '-',
        String(records),
        String(a.rejected),
      ];
    });
    const head = ['serial', 'applied at', 'commits', 'mode', 'changes', 'records', 'rejected'];
    if (md) {
      out.push(`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`);
      for (const r of rows) out.push(`| ${r.join(' | ')} |`);
    } else {
      const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
      out.push(style.dim(`  ${head.map((h, i) => h.padEnd(widths[i]!)).join('  ')}`));
      for (const r of rows) out.push(`  ${r.map((c, i) => c.padEnd(widths[i]!)).join('  ')}`.trimEnd());
    }
    out.push('');
  }
  return `${out.join('\n').replace(/\n+$/, '')}\n`;
}

function escapeMd(text: string): string {
  return text.replace(/([\\`*_[\]<>|])/g, '\\$1');
}
