/**
 * Writing a Roster to disk in any format, refusing to overwrite a folder that holds something
 * unless asked: nothing a user has is lost by accident.
 */
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { getHeapStatistics } from 'node:v8';
import { diskFullAs, UsageError } from '../errors.js';
import { writeOneRosterDir, writeOneRosterZip } from '../formats/oneroster-csv/write.js';
import { writeRosterYaml } from '../formats/yaml/write.js';
import { convertVersion } from '../model/convert-version.js';
import type { RosterVersion } from '../model/entities.js';
import type { Roster } from '../model/roster.js';

export type OutputFormat = 'yaml' | 'oneroster-1.1' | 'oneroster-1.2';
export const OUTPUT_FORMATS: readonly OutputFormat[] = ['yaml', 'oneroster-1.1', 'oneroster-1.2'];

export interface WriteOptions {
  readonly to: OutputFormat;
  /** A folder, or for OneRoster a path ending in .zip. */
  readonly out: string;
  readonly layout?: 'single' | 'per-school';
  /** Replace the roster files already in `out`. */
  readonly force?: boolean;
}

export interface WriteResult {
  readonly files: string[];
  readonly version: RosterVersion;
  /** What a version conversion could not carry over. */
  readonly notes: string[];
}

/** The installed schemas/roster.schema.json (dist/services -> package root). */
export const ROSTER_SCHEMA_FILE = fileURLToPath(new URL('../../schemas/roster.schema.json', import.meta.url));

export async function writeRoster(roster: Roster, options: WriteOptions): Promise<WriteResult> {
  const targetVersion: RosterVersion =
    options.to === 'oneroster-1.2' ? '1.2' : options.to === 'oneroster-1.1' ? '1.1' : roster.version;
  const { roster: converted, notes } = convertVersion(roster, targetVersion);
  if (options.to === 'yaml') refuseYamlBeyondMemory(converted);
  const files = await writeOutput(
    {
      out: options.out,
      extensions: options.to === 'yaml' ? ['.yaml', '.yml'] : ['.csv'],
      force: options.force,
    },
    async (dir) => {
      if (options.to === 'yaml') {
        // The schema is found from where the files will be, not from the staging folder.
        const schemaPath = relative(resolve(options.out), ROSTER_SCHEMA_FILE).split(sep).join('/');
        const written = writeRosterYaml(converted, { layout: options.layout ?? 'per-school', schemaPath });
        for (const [name, text] of written) {
          mkdirSync(dirname(join(dir, name)), { recursive: true });
          writeFileSync(join(dir, name), text);
        }
        return [...written.keys()];
      }
      return writeOneRosterDir(converted, dir);
    },
    (zip) => writeOneRosterZip(converted, zip),
  );
  return { files, version: targetVersion, notes };
}

/** Where and how an output is written (`--out`, `--force`). */
export interface OutputOptions {
  /** A folder, or a path ending in .zip (when a zip writer is given). */
  readonly out: string;
  /** Files that make a folder "hold a roster": refused unless `force`, then replaced. */
  readonly extensions: readonly string[];
  readonly force?: boolean | undefined;
}

/**
 * Writes an output so that nothing is lost and nothing partial is left: a folder that already
 * holds roster files is refused unless `force`; the files are written to a staging folder next
 * to `out` and moved into place only when all are written (a zip to a temporary name, renamed);
 * a full disk is DISK_FULL (exit 1) with the staging folder removed; stagings left by killed
 * runs are removed first. Returns the paths written.
 */
export async function writeOutput(
  options: OutputOptions,
  writeDir: (dir: string) => Promise<readonly string[]>,
  writeZip?: (zip: string) => Promise<void>,
): Promise<string[]> {
  const out = resolve(options.out);
  removeStagings(out);
  if (writeZip && out.toLowerCase().endsWith('.zip')) {
    if (existsSync(out) && !options.force)
      throw new UsageError('OUTPUT_EXISTS', `${options.out} already exists`, 'Pass --force to replace it.');
    await diskFullAs(out, () => writeZip(out));
    return [out];
  }
  const replaced = existingRosterFiles(out, options);
  const staging = `${out}${STAGING}${process.pid}`;
  let names: readonly string[];
  try {
    mkdirSync(staging, { recursive: true });
    names = await diskFullAs(out, () => writeDir(staging));
  } catch (err) {
    rmSync(staging, { recursive: true, force: true });
    throw err;
  }
  // All written: the old roster files go, the new ones move in.
  for (const f of replaced) rmSync(f);
  if (!existsSync(out)) renameSync(staging, out);
  else {
    for (const name of names) {
      mkdirSync(dirname(join(out, name)), { recursive: true });
      renameSync(join(staging, name), join(out, name));
    }
    rmSync(staging, { recursive: true, force: true });
  }
  return names.map((n) => join(out, n));
}

/** The suffix of staging folders (`<out>.roster-staging-<pid>`). */
const STAGING = '.roster-staging-';

/** Stagings and temporary zips of earlier runs that were killed or ran out of disk. */
function removeStagings(out: string): void {
  const parent = dirname(out);
  if (!existsSync(parent)) return;
  const base = basename(out);
  for (const name of readdirSync(parent))
    if (name.startsWith(`${base}${STAGING}`) || name.startsWith(`${base}.tmp-`))
      rmSync(join(parent, name), { recursive: true, force: true });
}

/**
 * Memory the YAML writer takes per record (measured: 2.0 GB for a 100,000-student district of
 * 1.07M records), with some margin. The writer holds the roster as objects, so a city does not
 * fit; refused up front rather than crashing with the JavaScript heap exhausted.
 */
export const YAML_WRITE_BYTES_PER_RECORD = 2500;

/** The most records roster YAML can be written for with a JavaScript heap of `heapBytes`. */
export function yamlWriteLimit(heapBytes = getHeapStatistics().heap_size_limit): number {
  return Math.floor(heapBytes / YAML_WRITE_BYTES_PER_RECORD);
}

function refuseYamlBeyondMemory(roster: Roster): void {
  const limit = yamlWriteLimit();
  if (roster.size <= limit) return;
  const heapMb = Math.round(getHeapStatistics().heap_size_limit / 1048576);
  throw new UsageError(
    'YAML_TOO_LARGE',
    `${roster.size.toLocaleString('en-US')} records are too many to write as roster YAML with this JavaScript heap (${heapMb} MB: about ${limit.toLocaleString('en-US')} records)`,
    'Write OneRoster CSV instead (--format csv, or --to oneroster-1.1), which has no such limit; or give Node more memory (NODE_OPTIONS=--max-old-space-size=MB).',
  );
}

/** The roster files already in the folder `out` (refused unless `force`: they would be replaced). */
function existingRosterFiles(out: string, options: OutputOptions): string[] {
  if (!existsSync(out)) return [];
  if (!statSync(out).isDirectory())
    throw new UsageError('OUTPUT_EXISTS', `${options.out} is a file`, 'Give a folder for --out.');
  const existing = listFiles(out).filter((f) => options.extensions.some((e) => f.endsWith(e)));
  if (existing.length > 0 && !options.force) {
    throw new UsageError(
      'OUTPUT_EXISTS',
      `${options.out} already holds ${existing.length} roster file(s)`,
      'Choose an empty folder, or pass --force to replace the roster files in it.',
    );
  }
  return existing;
}

/** Every file below `dir`, sub-folders included. */
export function listFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? listFiles(join(dir, e.name)) : e.isFile() ? [join(dir, e.name)] : [],
  );
}
