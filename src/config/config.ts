/**
 * roster.config.yaml: where the roster is, and the targets with their delivery mode and policy.
 * Checked against schemas/config.schema.json; every problem is reported with its line.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, posix, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InputError, UsageError } from '../errors.js';
import { closest } from '../formats/oneroster-csv/header.js';
import { readYamlFile } from '../formats/yaml/yaml-file.js';
import { ENTITIES, ENTITY_NAMES, type EntityName } from '../model/entities.js';
import type { FileMode } from '../model/roster.js';
import { type BlackoutWindow, defaultPolicy, type Policy } from '../plan/policy.js';

export const CONFIG_FILE = 'roster.config.yaml';

interface TargetBase {
  readonly name: string;
  readonly mode: Exclude<FileMode, 'absent'>;
  readonly policy: Policy;
  /** Connection and read timeout, seconds. */
  readonly connectTimeoutSeconds: number;
  /** Retries of transient failures. */
  readonly retries: number;
  /** How long apply waits for the portal's processing report (seconds). */
  readonly reportWaitSeconds: number;
}

export interface DirTargetConfig extends TargetBase {
  readonly kind: 'dir';
  /** Absolute path of the folder. */
  readonly path: string;
}

export interface SftpTargetConfig extends TargetBase {
  readonly kind: 'sftp';
  readonly host: string;
  readonly port: number;
  readonly username: string;
  /** SHA256:... fingerprint of the server's host key. */
  readonly hostKey: string;
  readonly auth: {
    readonly privateKeyEnv?: string;
    readonly passphraseEnv?: string;
    readonly passwordEnv?: string;
    readonly agent?: boolean;
  };
  readonly remoteDir: string;
  readonly stateDir: string;
  readonly packaging: 'zip' | 'loose';
  readonly zipName: string;
  readonly reportDir?: string;
  /**
   * Absolute path of a local folder where the target's snapshot is kept as a roster image, so
   * that a plan need not download and read the snapshot zip again (`.roster/cache/<name>`).
   */
  readonly cacheDir?: string;
}

export interface BatchTargetConfig extends TargetBase {
  readonly kind: 'batch';
  readonly url: string;
  readonly tokenEnv: string;
  /** Absolute path of the local folder with the target's state and lock. */
  readonly path: string;
}

export type TargetConfig = DirTargetConfig | SftpTargetConfig | BatchTargetConfig;

export interface RosterConfig {
  /** The folder holding roster.config.yaml. */
  readonly root: string;
  /** Absolute path of the roster folder. */
  readonly rosterPath: string;
  readonly targets: readonly TargetConfig[];
  /** How the GitHub Action applies from CI. */
  readonly ci: { readonly allowDirectPush: boolean };
  /**
   * Templates of the sourcedIds that manual edits give new records (`roster add`): `stu-{seq:6}`
   * is one above the highest id of that shape. (Not a policy's `ids`, which say which identifier
   * keys records at a target.)
   */
  readonly ids?: Partial<Record<EntityName, string>>;
}

const SCHEMA_FILE = fileURLToPath(new URL('../../schemas/config.schema.json', import.meta.url));
let schema: object | undefined;

/** Finds roster.config.yaml in `dir` (a district repo). Returns undefined when there is none. */
export function findConfig(dir: string): string | undefined {
  const file = join(resolve(dir), CONFIG_FILE);
  return existsSync(file) ? file : undefined;
}

/**
 * Finds roster.config.yaml in `dir` or the nearest folder above it, as git finds `.git`: the
 * commands work from anywhere inside a district repo (its `roster/` folder, a school's folder).
 */
export function findConfigUpward(dir: string): string | undefined {
  let current = resolve(dir);
  for (;;) {
    const file = findConfig(current);
    if (file) return file;
    const parent = dirname(current);
    if (parent === current) return undefined;
    current = parent;
  }
}

export function loadConfig(file: string): RosterConfig {
  if (!schema) schema = JSON.parse(readFileSync(SCHEMA_FILE, 'utf8')) as object;
  const { data, where } = readYamlFile(file, readFileSync(file, 'utf8'), schema, {
    code: 'CONFIG_INVALID',
    what: CONFIG_FILE,
    hint: 'See schemas/config.schema.json and the Configuration section of the README.',
  });
  const fieldProblems = policyFieldProblems(data).map(
    (p) => `${where(p.path)}: ${p.path.join('.')} ${p.message}`,
  );
  if (fieldProblems.length > 0) {
    throw new InputError(
      'CONFIG_INVALID',
      `${CONFIG_FILE} names fields that do not exist:\n  ${fieldProblems.join('\n  ')}`,
      'Use the OneRoster field names (as in the CSV headers and roster YAML; docs/roster-yaml.md). A policy that names a field wrongly would send what it meant to keep back, so nothing is planned until it is fixed.',
    );
  }
  const root = dirname(resolve(file));
  const targets = ((data.targets as Record<string, unknown>[] | undefined) ?? []).map((t) =>
    toTarget(t, root),
  );
  const names = new Set<string>();
  for (const t of targets) {
    if (names.has(t.name))
      throw new InputError(
        'CONFIG_INVALID',
        `${CONFIG_FILE}: two targets are named "${t.name}"`,
        'Give each target its own name.',
      );
    names.add(t.name);
  }
  const ci = (data.ci ?? {}) as { allowDirectPush?: boolean };
  return {
    root,
    rosterPath: resolve(root, (data.roster as string | undefined) ?? 'roster'),
    targets,
    ci: { allowDirectPush: ci.allowDirectPush ?? false },
    ...(data.ids ? { ids: data.ids as Partial<Record<EntityName, string>> } : {}),
  };
}

function toTarget(raw: Record<string, unknown>, root: string): TargetConfig {
  const p = (raw.policy ?? {}) as Record<string, Record<string, unknown> | unknown>;
  const base = defaultPolicy();
  const share = (p.share ?? {}) as {
    entities?: EntityName[];
    withhold?: Partial<Record<EntityName, string[]>>;
  };
  const ids = (p.ids ?? {}) as { users?: string; classes?: string };
  const thresholds = (p.thresholds ?? {}) as Partial<Policy['thresholds']>;
  const policy: Policy = {
    share: { ...(share.entities ? { entities: share.entities } : {}), withhold: share.withhold ?? {} },
    ids: { users: ids.users ?? 'sourcedId', classes: ids.classes ?? 'sourcedId' },
    thresholds: {
      deletePercent: thresholds.deletePercent ?? base.thresholds.deletePercent,
      updatePercent: thresholds.updatePercent ?? base.thresholds.updatePercent,
      minimumChanges: thresholds.minimumChanges ?? base.thresholds.minimumChanges,
      perEntity: thresholds.perEntity ?? {},
    },
    redact: (p.redact as string[] | undefined) ?? base.redact,
    deleteStyle: (p.deleteStyle as 'hard' | 'soft' | undefined) ?? 'hard',
    blackout: (p.blackout as BlackoutWindow[] | undefined) ?? [],
    allowMassChange: (p.allowMassChange as boolean | undefined) ?? false,
  };
  const name = raw.name as string;
  const common = {
    name,
    mode: (raw.mode as 'bulk' | 'delta' | undefined) ?? 'bulk',
    policy,
    connectTimeoutSeconds: (raw.connectTimeoutSeconds as number | undefined) ?? 20,
    retries: (raw.retries as number | undefined) ?? 3,
    reportWaitSeconds: (raw.reportWaitSeconds as number | undefined) ?? 120,
  };
  if (raw.kind === 'sftp') {
    const remoteDir = (raw.remoteDir as string | undefined) ?? '/';
    return {
      ...common,
      kind: 'sftp',
      host: raw.host as string,
      port: (raw.port as number | undefined) ?? 22,
      username: raw.username as string,
      hostKey: raw.hostKey as string,
      auth: raw.auth as SftpTargetConfig['auth'],
      remoteDir,
      stateDir: (raw.stateDir as string | undefined) ?? posix.join(remoteDir, '.roster', name),
      packaging: (raw.packaging as 'zip' | 'loose' | undefined) ?? 'zip',
      zipName: (raw.zipName as string | undefined) ?? 'OneRoster.zip',
      cacheDir: resolve(root, '.roster', 'cache', name),
      ...(raw.reportDir
        ? {
            reportDir: posix.isAbsolute(raw.reportDir as string)
              ? (raw.reportDir as string)
              : posix.join(remoteDir, raw.reportDir as string),
          }
        : {}),
    };
  }
  if (raw.kind === 'batch') {
    const url = raw.url as string;
    const parsed = new URL(url);
    if (parsed.protocol !== 'https:' && !['127.0.0.1', 'localhost', '[::1]'].includes(parsed.hostname)) {
      throw new InputError(
        'CONFIG_INVALID',
        `${CONFIG_FILE}: target "${name}" url must use https (plain http is allowed only on loopback)`,
        'Use the https:// address of the batch API.',
      );
    }
    // The two-file batch carries changes (ADD, DROP, REMOVE-...): a batch target always delivers deltas.
    return {
      ...common,
      mode: 'delta',
      kind: 'batch',
      url: url.replace(/\/+$/, ''),
      tokenEnv: raw.tokenEnv as string,
      path: resolve(root, (raw.path as string | undefined) ?? join('.roster', 'targets', name)),
    };
  }
  return { ...common, kind: 'dir', path: resolve(root, raw.path as string) };
}

/** The target named `name`, or the first. */
export function selectTarget(config: RosterConfig, name: string | undefined): TargetConfig {
  if (config.targets.length === 0) {
    throw new UsageError(
      'NO_TARGETS',
      `${CONFIG_FILE} defines no targets`,
      'Add a target, e.g. `targets: [{ name: local, kind: dir, path: .roster/targets/local }]`.',
    );
  }
  if (name === undefined) return config.targets[0]!;
  const target = config.targets.find((t) => t.name === name);
  if (!target) {
    throw new UsageError(
      'TARGET_UNKNOWN',
      `no target named "${name}" in ${CONFIG_FILE}`,
      `Targets: ${config.targets.map((t) => t.name).join(', ')}.`,
    );
  }
  return target;
}

/** A config value that names a field wrongly: where it is (a path into the YAML) and what is wrong. */
interface FieldProblem {
  readonly path: readonly (string | number)[];
  readonly message: string;
}

/**
 * Checks every field name of the targets' policies (`share.withhold`, `redact`, `ids`) against
 * the entities' fields: a typo would send what was meant to be kept back (a withheld `pasword`)
 * or mask nothing. A name ending in `*` must match some field or be `metadata.` something
 * (extension columns vary by roster); OneRoster 1.0 names and case slips get "did you mean".
 */
export function policyFieldProblems(data: Record<string, unknown>): FieldProblem[] {
  const problems: FieldProblem[] = [];
  const targets = (data.targets as Record<string, unknown>[] | undefined) ?? [];
  const allFields = [...new Set(ENTITY_NAMES.flatMap((e) => Object.keys(ENTITIES[e].fields)))];
  for (const [i, target] of targets.entries()) {
    const policy = (target.policy ?? {}) as {
      share?: { withhold?: Partial<Record<EntityName, unknown>> };
      redact?: unknown;
      ids?: { users?: unknown; classes?: unknown };
    };
    const base = ['targets', i, 'policy'];
    for (const [entity, names] of Object.entries(policy.share?.withhold ?? {})) {
      if (!Array.isArray(names) || !(entity in ENTITIES)) continue; // (the schema reports these)
      const fields = Object.keys(ENTITIES[entity as EntityName].fields);
      for (const [j, name] of names.entries()) {
        const text = String(name);
        const problem =
          text === '*'
            ? `"*" would withhold every field; leave ${entity} out of share.entities instead`
            : text === 'sourcedId'
              ? 'sourcedId identifies every record and cannot be withheld'
              : fieldProblem(text, fields, ENTITIES[entity as EntityName].legacyColumns, entity);
        if (problem) problems.push({ path: [...base, 'share', 'withhold', entity, j], message: problem });
      }
    }
    if (Array.isArray(policy.redact)) {
      const legacy = Object.assign({}, ...ENTITY_NAMES.map((e) => ENTITIES[e].legacyColumns ?? {}));
      for (const [j, name] of policy.redact.entries()) {
        const problem = fieldProblem(String(name), allFields, legacy, 'any entity');
        if (problem) problems.push({ path: [...base, 'redact', j], message: problem });
      }
    }
    for (const entity of ['users', 'classes'] as const) {
      const name = policy.ids?.[entity];
      if (typeof name !== 'string') continue;
      const fields = Object.keys(ENTITIES[entity].fields);
      const problem = name.endsWith('*')
        ? 'is a pattern; ids takes one field'
        : fieldProblem(name, fields, ENTITIES[entity].legacyColumns, entity);
      if (problem) problems.push({ path: [...base, 'ids', entity], message: problem });
    }
  }
  return problems;
}

function fieldProblem(
  name: string,
  fields: readonly string[],
  legacy: Readonly<Record<string, string>> | undefined,
  owner: string,
): string | undefined {
  if (name.startsWith('metadata.') && name.length > 'metadata.'.length) return undefined;
  if (name.endsWith('*')) {
    const prefix = name.slice(0, -1);
    if (prefix === '' || fields.some((f) => f.startsWith(prefix))) return undefined;
    return `"${name}" matches no field of ${owner}`;
  }
  if (fields.includes(name)) return undefined;
  const renamed =
    legacy?.[name] ??
    Object.entries(legacy ?? {}).find(([old]) => old.toLowerCase() === name.toLowerCase())?.[1];
  if (renamed) return `"${name}" is the OneRoster 1.0 name; did you mean "${renamed}"?`;
  const near = closest(name, fields);
  return `"${name}" is not a field of ${owner}${near ? `; did you mean "${near}"?` : ''}`;
}

/** The config of the district repo at `repo` or above it (as git finds its repository). */
export function loadRepoConfig(repo: string): RosterConfig {
  const file = findConfigUpward(repo);
  if (!file) {
    throw new UsageError(
      'CONFIG_NOT_FOUND',
      `${repo === '.' ? 'this folder' : repo} has no ${CONFIG_FILE}, nor any folder above it`,
      `Run roster inside a district repo (roster init makes one), or pass --repo. The smallest config:\n  roster: roster\n  targets:\n    - { name: local, kind: dir, path: .roster/targets/local }`,
    );
  }
  return loadConfig(file);
}
