/**
 * `roster init`: a ready district repo. A config with a working `dir` target and commented `sftp`
 * and `batch` examples, a roster folder with the district's org, a .gitignore that keeps `.roster/`
 * (deliveries, snapshots, caches: children's records) out of git, the GitHub workflows, and a
 * README for the district's team. Writes only new files: it refuses when any would be replaced.
 * In a folder that is in no repository it runs `git init` and commits the new files.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CONFIG_FILE } from '../config/config.js';
import { UsageError } from '../errors.js';
import { commitAll, ensureGitRepo } from '../git/repo.js';

/** The installed package's root (two folders above this compiled file: dist/services/). */
const PACKAGE_ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface InitOptions {
  /** The district's name (default: from the folder's name). */
  readonly name?: string;
}

export interface InitResult {
  readonly dir: string;
  /** Files written, relative to `dir`. */
  readonly created: readonly string[];
  /** `git init` was run (the folder was in no repository). */
  readonly gitInitialized: boolean;
  /** The new repository's first commit was made (git init ran, and git knows who commits). */
  readonly committed: boolean;
}

export async function initRepo(dir: string, options: InitOptions = {}): Promise<InitResult> {
  const root = resolve(dir);
  const name = options.name?.trim() || titleOf(basename(root));
  const files = templates(root, name);
  const existing = Object.keys(files).filter((f) => existsSync(join(root, f)));
  if (existing.length > 0)
    throw new UsageError(
      'INIT_WOULD_OVERWRITE',
      `${relative(process.cwd(), root) || '.'} already has ${existing.join(', ')}; nothing was written`,
      'roster init only writes new files. Run it in an empty folder (roster init my-district), or move those files away.',
    );
  for (const [file, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, file)), { recursive: true });
    writeFileSync(join(root, file), text);
  }
  const gitInitialized = await ensureGitRepo(root);
  // A new repository starts clean, so that `roster import` (which never replaces uncommitted
  // work) can fill the roster folder next.
  const committed = gitInitialized && (await commitAll(root, 'roster init'));
  return { dir: root, created: Object.keys(files), gitInitialized, committed };
}

/** "lincoln-ps" -> "Lincoln Ps" */
function titleOf(folder: string): string {
  return folder
    .split(/[-_\s]+/)
    .filter(Boolean)
    .map((w) => w[0]!.toUpperCase() + w.slice(1))
    .join(' ');
}

function templates(root: string, name: string): Record<string, string> {
  const schema = (file: string, from: string) =>
    relative(join(root, from), join(PACKAGE_ROOT, 'schemas', file))
      .split('\\')
      .join('/');
  const workflow = (file: string) =>
    readFileSync(join(PACKAGE_ROOT, 'examples', 'workflows', file), 'utf8').replace(
      /target: \[vendor\]/,
      'target: [local]',
    );
  return {
    [CONFIG_FILE]: `# yaml-language-server: $schema=${schema('config.schema.json', '.')}
# roster-as-code: where the roster is, and the targets (vendor portals) it is delivered to.
# Reference: the Configuration section of roster-as-code's README.
roster: roster                 # the roster folder: roster YAML or OneRoster CSV
targets:                       # the first is the default target
  - name: local                # a folder standing for a vendor's drop: try plan and apply safely
    kind: dir
    path: .roster/targets/local
    mode: bulk
  # A OneRoster SFTP landing zone. Pin the server's key with: roster trust-host HOST
  # - name: vendor
  #   kind: sftp
  #   host: sftp.vendor.example
  #   username: lincoln-ps
  #   hostKey: "SHA256:..."
  #   auth: { privateKeyEnv: ROSTER_SFTP_KEY }    # the key comes from the environment, never the repo
  #   reportDir: outbox
  #   mode: bulk
  #   policy:
  #     share: { withhold: { users: [password] } }
  # The two-file batch over a vendor's HTTP batch API.
  # - name: vendor-batch
  #   kind: batch
  #   url: https://api.vendor.example/batch
  #   tokenEnv: VENDOR_TOKEN
`,
    'roster/roster.yaml': `# yaml-language-server: $schema=${schema('roster.schema.json', 'roster')}
# The district's roster. Add schools in roster/schools/<school>.yaml, or import what you have:
# roster import (see roster-as-code's README).
oneroster: "1.1"
orgs:
  - sourcedId: district
    name: ${JSON.stringify(name)}
    type: district
`,
    '.gitignore': `# roster-as-code's working folder: deliveries, snapshots and caches hold students' records.
.roster/
node_modules/
`,
    '.github/workflows/roster-plan.yml': workflow('roster-plan.yml'),
    '.github/workflows/roster-apply.yml': workflow('roster-apply.yml'),
    'README.md': `# ${name}: roster

Our roster, kept as code with [roster-as-code](https://github.com/OWNER/roster-as-code). The
roster is in \`roster/\`; where it goes is in \`${CONFIG_FILE}\`.

- **Change the roster** in a pull request. The \`roster plan\` workflow comments with what would
  change at each vendor; review that comment, not only the files.
- **Merging applies it**: the \`roster apply\` workflow delivers exactly the plan that was
  reviewed, and also runs every weekday morning. A plan that removes or changes many records is
  held: it opens an issue and waits for a person.
- On your computer: \`npx roster validate\`, \`npx roster plan\`, \`npx roster status\`.

Secrets (SFTP keys, API tokens) go in the repository's Actions secrets, never in these files.
\`.roster/\` holds copies of what was delivered and is never committed.
`,
  };
}
