/**
 * A YAML file the user writes by hand (roster.config.yaml, an import mapping), read against its
 * JSON Schema: every problem is reported at its file:line:column, all of them at once.
 */
import { isMap, isPair, isScalar, LineCounter, type Node, parseDocument } from 'yaml';
import { InputError } from '../../errors.js';
import { compileSchema, type ValidateFunction } from '../../schema.js';

export interface YamlFile {
  /** The document as plain data (checked against the schema). */
  readonly data: Record<string, unknown>;
  /** `file:line:column` of the node at `path` (or `file` when there is none). */
  where(path: readonly (string | number)[]): string;
  /** `file:line:column` of the key of the entry at `path` (a mapping's key, not its value). */
  whereKey(path: readonly (string | number)[]): string;
}

const validators = new Map<object, ValidateFunction>();

/**
 * Parses `text` (the content of `file`) and checks it against `schema`. Throws an InputError with
 * `code` that lists every problem at its line, followed by `hint`.
 */
export function readYamlFile(
  file: string,
  text: string,
  schema: object,
  error: { readonly code: string; readonly what: string; readonly hint: string },
): YamlFile {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: true, prettyErrors: false });
  const at = (node: Node | undefined | null) => {
    const offset = node?.range?.[0];
    if (offset === undefined) return file;
    const pos = lines.linePos(offset);
    return `${file}:${pos.line}:${pos.col}`;
  };
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    const pos = lines.linePos(e.pos[0]);
    throw new InputError(
      error.code,
      `${file}:${pos.line}:${pos.col}: ${e.message.split('\n')[0]}`,
      'Fix the YAML syntax.',
    );
  }
  const data = (doc.toJS({ maxAliasCount: 50 }) ?? {}) as Record<string, unknown>;
  let validate = validators.get(schema);
  if (!validate) {
    validate = compileSchema(schema, { allErrors: true, strict: false, useDefaults: false });
    validators.set(schema, validate);
  }
  if (typeof data !== 'object' || Array.isArray(data) || !validate(data)) {
    const lineOf = (text: string) => Number(/:(\d+):\d+: /.exec(text)?.[1] ?? 0);
    const problems = (validate.errors ?? [])
      .filter((e) => e.keyword !== 'if' && e.keyword !== 'oneOf' && e.keyword !== 'anyOf')
      .map((e) => {
        const path = e.instancePath
          .slice(1)
          .split('/')
          .filter(Boolean)
          .map((p) => (/^\d+$/.test(p) ? Number(p) : p.replace(/~1/g, '/').replace(/~0/g, '~')));
        let node = doc.getIn(path, true) as Node | undefined;
        let what = e.message ?? 'is not valid';
        if (e.keyword === 'additionalProperties') {
          const key = (e.params as { additionalProperty: string }).additionalProperty;
          what = `has an unknown setting "${key}"`;
          if (isMap(node))
            node = node.items.find((p) => isPair(p) && isScalar(p.key) && p.key.value === key)?.key as Node;
        } else if (e.keyword === 'enum') {
          what = `must be one of: ${((e.params as { allowedValues: unknown[] }).allowedValues ?? []).join(', ')}`;
        }
        return `${at(node)}: ${path.length ? path.join('.') : 'the file'} ${what}`;
      });
    throw new InputError(
      error.code,
      `${error.what} is not valid:\n  ${[...new Set(problems.length ? problems : [`${file}: the file must be a mapping of settings`])].sort((a, b) => lineOf(a) - lineOf(b)).join('\n  ')}`,
      error.hint,
    );
  }
  return {
    data,
    where: (path) => at(doc.getIn(path, true) as Node | undefined),
    whereKey: (path) => {
      const parent = doc.getIn(path.slice(0, -1), true);
      const key = path[path.length - 1];
      const pair = isMap(parent)
        ? parent.items.find((p) => isPair(p) && isScalar(p.key) && p.key.value === key)
        : undefined;
      return at((pair?.key as Node | undefined) ?? (doc.getIn(path, true) as Node | undefined));
    },
  };
}
