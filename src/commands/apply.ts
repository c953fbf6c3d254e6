import { createInterface } from 'node:readline/promises';
import { Args, Flags } from '@oclif/core';
import { BaseCommand, progressOption } from '../base-command.js';
import { RosterError, UsageError } from '../errors.js';
import { trapInterrupts } from '../interrupts.js';
import type { Plan as PlanData } from '../plan/plan.js';
import { readPlanFile } from '../plan/plan-file.js';
import { appliedLine, renderPlanText } from '../render/plan.js';
import { type ApplyResultJson, applyResultJson } from '../render/results.js';
import { applyRoster } from '../services/apply.js';

export default class Apply extends BaseCommand {
  static override summary =
    'Deliver the roster to a target: exactly a saved plan, or a fresh plan after confirmation.';
  static override description =
    "Takes the target's lock, plans again, refuses a saved plan that is stale, a held plan (unless --allow-mass-change) and a blackout window (unless --ignore-blackout), delivers, and records the new state. On a terminal it asks for confirmation; elsewhere it needs a plan file or --auto-approve.";
  static override examples = [
    '<%= config.bin %> apply plan.json',
    '<%= config.bin %> apply --auto-approve',
    '<%= config.bin %> apply --target local --lock-timeout 5m',
  ];
  static override args = { planfile: Args.string({ description: 'A plan saved with `roster plan --out`.' }) };
  static override flags = {
    ...BaseCommand.repoFlags,
    ...BaseCommand.detailLimitFlag,
    'auto-approve': Flags.boolean({ description: 'Do not ask for confirmation.' }),
    'allow-mass-change': Flags.boolean({
      description:
        'Apply a plan held by a safety check (mass delete or update, missing file, suspected id change).',
    }),
    'ignore-blackout': Flags.boolean({ description: 'Apply inside a blackout window of the target.' }),
    'lock-timeout': Flags.string({
      default: '0s',
      description: 'How long to wait for another apply to release the lock, e.g. 30s or 5m.',
    }),
    'show-personal-data': Flags.boolean({
      description: 'Show personal data in the plan shown before confirmation.',
    }),
  };

  async run(): Promise<ApplyResultJson> {
    const { args, flags } = await this.parse(Apply);
    const savedPlan = args.planfile ? readPlanFile(args.planfile) : undefined;
    if (savedPlan && flags.target && flags.target !== savedPlan.target.name) {
      throw new UsageError(
        'TARGET_MISMATCH',
        `the plan is for target "${savedPlan.target.name}", not "${flags.target}"`,
        'Leave out --target when applying a plan file.',
      );
    }
    // With --json, stdout is a program's: no prompt there.
    const interactive = process.stdin.isTTY && process.stdout.isTTY && !this.jsonEnabled();
    if (!savedPlan && !flags['auto-approve'] && !interactive) {
      throw new UsageError(
        'APPROVAL_REQUIRED',
        'apply needs approval and there is no terminal to ask',
        'Pass a saved plan (roster plan --out plan.json; roster apply plan.json) or --auto-approve.',
      );
    }
    const style = this.styleFor(flags['no-color']);
    // Ctrl-C, or a CI runner cancelling the job: stop at a safe point and release the lock.
    const trap = trapInterrupts((signal) =>
      process.stderr.write(`\n${signal} received: stopping at a safe point and releasing the lock...\n`),
    );
    const confirm = async (plan: PlanData) => {
      this.write(renderPlanText(plan, { style, detailLimit: flags['detail-limit'] }));
      if (flags['auto-approve']) return true;
      const rl = createInterface({ input: process.stdin, output: process.stdout });
      // On a terminal, Ctrl-C reaches readline, not the process: pass it on.
      rl.on('SIGINT', () => process.emit('SIGINT', 'SIGINT'));
      try {
        const answer = await rl.question(
          `\nApply this plan to target "${plan.target.name}"? Only 'yes' is accepted: `,
          { signal: trap.signal },
        );
        return answer.trim() === 'yes';
      } catch (err) {
        if (trap.signal.aborted) return false; // the service reports the interruption
        throw err;
      } finally {
        rl.close();
      }
    };
    try {
      const result = await applyRoster({
        repo: flags.repo,
        target: savedPlan?.target.name ?? flags.target,
        ...(savedPlan ? { savedPlan } : {}),
        allowMassChange: flags['allow-mass-change'],
        ignoreBlackout: flags['ignore-blackout'],
        lockTimeoutMs: parseDuration(flags['lock-timeout']),
        showPersonalData: flags['show-personal-data'],
        confirm,
        signal: trap.signal,
        notice: (message) => process.stderr.write(`Note: ${message}\n`),
        ...progressOption(this.progress(flags.quiet)),
      });
      if (result.outcome === 'no-changes') this.write('No changes. Nothing to apply.\n');
      else if (result.outcome === 'cancelled')
        throw new RosterError('CANCELLED', 'apply was cancelled at the prompt; nothing was applied', {
          hint: "Only 'yes' applies the plan.",
        });
      else {
        this.write(style.green(`${appliedLine(result.plan, result.state?.serial)}\n`));
        for (const w of result.warnings ?? []) process.stderr.write(`Warning: ${w}\n`);
      }
      return await this.done(applyResultJson(result));
    } finally {
      trap.release();
    }
  }
}

/** "30s", "5m", "1h", "250ms" or a number of seconds -> milliseconds. */
export function parseDuration(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (!m) throw new UsageError('USAGE', `"${text}" is not a duration`, 'Write e.g. 30s, 5m or 1h.');
  const n = Number(m[1]);
  const unit = m[2] ?? 's';
  return Math.round(n * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[unit]!);
}
