/** The git facts a plan and a state record: the commit of the roster, and whether it has uncommitted changes. */
import { relative } from 'node:path';
import { simpleGit } from 'simple-git';

export interface RosterCommit {
  readonly commit: string;
  /** The roster folder has changes not committed (or files not tracked). */
  readonly dirty: boolean;
}

/** The HEAD commit of the repo holding `rosterPath`, or null when it is not in a git repo (or git is missing). */
export async function rosterCommit(rosterPath: string): Promise<RosterCommit | null> {
  try {
    const git = simpleGit({ baseDir: rosterPath });
    if (!(await git.checkIsRepo())) return null;
    const top = (await git.revparse(['--show-toplevel'])).trim();
    const commit = (await git.revparse(['HEAD'])).trim();
    const status = await git.status(['--porcelain', '--', relative(top, rosterPath) || '.']);
    return { commit, dirty: status.files.length > 0 };
  } catch {
    return null; // no commits yet, or no git: the state then records no commit
  }
}
