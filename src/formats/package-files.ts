/**
 * The files of a roster package, from a folder or a zip, behind one small interface. Readers ask
 * for file names and open streams; they never touch the file system or the zip themselves.
 */
import { createReadStream, readdirSync, realpathSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { PassThrough, Readable, Transform } from 'node:stream';
import { crc32 } from 'node:zlib';
import yauzl from 'yauzl';
import type { Diagnostics } from '../diagnostic.js';
import { InputError } from '../errors.js';

export interface PackageFiles {
  /** A label for messages: the folder or zip path. */
  readonly label: string;
  /** Relative paths ('/'-separated) of the files, sorted. */
  readonly names: readonly string[];
  open(name: string): Readable;
  close(): Promise<void>;
  /** The whole package was refused (a broken zip, a zip bomb): there is nothing to read. */
  readonly rejected?: boolean;
}

/** Files of a folder; with `recursive`, of its sub-folders too (roster YAML is often split per school). */
export function directoryFiles(dir: string, options: { recursive?: boolean } = {}): PackageFiles {
  const names: string[] = [];
  // Symbolic links are followed (a roster folder may link to an export elsewhere), each folder
  // once (a link back up the tree would never end).
  const visited = new Set<string>();
  const walk = (d: string) => {
    visited.add(realpathSync(d));
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      if (entry.name.startsWith('.')) continue;
      const full = join(d, entry.name);
      let isDirectory = entry.isDirectory();
      let isFile = entry.isFile();
      if (entry.isSymbolicLink()) {
        const target = statSync(full, { throwIfNoEntry: false });
        isDirectory = target?.isDirectory() === true && !visited.has(realpathSync(full));
        isFile = target?.isFile() === true;
      }
      if (isDirectory) {
        if (options.recursive) walk(full);
      } else if (isFile) {
        names.push(relative(dir, full).split(sep).join('/'));
      }
    }
  };
  walk(dir);
  names.sort();
  return {
    label: dir,
    names,
    // Large reads: the readers work on whole lines of big chunks.
    open: (name) => createReadStream(join(dir, name), { highWaterMark: 1 << 20 }),
    close: async () => {},
  };
}

export interface ZipOptions {
  /** Refuse zips that expand beyond this many bytes (zip bombs). Default 8 GiB. */
  readonly maxExpandedBytes?: number;
}

export const DEFAULT_MAX_EXPANDED_BYTES = 8 * 1024 ** 3;

/**
 * Files at the root of a zip. Unsafe entry names, nested folders, duplicate entries and oversize
 * expansion are reported as diagnostics; such entries are left out.
 */
export async function zipFiles(
  path: string,
  diagnostics: Diagnostics,
  options: ZipOptions = {},
): Promise<PackageFiles> {
  const label = path;
  const limit = options.maxExpandedBytes ?? DEFAULT_MAX_EXPANDED_BYTES;
  let zip: yauzl.ZipFile;
  try {
    // decodeStrings=false: names are checked here, so that one bad entry is a diagnostic, not a crash.
    zip = await new Promise<yauzl.ZipFile>((resolve, reject) =>
      yauzl.open(
        path,
        { lazyEntries: true, autoClose: false, decodeStrings: false, validateEntrySizes: true },
        (err, z) => (err ? reject(err) : resolve(z)),
      ),
    );
  } catch (err) {
    diagnostics.add('ZIP_INVALID', {
      file: label,
      message: `${label} is not a readable zip: ${(err as Error).message}`,
    });
    return { label, names: [], open: () => failOpen(label), close: async () => {}, rejected: true };
  }
  const entries = new Map<string, yauzl.Entry>();
  let total = 0;
  try {
    await new Promise<void>((resolve, reject) => {
      zip.on('entry', (entry: yauzl.Entry) => {
        const raw = entry.fileName as unknown as Buffer;
        // General purpose bit 11: the name is UTF-8; otherwise CP437, which is ASCII for OneRoster names.
        const name = raw.toString((entry.generalPurposeBitFlag & 0x800) !== 0 ? 'utf8' : 'latin1');
        if (name.endsWith('/')) {
          zip.readEntry();
          return;
        }
        if (name.startsWith('/') || /^[A-Za-z]:/.test(name) || name.split(/[/\\]/).includes('..')) {
          diagnostics.add('ZIP_UNSAFE_PATH', {
            file: label,
            message: `zip entry ${JSON.stringify(name)} points outside the package`,
          });
        } else if (/[/\\]/.test(name)) {
          if (!name.startsWith('__MACOSX/')) {
            diagnostics.add('ZIP_NESTED_FOLDER', {
              file: label,
              message: `zip entry ${JSON.stringify(name)} is inside a folder`,
            });
          }
        } else if (isSymbolicLink(entry)) {
          // Never followed; nor is its target's path read as if it were the file's content.
          diagnostics.add('ZIP_UNSAFE_PATH', {
            file: label,
            message: `zip entry ${JSON.stringify(name)} is a symbolic link, not a file: it was not read`,
          });
        } else if (entries.has(name)) {
          diagnostics.add('ZIP_DUPLICATE_ENTRY', { file: label, message: `zip holds ${name} twice` });
        } else {
          total += entry.uncompressedSize;
          entries.set(name, entry);
        }
        zip.readEntry();
      });
      zip.on('end', resolve);
      zip.on('error', reject);
      zip.readEntry();
    });
  } catch (err) {
    diagnostics.add('ZIP_INVALID', {
      file: label,
      message: `${label} is damaged: ${(err as Error).message}`,
    });
    zip.close();
    return { label, names: [], open: () => failOpen(label), close: async () => {}, rejected: true };
  }
  if (total > limit) {
    diagnostics.add('ZIP_TOO_LARGE', {
      file: label,
      message: `${label} would expand to ${total} bytes, over the limit of ${limit}`,
    });
    zip.close();
    return { label, names: [], open: () => failOpen(label), close: async () => {}, rejected: true };
  }
  return {
    label,
    names: [...entries.keys()].sort(),
    open: (name) => openEntry(zip, entries.get(name)!, label, name),
    close: async () => zip.close(),
  };
}

function failOpen(label: string): never {
  throw new InputError('ZIP_INVALID', `${label} cannot be read`);
}

function openEntry(zip: yauzl.ZipFile, entry: yauzl.Entry, label: string, name: string): Readable {
  // yauzl opens asynchronously; hand back a pass-through that is fed once the entry is open.
  const out = new PassThrough();
  zip.openReadStream(entry, (err, stream) => {
    if (err || !stream) {
      out.destroy(
        new InputError('ZIP_INVALID', `${label}: cannot read ${name}: ${err?.message ?? 'unknown error'}`),
      );
      return;
    }
    stream.on('error', (e) =>
      out.destroy(new InputError('ZIP_INVALID', `${label}: ${name} is damaged: ${e.message}`)),
    );
    // yauzl checks sizes, not checksums: a flipped byte would be read as data.
    let crc = 0;
    const checked = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        crc = crc32(chunk, crc);
        done(null, chunk);
      },
      flush(done) {
        if (crc >>> 0 !== entry.crc32 >>> 0)
          done(
            new InputError(
              'ZIP_INVALID',
              `${label}: ${name} fails its CRC-32 check (the zip is damaged)`,
              'Export or download the zip again; do not use a damaged one.',
            ),
          );
        else done();
      },
    });
    checked.on('error', (e) => out.destroy(e));
    stream.pipe(checked).pipe(out);
  });
  return out;
}

/** True when `path` is a file (a zip, by the caller's reckoning). */
export function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** Files held in memory (the incremental plan reads the lines that changed as small packages). */
export function memoryFiles(label: string, files: ReadonlyMap<string, Buffer>): PackageFiles {
  return {
    label,
    names: [...files.keys()].sort(),
    open: (name) => Readable.from([files.get(name) ?? Buffer.alloc(0)]),
    close: async () => {},
  };
}

/** A zip entry made on Unix from a symbolic link (mode S_IFLNK in the external attributes' high half). */
function isSymbolicLink(entry: yauzl.Entry): boolean {
  const madeOnUnix = entry.versionMadeBy >> 8 === 3;
  return madeOnUnix && ((entry.externalFileAttributes >>> 16) & 0o170000) === 0o120000;
}
