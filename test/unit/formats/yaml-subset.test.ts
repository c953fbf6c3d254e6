import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isMap, isScalar, isSeq, LineCounter, parseDocument } from 'yaml';
import { LIBRARY_PARSE_OPTIONS } from '../../../src/formats/yaml/read.js';
import { parseYamlSubset } from '../../../src/formats/yaml/subset-parse.js';
import { writeRosterYaml } from '../../../src/formats/yaml/write.js';
import { generateDistrict } from '../../../src/generate/generate.js';
import { convertVersion } from '../../../src/model/convert-version.js';
import { RosterBuilder } from '../../../src/model/roster.js';

/** What the roster reader sees of a node: kinds, values, positions. */
function project(node: unknown): unknown {
  if (isScalar(node)) return { scalar: node.value, at: node.range?.[0] };
  if (isSeq(node)) return { seq: node.items.map(project), at: node.range?.[0], flow: node.flow === true };
  if (isMap(node))
    return { map: node.items.map((p) => [project(p.key), project(p.value)]), at: node.range?.[0] };
  return node;
}

/** Both parsers on `text`: the same nodes, positions, line starts and data. */
function expectSameAsLibrary(text: string, label = ''): void {
  const lines = new LineCounter();
  const library = parseDocument(text, { lineCounter: lines, ...LIBRARY_PARSE_OPTIONS });
  expect(library.errors, label).toEqual([]);
  const fast = parseYamlSubset(text);
  expect(fast, `${label}: the subset parser gave up`).toBeDefined();
  expect(project(fast!.doc.contents), label).toEqual(project(library.contents));
  expect(fast!.lines.lineStarts, label).toEqual(lines.lineStarts);
  expect(fast!.doc.toJS(), label).toEqual(library.toJS());
}

function rosterYamlFiles(): [string, string][] {
  const files: [string, string][] = [];
  const district = generateDistrict({ schools: 2, students: 30, seed: 11 });
  for (const layout of ['single', 'per-school'] as const) {
    for (const [name, text] of writeRosterYaml(district, { layout, schemaPath: 'roster.schema.json' }))
      files.push([`1.1 ${layout} ${name}`, text]);
  }
  for (const [name, text] of writeRosterYaml(convertVersion(district, '1.2').roster))
    files.push([`1.2 ${name}`, text]);
  // Values the writer must quote or escape, and extension columns.
  const b = new RosterBuilder('1.1');
  b.add('orgs', {
    sourcedId: 'd1',
    name: 'District: "North" #1',
    type: 'district',
    'metadata.note': "it's ok",
  });
  b.add('orgs', {
    sourcedId: 's1',
    name: '- dash, [bracket] & star*',
    type: 'school',
    parentSourcedId: 'd1',
  });
  b.add('orgs', { sourcedId: 's2', name: 'Zoë 😀 \\ back\\slash', type: 'school', parentSourcedId: 'd1' });
  b.add('orgs', { sourcedId: 's3', name: 'true', identifier: '007', type: 'school', parentSourcedId: 'd1' });
  for (const [name, text] of writeRosterYaml(b.build())) files.push([`quoted ${name}`, text]);
  const example = 'examples/springfield/roster';
  files.push(['example roster.yaml', readFileSync(join(example, 'roster.yaml'), 'utf8')]);
  for (const f of readdirSync(join(example, 'schools')))
    files.push([`example ${f}`, readFileSync(join(example, 'schools', f), 'utf8')]);
  return files;
}

describe('the plain block YAML parser (parseYamlSubset)', () => {
  it('reads what the writer writes exactly as the yaml library does', () => {
    const files = rosterYamlFiles();
    expect(files.length).toBeGreaterThan(8);
    for (const [label, text] of files) expectSameAsLibrary(text, label);
  });

  it('reads hand-written plain YAML as the library does', () => {
    const cases = [
      '',
      '# only a comment\n\n',
      'a: b',
      'a: b\n',
      'top:\n  - x\n  - "y"\n  - \'z\'\n',
      "- a\n- b: c\n  d: e\n-   f: g\n    h: [i, \"j, k\", 'l''m']\n",
      'url: http://example.org/a#b\nratio: 1:2\nempty: []\nspaced:   value with  spaces   \n',
      'q: "tab\\tand \\"quote\\" and \\u00e9"\nsq: \'it\'\'s\'\n',
      'deep:\n    more:\n          - x\n          -  y\n    back: z\n\n  # indented comment\nlast: 1\n',
      'list: [ a ,b,  "c" ]\n',
      'k.with.dots: v\nmetadata.x-y_z: "0042"\n',
    ];
    for (const text of cases) expectSameAsLibrary(text, JSON.stringify(text));
  });

  it('gives up on what it does not read (the library then reads it)', () => {
    const cases = [
      'a: &x b\nc: *x\n', // anchors and aliases
      'a: !!str b\n', // tags
      'a: |\n  block\n', // block scalars
      'a: {b: c}\n', // flow mappings
      'a: one\n  two\n', // a plain scalar on two lines
      'a: "one\n  two"\n', // a quoted one
      'a: b # comment\n', // a comment after a value
      'a: b\na: c\n', // a duplicate key (the library reports it)
      'a:\nb: c\n', // an empty value
      'a:\n- b\n', // a list not indented under its key
      '- - a\n', // a list in a list item on one line
      'a: b\r\n', // CRLF
      'a:\tb\n', // a tab
      '---\na: b\n', // a document marker
      '"a": b\n', // a quoted key
      'a: b: c\n', // a mapping in a value
      'a: -1\n', // a plain scalar starting with an indicator
      'a: [b, [c]]\n', // nested flow lists
      'a: [b, ]\n', // a trailing comma
      'a: "\\x41"\n', // a YAML escape JSON does not have
      'a: b\n  c: d\n', // more indented than the value before
    ];
    for (const text of cases) expect(parseYamlSubset(text), JSON.stringify(text)).toBeUndefined();
  });
});
