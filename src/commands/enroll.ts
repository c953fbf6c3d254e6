import { Args, Flags } from '@oclif/core';
import { EditCommand } from '../edit-command.js';
import type { EditResultJson } from '../render/results.js';

export default class Enroll extends EditCommand {
  static override summary = 'Enroll a user in a class (one enrollment added to the roster files).';
  static override examples = [
    '<%= config.bin %> enroll stu-1042 cls-alg1-03',
    '<%= config.bin %> enroll tch-0007 cls-alg1-03 --role teacher --primary --commit',
  ];
  static override args = {
    user: Args.string({ required: true, description: 'The user (sourcedId).' }),
    class: Args.string({ required: true, description: 'The class (sourcedId).' }),
  };
  static override flags = {
    ...EditCommand.editFlags,
    role: Flags.string({ default: 'student', description: 'The enrollment role (student, teacher, ...).' }),
    primary: Flags.boolean({ description: 'The primary teacher of the class.' }),
  };

  async run(): Promise<EditResultJson> {
    const { args, flags } = await this.parse(Enroll);
    return this.edit(
      { kind: 'enroll', user: args.user, class: args.class, role: flags.role, primary: flags.primary },
      flags,
    );
  }
}
