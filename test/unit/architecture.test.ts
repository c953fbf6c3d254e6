/**
 * The house (docs/architecture.md): the folders of src/ form a DAG in the pipeline's order, type
 * imports included, and the core imports nothing from oclif, the network or the terminal. Read
 * from the sources themselves, so that a new import against the order fails here.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = 'src';

/** Each folder's tier: a folder imports only folders of a later tier (or of its own, without a cycle). */
const TIERS: Record<string, number> = {
  commands: 0,
  action: 0,
  services: 1,
  render: 2,
  targets: 2,
  github: 2,
  source: 2,
  sandbox: 2,
  config: 3,
  plan: 4,
  git: 5,
  validate: 6,
  formats: 7,
  generate: 8,
  model: 9,
};
/** Files at the top of src/: the commands' base class belongs with them; the rest are leaves. */
const ROOT_FILES: Record<string, string> = { 'base-command.ts': 'commands', 'edit-command.ts': 'commands' };
/** Leaves (errors, exit codes, the Diagnostic type, ...) may import other leaves and model only. */
const LEAF_MAY_IMPORT = new Set(['model']);

/**
 * Known edges against the order, each with its reason; the list must match exactly, so that it
 * only ever shrinks. (It is empty: the field rules, which the readers apply while they stream
 * rows, live with them in formats/.)
 */
const KNOWN: Record<string, string> = {};

/** The core: pure, no oclif, network or terminal. */
const CORE = ['model', 'formats', 'validate', 'plan', 'render'];
const NOT_IN_CORE =
  /^(@oclif\/|undici|ssh2|nodemailer|simple-git|busboy|node:(net|http|https|tty|readline|child_process|worker_threads))/;

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

/** The folder (or, for a leaf, the file) a source path belongs to. */
function unitOf(file: string): string {
  const rel = relative(SRC, file);
  const [first, ...rest] = rel.split('/');
  if (rest.length > 0) return first!;
  return ROOT_FILES[first!] ?? first!;
}

interface Edge {
  readonly from: string;
  readonly to: string;
  readonly fromFile: string;
  readonly toFile: string;
}

function imports(): { edges: Edge[]; packages: { file: string; spec: string }[] } {
  const edges: Edge[] = [];
  const packages: { file: string; spec: string }[] = [];
  for (const file of sources(SRC)) {
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/(?:from\s+|import\s*\(\s*|import\s+)'([^']+)'/g)) {
      const spec = m[1]!;
      if (!spec.startsWith('.')) {
        packages.push({ file, spec });
        continue;
      }
      const target = normalize(join(dirname(file), spec)).replace(/\.js$/, '.ts');
      const from = unitOf(file);
      const to = unitOf(target);
      if (from !== to) edges.push({ from, to, fromFile: relative(SRC, file), toFile: relative(SRC, target) });
    }
  }
  return { edges, packages };
}

describe('the house', () => {
  const { edges, packages } = imports();

  it('knows every folder of src/ (a new folder gets a tier here and in docs/architecture.md)', () => {
    const folders = readdirSync(SRC, { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => e.name);
    expect(folders.filter((f) => !(f in TIERS))).toEqual([]);
  });

  it('imports only down the pipeline: commands -> services -> render/targets/source/sandbox -> config -> plan -> git -> validate -> formats -> generate -> model', () => {
    const against = new Set<string>();
    for (const e of edges) {
      const key = `${e.fromFile} -> ${e.toFile}`;
      const fromTier = TIERS[e.from];
      const toTier = TIERS[e.to];
      if (fromTier === undefined) {
        // A leaf: other leaves and model only.
        if (toTier !== undefined && !LEAF_MAY_IMPORT.has(e.to)) against.add(key);
      } else if (toTier !== undefined && toTier < fromTier) against.add(key);
    }
    expect([...against].sort()).toEqual(Object.keys(KNOWN).sort());
  });

  it('has no cycle between folders and leaves', () => {
    const graph = new Map<string, Set<string>>();
    for (const e of edges) {
      if (KNOWN[`${e.fromFile} -> ${e.toFile}`]) continue;
      if (!graph.has(e.from)) graph.set(e.from, new Set());
      graph.get(e.from)!.add(e.to);
    }
    const cycles: string[] = [];
    const state = new Map<string, 'open' | 'done'>();
    const visit = (node: string, path: string[]) => {
      if (state.get(node) === 'done') return;
      if (state.get(node) === 'open') {
        cycles.push([...path.slice(path.indexOf(node)), node].join(' -> '));
        return;
      }
      state.set(node, 'open');
      for (const next of graph.get(node) ?? []) visit(next, [...path, node]);
      state.set(node, 'done');
    };
    for (const node of graph.keys()) visit(node, []);
    expect(cycles).toEqual([]);
  });

  it('keeps the core (model, formats, validate, plan, render) free of oclif, the network and the terminal', () => {
    const offending = packages
      .filter((p) => CORE.includes(unitOf(p.file)) && NOT_IN_CORE.test(p.spec))
      .map((p) => `${relative(SRC, p.file)} imports ${p.spec}`);
    expect(offending).toEqual([]);
  });
});
