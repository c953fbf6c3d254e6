/**
 * Reads roster YAML (one file or many, e.g. one per school) into a Roster. Every diagnostic carries
 * the file, line and column of the value it is about.
 *
 * YAML is parsed with the failsafe schema, so every scalar is a string exactly as written: `09`
 * stays "09", `no` stays "no", and an id keeps its leading zeros. Duplicate keys are errors, and
 * alias expansion is bounded (billion-laughs documents are refused).
 */

import { isUtf8 } from 'node:buffer';
import {
  type Document,
  isAlias,
  isMap,
  isPair,
  isScalar,
  isSeq,
  LineCounter,
  type Node,
  parseDocument,
  type YAMLMap,
} from 'yaml';
import type { Diagnostics } from '../../diagnostic.js';
import { ENTITIES, type EntityName, isListType, type RosterVersion } from '../../model/entities.js';
import { KeySet } from '../../model/key-set.js';
import { type FileMode, type Roster, RosterBuilder, type RosterSource } from '../../model/roster.js';
import type { ProgressListener } from '../../progress.js';
import { compileSchema, type ErrorObject, type ValidateFunction } from '../../schema.js';
import { LINE_LIMIT } from '../csv/line-limit.js';
import { guessEncoding } from '../csv/read-csv.js';
import { checkRecordFields, type FieldPosition } from '../field-rules.js';
import { closest } from '../oneroster-csv/header.js';
import type { PackageFiles } from '../package-files.js';
import { buildRosterSchema } from './schema.js';
import {
  CLASS_ENROLLMENT_LISTS,
  type ClassEnrollmentList,
  derivedEnrollmentId,
  derivedRoleId,
  EXTENSIONS_KEY,
  TOP_LEVEL_LISTS,
} from './shape.js';
import { parseYamlSubset } from './subset-parse.js';

export const YAML_EXTENSIONS = ['.yaml', '.yml'];
const MAX_ALIASES = 100;
/** readRosterYaml keeps the Documents of files adding up to less than this (then parses again). */
export const KEEP_DOCUMENTS_BYTES = 8 << 20;

let validator: ValidateFunction | undefined;
function validateSchema(data: unknown): ErrorObject[] {
  if (!validator) {
    validator = compileSchema(buildRosterSchema(), { allErrors: true, strict: false, verbose: true });
  }
  return validator(data) ? [] : (validator.errors ?? []);
}

interface ParsedFile {
  readonly name: string;
  readonly doc: Document.Parsed;
  readonly lines: LineCounter;
}

export interface YamlReadResult {
  readonly roster: Roster;
}

function streamToBuffer(files: PackageFiles, name: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const s = files.open(name);
    s.on('data', (c: Buffer) => chunks.push(c));
    s.on('error', reject);
    s.on('end', () => resolve(Buffer.concat(chunks)));
  });
}

/**
 * A file's text, or undefined (with a YAML_ENCODING diagnostic) when it is not UTF-8: read as UTF-8
 * anyway, `José` in Latin-1 would become `Jos\uFFFD` and be delivered so.
 */
function decodeUtf8(name: string, bytes: Buffer, diagnostics: Diagnostics): string | undefined {
  if (isUtf8(bytes)) return bytes.toString('utf8');
  const lossy = bytes.toString('utf8');
  const bad = lossy.indexOf('\uFFFD');
  let line = 1;
  for (let i = 0; i < bad; i++) if (lossy.charCodeAt(i) === 10) line++;
  diagnostics.add('YAML_ENCODING', {
    file: name,
    line,
    message: `${name} is not UTF-8: line ${line} looks like ${guessEncoding(bytes)}`,
  });
  return undefined;
}

/** Where a node stands, as a diagnostic wants it. */
type Where = { file: string; line?: number; column?: number };

/** What a file says of the whole roster (read while its Document is at hand, kept as plain data). */
interface FileSettings {
  readonly name: string;
  readonly version?: { readonly value: string; readonly where: Where };
  readonly source: readonly SettingEntry[];
  readonly files: readonly SettingEntry[];
  readonly extensionColumns: readonly (readonly [EntityName, string])[];
}
interface SettingEntry {
  readonly key: string;
  readonly value: string;
  readonly where: Where;
}

/**
 * Reads every .yaml/.yml file of `files` as one roster. Never throws for bad input.
 *
 * Settings may stand in any file, so every file is parsed (and checked against the schema) to
 * gather them before any is expanded into records. A Document keeps every node with its position:
 * a large district's all at once took gigabytes (4.2 GB for 100,000 students, in 97 MB of YAML).
 * So Documents are kept only while their texts add up to less than `keepDocuments` bytes; the
 * files after that are parsed again when expanded (at 100,000 students: 1.5 GB instead of
 * 4.2 GB, and about a quarter more time).
 */
export async function readRosterYaml(
  files: PackageFiles,
  diagnostics: Diagnostics,
  progress?: ProgressListener,
  keepDocuments = KEEP_DOCUMENTS_BYTES,
): Promise<YamlReadResult> {
  const read: { name: string; text: string; settings: FileSettings; kept?: ParsedFile }[] = [];
  let bytes = 0;
  for (const name of files.names.filter((n) => YAML_EXTENSIONS.some((e) => n.endsWith(e)))) {
    progress?.({ stage: 'read', detail: name });
    const buffer = await streamToBuffer(files, name);
    const long = longLine(buffer);
    if (long) {
      // Not parsed: a 50 MB value took 4 s and 400 MB to read, only to be refused.
      diagnostics.add('YAML_LINE_TOO_LONG', {
        file: name,
        line: long.line,
        message: `${name} line ${long.line} is ${long.bytes.toLocaleString('en-US')} bytes long, over the limit of ${LINE_LIMIT.toLocaleString('en-US')}: the file was not read`,
      });
      continue;
    }
    const text = decodeUtf8(name, buffer, diagnostics);
    if (text === undefined) continue;
    const file = parseFile(name, text, diagnostics);
    if (!file) continue;
    bytes += text.length;
    read.push({ name, text, settings: settingsOf(file), ...(bytes < keepDocuments ? { kept: file } : {}) });
  }
  await files.close();

  // Document-level settings may stand in any file; they must agree.
  let version: RosterVersion | undefined;
  let versionFrom = '';
  const source: { systemName?: string; systemCode?: string } = {};
  const modes: Partial<Record<EntityName, FileMode>> = {};
  for (const { settings: f } of read) {
    if (f.version) {
      const v = f.version.value;
      const nv: RosterVersion | undefined =
        v === '1.1' ? '1.1' : v === '1.2' || v === '1.2.1' ? '1.2' : undefined;
      if (!nv) {
        diagnostics.add('YAML_SCHEMA', {
          ...f.version.where,
          message: `oneroster: ${JSON.stringify(v)} is not 1.1 or 1.2`,
        });
      } else if (version && version !== nv) {
        diagnostics.add('YAML_CONFLICT', {
          ...f.version.where,
          message: `${f.name} says oneroster ${nv}, but ${versionFrom} says ${version}`,
        });
      } else {
        version = nv;
        versionFrom = f.name;
      }
    }
    mergeSettings(f.source, 'source', source as Record<string, string>, diagnostics);
    mergeSettings(f.files, 'files', modes as Record<string, string>, diagnostics);
  }
  if (!version && read.length > 0) {
    diagnostics.add('YAML_SCHEMA', {
      file: read[0]!.name,
      line: 1,
      message: 'no file of the roster says which OneRoster version it follows',
      hint: 'Add `oneroster: "1.1"` (or "1.2") at the top of the main roster file.',
    });
  }
  const builder = new RosterBuilder(version ?? '1.1');
  builder.source = source as RosterSource;
  for (const [e, m] of Object.entries(modes)) builder.modes[e as EntityName] = m;
  for (const { settings } of read)
    for (const [entity, field] of settings.extensionColumns) builder.table(entity).declareField(field);
  const expander = new Expander(builder, diagnostics);
  for (const { name, text, kept } of read) expander.expandFile(kept ?? parseYaml(name, text));
  return { roster: builder.build() };
}

/** The settings `file` states (version, source, files, extensionColumns), with their positions. */
function settingsOf(f: ParsedFile): FileSettings {
  const root = f.doc.contents as YAMLMap | null;
  if (!isMap(root)) return { name: f.name, source: [], files: [], extensionColumns: [] };
  const versionNode = root.get('oneroster', true) as Node | undefined;
  const v = scalarOf(f.doc, versionNode);
  const entries = (key: 'source' | 'files'): SettingEntry[] => {
    const node = deref(f.doc, root.get(key, true));
    if (!isMap(node)) return [];
    const out: SettingEntry[] = [];
    for (const pair of node.items) {
      const k = scalarOf(f.doc, pair.key);
      const value = scalarOf(f.doc, pair.value);
      if (k !== undefined && value !== undefined) out.push({ key: k, value, where: at(f, pair.key as Node) });
    }
    return out;
  };
  const extensionColumns: [EntityName, string][] = [];
  const columns = deref(f.doc, root.get('extensionColumns', true));
  if (isMap(columns)) {
    for (const pair of columns.items) {
      const entity = scalarOf(f.doc, pair.key) as EntityName;
      const list = deref(f.doc, pair.value);
      if (isSeq(list))
        for (const item of list.items) extensionColumns.push([entity, scalarOf(f.doc, item) ?? '']);
    }
  }
  return {
    name: f.name,
    ...(v !== undefined ? { version: { value: v, where: at(f, versionNode) } } : {}),
    source: entries('source'),
    files: entries('files'),
    extensionColumns,
  };
}

/** How the `yaml` library reads roster YAML (every value a string; duplicate keys are errors). */
export const LIBRARY_PARSE_OPTIONS = { schema: 'failsafe', uniqueKeys: true, prettyErrors: false } as const;

/** A file's Document (parsing the same text again gives the same Document). */
function parseYaml(name: string, text: string): ParsedFile {
  // Plain block YAML (nearly every roster file) is read by our own parser, ten times faster.
  const fast = parseYamlSubset(text);
  if (fast) return { name, ...fast };
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, ...LIBRARY_PARSE_OPTIONS });
  return { name, doc, lines };
}

function parseFile(name: string, text: string, diagnostics: Diagnostics): ParsedFile | undefined {
  const file = parseYaml(name, text);
  const { doc, lines } = file;
  if (doc.errors.length > 0) {
    for (const e of doc.errors) {
      const pos = lines.linePos(e.pos[0]);
      diagnostics.add(e.code === 'DUPLICATE_KEY' ? 'YAML_DUPLICATE_KEY' : 'YAML_SYNTAX', {
        file: name,
        line: pos.line,
        column: pos.col,
        message: e.message.split('\n')[0]!,
      });
    }
    return undefined;
  }
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: MAX_ALIASES });
  } catch (err) {
    diagnostics.add('YAML_ALIAS_LIMIT', {
      file: name,
      line: 1,
      message: `${name}: ${(err as Error).message}`,
    });
    return undefined;
  }
  if (data === null || data === undefined) return undefined; // an empty file adds nothing
  const errors = validateSchema(data);
  for (const e of errors) reportSchemaError(file, e, diagnostics);
  // A file whose only problem is a field name that does not exist is read without those fields
  // (the roster stays invalid): its other records are checked too, and a diff of it is not empty.
  const readable = errors.every((e) => e.keyword === 'additionalProperties' || e.keyword === 'if');
  return readable ? file : undefined;
}

function pathOf(instancePath: string): (string | number)[] {
  if (instancePath === '') return [];
  return instancePath
    .slice(1)
    .split('/')
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((p) => (/^\d+$/.test(p) ? Number(p) : p));
}

function at(
  file: ParsedFile,
  node: Node | null | undefined,
): { file: string; line?: number; column?: number } {
  const offset = node?.range?.[0];
  if (offset === undefined) return { file: file.name };
  const pos = file.lines.linePos(offset);
  return { file: file.name, line: pos.line, column: pos.col };
}

function reportSchemaError(file: ParsedFile, e: ErrorObject, diagnostics: Diagnostics): void {
  if (e.keyword === 'if') return; // the failing branch reports the detail
  const path = pathOf(e.instancePath);
  const node = file.doc.getIn(path, true) as Node | undefined;
  const where = path.length === 0 ? 'the top level' : path.join('.');
  if (e.keyword === 'additionalProperties') {
    const key = (e.params as { additionalProperty: string }).additionalProperty;
    const keyNode = isMap(node) ? keyNodes(node).get(key) : undefined;
    const allowed = Object.keys(((e.parentSchema as { properties?: object })?.properties ?? {}) as object);
    const near = closest(key, allowed);
    diagnostics.add('YAML_UNKNOWN_FIELD', {
      ...at(file, (keyNode as Node | undefined) ?? node),
      message: `"${key}" is not a field here (${where})`,
      ...(near ? { hint: `Did you mean "${near}"? Field names are case-sensitive.` } : {}),
    });
    return;
  }
  const message =
    e.keyword === 'required'
      ? `${where} is missing "${(e.params as { missingProperty: string }).missingProperty}"`
      : e.keyword === 'type'
        ? `${where} must be ${describeType((e.params as { type: string | string[] }).type)}`
        : `${where} ${e.message ?? 'is not valid'}`;
  diagnostics.add('YAML_SCHEMA', { ...at(file, node), message });
}

/**
 * The key nodes of a mapping by their text, built once per mapping: looking each unknown key up
 * in the mapping's items made 64,000 unknown keys quadratic (23 s).
 */
const keyNodeCache = new WeakMap<object, Map<unknown, Node>>();
function keyNodes(map: YAMLMap): Map<unknown, Node> {
  let keys = keyNodeCache.get(map);
  if (!keys) {
    keys = new Map();
    for (const p of map.items)
      if (isPair(p) && isScalar(p.key) && !keys.has(p.key.value)) keys.set(p.key.value, p.key);
    keyNodeCache.set(map, keys);
  }
  return keys;
}

function describeType(type: string | string[]): string {
  const types = Array.isArray(type) ? type : [type];
  if (types.includes('array')) return 'a list';
  if (types.includes('object')) return 'a mapping';
  return 'a single value';
}

function scalarOf(doc: Document, node: unknown): string | undefined {
  const n = deref(doc, node);
  if (isScalar(n)) return String(n.value ?? '');
  return undefined;
}

function deref(doc: Document, node: unknown): unknown {
  return isAlias(node) ? node.resolve(doc) : node;
}

function mergeSettings(
  entries: readonly SettingEntry[],
  key: 'source' | 'files',
  into: Record<string, string>,
  diagnostics: Diagnostics,
): void {
  for (const { key: k, value: v, where } of entries) {
    if (into[k] !== undefined && into[k] !== v) {
      diagnostics.add('YAML_CONFLICT', {
        ...where,
        message: `${key}.${k} is ${JSON.stringify(v)} here but ${JSON.stringify(into[k])} elsewhere`,
      });
      continue;
    }
    into[k] = v;
  }
}

/**
 * A record as read from its mapping. Positions are offsets in the file's text (-1: none), made
 * into lines and columns only for a diagnostic or a record's origin (most fields never need one).
 */
interface Fields {
  readonly record: Record<string, string>;
  readonly positions: ReadonlyMap<string, number>;
  readonly nested: ReadonlyMap<string, unknown>;
  readonly position: number;
}

/**
 * Positions of an enrollment written as a bare user id: none of its own. Its one value is the
 * item itself, so a diagnostic on any of its fields points at the item (the record's position).
 */
const BARE_ENROLLMENT: ReadonlyMap<string, number> = new Map();
const NOTHING_NESTED: ReadonlyMap<string, unknown> = new Map();

/** Where a field of a record was written; the record's position when the field has none of its own. */
function fieldOffset(f: Fields, field: string): number {
  const at = f.positions.get(field);
  return at !== undefined && at >= 0 ? at : f.position;
}

/** Turns the YAML documents into records, applying the defaults implied by where a record stands. */
class Expander {
  private readonly seen = new Map<EntityName, KeySet>();
  private file!: ParsedFile;
  /** The line (0-based index into the file's line starts) of the last record's origin. */
  private lineIndex = 0;

  constructor(
    private readonly builder: RosterBuilder,
    private readonly diagnostics: Diagnostics,
  ) {}

  private get version(): RosterVersion {
    return this.builder.version;
  }

  expandFile(file: ParsedFile): void {
    this.file = file;
    this.lineIndex = 0;
    const root = file.doc.contents;
    if (!isMap(root)) return;
    for (const school of this.items(root.get('schools', true))) this.school(school);
    for (const entity of TOP_LEVEL_LISTS) {
      for (const item of this.items(root.get(entity, true))) {
        if (entity === 'classes') this.klass(item, {});
        else if (entity === 'users') this.user(item, {});
        else this.emit(entity, this.fields(entity, item, {}));
      }
    }
  }

  private items(node: unknown): unknown[] {
    const n = deref(this.file.doc, node);
    return isSeq(n) ? n.items.map((i) => deref(this.file.doc, i)) : [];
  }

  private offset(node: unknown): number {
    return (node as Node | undefined)?.range?.[0] ?? -1;
  }

  /** Line and column of an offset, for a diagnostic. */
  private where(offset: number): FieldPosition {
    if (offset < 0) return {};
    const { line, col } = this.file.lines.linePos(offset);
    return { ...(line ? { line } : {}), ...(col ? { column: col } : {}) };
  }

  /** The line of an offset, for a record's origin: records come in file order, so look on from the last. */
  private lineAt(offset: number): number {
    if (offset < 0) return 1;
    const starts = this.file.lines.lineStarts;
    let i = this.lineIndex;
    if (i >= starts.length || starts[i]! > offset) return this.where(offset).line ?? 1;
    while (i + 1 < starts.length && starts[i + 1]! <= offset) i++;
    this.lineIndex = i;
    return i + 1;
  }

  /** Reads a record mapping: its fields (lists joined), extension columns, and nested lists. */
  private fields(entity: EntityName, node: unknown, implied: Record<string, string>): Fields {
    const record: Record<string, string> = {};
    const positions = new Map<string, number>();
    const nested = new Map<string, unknown>();
    const position = this.offset(node);
    const spec = ENTITIES[entity].fields;
    if (isMap(node)) {
      for (const pair of node.items) {
        const key = scalarOf(this.file.doc, pair.key) ?? '';
        const value = deref(this.file.doc, pair.value);
        if (key === EXTENSIONS_KEY && isMap(value)) {
          for (const ext of value.items) {
            const k = scalarOf(this.file.doc, ext.key) ?? '';
            record[k] = scalarOf(this.file.doc, ext.value) ?? '';
            this.builder.table(entity).declareField(k);
            positions.set(k, this.offset(ext.value));
          }
        } else if (
          Object.hasOwn(spec, key) &&
          !isMap(value) &&
          !(isSeq(value) && !isListType(spec[key]!.type))
        ) {
          record[key] = isSeq(value)
            ? value.items.map((i) => scalarOf(this.file.doc, i) ?? '').join(',')
            : (scalarOf(this.file.doc, value) ?? '');
          positions.set(key, this.offset(value));
        } else {
          nested.set(key, value);
          positions.set(key, this.offset(value));
        }
      }
    } else if (isScalar(node)) {
      record.sourcedId = String(node.value ?? '');
    }
    for (const [k, v] of Object.entries(implied)) {
      if ((record[k] ?? '') === '') {
        record[k] = v;
        positions.set(k, position);
      }
    }
    return { record, positions, nested, position };
  }

  private emit(entity: EntityName, f: Fields): void {
    if (!ENTITIES[entity].versions.includes(this.version)) {
      this.diagnostics.add('YAML_SCHEMA', {
        file: this.file.name,
        ...this.where(f.position),
        message: `${entity} are part of OneRoster 1.2, but this roster is ${this.version}`,
      });
      return;
    }
    const mode = this.builder.modes[entity] === 'delta' ? 'delta' : 'bulk';
    checkRecordFields(
      f.record,
      {
        entity,
        version: this.version,
        mode,
        file: this.file.name,
        position: (field) => this.where(fieldOffset(f, field)),
      },
      this.diagnostics,
    );
    const id = (f.record.sourcedId ?? '').trim();
    let seen = this.seen.get(entity);
    if (!seen) {
      seen = new KeySet();
      this.seen.set(entity, seen);
    }
    if (id !== '' && !seen.add(id)) {
      this.diagnostics.add('DUPLICATE_SOURCED_ID', {
        file: this.file.name,
        ...this.where(fieldOffset(f, 'sourcedId')),
        entity,
        recordId: id,
        field: 'sourcedId',
        message: `${entity} sourcedId ${JSON.stringify(id)} appears more than once`,
      });
      return;
    }
    this.builder.add(entity, f.record, { file: this.file.name, line: this.lineAt(f.position) });
  }

  private school(node: unknown): void {
    const f = this.fields('orgs', node, { type: 'school' });
    const schoolId = (f.record.sourcedId ?? '').trim();
    this.emit('orgs', f);
    for (const item of this.items(f.nested.get('courses')))
      this.emit('courses', this.fields('courses', item, { orgSourcedId: schoolId }));
    for (const item of this.items(f.nested.get('classes'))) this.klass(item, { schoolSourcedId: schoolId });
    for (const item of this.items(f.nested.get('staff'))) this.user(item, { school: schoolId });
    for (const item of this.items(f.nested.get('students')))
      this.user(item, { school: schoolId, role: 'student' });
  }

  private klass(node: unknown, implied: Record<string, string>): void {
    const f = this.fields('classes', node, implied);
    this.emit('classes', f);
    const classId = (f.record.sourcedId ?? '').trim();
    const schoolId = (f.record.schoolSourcedId ?? '').trim();
    for (const [list, role] of Object.entries(CLASS_ENROLLMENT_LISTS) as [ClassEnrollmentList, string][]) {
      for (const item of this.items(f.nested.get(list))) {
        if (isScalar(item)) {
          // A bare user id (nearly every enrollment): its record straight away, no mapping to read.
          const user = String(item.value ?? '');
          const record = {
            userSourcedId: user,
            classSourcedId: classId,
            role,
            schoolSourcedId: schoolId,
            sourcedId: derivedEnrollmentId(classId, user.trim(), role),
          };
          this.emit('enrollments', {
            record,
            positions: BARE_ENROLLMENT,
            nested: NOTHING_NESTED,
            position: this.offset(item),
          });
          continue;
        }
        const e = this.fields('enrollments', item, {});
        const position = e.position;
        const userId = (e.record.userSourcedId ?? '').trim();
        const record = {
          ...e.record,
          classSourcedId: classId,
          role,
          schoolSourcedId: (e.record.schoolSourcedId ?? '').trim() || schoolId,
          sourcedId: (e.record.sourcedId ?? '').trim() || derivedEnrollmentId(classId, userId, role),
        };
        this.emit('enrollments', { ...e, record, position });
      }
    }
  }

  /** A user; `context.school` and `context.role` are what its place in the file implies. */
  private user(node: unknown, context: { school?: string; role?: string }): void {
    const f = this.fields('users', node, {});
    const userId = (f.record.sourcedId ?? '').trim();
    const explicitRoles = this.items(f.nested.get('roles'));
    const record = f.record;
    if (this.version === '1.1') {
      if (f.nested.has('roles') || f.nested.has('userProfiles')) {
        this.diagnostics.add('YAML_SCHEMA', {
          file: this.file.name,
          ...this.where(f.positions.get('roles') ?? f.positions.get('userProfiles') ?? f.position),
          message:
            'roles and userProfiles are part of OneRoster 1.2; in 1.1 a user has role and orgSourcedIds',
        });
      }
      if ((record.role ?? '') === '' && context.role) record.role = context.role;
      if ((record.orgSourcedIds ?? '') === '' && context.school) record.orgSourcedIds = context.school;
      this.emit('users', f);
    } else {
      // 1.2: `role` and `orgSourcedIds` on a user are a shortcut for its roles rows (first org primary).
      const role = (record.role ?? '').trim() || (explicitRoles.length === 0 ? (context.role ?? '') : '');
      const orgs =
        (record.orgSourcedIds ?? '').trim() || (explicitRoles.length === 0 ? (context.school ?? '') : '');
      const position = f.positions.get('role') ?? f.position;
      delete record.role;
      delete record.orgSourcedIds;
      this.emit('users', f);
      if (explicitRoles.length > 0 && (f.positions.has('role') || f.positions.has('orgSourcedIds'))) {
        this.diagnostics.add('YAML_SCHEMA', {
          file: this.file.name,
          ...this.where(position),
          message: 'give a user either role (with orgSourcedIds) or roles, not both',
        });
      }
      if (role !== '' && orgs !== '') {
        orgs
          .split(',')
          .map((o) => o.trim())
          .filter((o) => o !== '')
          .forEach((org, i) => {
            const roleRecord = {
              sourcedId: derivedRoleId(userId, org, role),
              userSourcedId: userId,
              roleType: i === 0 ? 'primary' : 'secondary',
              role,
              orgSourcedId: org,
            };
            this.emit('roles', { record: roleRecord, positions: new Map(), nested: new Map(), position });
          });
      }
      for (const item of explicitRoles) {
        const r = this.fields('roles', item, { userSourcedId: userId });
        const rid = (r.record.sourcedId ?? '').trim();
        if (rid === '')
          r.record.sourcedId = derivedRoleId(
            userId,
            (r.record.orgSourcedId ?? '').trim(),
            (r.record.role ?? '').trim(),
          );
        this.emit('roles', r);
      }
      for (const item of this.items(f.nested.get('userProfiles')))
        this.emit('userProfiles', this.fields('userProfiles', item, { userSourcedId: userId }));
    }
    const demographics = deref(this.file.doc, f.nested.get('demographics'));
    if (isMap(demographics))
      this.emit('demographics', this.fields('demographics', demographics, { sourcedId: userId }));
  }
}

/** The first line of `bytes` longer than LINE_LIMIT, if any (one pass over the line breaks). */
function longLine(bytes: Buffer): { line: number; bytes: number } | undefined {
  let line = 1;
  for (let start = 0; start < bytes.length; line++) {
    const lf = bytes.indexOf(0x0a, start);
    const end = lf < 0 ? bytes.length : lf;
    if (end - start > LINE_LIMIT) return { line, bytes: end - start };
    if (lf < 0) break;
    start = lf + 1;
  }
  return undefined;
}
