/**
 * The `sftp` target: OneRoster CSV delivered to an SFTP landing zone (ssh2-sftp-client).
 *
 * - The host key is pinned: an unknown or changed key is refused (`roster trust-host`).
 * - Secrets come from the environment or the ssh agent, never from the config.
 * - A delivery is uploaded under a temporary name, its size verified, then renamed into place, so
 *   the portal never sees a partial file; a dropped connection leaves no file under the real name.
 * - State and lock live on the server (`stateDir`), so every clone and CI runner sees the same:
 *   `lock.json` (created exclusively), `snapshot-<serial>.zip`, then `state-<serial>.json` (the
 *   commit point: new names only, renamed into place; the highest complete serial is current).
 * - With `reportDir`, apply waits (bounded) for the portal's processing report and folds the
 *   records it rejected into the state.
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, posix } from 'node:path';
import SftpClient from 'ssh2-sftp-client';
import type { SftpTargetConfig } from '../config/config.js';
import { Diagnostics, unreadable } from '../diagnostic.js';
import { diskFullAs, InputError, LockHeldError, RosterError, StalePlanError } from '../errors.js';
import { MANIFEST_FILE } from '../formats/oneroster-csv/manifest.js';
import { readOneRoster } from '../formats/oneroster-csv/read.js';
import { writeOneRosterDir, writeOneRosterZip } from '../formats/oneroster-csv/write.js';
import { zipFiles } from '../formats/package-files.js';
import { readRosterImage, writeRosterImage } from '../formats/roster-image.js';
import { ENTITIES, type EntityName } from '../model/entities.js';
import type { Roster } from '../model/roster.js';
import { faultPoint } from './faults.js';
import { type LockFiles, lockStatus, newLockInfo, removeStaleLock } from './lock.js';
import { withRetry } from './retry.js';
import {
  foldRejections,
  imageBinding,
  parseState,
  type RejectionLike,
  type ReportedCounts,
  reportMismatch,
  type TargetState,
} from './state.js';
import { type DeliveryReceipt, type LockInfo, type LockStatus, type Target, TargetError } from './target.js';

export function fingerprintOf(hostKey: Buffer): string {
  return `SHA256:${createHash('sha256').update(hostKey).digest('base64').replace(/=+$/, '')}`;
}

const STATE_FILE = /^state-(\d{6})\.json$/;
const KEEP = 3;

export class SftpTarget implements Target {
  readonly kind = 'sftp';
  readonly name: string;
  readonly location: string;
  private client: SftpClient | undefined;

  constructor(private readonly config: SftpTargetConfig) {
    this.name = config.name;
    this.location = `sftp://${config.username}@${config.host}:${config.port}${config.remoteDir}`;
  }

  private where(path: string): string {
    return `sftp://${this.config.host}:${this.config.port}${path}`;
  }

  /** Connects (once), with the pinned host key, secrets from the environment, and retries. */
  private async sftp(): Promise<SftpClient> {
    if (this.client) return this.client;
    const c = this.config;
    const secret = (env: string | undefined, what: string) => {
      if (!env) return undefined;
      const value = process.env[env];
      if (!value)
        throw new InputError(
          'SECRET_MISSING',
          `environment variable ${env} (the ${what} of target "${c.name}") is not set`,
          `Set ${env} in the environment (in CI: a repository secret). Secrets never go in roster.config.yaml.`,
        );
      return value;
    };
    const privateKey = secret(c.auth.privateKeyEnv, 'private key');
    const passphrase = secret(c.auth.passphraseEnv, 'key passphrase');
    const password = secret(c.auth.passwordEnv, 'password');
    const agent = c.auth.agent ? process.env.SSH_AUTH_SOCK : undefined;
    if (c.auth.agent && !agent)
      throw new InputError(
        'SECRET_MISSING',
        `target "${c.name}" uses the ssh agent, but SSH_AUTH_SOCK is not set`,
        'Start an ssh agent and add the key (ssh-add).',
      );
    let seen: string | undefined;
    const connect = async () => {
      const client = new SftpClient(`roster-${c.name}`);
      try {
        await client.connect({
          host: c.host,
          port: c.port,
          username: c.username,
          ...(privateKey ? { privateKey } : {}),
          ...(passphrase ? { passphrase } : {}),
          ...(password ? { password } : {}),
          ...(agent ? { agent } : {}),
          readyTimeout: c.connectTimeoutSeconds * 1000,
          retries: 0,
          hostVerifier: (key: Buffer) => {
            seen = fingerprintOf(key);
            return seen === c.hostKey;
          },
        } as SftpClient.ConnectOptions);
        return client;
      } catch (err) {
        await client.end().catch(() => undefined);
        throw err;
      }
    };
    try {
      this.client = await withRetry(connect, {
        retries: c.retries,
        baseMs: 500,
        // Refused keys and credentials are not transient; refused or dropped connections are.
        transient: (err) =>
          seen === c.hostKey && !/authentication|All configured/i.test(String((err as Error).message)),
      });
      return this.client;
    } catch (err) {
      const message = (err as Error).message;
      if (seen && seen !== c.hostKey) {
        throw new TargetError(
          'HOST_KEY_MISMATCH',
          `the host key of sftp://${c.host}:${c.port} is ${seen}, but target "${c.name}" pins ${c.hostKey}`,
          `If the vendor confirms the key changed, run \`roster trust-host ${c.host} --port ${c.port}\` and update hostKey; otherwise do not connect (someone may be in between).`,
          err,
        );
      }
      if (/authentication|All configured/i.test(message)) {
        throw new TargetError(
          'SFTP_AUTH_FAILED',
          `SFTP login as ${c.username} to sftp://${c.host}:${c.port} was refused`,
          'Check the username and the key or password in the environment.',
          err,
        );
      }
      throw new TargetError(
        'SFTP_CONNECT_FAILED',
        `SFTP connection failed: sftp://${c.host}:${c.port}: ${message}`,
        `Check that the server is reachable and the port is right (tried ${c.retries + 1} times).`,
        err,
      );
    }
  }

  async close(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => undefined);
  }

  private async op<T>(what: string, path: string, fn: (c: SftpClient) => Promise<T>): Promise<T> {
    const c = await this.sftp();
    try {
      return await fn(c);
    } catch (err) {
      if (err instanceof RosterError) throw err;
      const message = (err as Error).message;
      const denied = /permission|denied/i.test(message);
      throw new TargetError(
        denied ? 'SFTP_PERMISSION_DENIED' : 'SFTP_FAILED',
        `SFTP ${what} failed: ${this.where(path)}: ${message}`,
        denied
          ? 'The account may not write there: check remoteDir and stateDir with the vendor.'
          : 'Check the connection and run again; nothing was recorded as delivered.',
        err,
      );
    }
  }

  private async ensureDir(path: string): Promise<void> {
    await this.op('mkdir', path, async (c) => {
      if (await c.exists(path)) return;
      try {
        await c.mkdir(path, true);
      } catch (err) {
        // Another apply (or plan) made it meanwhile: two first applies at once race here, and
        // the loser's mkdir fails although the folder is there.
        if (await c.exists(path)) return;
        throw err;
      }
    });
  }

  private async latestSerial(): Promise<number | undefined> {
    const dir = this.config.stateDir;
    return this.op('list', dir, async (c) => {
      if (!(await c.exists(dir))) return undefined;
      const serials = (await c.list(dir))
        .map((f) => STATE_FILE.exec(f.name)?.[1])
        .filter((x): x is string => x !== undefined)
        .map(Number);
      return serials.length ? serials.reduce((a, b) => Math.max(a, b)) : undefined;
    });
  }

  private stateFile(serial: number, kind: 'state' | 'snapshot'): string {
    const n = String(serial).padStart(6, '0');
    return posix.join(this.config.stateDir, kind === 'state' ? `state-${n}.json` : `snapshot-${n}.zip`);
  }

  async readState(): Promise<TargetState | undefined> {
    const serial = await this.latestSerial();
    // A delivery the portal may have received, not yet recorded (the apply was killed): the
    // target holds it, so plans compare with it (the next apply records it).
    const pending = await this.pending(serial ?? 0);
    if (pending?.visible)
      return parseState(
        JSON.stringify(pending.journal.state),
        this.where(this.journalFile(pending.journal.serial)),
        this.name,
      );
    if (serial === undefined) return undefined;
    const file = this.stateFile(serial, 'state');
    const text = await this.op('download', file, async (c) =>
      ((await c.get(file)) as Buffer).toString('utf8'),
    );
    return parseState(text, this.where(file), this.name);
  }

  /** Where this clone keeps the current snapshot's roster image (formats/roster-image.ts), if anywhere. */
  private get imageFile(): string | undefined {
    return this.config.cacheDir ? join(this.config.cacheDir, 'snapshot.image') : undefined;
  }

  /** Keeps `snapshot` (of `state`) as the cached image; a cache that cannot be written is only a slower plan. */
  private cacheImage(snapshot: Roster, state: TargetState): void {
    const file = this.imageFile;
    if (!file) return;
    try {
      mkdirSync(dirname(file), { recursive: true });
      // Never committed by accident (as pytest's and ruff's caches do): git ignores the folder.
      const ignore = join(dirname(file), '.gitignore');
      if (!existsSync(ignore)) writeFileSync(ignore, '# roster-as-code cache: never commit\n*\n');
      writeRosterImage(snapshot, file, imageBinding(state));
    } catch {
      // (writeRosterImage leaves no partial file; an old image stays refused)
    }
  }

  async readCurrent(state: TargetState): Promise<Roster> {
    // The snapshot as this clone last saw it (applied or read here), if it is still the current one.
    const image = this.imageFile ? await readRosterImage(this.imageFile, imageBinding(state)) : 'missing';
    if (typeof image !== 'string' && image.version === state.oneRosterVersion) return image;
    const file = this.stateFile(state.serial, 'snapshot');
    const local = mkdtempSync(join(tmpdir(), 'roster-sftp-'));
    try {
      const buf = await this.op('download', file, async (c) => (await c.get(file)) as Buffer);
      writeFileSync(join(local, 'snapshot.zip'), buf);
      const diagnostics = new Diagnostics();
      const { roster } = await readOneRoster(
        await zipFiles(join(local, 'snapshot.zip'), diagnostics),
        diagnostics,
        { checkFields: false, keepIndexes: false },
      );
      if (unreadable(diagnostics))
        throw new InputError(
          'STATE_CORRUPT',
          `${this.where(file)} cannot be read back`,
          'The target state on the server is damaged; restore it, or move the state folder away.',
        );
      this.cacheImage(roster, state);
      return roster;
    } finally {
      rmSync(local, { recursive: true, force: true });
    }
  }

  private get lockFile(): string {
    return posix.join(this.config.stateDir, 'lock.json');
  }

  async lock(operation: string, timeoutMs: number, signal?: AbortSignal): Promise<LockInfo> {
    await this.ensureDir(this.config.stateDir);
    const info = newLockInfo(operation);
    const deadline = Date.now() + timeoutMs;
    let replaced: LockStatus | undefined;
    for (;;) {
      signal?.throwIfAborted();
      const client = await this.sftp();
      try {
        // Exclusive create: exactly one runner gets the lock.
        await client.put(Buffer.from(`${JSON.stringify(info, null, 2)}\n`), this.lockFile, {
          writeStreamOptions: { flags: 'wx' as 'w', mode: 0o644 },
        });
        return replaced ? { ...info, replaced } : info;
      } catch {
        const held = await this.readLock();
        if (!held) {
          if (Date.now() >= deadline)
            throw new TargetError(
              'SFTP_FAILED',
              `SFTP lock failed: ${this.where(this.lockFile)}`,
              'Check that the account may write to stateDir.',
            );
          continue;
        }
        if (held.stale) {
          // Its holder ran on this host and is gone (killed): take its place, and say so.
          if (await removeStaleLock(this.lockFiles(), this.lockFile, held)) replaced = held;
          continue;
        }
        if (Date.now() >= deadline) throw new LockHeldError(this.name, held, false);
        await new Promise((r) => setTimeout(r, Math.min(500, Math.max(10, deadline - Date.now()))));
      }
    }
  }

  private lockFiles(): LockFiles {
    return {
      rename: (from, to) => this.op('rename', from, (c) => c.rename(from, to)).then(() => undefined),
      read: (path) => this.download(path),
      remove: (path) => this.remove(path),
    };
  }

  /** A remote file's text, or undefined when it does not exist. */
  private async download(path: string): Promise<string | undefined> {
    return this.op('download', path, async (c) =>
      (await c.exists(path)) ? ((await c.get(path)) as Buffer).toString('utf8') : undefined,
    );
  }

  async readLock(): Promise<LockStatus | undefined> {
    const text = await this.download(this.lockFile);
    return text === undefined ? undefined : lockStatus(text);
  }

  async unlock(lock: LockInfo): Promise<void> {
    const held = await this.readLock();
    if (held?.id === lock.id) await this.op('delete', this.lockFile, (c) => c.delete(this.lockFile));
  }

  async forceUnlock(): Promise<LockStatus | undefined> {
    const held = await this.readLock();
    if (held) await this.remove(this.lockFile);
    return held;
  }

  /** Uploads a local file under a temporary name and checks its size; returns the temporary name. */
  private async stage(local: string, final: string): Promise<StagedFile> {
    const tmp = posix.join(
      posix.dirname(final),
      `.${posix.basename(final)}.${randomBytes(4).toString('hex')}.tmp`,
    );
    const size = statSync(local).size;
    await this.op('upload', final, async (c) => {
      try {
        await c.put(local, tmp);
        await faultPoint('sftp:after-upload');
        const remote = await c.stat(tmp);
        if (remote.size !== size) throw new Error(`uploaded ${remote.size} bytes of ${size}`);
      } catch (err) {
        await c.delete(tmp, true).catch(() => undefined);
        throw err;
      }
    });
    return { tmp, final, size };
  }

  /** Uploads a local file under a temporary name, checks its size, renames it to `final`. */
  private async uploadAtomic(local: string, final: string): Promise<void> {
    const { tmp } = await this.stage(local, final);
    await this.op('rename', final, async (c) => {
      try {
        await c.rename(tmp, final);
      } catch (err) {
        await c.delete(tmp, true).catch(() => undefined);
        throw err;
      }
    });
  }

  /** Removes a remote file (nothing when it is gone already). */
  private async remove(path: string): Promise<void> {
    await this.op('delete', path, (c) => c.delete(path, true));
  }

  private journalFile(serial: number): string {
    return posix.join(this.config.stateDir, `pending-${String(serial).padStart(6, '0')}.json`);
  }

  /**
   * Delivers in steps that make it exactly-once whatever the kill point:
   * 1. the snapshot, then the delivery's files under temporary names (not visible to the portal);
   * 2. the journal `pending-<serial>.json`: the state to record and the temporary names;
   * 3. the renames into place: the portal may pick the delivery up from here on;
   * 4. the portal's report (when configured), then `state-<serial>.json`, then the journal goes.
   * A run killed after 2 leaves the journal; the next apply (recover) looks at the temporary
   * names: all still there means nothing became visible (cleaned away); any gone means the
   * delivery was made (finished and recorded, never sent again). Until then, readState already
   * answers with the journal's state.
   */
  async deliver(
    delivery: Roster,
    snapshot: Roster,
    state: TargetState,
    expectedSerial: number,
    signal?: AbortSignal,
  ): Promise<DeliveryReceipt> {
    const c = this.config;
    const before = (await this.latestSerial()) ?? 0;
    if (before !== expectedSerial)
      throw new StalePlanError(
        `target "${this.name}" changed since this plan was made (serial ${before}, expected ${expectedSerial}); plan again`,
      );
    await this.ensureDir(c.remoteDir);
    await this.ensureDir(c.stateDir);
    const reportsBefore = c.reportDir ? await this.reportNames() : new Set<string>();
    const local = mkdtempSync(join(tmpdir(), 'roster-sftp-'));
    const warnings: string[] = [];
    let staged: StagedFile[] = [];
    let visible = false;
    try {
      await diskFullAs(local, () => writeOneRosterZip(snapshot, join(local, 'snapshot.zip')));
      // A snapshot of this serial can only be a leftover of a run stopped before its state was
      // written (never read: the state files say which snapshots count).
      const snapshotFile = this.stateFile(state.serial, 'snapshot');
      await this.remove(snapshotFile);
      await this.uploadAtomic(join(local, 'snapshot.zip'), snapshotFile);
      let files: { local: string; final: string }[];
      if (c.packaging === 'zip') {
        await diskFullAs(local, () => writeOneRosterZip(delivery, join(local, c.zipName)));
        files = [{ local: join(local, c.zipName), final: posix.join(c.remoteDir, c.zipName) }];
      } else {
        const names = await diskFullAs(local, () => writeOneRosterDir(delivery, join(local, 'pkg')));
        // The manifest last: a portal that waits for it sees a complete set.
        files = [...names.filter((x) => x !== 'manifest.csv'), 'manifest.csv'].map((f) => ({
          local: join(local, 'pkg', f),
          final: posix.join(c.remoteDir, f),
        }));
      }
      for (const f of files) staged.push(await this.stage(f.local, f.final));
      for (const f of staged) {
        if (await this.op('stat', f.final, (cl) => cl.exists(f.final))) {
          throw new TargetError(
            'DELIVERY_WAITING',
            `a previous delivery still waits at ${this.where(f.final)}`,
            'The portal has not processed the last delivery yet. Wait for its next sync (or ask the vendor), then apply again.',
          );
        }
      }
      // The last moment to stop with nothing delivered.
      signal?.throwIfAborted();
      const journal: DeliveryJournal = {
        formatVersion: 1,
        serial: state.serial,
        createdAt: new Date().toISOString(),
        state,
        files: staged,
        reportsBefore: [...reportsBefore],
      };
      writeFileSync(join(local, 'journal.json'), `${JSON.stringify(journal, null, 2)}\n`);
      await this.uploadAtomic(join(local, 'journal.json'), this.journalFile(state.serial));
      await faultPoint('sftp:after-journal');
      visible = true;
      await this.publish(staged);
      staged = [];
      await faultPoint('sftp:after-delivery');
      let report: ProcessingReport | undefined;
      if (c.reportDir && signal?.aborted) {
        warnings.push(
          "interrupted after the delivery: the portal's processing report was not awaited; rejected records are unknown until the next apply",
        );
      } else if (c.reportDir) {
        report = await this.waitForReport(reportsBefore, signal);
        if (!report)
          warnings.push(
            signal?.aborted
              ? "interrupted after the delivery: the portal's processing report was not awaited; rejected records are unknown until the next apply"
              : `no processing report appeared in ${this.where(c.reportDir)} within ${c.reportWaitSeconds} s; the delivery is recorded, rejected records are unknown until the next apply`,
          );
      }
      const recorded = await this.record(state, report, warnings);
      this.cacheImage(snapshot, recorded);
      await this.prune(recorded.serial);
      return { state: recorded, warnings };
    } catch (err) {
      // Before the journal, nothing is visible: the temporary files go. After it, the journal
      // decides at the next apply (nothing is sent twice).
      if (!visible) for (const f of staged) await this.remove(f.tmp).catch(() => undefined);
      if (visible && !(err instanceof RosterError))
        throw new TargetError(
          'SFTP_FAILED',
          `SFTP delivery to ${this.where(c.remoteDir)} was cut short: ${(err as Error).message}`,
          'The delivery may have reached the portal: the next apply finds out and records it, never sending it twice.',
          err,
        );
      throw err;
    } finally {
      rmSync(local, { recursive: true, force: true });
    }
  }

  /** Renames staged files into place (those still staged: a recovery finishes a partial set). */
  private async publish(files: readonly StagedFile[]): Promise<void> {
    for (const f of files)
      await this.op('rename', f.final, async (c) => {
        if (await c.exists(f.tmp)) await c.rename(f.tmp, f.final);
      });
  }

  /**
   * Records `state` after a delivery: the portal's report folded in (a delivery rejected as a
   * whole advances nothing), then the state file (the commit point), then the journal goes.
   */
  private async record(
    state: TargetState,
    report: ProcessingReport | undefined,
    warnings: string[],
  ): Promise<TargetState> {
    let recorded = state;
    if (report?.status === 'rejected') {
      await this.remove(this.journalFile(state.serial));
      const first = report.rejections?.[0];
      throw new TargetError(
        'DELIVERY_REJECTED',
        `the portal rejected the delivery as a whole${report.message ? `: ${report.message}` : ''}${first ? ` (${first.file}${first.line ? `:${first.line}` : ''} ${first.code}: ${first.message})` : ''}`,
        'Nothing changed at the portal and the state was not advanced. Fix the problem (roster validate), then apply again.',
      );
    }
    if (report) {
      recorded = foldRejections(state, report.rejections ?? []);
      const mismatch = state.planned && report.counts ? reportMismatch(state.planned, report.counts) : [];
      if (mismatch.length > 0) {
        recorded = { ...recorded, reportMismatch: mismatch };
        for (const m of mismatch) warnings.push(`the portal's report differs from the plan: ${m}`);
      }
      if (recorded.rejected.length > 0)
        warnings.push(
          `the portal rejected ${recorded.rejected.length} record(s); \`roster status\` lists them and the next plan retries them`,
        );
    }
    const local = mkdtempSync(join(tmpdir(), 'roster-sftp-'));
    try {
      writeFileSync(join(local, 'state.json'), `${JSON.stringify(recorded, null, 2)}\n`);
      await faultPoint('sftp:before-state');
      await this.uploadAtomic(join(local, 'state.json'), this.stateFile(recorded.serial, 'state'));
    } finally {
      rmSync(local, { recursive: true, force: true });
    }
    await this.remove(this.journalFile(state.serial));
    return recorded;
  }

  /** The journal of a delivery made after the latest recorded state, and whether it became visible. */
  private async pending(latest: number): Promise<{ journal: DeliveryJournal; visible: boolean } | undefined> {
    const text = await this.download(this.journalFile(latest + 1));
    if (text === undefined) return undefined;
    let journal: DeliveryJournal;
    try {
      journal = JSON.parse(text) as DeliveryJournal;
    } catch {
      throw new InputError(
        'STATE_CORRUPT',
        `${this.where(this.journalFile(latest + 1))} is not valid JSON`,
        'The target state on the server is damaged; check with the vendor whether the last delivery arrived, then move the file away.',
      );
    }
    let visible = false;
    for (const f of journal.files)
      if (!(await this.op('stat', f.tmp, (c) => c.exists(f.tmp)))) visible = true;
    return { journal, visible };
  }

  /**
   * Files a stopped run left under temporary names (`.<name>.<8 hex>.tmp`, never seen by the
   * portal), once no journal refers to them. Only one apply runs at a time: the lock.
   */
  private async removeLeftovers(): Promise<void> {
    // In the landing zone, only the names our deliveries use (others may upload there too).
    const ours = new Set([this.config.zipName, MANIFEST_FILE, ...Object.values(ENTITIES).map((e) => e.file)]);
    for (const dir of [this.config.remoteDir, this.config.stateDir]) {
      const names = await this.op('list', dir, async (c) =>
        (await c.exists(dir)) ? (await c.list(dir)).map((f) => f.name) : [],
      );
      const leftover = (n: string) => {
        const m = /^\.(.+)\.[0-9a-f]{8}\.tmp$/.exec(n);
        return m !== null && (dir === this.config.stateDir || ours.has(m[1]!));
      };
      for (const name of names.filter(leftover)) {
        const path = posix.join(dir, name);
        await this.remove(path);
      }
    }
  }

  async recover(): Promise<string | undefined> {
    const dir = this.config.stateDir;
    const latest = (await this.latestSerial()) ?? 0;
    // Journals of deliveries already recorded (killed before the journal was removed).
    const names = await this.op('list', dir, async (c) =>
      (await c.exists(dir)) ? (await c.list(dir)).map((f) => f.name) : [],
    );
    for (const name of names) {
      const m = /^pending-(\d{6})\.json$/.exec(name);
      if (m && Number(m[1]) <= latest) await this.remove(posix.join(dir, name));
    }
    const found = await this.pending(latest);
    if (!found) {
      await this.removeLeftovers();
      return undefined;
    }
    const { journal, visible } = found;
    if (!visible) {
      for (const f of journal.files) await this.remove(f.tmp);
      await this.remove(this.journalFile(journal.serial));
      await this.removeLeftovers();
      return `an earlier apply was stopped before its delivery (serial ${journal.serial}) reached the portal; its upload was removed`;
    }
    await this.publish(journal.files);
    let report: ProcessingReport | undefined;
    if (this.config.reportDir) report = await this.latestReport(new Set(journal.reportsBefore));
    const warnings: string[] = [];
    const recorded = await this.record(journal.state, report, warnings);
    return [
      `an earlier apply was stopped after its delivery (serial ${recorded.serial}) reached the portal; it is now recorded, not sent again${this.config.reportDir && !report ? " (the portal's report has not appeared: rejected records are unknown until the next apply)" : ''}`,
      ...warnings,
    ].join('; ');
  }

  private async reportNames(): Promise<Set<string>> {
    const dir = this.config.reportDir!;
    return this.op('list', dir, async (cl) =>
      (await cl.exists(dir)) ? new Set((await cl.list(dir)).map((f) => f.name)) : new Set<string>(),
    );
  }

  async portalCounts(): Promise<Partial<Record<EntityName, number>> | undefined> {
    if (!this.config.reportDir) return undefined;
    const held = (await this.latestReport(new Set()))?.held;
    return held && typeof held === 'object' ? held : undefined;
  }

  /** The newest processing report not in `before`, if one has appeared. */
  private async latestReport(before: Set<string>): Promise<ProcessingReport | undefined> {
    const dir = this.config.reportDir!;
    const fresh = [...(await this.reportNames())].filter((n) => n.endsWith('.json') && !before.has(n)).sort();
    if (fresh.length === 0) return undefined;
    const text = await this.download(posix.join(dir, fresh[fresh.length - 1]!));
    try {
      return text === undefined ? undefined : (JSON.parse(text) as ProcessingReport);
    } catch {
      return undefined;
    }
  }

  /** Waits (up to reportWaitSeconds, or until `signal`) for the portal's processing report. */
  private async waitForReport(
    before: Set<string>,
    signal?: AbortSignal,
  ): Promise<ProcessingReport | undefined> {
    const deadline = Date.now() + this.config.reportWaitSeconds * 1000;
    for (;;) {
      const report = await this.latestReport(before);
      if (report) return report;
      await faultPoint('sftp:report-wait');
      if (Date.now() >= deadline || signal?.aborted) return undefined;
      await new Promise((r) => setTimeout(r, 500));
    }
  }

  private async prune(serial: number): Promise<void> {
    const dir = this.config.stateDir;
    await this.op('prune', dir, async (c) => {
      for (const f of await c.list(dir)) {
        const m = /^(?:state|snapshot)-(\d{6})\.(?:json|zip)$/.exec(f.name);
        if (m && Number(m[1]) <= serial - KEEP) await c.delete(posix.join(dir, f.name), true);
      }
    });
  }
}

interface StagedFile {
  /** The temporary name the file was uploaded under (invisible to the portal). */
  readonly tmp: string;
  /** Where the portal looks for it. */
  readonly final: string;
  readonly size: number;
}

/** `pending-<serial>.json`: a delivery about to become visible, and the state to record for it. */
interface DeliveryJournal {
  readonly formatVersion: 1;
  readonly serial: number;
  readonly createdAt: string;
  readonly state: TargetState;
  readonly files: readonly StagedFile[];
  /** The report files present before the delivery (a new one is the portal's answer to it). */
  readonly reportsBefore: readonly string[];
}

interface ProcessingReport {
  readonly status: string;
  /** What the portal holds after the sync, per entity (the sandbox's reports say it). */
  readonly held?: Partial<Record<EntityName, number>>;
  readonly counts?: Partial<Record<string, ReportedCounts>>;
  readonly message?: string;
  readonly rejections?: RejectionLike[];
}
