/**
 * The folders roster-as-code writes roster data to in a district repo (`.roster/`: the `dir`
 * targets' deliveries, the targets' snapshots, the plan cache). They hold children's records, so
 * git must never stage them whatever the repo's own `.gitignore` says, and other users of the
 * machine must not read them.
 */
import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** The tool's folder in a district repo. */
export function workspaceDir(root: string): string {
  return join(root, '.roster');
}

const IGNORE_ALL = '# roster-as-code: roster data, never commit\n*\n';

/**
 * Creates `dir` (and its parents) if needed, makes it private (0700) and ignored by git: a
 * `.gitignore` of `*` inside a folder ignores the folder's whole content, itself included.
 */
export function ensurePrivateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  const ignore = join(dir, '.gitignore');
  if (!existsSync(ignore)) writeFileSync(ignore, IGNORE_ALL, { mode: 0o600 });
}

/** File mode for files that hold roster data: the owner's only. */
export const PRIVATE_FILE_MODE = 0o600;
