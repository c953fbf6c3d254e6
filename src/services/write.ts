/**
 * Writing a Roster to disk in any format, refusing to overwrite a folder that holds something
 * unless asked: nothing a user has is lost by accident.
 */
import { existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { getHeapStatistics } from 'node:v8';
import { UsageError } from '../errors.js';
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
  const out = resolve(options.out);
  const targetVersion: RosterVersion =
    options.to === 'oneroster-1.2' ? '1.2' : options.to === 'oneroster-1.1' ? '1.1' : roster.version;
  const { roster: converted, notes } = convertVersion(roster, targetVersion);
  if (options.to !== 'yaml' && out.toLowerCase().endsWith('.zip')) {
    if (existsSync(out) && !options.force) {
      throw new UsageError('OUTPUT_EXISTS', `${options.out} already exists`, 'Pass --force to replace it.');
    }
    await writeOneRosterZip(converted, out);
    return { files: [out], version: targetVersion, notes };
  }
  if (options.to === 'yaml') refuseYamlBeyondMemory(converted);
  prepareDir(out, options.to === 'yaml' ? ['.yaml', '.yml'] : ['.csv'], options);
  if (options.to === 'yaml') {
    const schemaPath = relative(out, ROSTER_SCHEMA_FILE).split(sep).join('/');
    const files = writeRosterYaml(converted, { layout: options.layout ?? 'per-school', schemaPath });
    for (const [name, text] of files) {
      const full = join(out, name);
      mkdirSync(dirname(full), { recursive: true });
      writeFileSync(full, text);
    }
    return { files: [...files.keys()].map((f) => join(out, f)), version: targetVersion, notes };
  }
  const files = await writeOneRosterDir(converted, out);
  return { files: files.map((f) => join(out, f)), version: targetVersion, notes };
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

function prepareDir(out: string, extensions: string[], options: WriteOptions): void {
  if (existsSync(out)) {
    if (!statSync(out).isDirectory())
      throw new UsageError('OUTPUT_EXISTS', `${options.out} is a file`, 'Give a folder for --out.');
    const existing = listFiles(out).filter((f) => extensions.some((e) => f.endsWith(e)));
    if (existing.length > 0) {
      if (!options.force) {
        throw new UsageError(
          'OUTPUT_EXISTS',
          `${options.out} already holds ${existing.length} roster file(s)`,
          'Choose an empty folder, or pass --force to replace the roster files in it.',
        );
      }
      for (const f of existing) rmSync(f);
    }
  }
  mkdirSync(out, { recursive: true });
}

function listFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? listFiles(join(dir, e.name)) : e.isFile() ? [join(dir, e.name)] : [],
  );
}
