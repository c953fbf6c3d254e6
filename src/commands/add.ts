import { Args, Flags } from '@oclif/core';
import { EditCommand } from '../edit-command.js';
import { UsageError } from '../errors.js';
import type { EditResultJson } from '../render/results.js';

export default class Add extends EditCommand {
  static override summary = 'Add a user or a class to the roster files, as the smallest diff.';
  static override description =
    'The new record is validated with the roster before anything is written, and placed where its siblings\' order puts it, in their style. Its sourcedId is --id, or made from the template in roster.config.yaml (ids: { users: "stu-{seq:6}" }).';
  static override examples = [
    '<%= config.bin %> add user --role student --given-name Ana --family-name Ruiz --school sch-002 --grade 09 --username ana.ruiz --id stu-1042',
    '<%= config.bin %> add class --course crs-alg1 --school sch-002 --term sy-2026-fall --title "Algebra I - 4"',
  ];
  static override args = {
    kind: Args.string({ required: true, options: ['user', 'class'], description: 'What to add.' }),
  };
  static override flags = {
    ...EditCommand.editFlags,
    id: Flags.string({
      description: "The new record's sourcedId (default: from the ids template in roster.config.yaml).",
    }),
    school: Flags.string({ description: 'The school (its sourcedId).', required: true }),
    role: Flags.string({
      description: 'user: the role (student, teacher, administrator, ...).',
      default: 'student',
    }),
    'given-name': Flags.string({ description: 'user: given name.' }),
    'family-name': Flags.string({ description: 'user: family name.' }),
    username: Flags.string({ description: 'user: username (default: the e-mail address before the @).' }),
    email: Flags.string({ description: 'user: e-mail address.' }),
    identifier: Flags.string({ description: "user: the district's identifier (student number)." }),
    grade: Flags.string({ multiple: true, description: 'user: grade level (CEDS: 09, KG; repeatable).' }),
    course: Flags.string({ description: 'class: its course (sourcedId).' }),
    term: Flags.string({
      multiple: true,
      description: 'class: its term (academic session sourcedId; repeatable).',
    }),
    title: Flags.string({ description: 'class: its title.' }),
    'class-code': Flags.string({ description: 'class: its class code.' }),
  };

  async run(): Promise<EditResultJson> {
    const { args, flags } = await this.parse(Add);
    const need = (name: keyof typeof flags, value: unknown): string => {
      if (typeof value !== 'string' || value === '')
        throw new UsageError(
          'USAGE',
          `roster add ${args.kind} needs --${name}`,
          `Run \`roster add --help\` for the flags.`,
        );
      return value;
    };
    if (args.kind === 'user') {
      return this.edit(
        {
          kind: 'add-user',
          role: flags.role,
          givenName: need('given-name', flags['given-name']),
          familyName: need('family-name', flags['family-name']),
          school: flags.school,
          ...(flags.username ? { username: flags.username } : {}),
          ...(flags.email ? { email: flags.email } : {}),
          ...(flags.identifier ? { identifier: flags.identifier } : {}),
          ...(flags.grade ? { grades: flags.grade } : {}),
          ...(flags.id ? { id: flags.id } : {}),
        },
        flags,
      );
    }
    if (!flags.term?.length) need('term', undefined);
    return this.edit(
      {
        kind: 'add-class',
        course: need('course', flags.course),
        school: flags.school,
        terms: flags.term!,
        title: need('title', flags.title),
        ...(flags['class-code'] ? { classCode: flags['class-code'] } : {}),
        ...(flags.id ? { id: flags.id } : {}),
      },
      flags,
    );
  }
}
