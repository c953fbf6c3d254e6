import { Args } from '@oclif/core';
import { EditCommand } from '../edit-command.js';
import { UsageError } from '../errors.js';
import type { EditResultJson } from '../render/results.js';

export default class SetFields extends EditCommand {
  static override summary =
    "Change fields of one record in the roster files: only those values' bytes change.";
  static override examples = [
    '<%= config.bin %> set users/stu-1042 grades=10 email=ana.ruiz@district.example',
    '<%= config.bin %> set classes/cls-alg1-03 title="Algebra I - 3" --dry-run',
  ];
  static override strict = false;
  static override args = {
    record: Args.string({ required: true, description: 'entity/sourcedId (a bare sourcedId is a user).' }),
  };
  static override flags = { ...EditCommand.editFlags };

  async run(): Promise<EditResultJson> {
    const { args, argv, flags } = await this.parse(SetFields);
    const pairs = (argv as string[]).slice(1);
    if (pairs.length === 0)
      throw new UsageError(
        'USAGE',
        'roster set needs FIELD=VALUE',
        'For example: roster set users/stu-1042 grades=10',
      );
    const fields: Record<string, string> = {};
    for (const pair of pairs) {
      const eq = pair.indexOf('=');
      if (eq <= 0)
        throw new UsageError(
          'USAGE',
          `"${pair}" is not FIELD=VALUE`,
          'For example: grades=10 (an empty value empties the field: middleName=).',
        );
      fields[pair.slice(0, eq)] = pair.slice(eq + 1);
    }
    return this.edit({ kind: 'set', record: args.record, fields }, flags);
  }
}
