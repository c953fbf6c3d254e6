import { relative } from 'node:path';
import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '../base-command.js';
import { commandResult } from '../render/results.js';
import { initRepo } from '../services/init.js';

export default class Init extends BaseCommand {
  static override summary = 'Make a district repo: config, roster folder, .gitignore, workflows, README.';
  static override description =
    'Writes roster.config.yaml (a dir target to try things safely, commented sftp and batch examples), roster/ with the district org, a .gitignore that keeps .roster/ out of git, the GitHub workflows and a README. Only writes new files; runs git init when DIR is in no repository.';
  static override examples = [
    '<%= config.bin %> init my-district',
    '<%= config.bin %> init . --name "Lincoln Public Schools"',
  ];
  static override args = {
    dir: Args.string({ description: 'The folder (created if needed).', default: '.' }),
  };
  static override flags = {
    name: Flags.string({ description: "The district's name (default: from the folder's name)." }),
  };

  async run(): Promise<ReturnType<typeof commandResult>> {
    const { args, flags } = await this.parse(Init);
    const result = await initRepo(args.dir, flags.name ? { name: flags.name } : {});
    const where = relative(process.cwd(), result.dir) || '.';
    this.write(
      `Created a district repo in ${where}${result.gitInitialized ? (result.committed ? ' (git init, first commit)' : ' (git init; commit when git knows your name)') : ''}:\n${result.created.map((f) => `  ${f}\n`).join('')}\nNext:\n${where === '.' ? '' : `  cd ${where}\n`}  npx roster import --from oneroster EXPORT.zip   (or add schools to roster/ by hand)\n  npx roster validate\n  npx roster plan\n`,
    );
    return this.done(commandResult('init', result));
  }
}
