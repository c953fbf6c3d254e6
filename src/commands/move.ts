import { Args, Flags } from '@oclif/core';
import { EditCommand } from '../edit-command.js';
import type { EditResultJson } from '../render/results.js';

export default class Move extends EditCommand {
  static override summary =
    "Move a user to another school: its school, and its enrollments in the old school's classes removed.";
  static override examples = ['<%= config.bin %> move stu-1042 --school sch-003 --commit'];
  static override args = { user: Args.string({ required: true, description: 'The user (sourcedId).' }) };
  static override flags = {
    ...EditCommand.editFlags,
    school: Flags.string({ required: true, description: 'The school it moves to (sourcedId).' }),
  };

  async run(): Promise<EditResultJson> {
    const { args, flags } = await this.parse(Move);
    return this.edit({ kind: 'move', user: args.user, school: flags.school }, flags);
  }
}
