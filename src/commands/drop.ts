import { Args } from '@oclif/core';
import { EditCommand } from '../edit-command.js';
import type { EditResultJson } from '../render/results.js';

export default class Drop extends EditCommand {
  static override summary =
    'Drop a user from a class (its enrollments in that class removed from the roster files).';
  static override examples = ['<%= config.bin %> drop stu-1042 cls-alg1-03 --commit'];
  static override args = {
    user: Args.string({ required: true, description: 'The user (sourcedId).' }),
    class: Args.string({ required: true, description: 'The class (sourcedId).' }),
  };
  static override flags = { ...EditCommand.editFlags };

  async run(): Promise<EditResultJson> {
    const { args, flags } = await this.parse(Drop);
    return this.edit({ kind: 'drop', user: args.user, class: args.class }, flags);
  }
}
