/**
 * `roster git-setup`: a `roster` diff driver for git, so that `git diff`, `git log -p` and `git
 * show` on roster files show records and their fields (whatever the format or row order), each
 * hunk headed by the record it is in. `.gitattributes` (committed, shared) says which files use
 * the driver; the driver itself is local git config (it runs this roster), set per clone.
 */

import { existsSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { loadRepoConfig } from '../config/config.js';
import { UsageError } from '../errors.js';
import { gitText, setLocalConfig } from '../git/plumbing.js';
import { csvEntityOf, readRecords } from '../git/record-diff.js';
import { recordsText } from '../render/history.js';

const BEGIN =
  '# roster-as-code: record-level git diff of roster files (roster git-setup; undo: roster git-setup --remove)';
const END = '# end roster-as-code';
/** A hunk header is the record's line: `entity/sourcedId`, at the start of a line. */
export const XFUNCNAME = '^[a-zA-Z]+/[^\t].*$';

export interface GitSetupResult {
  readonly gitattributes: string;
  /** What changed: the lines written (or removed) and the config set (or unset). */
  readonly changed: boolean;
  readonly patterns: readonly string[];
  readonly textconv?: string;
}

function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

async function repoTop(repo: string): Promise<{ top: string; rosterPath: string }> {
  const config = loadRepoConfig(repo);
  let top: string;
  try {
    top = (await gitText(config.root, ['rev-parse', '--show-toplevel'])).trim();
  } catch {
    throw new UsageError(
      'NOT_A_GIT_REPO',
      `${config.root} is not in a git repository`,
      'Run `git init` first (roster init does it), then roster git-setup.',
    );
  }
  const rosterPath = relative(realpathSync(top), realpathSync(config.rosterPath)).split('\\').join('/');
  return { top, rosterPath };
}

/** The .gitattributes text without our block (and the block's lines). */
function withoutBlock(text: string): string {
  const lines = text.split('\n');
  const b = lines.indexOf(BEGIN);
  const e = lines.indexOf(END, b);
  if (b < 0 || e < 0) return text;
  return [...lines.slice(0, b), ...lines.slice(e + 1)].join('\n');
}

/**
 * Writes the block in `.gitattributes` and the driver in the repo's local git config; `command`
 * is how git runs this roster (`node /path/bin/run.js`). Running it again changes nothing.
 */
export async function gitSetup(options: {
  repo: string;
  command: readonly string[];
}): Promise<GitSetupResult> {
  const { top, rosterPath } = await repoTop(options.repo);
  const prefix = rosterPath === '' ? '' : `${rosterPath}/**/`;
  const patterns = ['*.csv', '*.yaml', '*.yml'].map((p) => `${prefix}${p}`);
  const file = join(top, '.gitattributes');
  const before = existsSync(file) ? readFileSync(file, 'utf8') : '';
  const rest = withoutBlock(before).replace(/\n*$/, '');
  const block = [BEGIN, ...patterns.map((p) => `${p.replace(/ /g, '[[:space:]]')} diff=roster`), END].join(
    '\n',
  );
  const after = `${rest ? `${rest}\n\n` : ''}${block}\n`;
  if (after !== before) writeFileSync(file, after);
  const textconv = [...options.command, 'git-textconv'].map(shellQuote).join(' ');
  const current = await gitText(top, ['config', '--local', '--get', 'diff.roster.textconv']).catch(() => '');
  await setLocalConfig(top, 'diff.roster.textconv', textconv);
  await setLocalConfig(top, 'diff.roster.xfuncname', XFUNCNAME);
  await setLocalConfig(top, 'diff.roster.cachetextconv', 'true');
  return {
    gitattributes: file,
    changed: after !== before || current.trim() !== textconv,
    patterns,
    textconv,
  };
}

/** Undoes gitSetup: our block out of `.gitattributes` (the file goes when nothing else is in it), the driver out of the config. */
export async function gitSetupRemove(options: { repo: string }): Promise<GitSetupResult> {
  const { top } = await repoTop(options.repo);
  const file = join(top, '.gitattributes');
  const before = existsSync(file) ? readFileSync(file, 'utf8') : '';
  const rest = withoutBlock(before).replace(/\n*$/, '');
  if (rest !== before.replace(/\n*$/, '')) {
    if (rest.trim() === '') rmSync(file);
    else writeFileSync(file, `${rest}\n`);
  }
  const had = await gitText(top, ['config', '--local', '--get-regexp', '^diff\\.roster\\.']).catch(() => '');
  if (had.trim() !== '') await gitText(top, ['config', '--local', '--remove-section', 'diff.roster']);
  return {
    gitattributes: file,
    changed: rest !== before.replace(/\n*$/, '') || had.trim() !== '',
    patterns: [],
  };
}

/**
 * The textconv of one file. git hands an old version over as a temporary copy named
 * `XXXXXX_<name>`: a CSV file's entity is its name, so that prefix is dropped.
 */
export async function textconv(file: string): Promise<string> {
  const bytes = readFileSync(file);
  const name = basename(file);
  const path = csvEntityOf(name) ? name : name.replace(/^[A-Za-z0-9]{6}_/, '');
  return recordsText(await readRecords([{ path, bytes }]));
}
