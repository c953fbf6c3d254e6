/**
 * Renderers of a Plan: text (a terminal, Terraform-like), markdown (pull-request comments and job
 * summaries, within a size in bytes) and json. They format what the plan says; they compute nothing.
 */
import type { EntityName } from '../model/entities.js';
import type { FieldChange, Plan, PlanChange } from '../plan/plan.js';
import { planJsonChunks } from './plan-json.js';
import { PLAIN, type Style } from './style.js';

export type PlanFormat = 'text' | 'markdown' | 'json';

const SYMBOL = { create: '+', update: '~', delete: '-' } as const;

export function summaryLine(plan: Plan): string {
  return `Plan: ${plan.summary.create} to add, ${plan.summary.update} to change, ${plan.summary.delete} to remove.`;
}

/** The line apply ends with: what was delivered, and the target's new serial. */
export function appliedLine(plan: Plan, serial: number | undefined): string {
  const { create, update, delete: removed } = plan.summary;
  return `Applied to target "${plan.target.name}" (serial ${serial}). ${create} added, ${update} changed, ${removed} removed.`;
}

function show(value: string | undefined): string {
  return value === undefined
    ? '(empty)'
    : value.startsWith('(') && value.endsWith(')')
      ? value
      : JSON.stringify(value);
}

function fieldLine(change: PlanChange, f: FieldChange): string {
  if (change.action === 'create') return `${f.name} = ${show(f.after)}`;
  if (change.action === 'delete' && f.after === undefined) return `${f.name} = ${show(f.before)}`;
  return `${f.name}: ${show(f.before)} -> ${show(f.after)}`;
}

function entityRows(
  plan: Plan,
): [EntityName, { create: number; update: number; delete: number; unchanged: number }][] {
  return Object.entries(plan.summary.byEntity) as [
    EntityName,
    { create: number; update: number; delete: number; unchanged: number },
  ][];
}

export interface PlanRenderOptions {
  readonly style?: Style;
  /**
   * At most this many changes are listed record by record (default TEXT_DETAIL_LIMIT); the
   * summary always counts them all. A city's first apply has ten million.
   */
  readonly detailLimit?: number;
}

/** Changes listed one by one in text output before the rest are only counted. */
export const TEXT_DETAIL_LIMIT = 2_000;

/** "Never sent to this target: users: password, metadata.ssn; demographics (not shared)", or undefined. */
export function withheldLine(plan: Plan): string | undefined {
  if (!plan.withheld) return undefined;
  const parts = Object.entries(plan.withheld).map(([entity, fields]) =>
    fields?.[0] === '*' ? `${entity} (not shared)` : `${entity}: ${(fields ?? []).join(', ')}`,
  );
  return `Never sent to this target (policy): ${parts.join('; ')}.`;
}

export function renderPlanText(plan: Plan, options: PlanRenderOptions = {}): string {
  const s = options.style ?? PLAIN;
  const out: string[] = [];
  const t = plan.target;
  out.push(
    t.kind === 'diff'
      ? 'From the old roster to the new one:'
      : `Target "${t.name}" (${t.kind}, ${t.mode})${plan.basis.stateLineage ? `, state serial ${plan.basis.stateSerial}` : ', never applied'}.`,
  );
  const withheld = withheldLine(plan);
  if (withheld) out.push(s.dim(withheld));
  if (plan.changes.length === 0) {
    out.push(
      '',
      s.green(t.kind === 'diff' ? 'No differences.' : 'No changes. The target holds what the roster says.'),
    );
    for (const w of plan.warnings) out.push(s.yellow(`Warning: ${w.message}`));
    return `${out.join('\n')}\n`;
  }
  out.push('', s.bold(summaryLine(plan)));
  const width = Math.max(...entityRows(plan).map(([e]) => e.length));
  for (const [entity, c] of entityRows(plan)) {
    out.push(
      `  ${entity.padEnd(width)}  ${s.green(`+${c.create}`)} ${s.yellow(`~${c.update}`)} ${s.red(`-${c.delete}`)}  (${c.unchanged} unchanged)`,
    );
  }
  const schools = Object.entries(plan.summary.bySchool);
  if (schools.length > 0) {
    out.push(
      `  by school: ${schools.map(([id, c]) => `${id} +${c.create} ~${c.update} -${c.delete}`).join(', ')}`,
    );
  }
  if (plan.holds.length > 0) {
    out.push(
      '',
      s.red(
        s.bold(
          `HELD: apply will refuse this plan unless --allow-mass-change (${plan.holds.length} safety check(s)):`,
        ),
      ),
    );
    for (const h of plan.holds) {
      out.push(s.red(`  ! ${h.code}: ${h.message}`));
      out.push(s.dim(`    ${h.hint}`));
    }
  }
  for (const w of plan.warnings) out.push('', s.yellow(`Warning: ${w.message}`));
  out.push('');
  const limit = options.detailLimit ?? TEXT_DETAIL_LIMIT;
  for (const c of plan.changes.length > limit ? plan.changes.slice(0, limit) : plan.changes) {
    const colour = c.action === 'create' ? s.green : c.action === 'update' ? s.yellow : s.red;
    const verb = c.reason === 'disable_because_absent_from_roster' ? 'disable' : c.action;
    out.push(
      colour(
        `  ${SYMBOL[c.action]} ${c.entity} ${c.key}${c.key !== c.sourcedId ? ` (sourcedId ${c.sourcedId})` : ''}${c.school ? s.dim(`  [${c.school}]`) : ''}${verb === 'disable' ? '  (disable)' : ''}`,
      ),
    );
    for (const f of c.fields ?? []) out.push(`      ${fieldLine(c, f)}`);
  }
  if (plan.changes.length > limit) {
    out.push(
      '',
      s.dim(
        `  ... and ${(plan.changes.length - limit).toLocaleString('en-US')} more changes, counted in the summary (--detail-limit shows more; --format json lists every one).`,
      ),
    );
  }
  out.push('', s.bold(summaryLine(plan)));
  return `${out.join('\n')}\n`;
}

/** The hidden marker that lets a bot find and update its own comment. */
export function planMarker(plan: Plan): string {
  return `<!-- roster-plan:${plan.target.name} -->`;
}

/** Default size of a markdown plan, in UTF-8 bytes (a GitHub comment holds 65,536 characters). */
export const MARKDOWN_LIMIT = 60_000;

export interface MarkdownOptions {
  /** The document's size at most, in UTF-8 bytes (so also in characters). */
  readonly limitBytes?: number;
  /** At most this many changes are listed (the summary counts them all). */
  readonly detailLimit?: number;
  /** Markdown shown under the heading (a status: "applied", "refused: the plan changed"). */
  readonly status?: string;
  /** Markdown that ends the document whatever its size (e.g. a hidden plan-hash marker). */
  readonly footer?: string;
  /** How a hold is lifted (default: the CLI's --allow-mass-change). */
  readonly holdRelease?: string;
  /**
   * Say when and from which commit the plan was made (default true). A pull-request comment leaves
   * it out, so that the same plan gives the same comment and is not rewritten.
   */
  readonly stamp?: boolean;
}

/**
 * Markdown for a pull-request comment or a job summary: the summary tables and holds first, then
 * the changes folded per entity, cut with an explicit notice to stay within `limitBytes`.
 */
export function renderPlanMarkdown(plan: Plan, options: MarkdownOptions = {}): string {
  const limit = options.limitBytes ?? MARKDOWN_LIMIT;
  const head: string[] = [planMarker(plan), `### roster plan: \`${plan.target.name}\``, ''];
  if (options.status) head.push(options.status, '');
  const withheld = withheldLine(plan);
  if (withheld) head.push(`_${escapeMd(withheld)}_`, '');
  const footer = options.footer ? `\n${options.footer}\n` : '';
  if (plan.changes.length === 0) {
    head.push('**No changes.** The target holds what the roster says.');
    return `${head.join('\n')}\n${footer}`;
  }
  head.push(
    `**${summaryLine(plan)}**`,
    '',
    '| entity | add | change | remove | unchanged |',
    '|---|---:|---:|---:|---:|',
  );
  for (const [entity, c] of entityRows(plan))
    head.push(`| ${entity} | ${c.create} | ${c.update} | ${c.delete} | ${c.unchanged} |`);
  if (plan.holds.length > 0) {
    head.push(
      '',
      '> [!CAUTION]',
      `> **Held:** this plan will not be applied unless ${options.holdRelease ?? '`--allow-mass-change` is given'}.`,
    );
    for (const h of plan.holds) head.push(`> - **${h.code}**: ${escapeMd(h.message)} ${escapeMd(h.hint)}`);
  }
  for (const w of plan.warnings) head.push('', '> [!WARNING]', `> ${escapeMd(w.message)}`);
  const schools = Object.entries(plan.summary.bySchool);
  if (schools.length > 0) {
    head.push('', '| school | add | change | remove |', '|---|---:|---:|---:|');
    for (const [id, c] of schools) head.push(`| ${id} | ${c.create} | ${c.update} | ${c.delete} |`);
  }
  head.push('');
  const stamp =
    options.stamp === false
      ? ''
      : `\n_Plan made ${plan.basis.createdAt}${plan.basis.commit ? ` at ${plan.basis.commit.slice(0, 12)}` : ''}, state serial ${plan.basis.stateSerial}._\n`;
  const closing = stamp + footer;
  // What may be spent on changes: the rest is the head, the closing and a truncation notice.
  const budget = limit - bytes(closing) - 600;
  let body = head.join('\n');
  let used = bytes(body);
  if (used > budget) {
    // A head too long to fit (thousands of schools): keep what fits, whole lines.
    body = cutToBytes(body, budget);
    used = bytes(body);
  }
  const detailLimit = options.detailLimit ?? Number.POSITIVE_INFINITY;
  // Changes grouped per entity, at most as many as could fit (a line takes at least 20 bytes).
  const room = Math.min(detailLimit, Math.ceil(Math.max(0, budget - used) / 20));
  const groups = new Map<EntityName, PlanChange[]>();
  for (const c of plan.changes) {
    let list = groups.get(c.entity);
    if (!list) {
      list = [];
      groups.set(c.entity, list);
    }
    if (list.length < room) list.push(c);
  }
  let shown = 0;
  for (const [entity, list] of groups) {
    if (shown >= detailLimit) break;
    const total = plan.summary.byEntity[entity];
    const count = total ? total.create + total.update + total.delete : list.length;
    let section = `<details><summary>${entity}: ${count} change(s)</summary>\n\n\`\`\`diff\n`;
    const sectionEnd = '```\n</details>\n';
    let sectionBytes = bytes(section) + bytes(sectionEnd);
    if (used + sectionBytes > budget) break;
    let full = false;
    for (const c of list) {
      const lines = [
        `${SYMBOL[c.action]} ${c.entity} ${c.key}${c.school ? `  [${c.school}]` : ''}`,
        ...(c.fields ?? []).map((f) => `${SYMBOL[c.action]}     ${fieldLine(c, f)}`),
      ];
      const text = `${lines.join('\n')}\n`;
      const size = bytes(text);
      if (used + sectionBytes + size > budget || shown >= detailLimit) {
        full = true;
        break;
      }
      section += text;
      sectionBytes += size;
      shown++;
    }
    body += section + sectionEnd;
    used += sectionBytes;
    if (full) break;
  }
  if (shown < plan.changes.length) {
    body += `\n**Truncated:** showing ${shown.toLocaleString('en-US')} of ${plan.changes.length.toLocaleString('en-US')} changes${shown < detailLimit ? ` to stay under ${limit.toLocaleString('en-US')} bytes` : ''}. Run \`roster plan --target ${plan.target.name}\` or open the JSON plan for all of them.\n`;
  }
  return body + closing;
}

function bytes(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

/** The whole lines of `text` that fit in `max` UTF-8 bytes. */
function cutToBytes(text: string, max: number): string {
  const lines = text.split('\n');
  const kept: string[] = [];
  let size = 0;
  for (const line of lines) {
    size += bytes(line) + 1;
    if (size > max) break;
    kept.push(line);
  }
  return `${kept.join('\n')}\n\n_(summary cut to fit)_\n`;
}

export function escapeMd(text: string): string {
  return text.replace(/[<>]/g, (c) => (c === '<' ? '&lt;' : '&gt;'));
}

export function renderPlanJson(plan: Plan): string {
  return Buffer.concat([...planJsonChunks(plan)]).toString('utf8');
}

export function renderPlan(plan: Plan, format: PlanFormat, options: PlanRenderOptions = {}): string {
  if (format === 'json') return renderPlanJson(plan);
  if (format === 'markdown')
    return renderPlanMarkdown(plan, { detailLimit: options.detailLimit ?? Number.POSITIVE_INFINITY });
  return renderPlanText(plan, options);
}
