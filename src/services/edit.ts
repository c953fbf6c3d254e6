/**
 * Manual edits of the roster (`roster add`, `set`, `enroll`, `drop`, `move`, `withdraw`): one
 * administrator's change, written to the roster files as the smallest diff a person would make by
 * hand, so that the pull request shows exactly that edit.
 *
 * 1. The edit is worked out on records (what is added, changed, removed), with clear errors for a
 *    record that is not there ("did you mean").
 * 2. The files are edited in place (formats/csv/edit-csv.ts, formats/yaml/edit-yaml.ts); every
 *    other byte stays as it was.
 * 3. The edited files are read back: their record diff must be exactly the edit (else nothing is
 *    written), and the roster must stay valid (no new error).
 * 4. Written atomically, each file refused if it changed on disk meanwhile; then, if asked, the
 *    files are committed and applied to a target.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { createTwoFilesPatch } from 'diff';
import { simpleGit } from 'simple-git';
import { loadRepoConfig, type RosterConfig } from '../config/config.js';
import { ensurePrivateDir, workspaceDir } from '../config/workspace.js';
import { type Diagnostic, Diagnostics } from '../diagnostic.js';
import { RosterError, UsageError } from '../errors.js';
import { CsvEditError, editCsv } from '../formats/csv/edit-csv.js';
import { closest } from '../formats/oneroster-csv/header.js';
import { readOneRoster } from '../formats/oneroster-csv/read.js';
import { memoryFiles } from '../formats/package-files.js';
import {
  get,
  isMap,
  isScalar,
  isSeq,
  scalarText,
  type YAMLMap,
  type YAMLSeq,
  YamlEditError,
  YamlFileEdit,
  yamlFlowList,
  yamlScalar,
} from '../formats/yaml/edit-yaml.js';
import { readRosterYaml, YAML_EXTENSIONS } from '../formats/yaml/read.js';
import { CLASS_ENROLLMENT_LISTS } from '../formats/yaml/shape.js';
import {
  diffRecordFiles,
  type RecordChange,
  type RecordValues,
  recordId,
  sameValues,
  valuesOf,
} from '../git/record-diff.js';
import { derivedEnrollmentId, derivedRoleId } from '../model/derived-ids.js';
import { ENTITIES, type EntityName, isEntityName, isListType } from '../model/entities.js';
import { normalizeRecord, splitList } from '../model/normalize.js';
import type { Roster } from '../model/roster.js';
import { locateRoster } from '../source/load.js';
import { InvalidRosterError, summarize, validateRoster } from '../validate/validate.js';

/** What the administrator asked for. */
export type EditRequest =
  | {
      readonly kind: 'add-user';
      readonly role: string;
      readonly givenName: string;
      readonly familyName: string;
      readonly school: string;
      readonly username?: string;
      readonly email?: string;
      readonly identifier?: string;
      readonly grades?: readonly string[];
      readonly id?: string;
    }
  | {
      readonly kind: 'add-class';
      readonly course: string;
      readonly school: string;
      readonly terms: readonly string[];
      readonly title: string;
      readonly classCode?: string;
      readonly id?: string;
    }
  | { readonly kind: 'set'; readonly record: string; readonly fields: Readonly<Record<string, string>> }
  | {
      readonly kind: 'enroll';
      readonly user: string;
      readonly class: string;
      readonly role: string;
      readonly primary: boolean;
    }
  | { readonly kind: 'drop'; readonly user: string; readonly class: string }
  | { readonly kind: 'move'; readonly user: string; readonly school: string }
  | { readonly kind: 'withdraw'; readonly user: string };

export interface EditOptions {
  readonly repo: string;
  readonly request: EditRequest;
  /** Print the diff, write nothing. */
  readonly dryRun?: boolean;
  /** Commit the edited files (only them) with a generated message. */
  readonly commit?: boolean;
  /** For tests: runs between reading the files and writing them. */
  readonly beforeWrite?: () => void;
}

/** One file the edit changes. */
export interface EditedFile {
  /** From the repo's root. */
  readonly path: string;
  readonly before: Buffer;
  readonly after: Buffer;
}

export interface EditResult {
  /** What was done, as the commit message says it: `roster: enroll stu-1042 in cls-alg1-03`. */
  readonly message: string;
  readonly files: readonly EditedFile[];
  /** A unified diff of every file (made with the `diff` package). */
  readonly diff: string;
  /** The record changes (the read-back of the files: exactly the edit). */
  readonly changes: readonly RecordChange[];
  readonly written: boolean;
  /** The commit made (with --commit). */
  readonly commit?: string;
  /** Warnings of the edited roster that are new (the edit is made; they are worth a look). */
  readonly warnings: readonly Diagnostic[];
}

/** The edit on records: what is added, changed (new values of some fields) and removed. */
interface RecordEdit {
  readonly message: string;
  readonly add: { entity: EntityName; record: Record<string, string> }[];
  readonly set: { entity: EntityName; id: string; fields: Record<string, string> }[];
  readonly remove: { entity: EntityName; id: string }[];
  /** For a YAML roster: a user moved to another school (its entry moves with it). */
  readonly move?: { user: string; from: string; to: string };
}

function editError(code: string, message: string, hint?: string): UsageError {
  return new UsageError(code, message, hint);
}

/** The roster's records by entity and id, looked up by the edit. */
class RosterLookup {
  private readonly maps = new Map<EntityName, Map<string, number>>();
  constructor(readonly roster: Roster) {}

  private map(entity: EntityName): Map<string, number> {
    let m = this.maps.get(entity);
    if (!m) {
      m = new Map();
      const t = this.roster.table(entity);
      for (let i = 0; i < t.size; i++) m.set(t.value(i, 'sourcedId'), i);
      this.maps.set(entity, m);
    }
    return m;
  }

  find(entity: EntityName, id: string): RecordValues | undefined {
    const i = this.map(entity).get(id);
    return i === undefined ? undefined : valuesOf(this.roster.table(entity).get(i));
  }

  /** The record, or an error naming the closest ids. */
  need(entity: EntityName, id: string, what: string, filter?: (r: RecordValues) => boolean): RecordValues {
    const found = this.find(entity, id);
    if (found && (!filter || filter(found))) return found;
    const ids = [...this.map(entity).keys()].filter((k) => !filter || filter(this.find(entity, k)!));
    const near =
      closest(id, ids) ??
      ids.find((k) => k.replace(/(^|\D)0+(?=\d)/g, '$1') === id.replace(/(^|\D)0+(?=\d)/g, '$1'));
    throw editError(
      'EDIT_NOT_FOUND',
      `there is no ${what} ${id} in the roster${near ? `; did you mean ${near}?` : ''}`,
      `Give the sourcedId of an existing ${what}.`,
    );
  }

  ids(entity: EntityName): IterableIterator<string> {
    return this.map(entity).keys();
  }

  /** Records of `entity` whose `field` is `value`. */
  where(entity: EntityName, field: string, value: string): RecordValues[] {
    const t = this.roster.table(entity);
    const out: RecordValues[] = [];
    for (let i = 0; i < t.size; i++) if (t.value(i, field) === value) out.push(valuesOf(t.get(i)));
    return out;
  }
}

/** A new record's id: --id, or the config's template (`stu-{seq:6}`: one above the highest such id). */
function newId(
  config: RosterConfig,
  lookup: RosterLookup,
  entity: EntityName,
  given: string | undefined,
): string {
  if (given !== undefined) {
    if (lookup.find(entity, given))
      throw editError('EDIT_ID_TAKEN', `${entity} ${given} exists already`, 'Give another --id.');
    return given;
  }
  const template = config.ids?.[entity];
  if (!template)
    throw editError(
      'EDIT_ID_NEEDED',
      `a new ${entity} record needs a sourcedId: pass --id, or give a template in roster.config.yaml`,
      `For example:\n  ids:\n    ${entity}: "${entity === 'users' ? 'stu' : entity.slice(0, 3)}-{seq:6}"`,
    );
  const m = /^(.*)\{seq(?::(\d+))?\}(.*)$/.exec(template);
  if (!m) return template;
  const [, prefix, width, suffix] = m as unknown as [string, string, string | undefined, string];
  let highest = 0;
  for (const id of lookup.ids(entity)) {
    if (!id.startsWith(prefix) || !id.endsWith(suffix)) continue;
    const n = id.slice(prefix.length, id.length - suffix.length);
    if (/^\d+$/.test(n)) highest = Math.max(highest, Number(n));
  }
  return `${prefix}${String(highest + 1).padStart(Number(width ?? 1), '0')}${suffix}`;
}

/** The edit on records for `request`. */
function planEdit(config: RosterConfig, lookup: RosterLookup, request: EditRequest): RecordEdit {
  const schoolOf = (id: string) => lookup.need('orgs', id, 'school', (r) => r.type === 'school');
  const userOf = (id: string) => lookup.need('users', id, 'user');
  switch (request.kind) {
    case 'add-user': {
      schoolOf(request.school);
      const id = newId(config, lookup, 'users', request.id);
      const record: Record<string, string> = {
        sourcedId: id,
        enabledUser: 'true',
        orgSourcedIds: request.school,
        role: request.role,
        username: request.username ?? (request.email ? request.email.split('@')[0]! : ''),
        givenName: request.givenName,
        familyName: request.familyName,
        ...(request.identifier ? { identifier: request.identifier } : {}),
        ...(request.email ? { email: request.email } : {}),
        ...(request.grades?.length ? { grades: request.grades.join(',') } : {}),
      };
      const add: RecordEdit['add'] = [{ entity: 'users', record }];
      if (lookup.roster.version === '1.2') {
        // 1.2 keeps a user's role and school in roles.csv: one primary role row.
        delete record.role;
        delete record.orgSourcedIds;
        add.push({ entity: 'roles', record: roleRow(id, request.school, request.role) });
      }
      return { message: `roster: add ${request.role} ${id} at ${request.school}`, add, set: [], remove: [] };
    }
    case 'add-class': {
      schoolOf(request.school);
      lookup.need('courses', request.course, 'course');
      for (const t of request.terms) lookup.need('academicSessions', t, 'term');
      const id = newId(config, lookup, 'classes', request.id);
      const record: Record<string, string> = {
        sourcedId: id,
        title: request.title,
        ...(request.classCode ? { classCode: request.classCode } : {}),
        classType: 'scheduled',
        courseSourcedId: request.course,
        schoolSourcedId: request.school,
        termSourcedIds: request.terms.join(','),
      };
      return {
        message: `roster: add class ${id} (${request.title}) at ${request.school}`,
        add: [{ entity: 'classes', record }],
        set: [],
        remove: [],
      };
    }
    case 'set': {
      const slash = request.record.indexOf('/');
      const entity = slash > 0 ? request.record.slice(0, slash) : 'users';
      const id = slash > 0 ? request.record.slice(slash + 1) : request.record;
      if (!isEntityName(entity))
        throw editError(
          'EDIT_BAD_RECORD',
          `${entity} is not an entity`,
          'Write entity/sourcedId, e.g. users/stu-1042.',
        );
      lookup.need(entity, id, entity.replace(/s$/, ''));
      const spec = ENTITIES[entity].fields;
      const fields: Record<string, string> = {};
      for (const [name, value] of Object.entries(request.fields)) {
        if (name === 'sourcedId')
          throw editError(
            'EDIT_BAD_FIELD',
            'a record keeps its sourcedId',
            'Add a new record and withdraw the old one instead.',
          );
        const table = lookup.roster.table(entity);
        if (!spec[name] && !table.extensionFields.includes(name)) {
          const near = closest(name, Object.keys(spec));
          throw editError(
            'EDIT_BAD_FIELD',
            `${entity} have no field ${name}${near ? `; did you mean ${near}?` : ''}`,
            `The fields of ${entity}: ${Object.keys(spec).join(', ')}.`,
          );
        }
        fields[name] = value;
      }
      return {
        message: `roster: set ${Object.keys(fields).join(', ')} of ${entity}/${id}`,
        add: [],
        set: [{ entity, id, fields }],
        remove: [],
      };
    }
    case 'enroll': {
      userOf(request.user);
      const cls = lookup.need('classes', request.class, 'class');
      const existing = lookup
        .where('enrollments', 'userSourcedId', request.user)
        .find((e) => e.classSourcedId === request.class && e.role === request.role);
      if (existing)
        throw editError(
          'EDIT_ALREADY',
          `${request.user} is enrolled in ${request.class} as ${request.role} already (${existing.sourcedId})`,
        );
      const id = config.ids?.enrollments
        ? newId(config, lookup, 'enrollments', undefined)
        : derivedEnrollmentId(request.class, request.user, request.role);
      const record: Record<string, string> = {
        sourcedId: id,
        classSourcedId: request.class,
        schoolSourcedId: cls.schoolSourcedId ?? '',
        userSourcedId: request.user,
        role: request.role,
        ...(request.primary ? { primary: 'true' } : {}),
      };
      return {
        message: `roster: enroll ${request.user} in ${request.class}${request.role !== 'student' ? ` as ${request.role}` : ''}`,
        add: [{ entity: 'enrollments', record }],
        set: [],
        remove: [],
      };
    }
    case 'drop': {
      userOf(request.user);
      lookup.need('classes', request.class, 'class');
      const gone = lookup
        .where('enrollments', 'userSourcedId', request.user)
        .filter((e) => e.classSourcedId === request.class);
      if (gone.length === 0)
        throw editError(
          'EDIT_NOT_FOUND',
          `${request.user} is not enrolled in ${request.class}`,
          `roster log ${request.user} --related shows its enrollments' history.`,
        );
      return {
        message: `roster: drop ${request.user} from ${request.class}`,
        add: [],
        set: [],
        remove: gone.map((e) => ({ entity: 'enrollments' as const, id: e.sourcedId! })),
      };
    }
    case 'move': {
      const user = userOf(request.user);
      schoolOf(request.school);
      if (lookup.roster.version === '1.2') {
        // 1.2: the user's primary role row moves (its id is derived from user, school and role).
        const roles = lookup.where('roles', 'userSourcedId', request.user);
        const primary = roles.find((r) => r.roleType === 'primary') ?? roles[0];
        if (!primary)
          throw editError(
            'EDIT_NOT_IN_PLACE',
            `${request.user} has no role row to move`,
            'Edit roles.csv by hand.',
          );
        const from = primary.orgSourcedId!;
        if (from === request.school)
          throw editError('EDIT_ALREADY', `${request.user} is at ${request.school} already`);
        const gone = lookup
          .where('enrollments', 'userSourcedId', request.user)
          .filter((e) => e.schoolSourcedId === from);
        return {
          message: `roster: move ${request.user} from ${from} to ${request.school}`,
          add: [
            {
              entity: 'roles',
              record: {
                ...primary,
                ...roleRow(request.user, request.school, primary.role!),
                roleType: primary.roleType!,
              },
            },
          ],
          set: [],
          remove: [
            { entity: 'roles', id: primary.sourcedId! },
            ...gone.map((e) => ({ entity: 'enrollments' as const, id: e.sourcedId! })),
          ],
          move: { user: request.user, from, to: request.school },
        };
      }
      const orgs = splitList(user.orgSourcedIds ?? '');
      const schools = new Set(
        [...lookup.ids('orgs')].filter((o) => lookup.find('orgs', o)?.type === 'school'),
      );
      const from = orgs.find((o) => schools.has(o));
      if (from === request.school)
        throw editError('EDIT_ALREADY', `${request.user} is at ${request.school} already`);
      const next = from ? orgs.map((o) => (o === from ? request.school : o)) : [...orgs, request.school];
      // The enrollments in classes of the school left behind go (its classes are not the new school's).
      const gone = from
        ? lookup.where('enrollments', 'userSourcedId', request.user).filter((e) => e.schoolSourcedId === from)
        : [];
      return {
        message: `roster: move ${request.user} from ${from ?? 'no school'} to ${request.school}`,
        add: [],
        set: [{ entity: 'users', id: request.user, fields: { orgSourcedIds: next.join(',') } }],
        remove: gone.map((e) => ({ entity: 'enrollments' as const, id: e.sourcedId! })),
        ...(from ? { move: { user: request.user, from, to: request.school } } : {}),
      };
    }
    case 'withdraw': {
      userOf(request.user);
      const remove: { entity: EntityName; id: string }[] = [{ entity: 'users', id: request.user }];
      for (const e of lookup.where('enrollments', 'userSourcedId', request.user))
        remove.push({ entity: 'enrollments', id: e.sourcedId! });
      if (lookup.find('demographics', request.user))
        remove.push({ entity: 'demographics', id: request.user });
      for (const entity of ['roles', 'userProfiles'] as const)
        for (const r of lookup.where(entity, 'userSourcedId', request.user))
          remove.push({ entity, id: r.sourcedId! });
      return { message: `roster: withdraw ${request.user}`, add: [], set: [], remove };
    }
  }
}

/** A 1.2 primary role row, its id derived as roster YAML derives it. */
function roleRow(user: string, org: string, role: string): Record<string, string> {
  return {
    sourcedId: derivedRoleId(user, org, role),
    userSourcedId: user,
    roleType: 'primary',
    role,
    orgSourcedId: org,
  };
}

/** The record changes the edit means, as read back from files (values normalized, empties left out). */
function expectedChanges(lookup: RosterLookup, edit: RecordEdit): RecordChange[] {
  const out: RecordChange[] = [];
  for (const a of edit.add)
    out.push({
      id: recordId(a.entity, a.record.sourcedId!),
      after: valuesOf(normalizeRecord(a.entity, a.record)),
    });
  for (const s of edit.set) {
    const before = lookup.find(s.entity, s.id)!;
    const after = valuesOf(normalizeRecord(s.entity, { ...before, ...s.fields }));
    if (!sameValues(before, after)) out.push({ id: recordId(s.entity, s.id), before, after });
  }
  for (const r of edit.remove)
    out.push({ id: recordId(r.entity, r.id), before: lookup.find(r.entity, r.id)! });
  return out.sort((x, y) => (x.id < y.id ? -1 : 1));
}

/** The roster files (path from the roster folder → bytes) that can hold records. */
function rosterFiles(location: string, yaml: boolean): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, e.name);
      if (e.isDirectory()) {
        if (yaml && !e.name.startsWith('.')) walk(path);
        continue;
      }
      const rel = relative(location, path);
      if (yaml ? YAML_EXTENSIONS.some((x) => e.name.endsWith(x)) : e.name.endsWith('.csv'))
        out.set(rel, readFileSync(path));
    }
  };
  walk(location);
  return out;
}

/** Edits a OneRoster CSV roster's files. */
function editCsvFiles(files: Map<string, Buffer>, edit: RecordEdit): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  const entities = new Set<EntityName>([...edit.add, ...edit.set, ...edit.remove].map((x) => x.entity));
  for (const entity of entities) {
    const file = ENTITIES[entity].file;
    const bytes = files.get(file);
    if (!bytes)
      throw editError('EDIT_NO_FILE', `the roster has no ${file}`, `Add ${file} with its header first.`);
    try {
      out.set(
        file,
        editCsv(bytes, {
          add: edit.add.filter((a) => a.entity === entity).map((a) => a.record),
          set: new Map(edit.set.filter((s) => s.entity === entity).map((s) => [s.id, s.fields])),
          remove: new Set(edit.remove.filter((r) => r.entity === entity).map((r) => r.id)),
        }),
      );
    } catch (err) {
      if (err instanceof CsvEditError)
        throw editError(
          'EDIT_NOT_IN_PLACE',
          `${file}: ${err.message}`,
          'Edit the file by hand, or fix it first (roster validate).',
        );
      throw err;
    }
  }
  return out;
}

/** Where a record stands in a roster YAML file. */
interface YamlPlace {
  readonly file: string;
  readonly edit: YamlFileEdit;
  /** The record's mapping (undefined for a bare enrollment: a user id in a class list). */
  readonly map: YAMLMap | undefined;
  readonly seq: YAMLSeq;
  readonly index: number;
  /** Fields its place implies (not written in the file). */
  readonly implied: Readonly<Record<string, string>>;
}

/** The records of the YAML files, found by walking their documents (only files that mention `ids`). */
class YamlRoster {
  readonly edits = new Map<string, YamlFileEdit>();
  private readonly places = new Map<string, YamlPlace>();
  /** School id → its mapping (and file). */
  readonly schools = new Map<string, { file: string; edit: YamlFileEdit; map: YAMLMap }>();
  /** Class id → its mapping. */
  readonly classes = new Map<string, { file: string; edit: YamlFileEdit; map: YAMLMap; school?: string }>();
  /** Top-level lists: entity → [file, seq]. */
  readonly lists = new Map<EntityName, { file: string; edit: YamlFileEdit; seq: YAMLSeq }>();

  constructor(files: Map<string, Buffer>, mention: readonly string[]) {
    for (const [file, bytes] of files) {
      const text = bytes.toString('utf8');
      if (
        !mention.some((id) => text.includes(id)) &&
        !/^(users|enrollments|classes|demographics):/m.test(text)
      )
        continue;
      let edit: YamlFileEdit;
      try {
        edit = new YamlFileEdit(text);
      } catch (err) {
        throw editError(
          'EDIT_NOT_IN_PLACE',
          `${file} does not parse: ${(err as Error).message}`,
          'Fix it first (roster validate).',
        );
      }
      this.edits.set(file, edit);
      this.walk(file, edit);
    }
  }

  private walk(file: string, edit: YamlFileEdit): void {
    const root = edit.doc.contents;
    if (!isMap(root)) return;
    for (const pair of root.items) {
      const key = scalarText(pair.key as never);
      const seq = pair.value;
      if (!key || !isSeq(seq)) continue;
      if (key === 'schools') {
        seq.items.forEach((item, index) => {
          if (!isMap(item)) return;
          const school = scalarText(get(item, 'sourcedId')) ?? '';
          this.schools.set(school, { file, edit, map: item });
          this.place('orgs', school, { file, edit, map: item, seq, index, implied: { type: 'school' } });
          this.nested(file, edit, item, school);
        });
      } else if (isEntityName(key)) {
        this.lists.set(key, { file, edit, seq });
        seq.items.forEach((item, index) => {
          if (!isMap(item)) return;
          const id = scalarText(get(item, 'sourcedId')) ?? '';
          this.place(key, id, { file, edit, map: item, seq, index, implied: {} });
          if (key === 'users') this.userNested(file, edit, item, id);
          if (key === 'classes') this.klass(file, edit, item, undefined);
        });
      }
    }
  }

  private nested(file: string, edit: YamlFileEdit, school: YAMLMap, schoolId: string): void {
    const list = (key: string) => {
      const seq = get(school, key);
      return isSeq(seq) ? seq : undefined;
    };
    list('courses')?.items.forEach((item, index) => {
      if (isMap(item))
        this.place('courses', scalarText(get(item, 'sourcedId')) ?? '', {
          file,
          edit,
          map: item,
          seq: list('courses')!,
          index,
          implied: { orgSourcedId: schoolId },
        });
    });
    for (const [key, role] of [
      ['staff', undefined],
      ['students', 'student'],
    ] as const) {
      const seq = list(key);
      seq?.items.forEach((item, index) => {
        if (!isMap(item)) return;
        const id = scalarText(get(item, 'sourcedId')) ?? '';
        this.place('users', id, {
          file,
          edit,
          map: item,
          seq,
          index,
          implied: { orgSourcedIds: schoolId, ...(role ? { role } : {}) },
        });
        this.userNested(file, edit, item, id);
      });
    }
    const classes = list('classes');
    classes?.items.forEach((item, index) => {
      if (!isMap(item)) return;
      const id = scalarText(get(item, 'sourcedId')) ?? '';
      this.place('classes', id, {
        file,
        edit,
        map: item,
        seq: classes,
        index,
        implied: { schoolSourcedId: schoolId },
      });
      this.klass(file, edit, item, schoolId);
    });
  }

  private userNested(file: string, edit: YamlFileEdit, user: YAMLMap, id: string): void {
    const d = get(user, 'demographics');
    if (isMap(d))
      this.places.set(recordId('demographics', id), {
        file,
        edit,
        map: d,
        seq: undefined as never,
        index: -1,
        implied: { sourcedId: id },
      });
  }

  private klass(file: string, edit: YamlFileEdit, map: YAMLMap, school: string | undefined): void {
    const classId = scalarText(get(map, 'sourcedId')) ?? '';
    this.classes.set(classId, { file, edit, map, ...(school ? { school } : {}) });
    const schoolId = scalarText(get(map, 'schoolSourcedId')) ?? school ?? '';
    for (const [key, role] of Object.entries(CLASS_ENROLLMENT_LISTS)) {
      const seq = get(map, key);
      if (!isSeq(seq)) continue;
      seq.items.forEach((item, index) => {
        const implied = { classSourcedId: classId, role, schoolSourcedId: schoolId };
        if (isScalar(item)) {
          const user = String(item.value ?? '').trim();
          this.places.set(recordId('enrollments', derivedEnrollmentId(classId, user, role)), {
            file,
            edit,
            map: undefined,
            seq,
            index,
            implied: { ...implied, userSourcedId: user },
          });
        } else if (isMap(item)) {
          const user = scalarText(get(item, 'userSourcedId')) ?? '';
          const id = scalarText(get(item, 'sourcedId')) ?? derivedEnrollmentId(classId, user, role);
          this.places.set(recordId('enrollments', id), { file, edit, map: item, seq, index, implied });
        }
      });
    }
  }

  private place(entity: EntityName, id: string, p: YamlPlace): void {
    this.places.set(recordId(entity, id), p);
  }

  at(entity: EntityName, id: string): YamlPlace {
    const p = this.places.get(recordId(entity, id));
    if (!p)
      throw editError(
        'EDIT_NOT_IN_PLACE',
        `${entity}/${id} was not found in the roster's YAML files`,
        'Edit the files by hand.',
      );
    return p;
  }

  has(entity: EntityName, id: string): boolean {
    return this.places.has(recordId(entity, id));
  }
}

/** A value as YAML text for `field` of `entity` (a list field as a flow list). */
function valueText(entity: EntityName, field: string, value: string, quoteAll = false): string {
  const spec = ENTITIES[entity].fields[field];
  if (spec && isListType(spec.type)) return yamlFlowList(splitList(value), quoteAll || field === 'grades');
  if (spec?.type === 'boolean' && (value === 'true' || value === 'false')) return value;
  if (spec?.type === 'year' && /^[1-9]\d{3}$/.test(value)) return value;
  return yamlScalar(value);
}

/** Where a key goes among a record's keys: its entity's field order (nested lists and unknown keys after). */
function fieldRank(entity: EntityName): (key: string) => number {
  const order = Object.keys(ENTITIES[entity].fields);
  return (key) => (order.includes(key) ? order.indexOf(key) : order.length);
}

/** A record as a YAML mapping's pairs (implied fields left out), in the entity's field order. */
function pairsOf(
  entity: EntityName,
  record: Readonly<Record<string, string>>,
  implied: Readonly<Record<string, string>>,
): [string, string][] {
  const order = Object.keys(ENTITIES[entity].fields);
  return Object.entries(record)
    .filter(([k, v]) => v !== '' && implied[k] !== v)
    .sort(
      ([a], [b]) =>
        (order.indexOf(a) < 0 ? 999 : order.indexOf(a)) - (order.indexOf(b) < 0 ? 999 : order.indexOf(b)),
    )
    .map(([k, v]) => [k, valueText(entity, k, v)]);
}

/** A new item for `seq`, in the style of its siblings (flow `{ ... }` or block lines). */
function itemText(edit: YamlFileEdit, seq: YAMLSeq, pairs: [string, string][]): string {
  const sibling = seq.items.find(isMap);
  const flow = edit.isFlow(seq) || (sibling ? edit.isFlow(sibling) : false);
  if (flow) return `{ ${pairs.map(([k, v]) => `${k}: ${v}`).join(', ')} }`;
  return pairs.map(([k, v]) => `${k}: ${v}`).join('\n');
}

/** Edits a roster YAML's files. */
function editYamlFiles(
  files: Map<string, Buffer>,
  edit: RecordEdit,
  lookup: RosterLookup,
): Map<string, Buffer> {
  const mention = [
    ...edit.add.flatMap((a) =>
      [
        a.record.sourcedId!,
        ...['orgSourcedIds', 'orgSourcedId', 'schoolSourcedId', 'classSourcedId'].map(
          (f) => a.record[f] ?? '',
        ),
      ].filter(Boolean),
    ),
    ...edit.set.map((s) => s.id),
    ...edit.remove.map((r) => r.id),
    ...(edit.move ? [edit.move.to, edit.move.from] : []),
  ];
  // (A derived enrollment id is in no file: the user and class it names are.)
  for (const r of [...edit.set, ...edit.remove]) {
    const values = lookup.find(r.entity, r.id);
    if (values)
      mention.push(...['userSourcedId', 'classSourcedId'].map((f) => values[f] ?? '').filter(Boolean));
  }
  const yaml = new YamlRoster(files, mention);
  const removed = new Set(edit.remove.map((r) => recordId(r.entity, r.id)));

  // A user moved to another school: its entry moves from one school's list to the other's.
  if (edit.move) {
    const from = yaml.at('users', edit.move.user);
    const to = yaml.schools.get(edit.move.to);
    if (!to)
      throw editError(
        'EDIT_NOT_IN_PLACE',
        `school ${edit.move.to} is not in the YAML files`,
        'Edit the files by hand.',
      );
    const user = lookup.find('users', edit.move.user)!;
    // (Its list where it stands: students imply the role, staff write it.)
    const key = from.implied.role === 'student' ? 'students' : 'staff';
    const target = get(to.map, key);
    if (splitList(user.orgSourcedIds ?? '').length > 1 || !isSeq(target) || from.edit.isFlow(from.seq))
      throw editError(
        'EDIT_NOT_IN_PLACE',
        `${edit.move.user} cannot be moved in place`,
        'Edit the files by hand.',
      );
    // The entry moves as it is written (its comments, nested demographics and quoting kept).
    const copied = from.edit.itemSource(from.seq, from.index);
    from.edit.removeItem(from.seq, from.index);
    to.edit.appendItemSource(target, copied, to.edit.orderedPosition(target, edit.move.user));
  }
  for (const s of edit.set) {
    if (edit.move && s.entity === 'users' && s.id === edit.move.user) continue;
    const place = yaml.at(s.entity, s.id);
    const before = lookup.find(s.entity, s.id)!;
    const after = { ...before, ...s.fields };
    for (const [field, value] of Object.entries(s.fields)) {
      if (field in place.implied) {
        if (place.implied[field] === value) continue;
        throw editError(
          'EDIT_IMPLIED',
          `${s.entity}/${s.id}'s ${field} is where it stands in the YAML (${place.implied[field]})`,
          s.entity === 'users' && field === 'orgSourcedIds'
            ? `Move it: roster move ${s.id} --school SCHOOL.`
            : 'Edit the files by hand.',
        );
      }
      if (!place.map) {
        // A bare enrollment (a user id in a class list) becomes a mapping with the field.
        const { userSourcedId: _user, ...implied } = place.implied;
        const pairs = pairsOf('enrollments', after, { ...implied, sourcedId: s.id });
        const item = place.seq.items[place.index] as never;
        place.edit.replace(item, `{ ${pairs.map(([k, v]) => `${k}: ${v}`).join(', ')} }`);
        break;
      }
      const node = get(place.map, field);
      if (value === '') place.edit.removePair(place.map, field);
      else if (node)
        place.edit.replace(
          node,
          valueText(s.entity, field, value, isSeq(node) && place.edit.quotesItems(node)),
        );
      else place.edit.insertPair(place.map, field, valueText(s.entity, field, value), fieldRank(s.entity));
    }
  }
  const shortcut = new Set([
    ...edit.add.filter((a) => a.entity === 'users').map((a) => a.record.sourcedId!),
    ...(edit.move ? [edit.move.user] : []),
  ]);
  for (const a of edit.add) {
    const r = a.record;
    // (1.2: the role row of a user added or moved under a school is what its place says.)
    if (a.entity === 'roles' && shortcut.has(r.userSourcedId!)) continue;
    if (a.entity === 'users' || a.entity === 'classes') {
      const schoolId =
        a.entity === 'users'
          ? (splitList(r.orgSourcedIds ?? '')[0] ??
            edit.add.find((x) => x.entity === 'roles' && x.record.userSourcedId === r.sourcedId)?.record
              .orgSourcedId ??
            '')
          : r.schoolSourcedId!;
      const school = yaml.schools.get(schoolId);
      const userRole =
        r.role ??
        edit.add.find((x) => x.entity === 'roles' && x.record.userSourcedId === r.sourcedId)?.record.role;
      const key = a.entity === 'classes' ? 'classes' : userRole === 'student' ? 'students' : 'staff';
      const implied: Record<string, string> =
        a.entity === 'classes'
          ? { schoolSourcedId: schoolId }
          : { orgSourcedIds: schoolId, ...(key === 'students' ? { role: 'student' } : {}) };
      if (school) {
        // (1.2: the role is written on the user, as the shortcut that makes its role row.)
        const role = edit.add.find((x) => x.entity === 'roles' && x.record.userSourcedId === r.sourcedId)
          ?.record.role;
        appendTo(school.edit, school.map, key, pairsOf(a.entity, role ? { ...r, role } : r, implied));
        continue;
      }
    }
    if (a.entity === 'enrollments') {
      const cls = yaml.classes.get(r.classSourcedId!);
      const list = Object.entries(CLASS_ENROLLMENT_LISTS).find(([, role]) => role === r.role)?.[0];
      if (cls && list) {
        const derived = r.sourcedId === derivedEnrollmentId(r.classSourcedId!, r.userSourcedId!, r.role!);
        const schoolId = scalarText(get(cls.map, 'schoolSourcedId')) ?? cls.school ?? '';
        const implied = {
          classSourcedId: r.classSourcedId!,
          role: r.role!,
          schoolSourcedId: schoolId,
          ...(derived ? { sourcedId: r.sourcedId! } : {}),
        };
        const pairs = pairsOf('enrollments', r, implied);
        const text =
          pairs.length === 1 && pairs[0]![0] === 'userSourcedId'
            ? pairs[0]![1]
            : `{ ${pairs.map(([k, v]) => `${k}: ${v}`).join(', ')} }`;
        const seq = get(cls.map, list);
        if (isSeq(seq)) cls.edit.appendItem(seq, text, cls.edit.orderedPosition(seq, r.userSourcedId!));
        else cls.edit.insertPair(cls.map, list, `[${text}]`);
        continue;
      }
    }
    // Anything else goes to its top-level list.
    const top = yaml.lists.get(a.entity);
    if (!top)
      throw editError(
        'EDIT_NOT_IN_PLACE',
        `the YAML has no ${a.entity} list to add ${r.sourcedId} to`,
        `Add \`${a.entity}: []\` to roster.yaml first.`,
      );
    top.edit.appendItem(
      top.seq,
      itemText(top.edit, top.seq, pairsOf(a.entity, r, {})),
      top.edit.orderedPosition(top.seq, r.sourcedId!),
    );
  }
  // Removals, last items first within a list (so that positions stay right).
  const cuts = edit.remove
    .filter((r) => !(r.entity === 'demographics' && removed.has(recordId('users', r.id))))
    .filter((r) => !(edit.move && r.entity === 'users'))
    .filter(
      (r) =>
        !(edit.move && r.entity === 'roles' && lookup.find('roles', r.id)?.userSourcedId === edit.move.user),
    )
    // (A removed user's roles rows go with its entry.)
    .filter(
      (r) =>
        !(
          r.entity === 'roles' &&
          removed.has(recordId('users', lookup.find('roles', r.id)?.userSourcedId ?? ''))
        ),
    )
    .map((r) => yaml.at(r.entity, r.id));
  for (const p of cuts) {
    if (p.index < 0)
      throw editError(
        'EDIT_NOT_IN_PLACE',
        'removing the demographics of a user who stays is not supported',
        'Edit the file by hand.',
      );
    p.edit.removeItem(p.seq, p.index);
  }
  const out = new Map<string, Buffer>();
  for (const [file, e] of yaml.edits) {
    const text = e.text();
    if (text !== e.source) out.set(file, Buffer.from(text));
  }
  return out;
}

/** Appends a record to `map`'s list `key` (created, as a block list, when absent). */
function appendTo(edit: YamlFileEdit, map: YAMLMap, key: string, all: [string, string][]): void {
  const seq = get(map, key);
  if (isSeq(seq)) {
    const id = all.find(([k]) => k === 'sourcedId')?.[1] ?? '';
    edit.appendItem(seq, itemText(edit, seq, all), edit.orderedPosition(seq, id));
    return;
  }
  edit.insertPair(
    map,
    key,
    `\n${all.map(([k, v], i) => `${i === 0 ? '  - ' : '    '}${k}: ${v}`).join('\n')}`.replace(
      /\n/g,
      `\n${' '.repeat(indentOf(edit, map))}`,
    ),
  );
}

function indentOf(edit: YamlFileEdit, map: YAMLMap): number {
  const first = map.items[0]?.key as { range?: [number, number, number] } | undefined;
  const at = first?.range?.[0] ?? 0;
  return at - (edit.source.lastIndexOf('\n', at - 1) + 1);
}

/** Reads a set of roster files as a roster (for the read-back and the validation). */
async function readFiles(
  files: Map<string, Buffer>,
  yaml: boolean,
  diagnostics: Diagnostics,
): Promise<Roster> {
  const pkg = memoryFiles('roster', files);
  if (yaml) return (await readRosterYaml(pkg, diagnostics)).roster;
  return (await readOneRoster(pkg, diagnostics, { checkFields: true })).roster;
}

const key = (d: Diagnostic) => `${d.code}\0${d.message}`;

/** `roster add|set|enroll|drop|move|withdraw`: the edit, checked, then written (or shown). */
export async function editRoster(options: EditOptions): Promise<EditResult> {
  const config = loadRepoConfig(options.repo);
  const { location, format } = locateRoster(config.rosterPath);
  if (format !== 'yaml' && format !== 'oneroster-csv')
    throw editError(
      'EDIT_FORMAT',
      `the roster is a ${format}: edits are made to roster YAML or a OneRoster CSV folder`,
      'Unzip it into the roster folder first.',
    );
  const yaml = format === 'yaml';
  const files = rosterFiles(location, yaml);
  const stamps = new Map([...files].map(([f, b]) => [f, createHash('sha256').update(b).digest('hex')]));
  const diagnosticsBefore = new Diagnostics();
  const roster = await readFiles(files, yaml, diagnosticsBefore);
  validateRoster(roster, diagnosticsBefore);
  const lookup = new RosterLookup(roster);
  const edit = planEdit(config, lookup, options.request);
  const expected = expectedChanges(lookup, edit);
  if (expected.length === 0) throw editError('EDIT_NOTHING', 'the roster already says so: nothing to change');

  let edited: Map<string, Buffer>;
  try {
    edited = yaml ? editYamlFiles(files, edit, lookup) : editCsvFiles(files, edit);
  } catch (err) {
    if (err instanceof YamlEditError)
      throw editError('EDIT_NOT_IN_PLACE', err.message, 'Edit the file by hand.');
    throw err;
  }

  // Read back: the files' record diff must be exactly the edit.
  const oldSide = [...edited.keys()].map((f) => ({ path: f, bytes: files.get(f)! }));
  const newSide = [...edited].map(([path, bytes]) => ({ path, bytes }));
  const actual = await diffRecordFiles(oldSide, newSide, { yamlVersion: roster.version });
  const show = (list: readonly RecordChange[]) => list.map((c) => JSON.stringify(c)).join('\n');
  const same = (a?: RecordValues, b?: RecordValues) => (a && b ? sameValues(a, b) : a === b);
  const agree =
    actual.length === expected.length &&
    actual.every(
      (c, i) =>
        c.id === expected[i]!.id && same(c.before, expected[i]!.before) && same(c.after, expected[i]!.after),
    );
  if (!agree) {
    throw new RosterError(
      'EDIT_NOT_IN_PLACE',
      'the edit cannot be written in place without changing other records; nothing was written',
      {
        hint: `Edit the files by hand. (Expected:\n${show(expected)}\nthe files would say:\n${show(actual)})`,
      },
    );
  }
  // Validation: the edited roster may not have an error the roster did not have.
  const afterFiles = new Map(files);
  for (const [f, b] of edited) afterFiles.set(f, b);
  const diagnostics = new Diagnostics();
  const next = await readFiles(afterFiles, yaml, diagnostics);
  validateRoster(next, diagnostics);
  const known = new Set(diagnosticsBefore.list.map(key));
  const fresh = diagnostics.list.filter((d) => !known.has(key(d)));
  if (fresh.some((d) => d.severity === 'error')) {
    const freshErrors = new Diagnostics();
    freshErrors.list.push(...fresh);
    throw new InvalidRosterError(
      summarize(next, location, format, freshErrors),
      'the edit was not written',
      'Fix the edit (the diagnostics say what it breaks); nothing was written.',
    );
  }

  const root = config.root;
  const fromRoot = (f: string) => relative(root, join(location, f));
  const outFiles = [...edited].map(([f, after]) => ({ path: fromRoot(f), before: files.get(f)!, after }));
  const diff = outFiles
    .map((f) =>
      createTwoFilesPatch(
        `a/${f.path}`,
        `b/${f.path}`,
        f.before.toString('utf8'),
        f.after.toString('utf8'),
        '',
        '',
        { context: 3 },
      ),
    )
    .join('');
  const result = { message: edit.message, files: outFiles, diff, changes: actual, warnings: fresh };
  if (options.dryRun) return { ...result, written: false };

  options.beforeWrite?.();
  // Each file: refused when it changed on disk since it was read; written by rename.
  for (const f of edited.keys()) {
    const now = readFileSync(join(location, f));
    if (createHash('sha256').update(now).digest('hex') !== stamps.get(f))
      throw editError(
        'EDIT_CONFLICT',
        `${fromRoot(f)} changed on disk while the edit was made; nothing was written`,
        'Run the command again.',
      );
  }
  // Temporary copies go to .roster/edit/ (ignored by git, private): an edit killed before its
  // renames leaves nothing in the roster folder for `git add -A` to pick up.
  const staging = join(workspaceDir(root), 'edit');
  ensurePrivateDir(staging);
  const temps: [string, string][] = [];
  try {
    for (const [k, [f, bytes]] of [...edited].entries()) {
      const path = join(location, f);
      const tmp = join(staging, `${process.pid}-${k}`);
      writeFileSync(tmp, bytes, { mode: statSync(path).mode });
      temps.push([tmp, path]);
    }
    for (const [tmp, path] of temps) renameSync(tmp, path);
  } finally {
    for (const [tmp] of temps) rmSync(tmp, { force: true });
  }
  let commit: string | undefined;
  if (options.commit) {
    const git = simpleGit({ baseDir: root });
    const paths = outFiles.map((f) => f.path);
    await git.add(paths);
    const done = await git.commit(edit.message, paths);
    commit = done.commit || (await git.revparse(['HEAD'])).trim();
  }
  return { ...result, written: true, ...(commit ? { commit } : {}) };
}
