/**
 * `roster sandbox`: a local stand-in for a vendor's enrollment portal. One store (plain files
 * under the data folder) behind three front doors: an SFTP landing zone, the batch API and the
 * OneRoster REST read API, over real protocols on 127.0.0.1 by default.
 */
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Cron } from 'croner';
import { RosterError } from '../errors.js';
import { loadSandboxConfig, SANDBOX_CONFIG_FILE, type SandboxConfig } from './config.js';
import { startHttp } from './http-server.js';
import { smtpNotifier } from './mail.js';
import { startLandingZone } from './sftp-server.js';
import { PortalStore, type SyncRecord } from './store.js';
import { runSync, syncSummary } from './sync.js';

export interface SandboxOptions {
  readonly dataDir: string;
  readonly configFile?: string;
  /** A duration ("15m", "30s") or a cron expression ("0 * * * *"). */
  readonly syncEvery?: string;
  readonly smtp?: string;
  readonly notify?: readonly string[];
  readonly log?: (line: string) => void;
}

export interface RunningSandbox {
  readonly config: SandboxConfig;
  readonly configPath: string;
  readonly configCreated: boolean;
  readonly sftp: { readonly host: string; readonly port: number; readonly hostKeyFingerprint: string };
  readonly http: { readonly url: string };
  /** Runs a sync of the landing zone now. */
  sync(): Promise<SyncRecord[]>;
  close(): Promise<void>;
}

/** The file that tells scripts and tests where a running sandbox listens. */
export const SANDBOX_ADDRESS_FILE = 'sandbox.json';

export function parseEvery(text: string): { ms: number } | { cron: string } {
  const m = /^(\d+)(ms|s|m|h)$/.exec(text.trim());
  if (m)
    return { ms: Number(m[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] as 'ms' | 's' | 'm' | 'h'] };
  return { cron: text.trim() };
}

export async function startSandbox(options: SandboxOptions): Promise<RunningSandbox> {
  const log = options.log ?? (() => {});
  mkdirSync(options.dataDir, { recursive: true });
  const { config, path: configPath, created } = loadSandboxConfig(options.dataDir, options.configFile);
  const store = new PortalStore(options.dataDir);
  for (const u of config.sftp.users) store.landingDir(u.username);
  for (const r of await store.recover()) log(`recovered sync ${r.id}: ${r.status}`);

  let queue: Promise<unknown> = Promise.resolve();
  const enqueue = <T>(task: () => Promise<T>): Promise<T> => {
    const run = queue.then(task, task);
    queue = run.catch(() => {});
    return run;
  };
  let httpUrl = '';
  const notifier =
    options.smtp && options.notify?.length
      ? smtpNotifier(options.smtp, options.notify, () => httpUrl, log)
      : undefined;
  const notify = async (record: SyncRecord) => {
    if (notifier) await notifier.notify(record);
  };

  const sftp = await withFreePort(
    'SFTP',
    DEFAULT_SFTP_PORT,
    config.sftp.port,
    (port) =>
      startLandingZone({
        dataDir: options.dataDir,
        config: { ...config, sftp: { ...config.sftp, port } },
        log,
      }),
    log,
  );
  const sync = () =>
    enqueue(async () => {
      const records = await runSync(store, {
        busy: sftp.isBusy,
        maxUploadBytes: config.limits.maxUploadBytes,
        maxExpandedBytes: config.limits.maxExpandedBytes,
      });
      for (const r of records) {
        log(
          `sync ${r.id} (${r.user}, ${r.files.length} file${r.files.length === 1 ? '' : 's'}): ${r.status}; ${syncSummary(r)}`,
        );
        await notify(r);
      }
      return records;
    });
  const http = await withFreePort(
    'HTTP',
    DEFAULT_HTTP_PORT,
    config.http.port,
    (port) =>
      startHttp({
        store,
        config: { ...config, http: { ...config.http, port } },
        runSync: sync,
        enqueue,
        notify,
        log,
        sftpAddress: () => `sftp://${config.host}:${sftp.port}`,
      }),
    log,
  );
  httpUrl = http.url;

  let timer: NodeJS.Timeout | undefined;
  let cron: Cron | undefined;
  if (options.syncEvery) {
    const every = parseEvery(options.syncEvery);
    const tick = () => void sync().catch((err: Error) => log(`scheduled sync failed: ${err.message}`));
    if ('ms' in every) timer = setInterval(tick, every.ms);
    else cron = new Cron(every.cron, tick);
  }

  writeFileSync(
    join(options.dataDir, SANDBOX_ADDRESS_FILE),
    `${JSON.stringify({ pid: process.pid, startedAt: new Date().toISOString(), sftp: { host: config.host, port: sftp.port, hostKeyFingerprint: sftp.hostKeyFingerprint, users: config.sftp.users.map((u) => u.username) }, http: { url: http.url } }, null, 2)}\n`,
  );

  return {
    config,
    configPath,
    configCreated: created,
    sftp: { host: config.host, port: sftp.port, hostKeyFingerprint: sftp.hostKeyFingerprint },
    http: { url: http.url },
    sync,
    async close() {
      if (timer) clearInterval(timer);
      cron?.stop();
      // A sync under way finishes and is recorded before the doors close.
      await queue.catch(() => {});
      await Promise.all([sftp.close(), http.close()]);
      rmSync(join(options.dataDir, SANDBOX_ADDRESS_FILE), { force: true });
      log('stopped');
    },
  };
}

export const DEFAULT_SFTP_PORT = 2222;
export const DEFAULT_HTTP_PORT = 8080;

/**
 * Starts a server on `port`; when that is the default port and something else holds it, on a
 * free port instead, saying so. A port chosen in the config is kept or refused, never changed.
 */
async function withFreePort<T>(
  what: string,
  defaultPort: number,
  port: number,
  start: (port: number) => Promise<T>,
  log: (line: string) => void,
): Promise<T> {
  try {
    return await start(port);
  } catch (err) {
    if (port !== defaultPort || !(err instanceof RosterError) || err.code !== 'SANDBOX_PORT_IN_USE')
      throw err;
    const started = await start(0);
    log(
      `the default ${what} port ${defaultPort} is in use: listening on a free port instead (see the addresses below)`,
    );
    return started;
  }
}

/**
 * `roster sandbox sync`: one sync of what waits now, from another process than the server. Limits
 * come from `configFile`, else <data>/sandbox.yaml when present, else the defaults.
 */
export async function syncOnce(dataDir: string, configFile?: string): Promise<SyncRecord[]> {
  mkdirSync(dataDir, { recursive: true });
  const ownConfig = join(dataDir, SANDBOX_CONFIG_FILE);
  const limits =
    configFile || existsSync(ownConfig)
      ? loadSandboxConfig(dataDir, configFile ?? ownConfig).config.limits
      : undefined;
  const store = new PortalStore(dataDir);
  return runSync(
    store,
    limits ? { maxUploadBytes: limits.maxUploadBytes, maxExpandedBytes: limits.maxExpandedBytes } : {},
  );
}
