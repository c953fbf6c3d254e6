import { Args } from '@oclif/core';
import { EditCommand } from '../edit-command.js';
import type { EditResultJson } from '../render/results.js';

export default class Withdraw extends EditCommand {
  static override summary =
    'Withdraw a user: the user, its enrollments and demographics removed from the roster files.';
  static override examples = [
    '<%= config.bin %> withdraw stu-1042 --dry-run',
    '<%= config.bin %> withdraw stu-1042 --commit --apply vendor',
  ];
  static override args = { user: Args.string({ required: true, description: 'The user (sourcedId).' }) };
  static override flags = { ...EditCommand.editFlags };

  async run(): Promise<EditResultJson> {
    const { args, flags } = await this.parse(Withdraw);
    return this.edit({ kind: 'withdraw', user: args.user }, flags);
  }
}
