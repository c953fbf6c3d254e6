/**
 * Renderers of a Plan: text (a terminal, Terraform-like), markdown (pull-request comments, at
 * most 60,000 characters) and json. They format what the plan says; they compute nothing.
 */
import type { EntityName } from '../model/entities.js';
import type { FieldChange, Plan, PlanChange } from '../plan/plan.js';
import { planJsonChunks } from '../plan/plan-file.js';
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

export const MARKDOWN_LIMIT = 60_000;

export function renderPlanMarkdown(plan: Plan, limit = MARKDOWN_LIMIT): string {
  const head: string[] = [planMarker(plan), `### roster plan: \`${plan.target.name}\``, ''];
  const withheld = withheldLine(plan);
  if (withheld) head.push(`_${escapeMd(withheld)}_`, '');
  if (plan.changes.length === 0) {
    head.push('**No changes.** The target holds what the roster says.');
    return `${head.join('\n')}\n`;
  }
  head.push(
    `**${summaryLine(plan)}**`,
    '',
    '| entity | add | change | remove | unchanged |',
    '|---|---:|---:|---:|---:|',
  );
  for (const [entity, c] of entityRows(plan))
    head.push(`| ${entity} | ${c.create} | ${c.update} | ${c.delete} | ${c.unchanged} |`);
  const schools = Object.entries(plan.summary.bySchool);
  if (schools.length > 0) {
    head.push('', '| school | add | change | remove |', '|---|---:|---:|---:|');
    for (const [id, c] of schools) head.push(`| ${id} | ${c.create} | ${c.update} | ${c.delete} |`);
  }
  if (plan.holds.length > 0) {
    head.push('', `> [!CAUTION]`, `> **Held:** apply will refuse this plan unless \`--allow-mass-change\`.`);
    for (const h of plan.holds) head.push(`> - **${h.code}**: ${escapeMd(h.message)} ${escapeMd(h.hint)}`);
  }
  for (const w of plan.warnings) head.push('', `> [!WARNING]`, `> ${escapeMd(w.message)}`);
  head.push('');
  const closing = `\n_Plan made ${plan.basis.createdAt}${plan.basis.commit ? ` at ${plan.basis.commit.slice(0, 12)}` : ''}, state serial ${plan.basis.stateSerial}._\n`;
  let body = head.join('\n');
  const groups = new Map<EntityName, PlanChange[]>();
  for (const c of plan.changes) groups.set(c.entity, [...(groups.get(c.entity) ?? []), c]);
  let shown = 0;
  for (const [entity, list] of groups) {
    let section = `<details><summary>${entity}: ${list.length} change(s)</summary>\n\n\`\`\`diff\n`;
    const sectionEnd = '```\n</details>\n';
    let truncatedHere = false;
    for (const c of list) {
      const lines = [
        `${SYMBOL[c.action]} ${c.entity} ${c.key}${c.school ? `  [${c.school}]` : ''}`,
        ...(c.fields ?? []).map((f) => `${SYMBOL[c.action]}     ${fieldLine(c, f)}`),
      ];
      const text = `${lines.join('\n')}\n`;
      if (body.length + section.length + text.length + sectionEnd.length + closing.length + 400 > limit) {
        truncatedHere = true;
        break;
      }
      section += text;
      shown++;
    }
    body += section + sectionEnd;
    if (truncatedHere) break;
  }
  if (shown < plan.changes.length) {
    body += `\n**Truncated:** showing ${shown} of ${plan.changes.length} changes to stay under ${limit.toLocaleString('en-US')} characters. Run \`roster plan --target ${plan.target.name}\` or download the JSON plan for all of them.\n`;
  }
  return body + closing;
}

function escapeMd(text: string): string {
  return text.replace(/[<>]/g, (c) => (c === '<' ? '&lt;' : '&gt;'));
}

export function renderPlanJson(plan: Plan): string {
  return Buffer.concat([...planJsonChunks(plan)]).toString('utf8');
}

export function renderPlan(plan: Plan, format: PlanFormat, options: PlanRenderOptions = {}): string {
  if (format === 'json') return renderPlanJson(plan);
  if (format === 'markdown') return renderPlanMarkdown(plan);
  return renderPlanText(plan, options);
}
