/**
 * Writing a Roster to disk in any format, refusing to overwrite a folder that holds something
 * unless asked: nothing a user has is lost by accident.
 */
import { existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
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
