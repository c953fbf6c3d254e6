import { Flags } from '@oclif/core';
import { BaseCommand } from '../base-command.js';
import { commandResult } from '../render/results.js';
import { gitSetup, gitSetupRemove } from '../services/git-setup.js';

export default class GitSetup extends BaseCommand {
  static override summary =
    'Make git diff and git log -p show roster files record by record (a git diff driver).';
  static override description =
    "Writes a block to .gitattributes (commit it: it says which files use the driver) and the `roster` diff driver to this clone's git config (textconv and xfuncname: each hunk is headed by the record it is in). Every clone runs roster git-setup once; --remove undoes both.";
  static override examples = [
    '<%= config.bin %> git-setup',
    'git log -p roster/',
    '<%= config.bin %> git-setup --remove',
  ];
  static override flags = {
    repo: BaseCommand.repoFlags.repo,
    remove: Flags.boolean({
      description: 'Remove the block from .gitattributes and the driver from the git config.',
    }),
  };

  async run(): Promise<ReturnType<typeof commandResult>> {
    const { flags } = await this.parse(GitSetup);
    if (flags.remove) {
      const result = await gitSetupRemove({ repo: flags.repo });
      this.write(
        result.changed
          ? `Removed the roster diff driver (git config) and its block in ${result.gitattributes}.\n`
          : 'The roster diff driver was not set up here: nothing to remove.\n',
      );
      return this.done(commandResult('git-setup', { removed: true, ...result }));
    }
    // How git runs this roster: the same Node.js and the same CLI (an absolute path: the config is this clone's).
    const result = await gitSetup({ repo: flags.repo, command: [process.execPath, process.argv[1]!] });
    this.write(
      `${result.changed ? 'Set up' : 'Already set up:'} the roster diff driver for ${result.patterns.join(', ')}.\n` +
        `  ${result.gitattributes}: which files use it (commit this file)\n` +
        '  .git/config: diff.roster.textconv, xfuncname (this clone only; other clones run roster git-setup too)\n' +
        'Try: git log -p -- roster/    git diff HEAD~1 -- roster/\n',
    );
    return this.done(commandResult('git-setup', { removed: false, ...result }));
  }
}
