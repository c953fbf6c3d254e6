import { Args, Command, loadHelpClass } from '@oclif/core';

/** `roster help [COMMAND]`: the same help as `--help` (oclif's own), for those who type it first. */
export default class Help extends Command {
  static override summary = 'Show help for roster, or for one command.';
  static override examples = ['<%= config.bin %> help', '<%= config.bin %> help plan'];
  static override args = { command: Args.string({ description: 'The command, e.g. plan or sandbox sync.' }) };
  static override strict = false;

  async run(): Promise<void> {
    const { argv } = await this.parse(Help);
    const HelpClass = await loadHelpClass(this.config);
    await new HelpClass(this.config).showHelp(argv as string[]);
  }
}
