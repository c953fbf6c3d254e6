/**
 * Import mappings (format 1, schemas/import-mapping.schema.json, docs/import.md): how a
 * multi-file CSV export that is not OneRoster (Clever's SFTP files, the two-file batch, a SIS's
 * own layout) becomes a OneRoster roster. Declarative: which file and column make which field,
 * value maps, id templates, joins between files, per-file encodings. Parsing checks the mapping
 * against the schema and against the OneRoster model (entity and field names), every problem at
 * its file:line:column.
 */

import { InputError } from '../../errors.js';
import { ENTITIES, type EntityName, type RosterVersion } from '../../model/entities.js';
import { closest } from '../oneroster-csv/header.js';
import { readYamlFile } from '../yaml/yaml-file.js';

export const MAPPING_VERSION = 1;

export type MappingEncoding = 'utf-8' | 'windows-1252' | 'latin1' | 'utf-16le' | 'utf-16be';

export interface MappedFile {
  /** Its name in the export folder. */
  readonly path: string;
  readonly optional: boolean;
  readonly encoding?: MappingEncoding;
  readonly delimiter?: string;
  readonly requiredColumns: readonly string[];
}

/** A field's value: a template, or a column / template / join with transforms. */
export interface ValueSpec {
  readonly column?: string;
  readonly template?: string;
  readonly join?: {
    readonly file: string;
    readonly on: string;
    readonly to?: string;
    readonly column: string;
  };
  readonly default?: string;
  readonly split?: string;
  readonly map?: Readonly<Record<string, string>>;
  readonly otherwise?: string;
  readonly date?: string | { readonly from: string; readonly to: string };
  readonly slug?: boolean;
  readonly case?: 'lower' | 'upper';
}

export interface RecordRule {
  readonly entity: EntityName;
  /** The name of the file whose rows make these records. */
  readonly from: string;
  readonly when: Readonly<Record<string, readonly string[]>>;
  readonly require: readonly string[];
  readonly absent: readonly string[];
  readonly skipEmpty: boolean;
  /** The row makes one record per item of this list column (`{$item}` in templates). */
  readonly forEach?: { readonly column: string; readonly split: string };
  readonly fields: Readonly<Record<string, ValueSpec>>;
  /** Where the rule is written (`file:line:column`), for messages. */
  readonly at: string;
}

export interface Mapping {
  /** The mapping's file, or `preset NAME`. */
  readonly source: string;
  readonly description?: string;
  readonly version: RosterVersion;
  readonly notes: readonly string[];
  readonly files: Readonly<Record<string, MappedFile>>;
  readonly records: readonly RecordRule[];
}

let schema: object | undefined;

/**
 * Reads a mapping written as YAML (or JSON). `schemaText` is the content of
 * schemas/import-mapping.schema.json (read by the caller: the core reads no files).
 */
export function parseMapping(file: string, text: string, schemaText: string): Mapping {
  schema ??= JSON.parse(schemaText) as object;
  const hint = 'See docs/import.md and schemas/import-mapping.schema.json.';
  const { data, where, whereKey } = readYamlFile(file, text, schema, {
    code: 'MAPPING_INVALID',
    what: file,
    hint,
  });
  const raw = data as {
    description?: string;
    oneRosterVersion?: RosterVersion;
    notes?: string[];
    files: Record<
      string,
      {
        path: string;
        optional?: boolean;
        encoding?: MappingEncoding;
        delimiter?: string;
        requiredColumns?: string[];
      }
    >;
    records: {
      entity: EntityName;
      from: string;
      when?: Record<string, string | string[]>;
      require?: string[];
      absent?: string[];
      skipEmpty?: boolean;
      forEach?: { column: string; split?: string };
      fields: Record<string, string | ValueSpec>;
    }[];
  };
  const version = raw.oneRosterVersion ?? '1.1';
  const fileNames = Object.keys(raw.files);
  const problems: string[] = [];
  const knownFile = (name: string, path: (string | number)[], what: string) => {
    if (raw.files[name]) return;
    const near = closest(name, fileNames);
    problems.push(
      `${where(path)}: ${what} "${name}" is not one of the files (${fileNames.join(', ')})${near ? `; did you mean "${near}"?` : ''}`,
    );
  };
  const records = raw.records.map((r, i): RecordRule => {
    knownFile(r.from, ['records', i, 'from'], 'from');
    const spec = ENTITIES[r.entity];
    const names = Object.keys(spec.fields).filter((f) => f !== 'status' && f !== 'dateLastModified');
    const columns = spec.columns[version];
    const fields: Record<string, ValueSpec> = {};
    for (const [field, value] of Object.entries(r.fields)) {
      const path = ['records', i, 'fields', field];
      if (!names.includes(field) || (columns && !columns.includes(field))) {
        const near = closest(field, names);
        problems.push(
          `${whereKey(path)}: ${r.entity} has no field "${field}" in OneRoster ${version}${near ? `; did you mean "${near}"?` : ''}`,
        );
        continue;
      }
      const v: ValueSpec = typeof value === 'string' ? { template: value } : value;
      const sources = [v.column, v.template, v.join].filter((s) => s !== undefined).length;
      if (sources !== 1)
        problems.push(`${where(path)}: ${field} needs one of column, template or join (it has ${sources})`);
      if (v.join) knownFile(v.join.file, [...path, 'join', 'file'], 'join.file');
      if (v.otherwise !== undefined && !v.map)
        problems.push(`${whereKey([...path, 'otherwise'])}: otherwise goes with map`);
      fields[field] = v;
    }
    const when = Object.fromEntries(
      Object.entries(r.when ?? {}).map(([c, v]) => [c, typeof v === 'string' ? [v] : v]),
    );
    return {
      entity: r.entity,
      from: r.from,
      when,
      require: r.require ?? [],
      absent: r.absent ?? [],
      skipEmpty: r.skipEmpty ?? false,
      ...(r.forEach ? { forEach: { column: r.forEach.column, split: r.forEach.split ?? ',' } } : {}),
      fields,
      at: where(['records', i]),
    };
  });
  if (problems.length > 0)
    throw new InputError('MAPPING_INVALID', `${file} is not valid:\n  ${problems.join('\n  ')}`, hint);
  const files = Object.fromEntries(
    Object.entries(raw.files).map(([name, f]) => [
      name,
      {
        path: f.path,
        optional: f.optional ?? false,
        ...(f.encoding ? { encoding: f.encoding } : {}),
        ...(f.delimiter ? { delimiter: f.delimiter } : {}),
        requiredColumns: f.requiredColumns ?? [],
      },
    ]),
  );
  return {
    source: file,
    ...(raw.description ? { description: raw.description } : {}),
    version,
    notes: raw.notes ?? [],
    files,
    records,
  };
}
