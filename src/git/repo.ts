/** The git facts a plan and a state record: the commit of the roster, and whether it has uncommitted changes. */
import { realpathSync, statSync } from 'node:fs';
import { dirname, relative } from 'node:path';
import { simpleGit } from 'simple-git';

export interface RosterCommit {
  readonly commit: string;
  /** The roster folder has changes not committed (or files not tracked). */
  readonly dirty: boolean;
}

/** The HEAD commit of the repo holding `rosterPath`, or null when it is not in a git repo (or git is missing). */
export async function rosterCommit(rosterPath: string): Promise<RosterCommit | null> {
  try {
    // The roster may be a zip: git runs in its folder.
    const folder = statSync(rosterPath).isDirectory() ? rosterPath : dirname(rosterPath);
    if (!(await simpleGit({ baseDir: folder }).checkIsRepo())) return null;
    const top = (await simpleGit({ baseDir: folder }).revparse(['--show-toplevel'])).trim();
    // Run from the top, where a top-relative pathspec means what it says (from inside the roster
    // folder it named a folder that does not exist, and every roster looked clean).
    const git = simpleGit({ baseDir: top });
    const commit = (await git.revparse(['HEAD'])).trim();
    const status = await git.status(['--porcelain', '--', relative(top, realpathSync(rosterPath)) || '.']);
    return { commit, dirty: status.files.length > 0 };
  } catch {
    return null; // no commits yet, or no git: the state then records no commit
  }
}

/** Makes `dir` a git repository unless it is inside one already; true when it ran `git init`. */
export async function ensureGitRepo(dir: string): Promise<boolean> {
  const git = simpleGit({ baseDir: dir });
  if (await git.checkIsRepo()) return false;
  await git.init();
  return true;
}

/**
 * Files under `path` that differ from the last commit (modified, added, deleted or untracked), as
 * paths relative to the repository's top; null when `path` is in no git repository.
 */
export async function uncommittedChanges(path: string): Promise<string[] | null> {
  try {
    const git = simpleGit({ baseDir: statSync(path).isDirectory() ? path : dirname(path) });
    if (!(await git.checkIsRepo())) return null;
    const top = (await git.revparse(['--show-toplevel'])).trim();
    const status = await simpleGit({ baseDir: top }).status([
      '--porcelain',
      '--untracked-files=all',
      '--',
      relative(top, realpathSync(path)) || '.',
    ]);
    return status.files.map((f) => f.path);
  } catch {
    return null;
  }
}

/** Commits everything in the repository at `dir`; false when git cannot (no user name set, say). */
export async function commitAll(dir: string, message: string): Promise<boolean> {
  try {
    const git = simpleGit({ baseDir: dir });
    await git.add(['-A']);
    await git.commit(message);
    return true;
  } catch {
    return false;
  }
}
