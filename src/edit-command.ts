/**
 * The base of the manual edit commands (`roster add`, `set`, `enroll`, `drop`, `move`,
 * `withdraw`): their shared flags, and what follows an edit: the diff (--dry-run), a commit
 * (--commit), a plan and apply to a target (--apply).
 */
import { Flags } from '@oclif/core';
import { BaseCommand, progressOption } from './base-command.js';
import { trapInterrupts } from './interrupts.js';
import { appliedLine, renderPlanText } from './render/plan.js';
import { applyResultJson, editResultJson } from './render/results.js';
import { applyRoster } from './services/apply.js';
import { type EditRequest, editRoster } from './services/edit.js';

export abstract class EditCommand extends BaseCommand {
  static editFlags = {
    repo: BaseCommand.repoFlags.repo,
    'dry-run': Flags.boolean({
      description: 'Print the unified diff of the files the edit would change; write nothing.',
    }),
    commit: Flags.boolean({ description: 'Commit the edited files (only them) with a generated message.' }),
    apply: Flags.string({
      description: 'Then plan and apply to this target (its lock, holds and stale checks apply).',
      helpValue: 'TARGET',
    }),
  };

  protected async edit(
    request: EditRequest,
    flags: {
      repo: string;
      'dry-run': boolean;
      commit: boolean;
      apply?: string;
      quiet?: boolean;
      'no-color'?: boolean;
    },
  ): Promise<ReturnType<typeof editResultJson>> {
    const result = await editRoster({
      repo: flags.repo,
      request,
      dryRun: flags['dry-run'],
      commit: flags.commit,
    });
    const style = this.styleFor(flags['no-color']);
    if (flags['dry-run']) {
      this.write(result.diff);
      process.stderr.write(`${result.message} (dry run: nothing was written)\n`);
      return this.done(editResultJson(result, true));
    }
    for (const f of result.files) this.write(`Edited ${f.path}\n`);
    for (const c of result.changes)
      this.write(`  ${c.before && c.after ? '~' : c.after ? '+' : '-'} ${c.id}\n`);
    for (const w of result.warnings) process.stderr.write(`Warning: [${w.code}] ${w.message}\n`);
    if (result.commit) this.write(`Committed ${result.commit.slice(0, 12)}: ${result.message}\n`);
    if (!flags.apply) return this.done(editResultJson(result, false));
    const trap = trapInterrupts((signal) =>
      process.stderr.write(`\n${signal} received: stopping at a safe point and releasing the lock...\n`),
    );
    try {
      const applied = await applyRoster({
        repo: flags.repo,
        target: flags.apply,
        confirm: async (plan) => {
          this.write(renderPlanText(plan, { style }));
          return true;
        },
        signal: trap.signal,
        notice: (message) => process.stderr.write(`Note: ${message}\n`),
        ...progressOption(this.progress(flags.quiet)),
      });
      if (applied.outcome === 'no-changes') this.write('No changes. Nothing to apply.\n');
      else this.write(style.green(`${appliedLine(applied.plan, applied.state?.serial)}\n`));
      for (const w of applied.warnings ?? []) process.stderr.write(`Warning: ${w}\n`);
      return await this.done(editResultJson(result, false, applyResultJson(applied)));
    } finally {
      trap.release();
    }
  }
}
