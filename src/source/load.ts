/**
 * Loading a roster from a path: a district repo (its roster.config.yaml says where the roster is),
 * a folder of OneRoster CSV files, a folder of roster YAML files, or a OneRoster zip.
 */
import { existsSync, readdirSync, realpathSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { CONFIG_FILE, findConfig, loadConfig } from '../config/config.js';
import { Diagnostics } from '../diagnostic.js';
import { InputError, UsageError } from '../errors.js';
import type { RosterFormat } from '../formats/format.js';
import { type ReadElsewhere, readOneRoster } from '../formats/oneroster-csv/read.js';
import { directoryFiles, type ZipOptions, zipFiles } from '../formats/package-files.js';
import { readRosterYaml, YAML_EXTENSIONS } from '../formats/yaml/read.js';
import type { EntityName } from '../model/entities.js';
import type { Roster } from '../model/roster.js';
import type { ProgressListener } from '../progress.js';

export type { RosterFormat };

export interface LoadOptions extends ZipOptions {
  /** Diagnostic codes to leave out (e.g. CSV_HEADER_ONLY for vendors that want header-only files). */
  readonly ignore?: readonly string[];
  /** Run the field rules while reading CSV (default true; off for a diff). */
  readonly checkFields?: boolean;
  /** Keep the indexes built while reading CSV (default true; see ReadOptions.keepIndexes). */
  readonly keepIndexes?: boolean;
  readonly progress?: ProgressListener;
  /** For a folder of OneRoster CSV: one entity's file may be read elsewhere (ReadElsewhere). */
  readonly elsewhere?: ReadElsewhere;
}

export interface LoadedRoster {
  readonly roster: Roster;
  readonly diagnostics: Diagnostics;
  readonly format: RosterFormat;
  /** The folder or zip the roster was read from. */
  readonly location: string;
  /** sourcedIds found more than once (their later copies were left out of the roster). */
  readonly duplicates?: ReadonlyMap<EntityName, ReadonlySet<string>>;
}

/** Where the roster of `path` is, and in which format. Throws UsageError / InputError when there is none. */
export function locateRoster(path: string): { location: string; format: RosterFormat } {
  const full = resolve(path);
  if (!existsSync(full)) {
    throw new UsageError(
      'PATH_NOT_FOUND',
      `${path} does not exist`,
      'Give a district repo, a roster folder or a OneRoster zip.',
    );
  }
  if (statSync(full).isFile()) {
    if (full.toLowerCase().endsWith('.zip')) return { location: full, format: 'oneroster-zip' };
    if (YAML_EXTENSIONS.some((e) => full.endsWith(e))) {
      throw new UsageError(
        'PATH_IS_FILE',
        `${path} is a single file`,
        'Point at the folder that holds the roster YAML files.',
      );
    }
    throw new UsageError(
      'PATH_IS_FILE',
      `${path} is not a zip or a folder`,
      'Give a district repo, a roster folder or a OneRoster zip.',
    );
  }
  const config = findConfig(full);
  if (config) return locateRoster(loadConfig(config).rosterPath);
  const names = readdirSync(full);
  const hasCsv = names.some((n) => n.toLowerCase().endsWith('.csv'));
  const hasYaml = hasYamlFiles(full);
  if (hasCsv && hasYaml) {
    throw new UsageError(
      'ROSTER_AMBIGUOUS',
      `${path} holds both CSV and YAML files`,
      'Keep the roster in one format per folder (roster convert turns one into the other).',
    );
  }
  if (hasCsv) return { location: full, format: 'oneroster-csv' };
  if (hasYaml) return { location: full, format: 'yaml' };
  throw new InputError(
    'ROSTER_NOT_FOUND',
    `${path} holds no roster: no OneRoster CSV files, no roster YAML files, no ${CONFIG_FILE}`,
    'Point roster at a district repo, a roster folder or a OneRoster zip; `roster generate` makes an example.',
  );
}

/** The total size of the roster's files at `path` (what reading it will take). */
export function rosterBytes(path: string): number {
  const { location } = locateRoster(path);
  const visited = new Set<string>();
  const sizeOf = (p: string): number => {
    const stat = statSync(p, { throwIfNoEntry: false }); // (a dangling link counts for nothing)
    if (!stat?.isDirectory()) return stat?.size ?? 0;
    const real = realpathSync(p);
    if (visited.has(real)) return 0; // a link back up the tree
    visited.add(real);
    let total = 0;
    for (const entry of readdirSync(p)) if (!entry.startsWith('.')) total += sizeOf(join(p, entry));
    return total;
  };
  return sizeOf(location);
}

/** True when `dir` or a folder under it holds a YAML file (links followed, as directoryFiles does). */
function hasYamlFiles(dir: string, visited = new Set<string>()): boolean {
  visited.add(realpathSync(dir));
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name.startsWith('.') || entry.name === 'node_modules') continue;
    const full = join(dir, entry.name);
    const stat = entry.isSymbolicLink() ? statSync(full, { throwIfNoEntry: false }) : entry;
    if (stat?.isFile() && YAML_EXTENSIONS.some((e) => entry.name.endsWith(e))) return true;
    if (stat?.isDirectory() && !visited.has(realpathSync(full)) && hasYamlFiles(full, visited)) return true;
  }
  return false;
}

/** Reads the roster at `path`. Diagnostics are in `diagnostics`; only unreadable paths throw. */
export async function loadRoster(path: string, options: LoadOptions = {}): Promise<LoadedRoster> {
  const { location, format } = locateRoster(path);
  const diagnostics = new Diagnostics(options.ignore);
  if (format === 'yaml') {
    const { roster } = await readRosterYaml(
      directoryFiles(location, { recursive: true }),
      diagnostics,
      options.progress,
    );
    return { roster, diagnostics, format, location };
  }
  const files =
    format === 'oneroster-zip' ? await zipFiles(location, diagnostics, options) : directoryFiles(location);
  const { roster, duplicates } = await readOneRoster(files, diagnostics, {
    checkFields: options.checkFields !== false,
    keepIndexes: options.keepIndexes !== false,
    ...(options.progress ? { progress: options.progress } : {}),
    ...(options.elsewhere && format === 'oneroster-csv' ? { elsewhere: options.elsewhere } : {}),
  });
  return { roster, diagnostics, format, location, duplicates };
}
