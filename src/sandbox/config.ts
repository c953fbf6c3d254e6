/**
 * The sandbox's configuration (schemas/sandbox.schema.json): SFTP users, batch API tokens, OAuth
 * clients, limits. Without --config, one with random secrets is written under the data folder on
 * first start and reused afterwards.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'yaml';
import { InputError } from '../errors.js';
import { compileSchema } from '../schema.js';

export interface SandboxUser {
  readonly username: string;
  readonly password?: string;
  readonly publicKey?: string;
}

export interface SandboxConfig {
  readonly host: string;
  readonly sftp: { readonly port: number; readonly users: readonly SandboxUser[] };
  readonly http: {
    readonly port: number;
    readonly tokens: readonly string[];
    /** Where the portal is reached from outside (REST hrefs and links); default: the request's host. */
    readonly publicUrl?: string;
  };
  readonly oauthClients: readonly { readonly clientId: string; readonly clientSecret: string }[];
  readonly limits: {
    readonly maxUploadBytes: number;
    readonly maxExpandedBytes: number;
    /** Largest file the batch API takes (its jobs are processed in memory). */
    readonly maxBatchBytes: number;
    /** OAuth 2 access tokens of the REST API live this long. */
    readonly tokenSeconds: number;
    /** REST requests served per second before 429 (undefined: no limit). */
    readonly restRequestsPerSecond?: number;
    /** Failed SFTP logins from one address before it is locked out. */
    readonly maxLoginFailures: number;
    /** How long a locked-out address is refused. */
    readonly lockoutSeconds: number;
    /** An SFTP connection that has not logged in after this long is closed. */
    readonly loginSeconds: number;
  };
}

export const SANDBOX_CONFIG_FILE = 'sandbox.yaml';
const SCHEMA = fileURLToPath(new URL('../../schemas/sandbox.schema.json', import.meta.url));

const secret = () => randomBytes(18).toString('base64url');

/** Reads `file`, or (file undefined) the data folder's sandbox.yaml, writing a new one when missing. */
export function loadSandboxConfig(
  dataDir: string,
  file?: string,
): { config: SandboxConfig; path: string; created: boolean } {
  let path = file;
  let created = false;
  if (!path) {
    path = join(dataDir, SANDBOX_CONFIG_FILE);
    if (!existsSync(path)) {
      const fresh = {
        host: '127.0.0.1',
        sftp: { port: 2222, users: [{ username: 'district', password: secret() }] },
        http: { port: 8080, tokens: [secret()] },
        oauthClients: [{ clientId: 'reader', clientSecret: secret() }],
      };
      writeFileSync(
        path,
        `# roster sandbox configuration (random secrets, written on first start)\n${stringify(fresh)}`,
        { mode: 0o600 },
      );
      created = true;
    }
  }
  let data: unknown;
  try {
    data = parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new InputError(
      'SANDBOX_CONFIG_INVALID',
      `${path}: ${(err as Error).message.split('\n')[0]}`,
      'Fix the YAML, or remove the file to have a new one written.',
    );
  }
  const validate = compileSchema(JSON.parse(readFileSync(SCHEMA, 'utf8')), {
    allErrors: true,
    strict: false,
  });
  if (!validate(data)) {
    const problems = (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message}`).join('; ');
    throw new InputError(
      'SANDBOX_CONFIG_INVALID',
      `${path} is not valid: ${problems}`,
      'See schemas/sandbox.schema.json.',
    );
  }
  const d = data as Partial<SandboxConfig> & { sftp: SandboxConfig['sftp']; http: SandboxConfig['http'] };
  return {
    path,
    created,
    config: {
      host: d.host ?? '127.0.0.1',
      sftp: { port: d.sftp.port ?? 2222, users: d.sftp.users },
      http: {
        port: d.http.port ?? 8080,
        tokens: d.http.tokens,
        ...(d.http.publicUrl ? { publicUrl: d.http.publicUrl } : {}),
      },
      oauthClients: d.oauthClients ?? [],
      limits: {
        maxUploadBytes: d.limits?.maxUploadBytes ?? 1024 ** 3,
        maxExpandedBytes: d.limits?.maxExpandedBytes ?? 4 * 1024 ** 3,
        maxBatchBytes: d.limits?.maxBatchBytes ?? 64 * 1024 ** 2,
        tokenSeconds: d.limits?.tokenSeconds ?? 3600,
        maxLoginFailures: d.limits?.maxLoginFailures ?? 10,
        lockoutSeconds: d.limits?.lockoutSeconds ?? 300,
        loginSeconds: d.limits?.loginSeconds ?? 60,
        ...(d.limits?.restRequestsPerSecond ? { restRequestsPerSecond: d.limits.restRequestsPerSecond } : {}),
      },
    },
  };
}
