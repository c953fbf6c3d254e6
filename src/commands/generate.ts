import { Flags } from '@oclif/core';
import { BaseCommand } from '../base-command.js';
import { generateDistrict } from '../generate/generate.js';
import { commandResult } from '../render/results.js';
import { writeRoster } from '../services/write.js';

export default class Generate extends BaseCommand {
  static override summary = 'Write a seeded, realistic synthetic district (any size).';
  static override description =
    'Schools (elementary, middle, high), a school year with two semesters, courses, classes with teachers, students with enrollments and demographics. The same seed always gives the same roster. All people are invented.';
  static override examples = [
    '<%= config.bin %> generate --out demo --schools 3 --students 300 --seed 1',
    '<%= config.bin %> generate --out big --schools 40 --students 100000 --seed 7 --format csv --version 1.2',
  ];
  static override flags = {
    out: Flags.string({ required: true, description: 'Folder to write (or a .zip for --format csv).' }),
    schools: Flags.integer({ default: 3, min: 1, description: 'Number of schools.' }),
    students: Flags.integer({
      default: 300,
      min: 0,
      description: 'Number of students, spread over all grades.',
    }),
    name: Flags.string({ description: "The district's town name (default: chosen by the seed)." }),
    seed: Flags.string({ default: '1', description: 'Seed: the same seed gives the same district.' }),
    format: Flags.string({
      options: ['yaml', 'csv'],
      default: 'yaml',
      description: 'roster YAML or OneRoster CSV.',
    }),
    version: Flags.string({ options: ['1.1', '1.2'], default: '1.1', description: 'OneRoster version.' }),
    layout: Flags.string({
      options: ['single', 'per-school'],
      default: 'per-school',
      description: 'YAML only: one file, or one file per school.',
    }),
    force: Flags.boolean({ description: 'Replace roster files already in --out.' }),
  };

  async run(): Promise<ReturnType<typeof commandResult>> {
    const { flags } = await this.parse(Generate);
    const version = flags.version as '1.1' | '1.2';
    const roster = generateDistrict({
      schools: flags.schools,
      students: flags.students,
      seed: flags.seed,
      version,
      ...(flags.name ? { name: flags.name } : {}),
    });
    const to = flags.format === 'csv' ? (`oneroster-${version}` as const) : 'yaml';
    const result = await writeRoster(roster, {
      to,
      out: flags.out,
      force: flags.force,
      layout: flags.layout as 'single' | 'per-school',
    });
    const records = Object.fromEntries(
      roster
        .entities()
        .map((e) => [e, roster.table(e).size] as const)
        .filter(([, n]) => n > 0),
    );
    const counts = Object.entries(records)
      .map(([e, n]) => `${n} ${e}`)
      .join(', ');
    this.write(`Wrote ${result.files.length} file(s) to ${flags.out}: OneRoster ${version}, ${counts}\n`);
    return this.done(
      commandResult('generate', { out: flags.out, oneRosterVersion: version, files: result.files, records }),
    );
  }
}
