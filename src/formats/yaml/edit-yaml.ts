/**
 * Edits of a roster YAML file's text at the source-token level: a value replaced where it stands,
 * a key or a list item inserted with its siblings' indentation and style (block or flow), an item
 * cut out with its line. Comments, key order, quoting, anchors and every untouched byte stay as
 * they were: the file is never serialised again. Positions come from the `yaml` library's parse.
 */
import {
  isMap,
  isScalar,
  isSeq,
  LineCounter,
  type Node,
  parseDocument,
  stringify,
  type YAMLMap,
  type YAMLSeq,
} from 'yaml';
import { LIBRARY_PARSE_OPTIONS } from './read.js';

/** Why an edit cannot be made in place (the caller writes nothing and says so). */
export class YamlEditError extends Error {}

/** A string as roster YAML's writer writes it (formats/yaml/write.ts): plain unless it would read as something else. */
export function yamlScalar(value: string): string {
  return stringify(value, { lineWidth: 0 }).replace(/\n$/, '');
}

/** A list as a flow sequence of scalars (`["09", "10"]`); `quoteAll` double-quotes every item, as the list it replaces did. */
export function yamlFlowList(values: readonly string[], quoteAll = false): string {
  return `[${values.map((v) => (quoteAll ? JSON.stringify(v) : yamlScalar(v))).join(', ')}]`;
}

/** A parsed file and the splices made to its text, applied together by `text()`. */
export class YamlFileEdit {
  readonly doc;
  private readonly splices: { start: number; end: number; text: string }[] = [];

  constructor(readonly source: string) {
    this.doc = parseDocument(source, {
      ...LIBRARY_PARSE_OPTIONS,
      keepSourceTokens: true,
      lineCounter: new LineCounter(),
    });
    if (this.doc.errors.length > 0) throw new YamlEditError(this.doc.errors[0]!.message);
  }

  /** The text with every splice made. */
  text(): string {
    const sorted = [...this.splices].sort((a, b) => a.start - b.start || a.end - b.end);
    let out = '';
    let at = 0;
    for (const s of sorted) {
      if (s.start < at) throw new YamlEditError('two edits overlap');
      out += this.source.slice(at, s.start) + s.text;
      at = s.end;
    }
    return out + this.source.slice(at);
  }

  private splice(start: number, end: number, text: string): void {
    this.splices.push({ start, end, text });
  }

  /** Start of the line holding `offset`. */
  private lineStart(offset: number): number {
    return this.source.lastIndexOf('\n', offset - 1) + 1;
  }

  /** End of the line holding `offset` (at its line break). */
  private lineEnd(offset: number): number {
    const lf = this.source.indexOf('\n', offset);
    return lf < 0 ? this.source.length : lf;
  }

  private column(offset: number): number {
    return offset - this.lineStart(offset);
  }

  private range(node: Node): [number, number, number] {
    const r = node.range;
    if (!r) throw new YamlEditError('a node without a position');
    return r;
  }

  /** Replaces `node`'s value (a scalar or a collection) with `text`. */
  replace(node: Node, text: string): void {
    const [start, end] = this.range(node);
    this.splice(start, end, text);
  }

  /** Whether `node` is a flow collection (`[...]`, `{...}`). */
  isFlow(node: Node): boolean {
    return (
      (node as YAMLMap | YAMLSeq).flow === true ||
      this.source[this.range(node)[0]] === '[' ||
      this.source[this.range(node)[0]] === '{'
    );
  }

  /** Whether the scalars of a flow list are double-quoted (`["09"]`), so that new ones are too. */
  quotesItems(seq: YAMLSeq): boolean {
    const first = seq.items.find(isScalar);
    return first ? this.source[this.range(first)[0]] === '"' : false;
  }

  /**
   * Adds `key: valueText` to `map`, as its pairs are written: in a block map before the first key
   * that `rank` puts after it (else after the last pair); in a flow map at its end.
   */
  insertPair(map: YAMLMap, key: string, valueText: string, rank?: (key: string) => number): void {
    const last = map.items.at(-1);
    if (rank && !this.isFlow(map)) {
      const mine = rank(key);
      const before = map.items.find((p, i) => i > 0 && isScalar(p.key) && rank(String(p.key.value)) > mine);
      if (before) {
        const start = this.range(before.key as Node)[0];
        const lineStart = this.lineStart(start);
        this.splice(lineStart, lineStart, `${' '.repeat(this.column(start))}${key}: ${valueText}\n`);
        return;
      }
    }
    if (this.isFlow(map)) {
      const [, end] = this.range(map);
      const close = this.source.lastIndexOf('}', end - 1);
      if (!last) {
        this.splice(close, close, ` ${key}: ${valueText} `);
        return;
      }
      const after = this.range((last.value ?? last.key) as Node)[1];
      this.splice(after, after, `, ${key}: ${valueText}`);
      return;
    }
    if (!last) throw new YamlEditError('an empty block mapping');
    const indent = this.column(this.range(last.key as Node)[0]);
    const valueEnd = this.range((last.value ?? last.key) as Node)[1];
    const at = this.lineEnd(Math.max(valueEnd - 1, 0));
    this.splice(at, at, `\n${' '.repeat(indent)}${key}: ${valueText}`);
  }

  /** Removes the pair `key` of a block or flow map. */
  removePair(map: YAMLMap, key: string): void {
    const index = map.items.findIndex((p) => isScalar(p.key) && String(p.key.value) === key);
    if (index < 0) return;
    const pair = map.items[index]!;
    const keyStart = this.range(pair.key as Node)[0];
    const valueEnd = this.range((pair.value ?? pair.key) as Node)[1];
    if (this.isFlow(map)) {
      const next = map.items[index + 1];
      if (next) this.splice(keyStart, this.range(next.key as Node)[0], '');
      else {
        const previous = map.items[index - 1];
        const from = previous ? this.range((previous.value ?? previous.key) as Node)[1] : keyStart;
        this.splice(from, valueEnd, '');
      }
      return;
    }
    const start = this.lineStart(keyStart);
    const end = Math.min(this.lineEnd(Math.max(valueEnd - 1, keyStart)) + 1, this.source.length);
    this.splice(start, end, '');
  }

  /**
   * Where an item keyed `key` goes in `seq` to keep its order: the index of the first item with a
   * greater key when the items' keys ascend (a user id, or a mapping's sourcedId), else undefined
   * (at the end).
   */
  orderedPosition(seq: YAMLSeq, key: string): number | undefined {
    const keys = seq.items.map((item) =>
      isScalar(item) ? String(item.value ?? '') : isMap(item) ? String(item.get('sourcedId') ?? '') : '',
    );
    for (let i = 1; i < keys.length; i++) if (!(keys[i - 1]! < keys[i]!)) return undefined;
    const at = keys.findIndex((k) => k > key);
    return at < 0 ? undefined : at;
  }

  /** Inserts `text` as a new item before item `index` of `seq` (same style and indentation). */
  private insertBefore(seq: YAMLSeq, index: number, lines: string[]): void {
    const item = seq.items[index] as Node;
    const start = this.range(item)[0];
    if (this.isFlow(seq)) {
      this.splice(start, start, `${lines.join(' ')}, `);
      return;
    }
    const dash = this.source.lastIndexOf('-', start);
    const indent = this.column(dash);
    const contentIndent = this.column(start);
    const body = lines.map((line, i) => (i === 0 ? line : `${' '.repeat(contentIndent)}${line}`)).join('\n');
    const at = this.lineStart(dash);
    this.splice(
      at,
      at,
      `${' '.repeat(indent)}-${' '.repeat(Math.max(1, contentIndent - indent - 1))}${body}\n`,
    );
  }

  /**
   * Appends an item to `seq`: `text` is the item (a scalar, or a mapping as `{ ... }` in a flow
   * list, or the lines of a block mapping after the `- `, separated by "\n" and indented by the
   * caller relative to the item's first line).
   */
  appendItem(seq: YAMLSeq, text: string, before?: number): void {
    if (before !== undefined) {
      this.insertBefore(seq, before, text.split('\n'));
      return;
    }
    const last = seq.items.at(-1) as Node | undefined;
    if (this.isFlow(seq)) {
      if (!last) {
        const [start, end] = this.range(seq);
        this.splice(start, end, `[${text}]`);
        return;
      }
      const after = this.range(last)[1];
      this.splice(after, after, `, ${text}`);
      return;
    }
    if (!last) throw new YamlEditError('an empty block sequence');
    const itemStart = this.range(last)[0];
    const dash = this.source.lastIndexOf('-', itemStart);
    const indent = this.column(dash);
    const contentIndent = this.column(itemStart);
    const end = this.lineEnd(Math.max(this.range(last)[1] - 1, itemStart));
    const lines = text.split('\n');
    const body = lines.map((line, i) => (i === 0 ? line : `${' '.repeat(contentIndent)}${line}`)).join('\n');
    this.splice(
      end,
      end,
      `\n${' '.repeat(indent)}-${' '.repeat(Math.max(1, contentIndent - indent - 1))}${body}`,
    );
  }

  /**
   * The source text of block item `index` of `seq` (its lines, from its dash), and the column of
   * its dash: to copy it elsewhere as it is written (comments, quoting and nested lists kept).
   */
  itemSource(seq: YAMLSeq, index: number): { text: string; indent: number } {
    const item = seq.items[index] as Node;
    const [start, end] = this.range(item);
    const dash = this.source.lastIndexOf('-', start);
    const from = this.lineStart(dash);
    const next = seq.items[index + 1] as Node | undefined;
    const to = next
      ? this.lineStart(this.source.lastIndexOf('-', this.range(next)[0]))
      : this.lineEnd(Math.max(end - 1, start)) + 1;
    return { text: this.source.slice(from, to).replace(/\n?$/, ''), indent: this.column(dash) };
  }

  /** Appends a block item copied from elsewhere (itemSource), re-indented to this list's items. */
  appendItemSource(seq: YAMLSeq, copied: { text: string; indent: number }, before?: number): void {
    const last = seq.items.at(-1) as Node | undefined;
    if (!last || this.isFlow(seq))
      throw new YamlEditError('a list to move a record into must be a block list with items');
    const itemStart = this.range(last)[0];
    const indent = this.column(this.source.lastIndexOf('-', itemStart));
    const shift = indent - copied.indent;
    const lines = copied.text
      .split('\n')
      .map((line) =>
        shift >= 0
          ? ' '.repeat(shift) + line
          : line.slice(Math.min(-shift, line.length - line.trimStart().length)),
      );
    if (before !== undefined) {
      const at = this.lineStart(this.source.lastIndexOf('-', this.range(seq.items[before] as Node)[0]));
      this.splice(at, at, `${lines.join('\n')}\n`);
      return;
    }
    const end = this.lineEnd(Math.max(this.range(last)[1] - 1, itemStart));
    this.splice(end, end, `\n${lines.join('\n')}`);
  }

  /** Removes item `index` of `seq` (a block item with its lines, a flow item with its comma). */
  removeItem(seq: YAMLSeq, index: number): void {
    const item = seq.items[index] as Node;
    const [start, end] = this.range(item);
    if (this.isFlow(seq)) {
      const next = seq.items[index + 1] as Node | undefined;
      const previous = seq.items[index - 1] as Node | undefined;
      if (next) this.splice(start, this.range(next)[0], '');
      else if (previous) this.splice(this.range(previous)[1], end, '');
      else this.splice(start, end, '');
      return;
    }
    if (seq.items.length === 1) {
      // The last item of a block list: the list becomes `[]` on its key's line.
      const dash = this.source.lastIndexOf('-', start);
      const from = this.source.lastIndexOf('\n', dash - 1);
      const to = this.lineEnd(Math.max(end - 1, start));
      this.splice(Math.max(from, 0), to, ' []');
      return;
    }
    const dash = this.source.lastIndexOf('-', start);
    const from = this.lineStart(dash);
    const next = seq.items[index + 1] as Node | undefined;
    const to = next
      ? this.lineStart(this.source.lastIndexOf('-', this.range(next)[0]))
      : Math.min(this.lineEnd(Math.max(end - 1, start)) + 1, this.source.length);
    this.splice(from, to, '');
  }
}

/** The value of `key` in `map` (undefined when absent). */
export function get(map: YAMLMap, key: string): Node | undefined {
  const pair = map.items.find((p) => isScalar(p.key) && String(p.key.value) === key);
  return (pair?.value ?? undefined) as Node | undefined;
}

/** The string of a scalar node (undefined for anything else). */
export function scalarText(node: Node | undefined): string | undefined {
  return isScalar(node) ? String(node.value ?? '') : undefined;
}

export type { YAMLMap, YAMLSeq };
export { isMap, isScalar, isSeq };
