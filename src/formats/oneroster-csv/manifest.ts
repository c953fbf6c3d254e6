/**
 * manifest.csv: which OneRoster version a package is, and each file's mode (bulk, delta, absent).
 */
import type { Readable } from 'node:stream';
import type { Diagnostics } from '../../diagnostic.js';
import { MANIFEST_FILES, type RosterVersion } from '../../model/entities.js';
import type { FileMode, RosterSource } from '../../model/roster.js';
import { readCsv } from '../csv/read-csv.js';
import { closest } from './header.js';

export const MANIFEST_FILE = 'manifest.csv';

export interface ManifestInfo {
  /** The version stated (`1.2.1` is read as 1.2), or undefined when missing or invalid. */
  readonly version: RosterVersion | undefined;
  /** `file.<name>` modes as stated; a blank or invalid mode is left out. */
  readonly modes: ReadonlyMap<string, FileMode>;
  /** Names that have a `file.<name>` row at all (even with a bad mode). */
  readonly listed: ReadonlySet<string>;
  readonly source: RosterSource;
  /** Line of each `file.<name>` row, for messages. */
  readonly lines: ReadonlyMap<string, number>;
}

const KNOWN = ['manifest.version', 'oneroster.version', 'source.systemName', 'source.systemCode'];

export async function readManifest(
  input: Readable,
  file: string,
  diagnostics: Diagnostics,
): Promise<ManifestInfo> {
  const props = new Map<string, { value: string; line: number }>();
  let header = true;
  const result = await readCsv(
    input,
    file,
    (cells, line) => {
      if (header) {
        header = false;
        if (cells.length !== 2 || cells[0] !== 'propertyName' || cells[1] !== 'value') {
          diagnostics.add('MANIFEST_HEADER', {
            file,
            line,
            message: `${file} header is ${JSON.stringify(cells.join(','))}`,
          });
        }
        return;
      }
      const name = (cells[0] ?? '').trim();
      const value = (cells[1] ?? '').trim();
      if (props.has(name)) {
        diagnostics.add('MANIFEST_PROPERTY_DUPLICATE', {
          file,
          line,
          message: `${name} is listed twice in ${file}`,
        });
        return;
      }
      props.set(name, { value, line });
    },
    diagnostics,
  );
  if (result.empty) {
    diagnostics.add('CSV_EMPTY_FILE', { file, line: 1, message: `${file} is empty` });
  }

  let version: RosterVersion | undefined;
  const ov = props.get('oneroster.version');
  if (!ov) {
    if (!result.empty)
      diagnostics.add('MANIFEST_PROPERTY_MISSING', { file, message: `${file} has no oneroster.version` });
  } else if (ov.value === '1.1') version = '1.1';
  else if (ov.value === '1.2' || ov.value === '1.2.1') version = '1.2';
  else {
    diagnostics.add('ONEROSTER_VERSION_INVALID', {
      file,
      line: ov.line,
      column: 2,
      message: `oneroster.version is ${JSON.stringify(ov.value)}; roster-as-code reads 1.1 and 1.2`,
    });
  }
  const mv = props.get('manifest.version');
  if (!mv) {
    if (!result.empty)
      diagnostics.add('MANIFEST_PROPERTY_MISSING', { file, message: `${file} has no manifest.version` });
  } else if (mv.value !== '1.0') {
    diagnostics.add('MANIFEST_VERSION_INVALID', {
      file,
      line: mv.line,
      column: 2,
      message: `manifest.version is ${JSON.stringify(mv.value)}, not "1.0"`,
    });
  }

  const allFiles = [...new Set([...MANIFEST_FILES['1.1'], ...MANIFEST_FILES['1.2']])];
  const modes = new Map<string, FileMode>();
  const listed = new Set<string>();
  const lines = new Map<string, number>();
  const source: { systemName?: string; systemCode?: string } = {};
  for (const [name, { value, line }] of props) {
    if (name.startsWith('file.')) {
      const fileName = name.slice('file.'.length);
      if (!allFiles.includes(fileName)) {
        const near = closest(fileName, allFiles);
        diagnostics.add('MANIFEST_PROPERTY_UNKNOWN', {
          file,
          line,
          message: `${name} names no OneRoster file`,
          ...(near ? { hint: `Did you mean file.${near}?` } : {}),
        });
        continue;
      }
      listed.add(fileName);
      lines.set(fileName, line);
      if (value === 'bulk' || value === 'delta' || value === 'absent') modes.set(fileName, value);
      else {
        diagnostics.add('MANIFEST_MODE_INVALID', {
          file,
          line,
          column: 2,
          message: `${name} is ${value === '' ? 'blank' : JSON.stringify(value)}`,
        });
      }
    } else if (name === 'source.systemName' || name === 'source.systemCode') {
      if (value !== '' && value !== 'absent')
        source[name === 'source.systemName' ? 'systemName' : 'systemCode'] = value;
    } else if (!KNOWN.includes(name)) {
      const near = closest(name, KNOWN);
      diagnostics.add('MANIFEST_PROPERTY_UNKNOWN', {
        file,
        line,
        message: `${JSON.stringify(name)} is not a manifest property`,
        ...(near ? { hint: `Did you mean ${near}?` } : {}),
      });
    }
  }
  if (version) {
    for (const f of MANIFEST_FILES[version]) {
      if (!listed.has(f) && !result.empty) {
        diagnostics.add('MANIFEST_FILE_ROW_MISSING', { file, message: `${file} has no file.${f} row` });
      }
    }
  }
  return { version, modes, listed, source, lines };
}
