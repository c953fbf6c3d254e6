import { Args } from '@oclif/core';
import { BaseCommand } from '../base-command.js';
import { textconv } from '../services/git-setup.js';

/** What git runs for the `roster` diff driver (roster git-setup): a roster file as records, one value per line. */
export default class GitTextconv extends BaseCommand {
  static override hidden = true;
  // git reads its text: there is no result to give as JSON.
  static override enableJsonFlag = false;
  static override summary =
    "A roster file as records, one value per line (git's textconv for the roster diff driver).";
  static override args = { file: Args.string({ required: true, description: 'The file git hands over.' }) };

  async run(): Promise<void> {
    const { args } = await this.parse(GitTextconv);
    await this.writeChunks([await textconv(args.file)]);
  }
}
