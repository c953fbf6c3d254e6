/**
 * A multi-file CSV export read through an import mapping (formats/mapped/mapping.ts): each file
 * decoded and split as the mapping (or the user's flags) says, each row turned into the records
 * the mapping's rules make, rows that make the same record merged, and every record checked with
 * the field rules at the source file, line and column it came from. What cannot be mapped (a
 * missing file or column, a record without an id, two rows that disagree) is a diagnostic there too.
 */
import Papa from 'papaparse';
import type { Diagnostics } from '../diagnostic.js';
import { decoderFor, firstNonUtf8Line, type SpreadsheetEncoding } from '../formats/csv/decode.js';
import { checkRecordFields, shown } from '../formats/field-rules.js';
import type { Mapping, RecordRule, ValueSpec } from '../formats/mapped/mapping.js';
import { closest, delimiterBetween } from '../formats/oneroster-csv/header.js';
import { ENTITIES, ENTITY_NAMES, type EntityName } from '../model/entities.js';
import { type Roster, RosterBuilder } from '../model/roster.js';

/** One file of the export, as rows of cells. */
export interface SourceTable {
  /** The file as diagnostics name it (its path in the export). */
  readonly file: string;
  readonly header: readonly string[];
  readonly rows: readonly (readonly string[])[];
  /** The 1-based line each row starts on. */
  readonly lines: readonly number[];
}

/** Parses one file's bytes as the mapping says (or, for what it does not say, as `defaults`). */
export function readSourceTable(
  file: string,
  bytes: Buffer,
  how: { encoding?: SpreadsheetEncoding; delimiter?: string },
  expectedColumns: ReadonlySet<string>,
  diagnostics: Diagnostics,
): SourceTable | undefined {
  const encoding = how.encoding ?? 'utf-8';
  if (encoding === 'utf-8') {
    const line = firstNonUtf8Line(bytes);
    if (line !== undefined) {
      diagnostics.add('CSV_ENCODING', {
        file,
        line,
        message: `${file} is not UTF-8: line ${line} looks like ${bytes[0] === 0xff || bytes[0] === 0xfe || bytes.includes(0) ? 'UTF-16' : 'Windows-1252'}`,
      });
      return undefined;
    }
  }
  const text = decoderFor(encoding)(bytes).replace(/^\ufeff/, '');
  const parsed = Papa.parse<string[]>(text, { delimiter: how.delimiter ?? ',', skipEmptyLines: false });
  const rows: string[][] = [];
  const lines: number[] = [];
  let line = 1;
  for (const cells of parsed.data) {
    const start = line;
    for (const cell of cells) for (let i = cell.indexOf('\n'); i >= 0; i = cell.indexOf('\n', i + 1)) line++;
    line++;
    if (cells.length === 1 && cells[0]!.trim() === '') continue;
    rows.push(cells);
    lines.push(start);
  }
  for (const e of parsed.errors.slice(0, 20))
    if (e.code === 'MissingQuotes' || e.code === 'InvalidQuotes')
      diagnostics.add('CSV_QUOTE', {
        file,
        line: (lines[e.row ?? 0] ?? 1) as number,
        message: `${file} line ${lines[e.row ?? 0] ?? 1}: ${e.code === 'MissingQuotes' ? 'a quoted field is never closed' : 'a quote is malformed'}`,
      });
  const header = (rows.shift() ?? []).map((h) => h.trim());
  lines.shift();
  const foreign = (how.delimiter ?? ',') === ',' ? delimiterBetween(header, expectedColumns) : undefined;
  if (foreign) {
    diagnostics.add('CSV_DELIMITER', {
      file,
      line: 1,
      message: `${file} separates its fields with ${foreign}, not commas: its rows were not read`,
    });
    return undefined;
  }
  return { file, header, rows, lines };
}

/** The columns of `file` that the mapping's rules name (to read, filter or join on). */
export function columnsNamed(mapping: Mapping, file: string): Set<string> {
  const names = new Set(mapping.files[file]?.requiredColumns ?? []);
  for (const rule of mapping.records) {
    if (rule.from === file) {
      for (const c of [...Object.keys(rule.when), ...rule.require, ...rule.absent]) names.add(c);
      if (rule.forEach) names.add(rule.forEach.column);
      for (const spec of Object.values(rule.fields)) for (const c of columnsOf(spec)) names.add(c);
    }
    for (const spec of Object.values(rule.fields))
      if (spec.join?.file === file) {
        names.add(spec.join.to ?? spec.join.on);
        names.add(spec.join.column);
      }
  }
  return names;
}

/** The columns a value reads from its own row. */
function columnsOf(spec: ValueSpec): string[] {
  const out: string[] = [];
  if (spec.column) out.push(spec.column);
  if (spec.join) out.push(spec.join.on);
  for (const t of [spec.template, spec.default])
    if (t !== undefined) for (const part of parseTemplate(t)) if (part.columns) out.push(...part.columns);
  return out;
}

type TemplatePart = { text: string; columns?: undefined } | { text?: undefined; columns: string[] };

/** `a-{B|C}-{$schoolYear}` as parts: text, or columns (the first with a value) / a variable. */
function parseTemplate(template: string): TemplatePart[] {
  const parts: TemplatePart[] = [];
  let text = '';
  for (let i = 0; i < template.length; i++) {
    const c = template[i]!;
    if ((c === '{' || c === '}') && template[i + 1] === c) {
      text += c;
      i++;
    } else if (c === '{') {
      const end = template.indexOf('}', i);
      if (end < 0) {
        text += template.slice(i);
        break;
      }
      if (text) parts.push({ text });
      text = '';
      parts.push({
        columns: template
          .slice(i + 1, end)
          .split('|')
          .map((s) => s.trim()),
      });
      i = end;
    } else text += c;
  }
  if (text) parts.push({ text });
  return parts;
}

/** The variables templates may use: the school year the import falls in (July to June). */
export function templateVariables(now: Date): Record<string, string> {
  const year = now.getUTCMonth() >= 6 ? now.getUTCFullYear() + 1 : now.getUTCFullYear();
  return {
    $schoolYear: String(year),
    $schoolYearStart: `${year - 1}-07-01`,
    $schoolYearEnd: `${year}-06-30`,
    $today: now.toISOString().slice(0, 10),
  };
}

/** Replaces {$variables} in a mapping's note. */
export function noteText(note: string, now: Date): string {
  const vars = templateVariables(now);
  return note.replace(/\{(\$\w+)\}/g, (m, name: string) => vars[name] ?? m);
}

type Row = readonly string[];
type Getter = (row: Row) => string;

/** A date written as `pattern` (YYYY, YY, MM, M, DD, D), as a function to `to` (default YYYY-MM-DD). */
function dateConverter(spec: string | { from: string; to: string }): (value: string) => string {
  const from = typeof spec === 'string' ? spec : spec.from;
  const to = typeof spec === 'string' ? 'YYYY-MM-DD' : spec.to;
  const order: string[] = [];
  const source = from.replace(/YYYY|YY|MM|M|DD|D|[.*+?^${}()|[\]\\]/g, (token) => {
    if (!/^[YMD]+$/.test(token)) return `\\${token}`;
    order.push(token[0]!);
    return token === 'YYYY' ? '(\\d{4})' : token === 'YY' ? '(\\d{2})' : '(\\d{1,2})';
  });
  const re = new RegExp(`^${source}$`);
  return (value) => {
    let y: string;
    let m: string;
    let d: string;
    const iso = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
    const found = re.exec(value);
    if (found) {
      const parts: Record<string, string> = {};
      order.forEach((k, i) => {
        parts[k] = found[i + 1]!;
      });
      y = parts.Y!.length === 2 ? `20${parts.Y}` : parts.Y!;
      m = parts.M!.padStart(2, '0');
      d = parts.D!.padStart(2, '0');
    } else if (iso) [, y, m, d] = iso as unknown as [string, string, string, string];
    else return value; // (validation reports it where it stands)
    // A day where the month goes (31/12/2026 read as MM/DD) is kept as written, to be reported.
    if (Number(m) < 1 || Number(m) > 12 || Number(d) < 1 || Number(d) > 31) return value;
    return to.replace(/YYYY|MM|DD/g, (t) => (t === 'YYYY' ? y : t === 'MM' ? m : d));
  };
}

/** What an id cannot hold becomes "-"; lower case. */
function slug(value: string): string {
  return value
    .toLowerCase()
    .replace(/[^0-9a-z./@_-]+/g, '-')
    .replace(/^-+|-+$/g, '');
}

interface Compiled {
  readonly get: Getter;
  /** The source column (a plain `column` value), for the diagnostic's column number. */
  readonly column?: number;
}

interface MapState {
  readonly tables: ReadonlyMap<string, SourceTable>;
  readonly index: Map<string, Map<string, number>>;
  readonly vars: Record<string, string>;
  readonly joins: Map<string, Map<string, number>>;
  /** Per file, the lines already reported as making a record without an id. */
  readonly noId: Map<string, Set<number>>;
}

function columnIndex(state: MapState, name: string): Map<string, number> {
  let idx = state.index.get(name);
  if (!idx) {
    idx = new Map();
    const t = state.tables.get(name);
    t?.header.forEach((h, i) => {
      if (!idx!.has(h)) idx!.set(h, i);
    });
    state.index.set(name, idx);
  }
  return idx;
}

function compileTemplate(template: string, cols: Map<string, number>, vars: Record<string, string>): Getter {
  const parts = parseTemplate(template).map((p) => {
    if (p.text !== undefined) return { text: p.text };
    const vs = p.columns.filter((c) => c.startsWith('$'));
    const idx = p.columns.filter((c) => !c.startsWith('$')).map((c) => cols.get(c) ?? -1);
    return { idx, vs };
  });
  const hasColumns = parts.some((p) => 'idx' in p && p.idx!.length > 0);
  return (row) => {
    let out = '';
    let anyValue = false;
    for (const p of parts) {
      if ('text' in p) {
        out += p.text;
        continue;
      }
      let v = '';
      for (const i of p.idx!) {
        v = i >= 0 ? (row[i] ?? '').trim() : '';
        if (v) break;
      }
      // (Variables are read when the value is made: {$item} changes with each item.)
      if (!v) v = p.vs!.map((x) => vars[x] ?? '').find((x) => x !== '') ?? '';
      if (v && p.idx!.length > 0) anyValue = true;
      out += v;
    }
    // A template all of whose columns are empty is empty (so that `default` applies).
    return hasColumns && !anyValue ? '' : out;
  };
}

function compileValue(spec: ValueSpec, from: string, state: MapState): Compiled {
  const cols = columnIndex(state, from);
  let get: Getter;
  let column: number | undefined;
  if (spec.column !== undefined) {
    const i = cols.get(spec.column) ?? -1;
    column = i >= 0 ? i + 1 : undefined;
    get = i >= 0 ? (row) => (row[i] ?? '').trim() : () => '';
  } else if (spec.join) {
    const { file, on, column: remote } = spec.join;
    const to = spec.join.to ?? on;
    const local = cols.get(on) ?? -1;
    const other = state.tables.get(file);
    const remoteCols = columnIndex(state, file);
    const key = remoteCols.get(to) ?? -1;
    const value = remoteCols.get(remote) ?? -1;
    const joinKey = `${file}\u0000${to}`;
    let lookup = state.joins.get(joinKey);
    if (!lookup) {
      lookup = new Map();
      if (other && key >= 0)
        other.rows.forEach((r, i) => {
          const k = (r[key] ?? '').trim();
          if (k && !lookup!.has(k)) lookup!.set(k, i);
        });
      state.joins.set(joinKey, lookup);
    }
    const found = lookup;
    get = (row) => {
      if (local < 0 || !other || value < 0) return '';
      const k = (row[local] ?? '').trim();
      const i = k ? found.get(k) : undefined;
      return i === undefined ? '' : (other.rows[i]![value] ?? '').trim();
    };
  } else {
    get = compileTemplate(spec.template ?? '', cols, state.vars);
    // A template that is one column ("{Student_id}") stands at that column.
    const parts = parseTemplate(spec.template ?? '');
    const only = parts.length === 1 ? parts[0]!.columns : undefined;
    const i = only?.length === 1 ? (cols.get(only[0]!) ?? -1) : -1;
    if (i >= 0) column = i + 1;
  }
  const fallback = spec.default !== undefined ? compileTemplate(spec.default, cols, state.vars) : undefined;
  const date = spec.date ? dateConverter(spec.date) : undefined;
  const map = spec.map;
  const transform = (item: string) => {
    let v = item.trim();
    if (v && map) v = Object.hasOwn(map, v) ? map[v]! : (spec.otherwise ?? v);
    if (v && date) v = date(v);
    if (v && spec.slug) v = slug(v);
    if (spec.case === 'lower') v = v.toLowerCase();
    else if (spec.case === 'upper') v = v.toUpperCase();
    return v;
  };
  const plain = !map && !date && !spec.slug && !spec.case && !spec.split;
  return {
    get: (row) => {
      let v = get(row);
      if (!v && fallback) v = fallback(row);
      if (plain || !v) return v;
      if (!spec.split) return transform(v);
      return v
        .split(spec.split)
        .map(transform)
        .filter((x) => x !== '')
        .join(',');
    },
    ...(column !== undefined ? { column } : {}),
  };
}

/** Fields whose values are lists (rows that make the same record add to them). */
function isListField(entity: EntityName, field: string): boolean {
  const t = ENTITIES[entity].fields[field]?.type;
  return t === 'refList' || t === 'list' || t === 'grades' || t === 'userIds';
}

interface Made {
  readonly values: Record<string, string>;
  readonly file: string;
  readonly line: number;
  readonly columns: Readonly<Record<string, number | undefined>>;
}

export interface MappedExport {
  readonly roster: Roster;
  /** Rows that made at least one record, per file; and rows read. */
  readonly rows: Readonly<Record<string, { readonly read: number; readonly used: number }>>;
}

/**
 * Turns the export's files into a roster as the mapping says. `tables` holds each of the
 * mapping's files that was read (a file that is absent or could not be read is missing from it;
 * `unreadable` names those that were present but not read, already reported).
 */
export function mapExport(
  mapping: Mapping,
  tables: ReadonlyMap<string, SourceTable>,
  unreadable: ReadonlySet<string>,
  diagnostics: Diagnostics,
  now: Date,
): MappedExport {
  const state: MapState = {
    tables,
    index: new Map(),
    vars: templateVariables(now),
    joins: new Map(),
    noId: new Map(),
  };
  for (const [name, f] of Object.entries(mapping.files)) {
    const t = tables.get(name);
    if (!t) {
      if (!f.optional && !unreadable.has(name))
        diagnostics.add('MAPPING_FILE_MISSING', {
          file: f.path,
          message: `the export has no ${f.path} (the mapping's file "${name}")`,
        });
      continue;
    }
    const named = columnsNamed(mapping, name);
    const present = new Set(t.header);
    for (const c of f.requiredColumns)
      if (!present.has(c)) {
        const near = closest(c, t.header);
        diagnostics.add('MAPPING_COLUMN_MISSING', {
          file: t.file,
          line: 1,
          message: `${t.file} has no column "${c}"${near ? ` (it has "${near}": column names are exact)` : ''}`,
        });
      }
    for (const c of named)
      if (!present.has(c) && !f.requiredColumns.includes(c)) {
        const near = closest(
          c,
          t.header.filter((h) => !named.has(h)),
        );
        if (near)
          diagnostics.add('MAPPING_COLUMN_MISSING', {
            severity: 'warning',
            file: t.file,
            line: 1,
            message: `${t.file} has no column "${c}", read as empty; it has "${near}": column names are exact`,
          });
      }
    const unused = t.header.filter((h) => h !== '' && !named.has(h));
    if (unused.length > 0)
      diagnostics.add('MAPPING_COLUMN_UNUSED', {
        file: t.file,
        line: 1,
        message: `${t.file}: ${unused.length} column(s) the mapping does not read, not imported: ${unused.slice(0, 12).join(', ')}${unused.length > 12 ? ', ...' : ''}`,
      });
  }

  const made = Object.fromEntries(ENTITY_NAMES.map((e) => [e, new Map<string, Made>()])) as Record<
    EntityName,
    Map<string, Made>
  >;
  const used = new Map<string, Uint8Array>();
  for (const [name, t] of tables) used.set(name, new Uint8Array(t.rows.length));
  for (const rule of mapping.records) {
    const t = tables.get(rule.from);
    if (!t) continue;
    applyRule(rule, t, state, made[rule.entity], used.get(rule.from)!, diagnostics);
  }

  const builder = new RosterBuilder(mapping.version);
  for (const entity of ENTITY_NAMES) {
    for (const m of made[entity].values()) {
      checkRecordFields(
        m.values,
        {
          entity,
          version: mapping.version,
          mode: 'bulk',
          file: m.file,
          position: (field) => ({
            line: m.line,
            ...(m.columns[field] !== undefined ? { column: m.columns[field] } : {}),
          }),
        },
        diagnostics,
      );
      builder.add(entity, m.values, { file: m.file, line: m.line });
    }
  }
  const rows: Record<string, { read: number; used: number }> = {};
  for (const [name, t] of tables) {
    const marks = used.get(name)!;
    let count = 0;
    let first = -1;
    for (let i = 0; i < marks.length; i++)
      if (marks[i]) count++;
      else if (first < 0) first = i;
    rows[t.file] = { read: marks.length, used: count };
    const skipped = marks.length - count;
    // (A file only joined to makes no records of its own.)
    if (skipped > 0 && mapping.records.some((r) => r.from === name))
      diagnostics.add('MAPPING_ROWS_UNUSED', {
        file: t.file,
        line: t.lines[first]!,
        message: `${t.file}: ${skipped} row(s) made no record (the first at line ${t.lines[first]}): no rule of the mapping takes them`,
      });
  }
  return { roster: builder.build(), rows };
}

function applyRule(
  rule: RecordRule,
  t: SourceTable,
  state: MapState,
  records: Map<string, Made>,
  used: Uint8Array,
  diagnostics: Diagnostics,
): void {
  const cols = columnIndex(state, rule.from);
  const idx = (c: string) => cols.get(c) ?? -1;
  const when = Object.entries(rule.when).map(([c, values]) => ({ i: idx(c), values: new Set(values) }));
  const require = rule.require.map(idx);
  const absent = rule.absent.map(idx);
  const each = rule.forEach ? { i: idx(rule.forEach.column), split: rule.forEach.split } : undefined;
  // A rule that filters on a column the file lacks takes no row.
  if (when.some((w) => w.i < 0) || require.some((i) => i < 0) || (each && each.i < 0)) return;
  const fields = Object.entries(rule.fields).map(([field, spec]) => ({
    field,
    ...compileValue(spec, rule.from, state),
  }));
  const columns = Object.fromEntries(fields.map((f) => [f.field, f.column]));
  const noId = state.noId.get(rule.from) ?? new Set<number>();
  state.noId.set(rule.from, noId);
  const spec = ENTITIES[rule.entity];
  for (let r = 0; r < t.rows.length; r++) {
    const row = t.rows[r]!;
    const line = t.lines[r]!;
    if (!when.every((w) => w.values.has((row[w.i] ?? '').trim()))) continue;
    if (!require.every((i) => (row[i] ?? '').trim() !== '')) continue;
    if (!absent.every((i) => i < 0 || (row[i] ?? '').trim() === '')) continue;
    used[r] = 1;
    const items = each
      ? (row[each.i] ?? '')
          .split(each.split)
          .map((x) => x.trim())
          .filter((x) => x !== '')
      : [''];
    for (const item of items) {
      state.vars.$item = item;
      makeRecord(row, line);
    }
  }
  delete state.vars.$item;

  function makeRecord(row: Row, line: number): void {
    const values: Record<string, string> = {};
    let filled = false;
    for (const f of fields) {
      const v = f.get(row);
      values[f.field] = v;
      if (v && f.field !== 'sourcedId') filled = true;
    }
    const id = values.sourcedId!;
    if (!id) {
      // One diagnostic per row, though it may make several records (a user and demographics).
      if (noId.has(line)) return;
      noId.add(line);
      diagnostics.add('MAPPING_ID_EMPTY', {
        file: t.file,
        line,
        ...(columns.sourcedId !== undefined ? { column: columns.sourcedId } : {}),
        entity: rule.entity,
        message: `${t.file} line ${line}: the ${rule.entity} record this row makes has no sourcedId (the rule at ${rule.at})`,
      });
      return;
    }
    if (rule.skipEmpty && !filled) return;
    const before = records.get(id);
    if (!before) {
      records.set(id, { values, file: t.file, line, columns });
      return;
    }
    for (const [field, v] of Object.entries(values)) {
      const old = before.values[field] ?? '';
      if (v === old || v === '') continue;
      if (old === '') before.values[field] = v;
      else if (isListField(rule.entity, field)) {
        const items = new Set(old.split(','));
        for (const item of v.split(',')) items.add(item);
        before.values[field] = [...items].join(',');
      } else
        diagnostics.add('MAPPING_CONFLICT', {
          file: t.file,
          line,
          ...(columns[field] !== undefined ? { column: columns[field] } : {}),
          entity: rule.entity,
          recordId: id,
          field,
          message: `${rule.entity} ${id}: ${field} is ${shown(spec.fields[field], v)} here but ${shown(spec.fields[field], old)} in ${before.file} line ${before.line}`,
        });
    }
  }
}
