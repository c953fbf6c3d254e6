/**
 * A fast parser for the plain block YAML that roster YAML is written in (what `roster convert`
 * and `roster generate` write, and what people type by hand): block mappings and sequences
 * indented with spaces, one-line plain and quoted scalars, one-line flow lists of scalars, and
 * whole-line comments. It builds the same Document (the `yaml` library's nodes, with the same
 * positions) that `parseDocument` would, about ten times faster: the library's lexer, parser and
 * composer took half of reading a large roster, and most of its garbage.
 *
 * Anything else (anchors, tags, block scalars, flow mappings, multi-line scalars, comments after
 * values, tabs, CRLF, duplicate keys, empty values, ...) makes it give up (undefined): the caller
 * then parses the text with the library, whose diagnostics are exact. Tests compare both parsers
 * node for node.
 */
import { Document, LineCounter, Pair, Scalar, YAMLMap, YAMLSeq } from 'yaml';

/** Thrown to give up; caught in parseYamlSubset. */
class OutsideSubset extends Error {}
const outside = new OutsideSubset();

const SPACE = 0x20;
const HASH = 0x23;
const DASH = 0x2d;
const COLON = 0x3a;
const DOUBLE_QUOTE = 0x22;
const SINGLE_QUOTE = 0x27;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const COMMA = 0x2c;
const BACKSLASH = 0x5c;
/** Characters a plain scalar may not start with (YAML indicators, quotes and brackets we do not read as such). */
const INDICATORS = new Set([...'-?:,[]{}#&*!|>\'"%@`'].map((c) => c.charCodeAt(0)));
// biome-ignore lint/suspicious/noControlCharactersInRegex: diagnostic them is the point
const UNUSUAL = /[\u0000-\u0009\u000b-\u001f\u007f\u0085\u2028\u2029\ufeff]/;
/** Double-quoted escapes JSON reads the same way (YAML has more: those give up). */
const JSON_ESCAPES = new Set([...'"\\/bfnrtu'].map((c) => c.charCodeAt(0)));

/**
 * The Document and line starts `parseDocument` would give with the reader's options
 * (LIBRARY_PARSE_OPTIONS in read.ts), or undefined when `text` is not in the subset this parser
 * reads.
 */
export function parseYamlSubset(text: string): { doc: Document.Parsed; lines: LineCounter } | undefined {
  // Tabs, CRs, other control characters and YAML's other line breaks: the library's business.
  if (UNUSUAL.test(text)) return undefined;
  try {
    const reader = new SubsetReader(text);
    const root = reader.document();
    const doc = new Document(undefined, { schema: 'failsafe', uniqueKeys: true });
    doc.contents = root;
    const lines = new LineCounter();
    lines.addNewLine(0);
    for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) lines.addNewLine(i + 1);
    return { doc: doc as Document.Parsed, lines };
  } catch (err) {
    if (err === outside) return undefined;
    throw err;
  }
}

class SubsetReader {
  /** Where the current token starts (on the current line); -1 at the end. */
  private at = 0;
  /** Its column (0-based). */
  private column = 0;
  /** Where the current line ends (its newline, or the end of the text). */
  private lineEnd = 0;

  constructor(private readonly text: string) {
    this.line(0);
  }

  document(): YAMLMap | YAMLSeq | null {
    if (this.at < 0) return null; // nothing but comments and blank lines
    if (this.column !== 0) throw outside;
    const root = this.block(0);
    if (this.at >= 0) throw outside; // something after the top-level block
    return root;
  }

  /** Moves to the first content line from offset `from` on (skipping blank lines and whole-line comments). */
  private line(from: number): void {
    const { text } = this;
    let start = from;
    while (start < text.length) {
      let end = text.indexOf('\n', start);
      if (end < 0) end = text.length;
      let p = start;
      while (p < end && text.charCodeAt(p) === SPACE) p++;
      if (p < end && text.charCodeAt(p) !== HASH) {
        if (p === start) {
          // Directives and document markers: the library's business.
          const c = text.charCodeAt(p);
          if (c === 0x25 || ((c === DASH || c === 0x2e) && text.startsWith(c === DASH ? '---' : '...', p)))
            throw outside;
        }
        this.at = p;
        this.column = p - start;
        this.lineEnd = end;
        return;
      }
      start = end + 1;
    }
    this.at = -1;
    this.column = -1;
  }

  private nextLine(): void {
    this.line(this.lineEnd + 1);
  }

  /** The block node starting at the current token (column `column`). */
  private block(column: number): YAMLMap | YAMLSeq {
    return this.isSequenceItem() ? this.sequence(column) : this.mapping(column);
  }

  private isSequenceItem(): boolean {
    const { text, at } = this;
    return text.charCodeAt(at) === DASH && (at + 1 === this.lineEnd || text.charCodeAt(at + 1) === SPACE);
  }

  private sequence(column: number): YAMLSeq {
    const seq = new YAMLSeq();
    seq.range = [this.at, this.at, this.at];
    for (;;) {
      // At "- ": the item starts after the spaces.
      let p = this.at + 1;
      while (p < this.lineEnd && this.text.charCodeAt(p) === SPACE) p++;
      if (p >= this.lineEnd) throw outside; // its item on the lines below
      this.column += p - this.at;
      this.at = p;
      if (this.isSequenceItem()) throw outside; // "- - x"
      if (this.keyEnd() >= 0) seq.items.push(this.mapping(this.column));
      else {
        seq.items.push(this.inline());
        this.nextLine();
      }
      if (this.at < 0 || this.column < column) break;
      if (this.column > column || !this.isSequenceItem()) throw outside;
    }
    seq.range = [seq.range[0], this.end(), this.end()];
    return seq;
  }

  private mapping(column: number): YAMLMap {
    const map = new YAMLMap();
    map.range = [this.at, this.at, this.at];
    const keys = new Set<string>();
    for (;;) {
      const colon = this.keyEnd();
      if (colon < 0) throw outside;
      const key = this.text.slice(this.at, colon);
      if (keys.has(key)) throw outside; // a duplicate key: the library reports it
      keys.add(key);
      const keyNode = scalar(key, this.at, colon);
      let p = colon + 1;
      while (p < this.lineEnd && this.text.charCodeAt(p) === SPACE) p++;
      let value: YAMLMap | YAMLSeq | Scalar;
      if (p >= this.lineEnd) {
        // The value is the block below, further in.
        this.nextLine();
        if (this.at < 0 || this.column <= column) throw outside; // an empty value
        value = this.block(this.column);
      } else {
        this.column += p - this.at;
        this.at = p;
        value = this.inline();
        this.nextLine();
      }
      map.items.push(new Pair(keyNode, value));
      if (this.at < 0 || this.column < column) break;
      if (this.column > column || this.isSequenceItem()) throw outside;
    }
    map.range = [map.range[0], this.end(), this.end()];
    return map;
  }

  /** Where the current token's key ends (its colon), or -1 when the token is not "key:" or "key: ...". */
  private keyEnd(): number {
    const { text, at, lineEnd } = this;
    const first = text.charCodeAt(at);
    if (INDICATORS.has(first)) return -1;
    for (let p = at; p < lineEnd; p++) {
      const c = text.charCodeAt(p);
      if (c === COLON && (p + 1 === lineEnd || text.charCodeAt(p + 1) === SPACE)) {
        if (text.charCodeAt(p - 1) === SPACE) throw outside; // "key :": spaces to trim
        return p;
      }
      if (c === HASH && text.charCodeAt(p - 1) === SPACE) throw outside; // a comment after it
    }
    return -1;
  }

  /** A scalar or flow list standing on the rest of the current line. */
  private inline(): Scalar | YAMLSeq {
    const { text, at } = this;
    const first = text.charCodeAt(at);
    let node: Scalar | YAMLSeq;
    let end: number;
    if (first === DOUBLE_QUOTE || first === SINGLE_QUOTE) {
      end = this.quotedEnd(at);
      node = scalar(unquote(text, at, end), at, end);
    } else if (first === OPEN_BRACKET) {
      [node, end] = this.flowList(at);
    } else {
      if (INDICATORS.has(first)) throw outside;
      end = this.lineEnd;
      while (text.charCodeAt(end - 1) === SPACE) end--;
      for (let p = at; p < end; p++) {
        const c = text.charCodeAt(p);
        if (c === COLON && text.charCodeAt(p + 1) === SPACE) throw outside; // a mapping here is an error
        if (c === HASH && text.charCodeAt(p - 1) === SPACE) throw outside; // a comment after it
      }
      if (text.charCodeAt(end - 1) === COLON) throw outside;
      node = scalar(text.slice(at, end), at, end);
    }
    for (let p = end; p < this.lineEnd; p++) if (text.charCodeAt(p) !== SPACE) throw outside;
    return node;
  }

  /** Where a quoted scalar starting at `at` ends (after its closing quote), on this line. */
  private quotedEnd(at: number): number {
    const { text } = this;
    const quote = text.charCodeAt(at);
    for (let p = at + 1; p < this.lineEnd; p++) {
      const c = text.charCodeAt(p);
      if (quote === DOUBLE_QUOTE && c === BACKSLASH) {
        if (!JSON_ESCAPES.has(text.charCodeAt(p + 1))) throw outside;
        p++;
        continue;
      }
      if (c !== quote) continue;
      if (quote === SINGLE_QUOTE && text.charCodeAt(p + 1) === SINGLE_QUOTE) {
        p++; // '' is a quote
        continue;
      }
      return p + 1;
    }
    throw outside; // it goes on to the next line
  }

  /** A one-line flow list of scalars ("[a, "b", c]") starting at `at`, and where it ends. */
  private flowList(at: number): [YAMLSeq, number] {
    const { text } = this;
    const seq = new YAMLSeq();
    seq.flow = true;
    let p = at + 1;
    const skip = () => {
      while (p < this.lineEnd && text.charCodeAt(p) === SPACE) p++;
    };
    skip();
    if (text.charCodeAt(p) === CLOSE_BRACKET) {
      seq.range = [at, p + 1, p + 1];
      return [seq, p + 1];
    }
    for (;;) {
      if (p >= this.lineEnd) throw outside;
      const c = text.charCodeAt(p);
      let end: number;
      if (c === DOUBLE_QUOTE || c === SINGLE_QUOTE) {
        end = this.quotedEnd(p);
        seq.items.push(scalar(unquote(text, p, end), p, end));
      } else {
        if (INDICATORS.has(c)) throw outside;
        end = p;
        while (end < this.lineEnd) {
          const d = text.charCodeAt(end);
          if (d === COMMA || d === CLOSE_BRACKET) break;
          if (d === OPEN_BRACKET || d === 0x7b || d === 0x7d) throw outside;
          if (d === COLON || (d === HASH && text.charCodeAt(end - 1) === SPACE)) throw outside;
          end++;
        }
        while (text.charCodeAt(end - 1) === SPACE) end--;
        seq.items.push(scalar(text.slice(p, end), p, end));
      }
      p = end;
      skip();
      const next = text.charCodeAt(p);
      if (next === CLOSE_BRACKET) {
        seq.range = [at, p + 1, p + 1];
        return [seq, p + 1];
      }
      if (next !== COMMA) throw outside;
      p++;
      skip();
      if (text.charCodeAt(p) === CLOSE_BRACKET) throw outside; // a trailing comma
    }
  }

  /** Where the node just read ends: the start of the current line, or the end of the text. */
  private end(): number {
    return this.at < 0 ? this.text.length : this.at - this.column;
  }
}

function scalar(value: string, start: number, end: number): Scalar {
  const s = new Scalar(value);
  s.range = [start, end, end];
  return s;
}

/** The value of the quoted scalar text[start, end) (its quotes included). */
function unquote(text: string, start: number, end: number): string {
  const inner = text.slice(start + 1, end - 1);
  if (text.charCodeAt(start) === SINGLE_QUOTE)
    return inner.includes("'") ? inner.replaceAll("''", "'") : inner;
  if (!inner.includes('\\')) return inner;
  try {
    return JSON.parse(`"${inner}"`) as string;
  } catch {
    throw outside; // an escape JSON does not read as YAML does
  }
}
