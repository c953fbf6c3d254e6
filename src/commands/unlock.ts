import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '../base-command.js';
import { UsageError } from '../errors.js';
import { commandResult } from '../render/results.js';
import { unlockTarget } from '../services/unlock.js';

export default class Unlock extends BaseCommand {
  static override summary = "Remove a target's lock left by a process that died.";
  static override description =
    'Only for a dead holder: removing the lock of a running apply lets two applies overlap.';
  static override examples = ['<%= config.bin %> unlock local --force'];
  static override args = {
    target: Args.string({ required: true, description: 'The target whose lock to remove.' }),
  };
  static override flags = {
    repo: BaseCommand.repoFlags.repo,
    force: Flags.boolean({ description: 'Required: confirms that the holder is gone.' }),
  };

  async run(): Promise<ReturnType<typeof commandResult>> {
    const { args, flags } = await this.parse(Unlock);
    if (!flags.force)
      throw new UsageError(
        'FORCE_REQUIRED',
        'unlock removes a lock whoever holds it',
        `Check that no apply is running, then run \`roster unlock ${args.target} --force\`.`,
      );
    const held = await unlockTarget({ repo: flags.repo, target: args.target });
    if (!held) {
      this.write(`Target "${args.target}" was not locked.\n`);
      return this.done(commandResult('unlock', { target: args.target, wasLocked: false }));
    }
    process.stderr.write(
      `Warning: removed the lock of ${held.holder} (${held.operation}, since ${held.createdAt})${held.stale ? '' : '; that process may still be running'}.\n`,
    );
    this.write(`Target "${args.target}" is unlocked.\n`);
    return this.done(commandResult('unlock', { target: args.target, wasLocked: true, lock: held }));
  }
}
