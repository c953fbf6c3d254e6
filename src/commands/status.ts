import { Flags } from '@oclif/core';
import { BaseCommand } from '../base-command.js';
import { selectTarget } from '../config/config.js';
import { loadRepoConfig } from '../services/plan.js';
import { createTarget } from '../targets/create.js';

export default class Status extends BaseCommand {
  static override summary = 'Show what each target holds: applied commit, serial, when, lock.';
  static override examples = ['<%= config.bin %> status', '<%= config.bin %> status --format json'];
  static override flags = {
    ...BaseCommand.repoFlags,
    format: Flags.string({ options: ['text', 'json'], default: 'text', description: 'Output format.' }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(Status);
    const config = loadRepoConfig(flags.repo);
    const targets = flags.target ? [selectTarget(config, flags.target)] : config.targets;
    const rows = [];
    for (const t of targets) {
      const target = createTarget(t);
      let state: Awaited<ReturnType<typeof target.readState>>;
      let lock: Awaited<ReturnType<typeof target.readLock>>;
      try {
        state = await target.readState();
        lock = await target.readLock();
      } finally {
        await target.close?.();
      }
      const records = state?.recordCounts ?? {};
      rows.push({
        target: t.name,
        kind: t.kind,
        mode: t.mode,
        location: target.location,
        applied: state
          ? {
              serial: state.serial,
              lineage: state.lineage,
              at: state.appliedAt,
              commit: state.appliedCommit,
              dirty: state.appliedDirty,
              records,
              rejected: state.rejected.length,
              rejectedRecords: state.rejected,
            }
          : null,
        lock: lock ?? null,
      });
    }
    if (flags.format === 'json') {
      this.write(`${JSON.stringify({ formatVersion: '1.0', targets: rows }, null, 2)}\n`);
      return;
    }
    const s = this.styleFor(flags['no-color']);
    for (const r of rows) {
      this.write(`${s.bold(r.target)} (${r.kind}, ${r.mode}) at ${r.location}\n`);
      if (!r.applied) this.write('  never applied\n');
      else {
        const a = r.applied;
        this.write(
          `  serial ${a.serial}, applied ${a.at}${a.commit ? ` from commit ${a.commit.slice(0, 12)}${a.dirty ? ' (with uncommitted changes)' : ''}` : ' (roster not in git)'}\n`,
        );
        this.write(
          `  records: ${
            Object.entries(a.records)
              .map(([e, n]) => `${n} ${e}`)
              .join(', ') || 'none'
          }; rejected: ${a.rejected}\n`,
        );
        for (const x of a.rejectedRecords.slice(0, 20))
          this.write(`  rejected: ${x.entity} ${x.key}  ${x.code}  ${x.message}\n`);
      }
      if (r.lock)
        this.write(
          s.yellow(
            `  locked by ${r.lock.holder} (${r.lock.operation}) since ${r.lock.createdAt}${r.lock.stale ? ' - STALE: that process is gone; `roster unlock ' + r.target + ' --force`' : ''}\n`,
          ),
        );
      else this.write('  not locked\n');
    }
  }
}
