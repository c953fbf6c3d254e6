/** `roster status` as text: each target, what it holds, what the portal rejected, its lock. */
import type { Style } from './style.js';

/** What the text shows of a target (services/status.ts's TargetStatus is one). */
export interface StatusRow {
  readonly target: string;
  readonly kind: string;
  readonly mode: string;
  readonly location: string;
  readonly applied: {
    readonly serial: number;
    readonly at: string;
    readonly commit: string | null;
    readonly dirty: boolean;
    readonly records: Partial<Record<string, number>>;
    readonly rejected: number;
    readonly rejectedRecords: readonly {
      readonly entity: string;
      readonly key: string;
      readonly code: string;
      readonly message: string;
    }[];
    readonly reportMismatch: readonly string[];
  } | null;
  readonly lock: {
    readonly holder: string;
    readonly operation: string;
    readonly createdAt: string;
    readonly stale: boolean;
  } | null;
  readonly error?: { readonly code: string; readonly message: string; readonly hint?: string };
}

export function renderStatus(rows: readonly StatusRow[], s: Style): string {
  let out = '';
  for (const r of rows) {
    out += `${s.bold(r.target)} (${r.kind}, ${r.mode}) at ${r.location}\n`;
    if (r.error) {
      out += s.red(`  cannot be read: [${r.error.code}] ${r.error.message}\n`);
      if (r.error.hint) out += s.dim(`  hint: ${r.error.hint}\n`);
      continue;
    }
    if (!r.applied) out += '  never applied\n';
    else {
      const a = r.applied;
      out += `  serial ${a.serial}, applied ${a.at}${a.commit ? ` from commit ${a.commit.slice(0, 12)}${a.dirty ? ' (with uncommitted changes)' : ''}` : ' (roster not in git)'}\n`;
      out += `  records: ${
        Object.entries(a.records)
          .map(([e, n]) => `${n} ${e}`)
          .join(', ') || 'none'
      }; rejected: ${a.rejected}\n`;
      for (const m of a.reportMismatch)
        out += s.yellow(`  warning: the portal's report differed from the plan: ${m}\n`);
      for (const x of a.rejectedRecords.slice(0, 20))
        out += `  rejected: ${x.entity} ${x.key}  ${x.code}  ${x.message}\n`;
    }
    if (r.lock)
      out += s.yellow(
        `  locked by ${r.lock.holder} (${r.lock.operation}) since ${r.lock.createdAt}${r.lock.stale ? ` - STALE: that process is gone; \`roster unlock ${r.target} --force\`` : ''}\n`,
      );
    else out += '  not locked\n';
  }
  return out;
}
