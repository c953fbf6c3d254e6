/**
 * The landing zone: an SFTP server (ssh2) where each configured user logs in with a password or a
 * public key and is confined to its own folder (<data>/landing/<user>, with outbox/ for reports).
 * Files open for writing are tracked, so a sync never takes a file still being uploaded; a file
 * left open by a client that disconnects is removed (a partial upload is never processed).
 * Failed logins are slowed down, more for every failure from the same address.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import {
  closeSync,
  existsSync,
  fstatSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  renameSync,
  rmdirSync,
  type Stats,
  statSync,
  unlinkSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { type AddressInfo, createServer, type Socket } from 'node:net';
import { join, posix, relative } from 'node:path';
import ssh2 from 'ssh2';
import { InputError } from '../errors.js';
import type { SandboxConfig, SandboxUser } from './config.js';

const { Server, utils } = ssh2;
const { OPEN_MODE, STATUS_CODE } = ssh2.utils.sftp;

export interface SftpLandingZone {
  readonly port: number;
  readonly hostKeyFingerprint: string;
  /** True while `path` (absolute, on disk) is open for writing by a client. */
  isBusy(path: string): boolean;
  close(): Promise<void>;
}

export interface SftpOptions {
  readonly dataDir: string;
  readonly config: SandboxConfig;
  /** Called with a log line (no secrets). */
  readonly log?: (line: string) => void;
}

/** The host key (generated on first start and kept in the data folder) and its SHA256 fingerprint. */
export function hostKey(dataDir: string): { privateKey: string; fingerprint: string } {
  const file = join(dataDir, 'ssh_host_ed25519_key');
  if (!existsSync(file)) {
    // ssh2's generator now and then writes a key its own parser refuses (about 1 in 150 for
    // ed25519): generate until the key reads back.
    for (let attempt = 0; ; attempt++) {
      const pair = utils.generateKeyPairSync('ed25519', { comment: 'roster sandbox' });
      if (!(utils.parseKey(pair.private) instanceof Error) || attempt >= 20) {
        writeFileSync(file, pair.private, { mode: 0o600 });
        writeFileSync(`${file}.pub`, `${pair.public}\n`);
        break;
      }
    }
  }
  const privateKey = readFileSync(file, 'utf8');
  const parsed = utils.parseKey(privateKey);
  if (parsed instanceof Error) throw parsed;
  const key = Array.isArray(parsed) ? parsed[0]! : parsed;
  const fingerprint = `SHA256:${createHash('sha256').update(key.getPublicSSH()).digest('base64').replace(/=+$/, '')}`;
  return { privateKey, fingerprint };
}

export function portInUse(what: string, host: string, port: number, setting: string): InputError {
  return new InputError(
    'SANDBOX_PORT_IN_USE',
    `the ${what} port ${host}:${port} is in use`,
    `Stop what uses it, or set ${setting} in the sandbox config (0 picks a free port).`,
  );
}

function same(a: string | Buffer, b: string | Buffer): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function attrsOf(s: Stats) {
  return {
    mode: s.mode,
    uid: s.uid,
    gid: s.gid,
    size: s.size,
    atime: Math.floor(s.atimeMs / 1000),
    mtime: Math.floor(s.mtimeMs / 1000),
  };
}

type Handle =
  | { kind: 'file'; fd: number; path: string; writable: boolean; oversize: boolean }
  | { kind: 'dir'; path: string; done: boolean };

export function startLandingZone(options: SftpOptions): Promise<SftpLandingZone> {
  const { dataDir, config } = options;
  const log = options.log ?? (() => {});
  const key = hostKey(dataDir);
  const busy = new Map<string, number>();
  const limit = config.limits.maxUploadBytes;

  const clients = new Set<ssh2.Connection>();
  const lockout = new LoginLockout(config.limits.maxLoginFailures, config.limits.lockoutSeconds * 1000);
  // Connections that have not logged in yet, by client address and port: each is closed after
  // loginSeconds (OpenSSH's LoginGraceTime), including one that never even says hello.
  const notLoggedIn = new Map<string, NodeJS.Timeout>();
  const sockets = new Set<Socket>();
  const server = new Server({ hostKeys: [key.privateKey] }, (client, info) => {
    clients.add(client);
    const ip = info.ip;
    const connection = `${info.ip}:${info.port}`;
    client.on('close', () => clients.delete(client));
    let user: SandboxUser | undefined;
    client.on('authentication', (ctx) => {
      if (ctx.method === 'none') return ctx.reject(['password', 'publickey']);
      // An address locked out after too many failures is refused even with the right secret:
      // parallel guesses cannot outrun the count.
      const locked = lockout.lockedFor(ip);
      if (locked > 0) {
        log(
          `sftp: refused ${ctx.method} login for "${ctx.username}" from ${ip}: locked out for ${Math.ceil(locked / 1000)} s more`,
        );
        return setTimeout(() => ctx.reject(['password', 'publickey']), 1000);
      }
      const candidate = config.sftp.users.find((u) => same(u.username, ctx.username));
      let ok = false;
      if (candidate && ctx.method === 'password' && candidate.password !== undefined) {
        ok = same(ctx.password, candidate.password);
      } else if (candidate && ctx.method === 'publickey' && candidate.publicKey) {
        const allowed = utils.parseKey(candidate.publicKey);
        const k = allowed instanceof Error ? undefined : Array.isArray(allowed) ? allowed[0] : allowed;
        if (k && ctx.key.algo === k.type && same(ctx.key.data, k.getPublicSSH())) {
          if (!ctx.signature) return ctx.accept(); // the client asks whether this key would do
          ok = k.verify(ctx.blob!, ctx.signature, ctx.hashAlgo) === true;
        }
      }
      if (ok) {
        lockout.succeeded(ip);
        user = candidate;
        clearTimeout(notLoggedIn.get(connection));
        notLoggedIn.delete(connection);
        log(`sftp: ${candidate!.username} logged in from ${ip} (${ctx.method})`);
        return ctx.accept();
      }
      // Slow down guessing: 0.25 s after the 3rd failure from an address, doubling up to 5 s;
      // locked out after maxLoginFailures.
      const n = lockout.failed(ip);
      log(
        `sftp: failed ${ctx.method} login for "${ctx.username}" from ${ip} (${n})${lockout.lockedFor(ip) > 0 ? `; ${ip} locked out for ${config.limits.lockoutSeconds} s` : ''}`,
      );
      const delay = n < 3 ? 0 : Math.min(5000, 250 * 2 ** (n - 3));
      setTimeout(() => ctx.reject(['password', 'publickey']), delay);
    });
    client.on('error', () => {}); // a client dropping the connection is not our error
    client.on('ready', () => {
      const root = join(dataDir, 'landing', user!.username);
      mkdirSync(join(root, 'outbox'), { recursive: true });
      const handles = new Map<number, Handle>();
      let next = 0;
      const cleanup = () => {
        for (const h of handles.values()) {
          if (h.kind !== 'file') continue;
          try {
            closeSync(h.fd);
          } catch {}
          if (h.writable) {
            busy.set(h.path, (busy.get(h.path) ?? 1) - 1);
            if ((busy.get(h.path) ?? 0) <= 0) busy.delete(h.path);
            try {
              unlinkSync(h.path); // a partial upload: never processed
            } catch {}
            log(
              `sftp: removed ${user!.username}:/${relative(root, h.path)}: the client left before finishing the upload`,
            );
          }
        }
        handles.clear();
      };
      client.on('close', cleanup);
      client.on('session', (acceptSession) => {
        const session = acceptSession();
        session.on('exec', (_a, reject) => reject?.());
        session.on('shell', (_a, reject) => reject?.());
        session.on('sftp', (acceptSftp) => {
          const sftp = acceptSftp();
          // OpenSSH's client sends EOF and waits for the channel to close: close it.
          sftp.on('end', () => sftp.end());
          const resolve = (p: string) => {
            const virtual = posix.resolve('/', p || '/');
            return { virtual, real: join(root, virtual) };
          };
          const fail = (reqid: number, err: unknown) => {
            const code = (err as NodeJS.ErrnoException).code;
            // The code only: the error's own message names the server's absolute path.
            if (code === 'ENOENT') sftp.status(reqid, STATUS_CODE.NO_SUCH_FILE, 'no such file');
            else if (code === 'EACCES' || code === 'EPERM')
              sftp.status(reqid, STATUS_CODE.PERMISSION_DENIED, 'permission denied');
            else sftp.status(reqid, STATUS_CODE.FAILURE, code ? `failed (${code})` : 'failed');
          };
          /** Runs a file-system step and answers OK, or the error it raised. */
          const step = (reqid: number, fn: () => void) => {
            try {
              fn();
              sftp.status(reqid, STATUS_CODE.OK);
            } catch (err) {
              fail(reqid, err);
            }
          };
          const handleOf = (buf: Buffer) => (buf.length === 4 ? handles.get(buf.readUInt32BE(0)) : undefined);
          const newHandle = (h: Handle) => {
            const id = next++;
            handles.set(id, h);
            const b = Buffer.alloc(4);
            b.writeUInt32BE(id, 0);
            return b;
          };
          sftp.on('OPEN', (reqid, filename, flags) => {
            const { real } = resolve(filename);
            const mode = utils.sftp.flagsToString(flags);
            if (!mode) return sftp.status(reqid, STATUS_CODE.OP_UNSUPPORTED);
            try {
              const fd = openSync(real, mode, 0o644);
              const writable = (flags & OPEN_MODE.WRITE) !== 0;
              if (writable) busy.set(real, (busy.get(real) ?? 0) + 1);
              sftp.handle(reqid, newHandle({ kind: 'file', fd, path: real, writable, oversize: false }));
            } catch (err) {
              fail(reqid, err);
            }
          });
          sftp.on('WRITE', (reqid, handle, offset, data) => {
            const h = handleOf(handle);
            if (h?.kind !== 'file' || !h.writable) return sftp.status(reqid, STATUS_CODE.FAILURE);
            if (offset + data.length > limit) {
              h.oversize = true;
              return sftp.status(
                reqid,
                STATUS_CODE.FAILURE,
                `file exceeds the upload limit of ${limit} bytes`,
              );
            }
            try {
              writeSync(h.fd, data, 0, data.length, offset);
              sftp.status(reqid, STATUS_CODE.OK);
            } catch (err) {
              fail(reqid, err);
            }
          });
          sftp.on('READ', (reqid, handle, offset, length) => {
            const h = handleOf(handle);
            if (h?.kind !== 'file') return sftp.status(reqid, STATUS_CODE.FAILURE);
            const buf = Buffer.alloc(Math.min(length, 256 * 1024));
            try {
              const n = readSync(h.fd, buf, 0, buf.length, offset);
              if (n === 0) return sftp.status(reqid, STATUS_CODE.EOF);
              sftp.data(reqid, buf.subarray(0, n));
            } catch (err) {
              fail(reqid, err);
            }
          });
          sftp.on('CLOSE', (reqid, handle) => {
            const id = handle.length === 4 ? handle.readUInt32BE(0) : -1;
            const h = handles.get(id);
            if (!h) return sftp.status(reqid, STATUS_CODE.FAILURE);
            handles.delete(id);
            if (h.kind === 'file') {
              try {
                closeSync(h.fd);
              } catch {}
              if (h.writable) {
                busy.set(h.path, (busy.get(h.path) ?? 1) - 1);
                if ((busy.get(h.path) ?? 0) <= 0) busy.delete(h.path);
                if (h.oversize) {
                  try {
                    unlinkSync(h.path);
                  } catch {}
                  log(`sftp: removed ${user!.username}:/${relative(root, h.path)}: over the upload limit`);
                } else {
                  let size = 0;
                  try {
                    size = statSync(h.path).size;
                  } catch {}
                  log(`sftp: ${user!.username} uploaded /${relative(root, h.path)} (${size} bytes)`);
                }
              }
            }
            sftp.status(reqid, STATUS_CODE.OK);
          });
          const stat = (reqid: number, path: string, follow: boolean) => {
            try {
              sftp.attrs(
                reqid,
                attrsOf(follow ? statSync(resolve(path).real) : lstatSync(resolve(path).real)),
              );
            } catch (err) {
              fail(reqid, err);
            }
          };
          sftp.on('STAT', (reqid, path) => stat(reqid, path, true));
          sftp.on('LSTAT', (reqid, path) => stat(reqid, path, false));
          sftp.on('FSTAT', (reqid, handle) => {
            const h = handleOf(handle);
            if (h?.kind !== 'file') return sftp.status(reqid, STATUS_CODE.FAILURE);
            sftp.attrs(reqid, attrsOf(fstatSync(h.fd)));
          });
          sftp.on('SETSTAT', (reqid) => sftp.status(reqid, STATUS_CODE.OK));
          sftp.on('FSETSTAT', (reqid) => sftp.status(reqid, STATUS_CODE.OK));
          sftp.on('OPENDIR', (reqid, path) => {
            const { real } = resolve(path);
            try {
              if (!statSync(real).isDirectory())
                return sftp.status(reqid, STATUS_CODE.FAILURE, 'not a directory');
              sftp.handle(reqid, newHandle({ kind: 'dir', path: real, done: false }));
            } catch (err) {
              fail(reqid, err);
            }
          });
          sftp.on('READDIR', (reqid, handle) => {
            const h = handleOf(handle);
            if (h?.kind !== 'dir') return sftp.status(reqid, STATUS_CODE.FAILURE);
            if (h.done) return sftp.status(reqid, STATUS_CODE.EOF);
            h.done = true;
            const names = readdirSync(h.path).map((name) => {
              const s = lstatSync(join(h.path, name));
              const type = s.isDirectory() ? 'd' : '-';
              const longname = `${type}rw-r--r--    1 portal   portal   ${String(s.size).padStart(10)} ${new Date(s.mtimeMs).toUTCString().slice(5, 22)} ${name}`;
              return { filename: name, longname, attrs: attrsOf(s) };
            });
            sftp.name(reqid, names);
          });
          sftp.on('REALPATH', (reqid, path) => {
            const { virtual } = resolve(path);
            sftp.name(reqid, [{ filename: virtual, longname: virtual, attrs: {} as never }]);
          });
          sftp.on('REMOVE', (reqid, path) => step(reqid, () => unlinkSync(resolve(path).real)));
          sftp.on('MKDIR', (reqid, path) => step(reqid, () => mkdirSync(resolve(path).real)));
          sftp.on('RMDIR', (reqid, path) => {
            const { virtual, real } = resolve(path);
            if (virtual === '/' || virtual === '/outbox')
              return sftp.status(reqid, STATUS_CODE.PERMISSION_DENIED);
            step(reqid, () => rmdirSync(real));
          });
          sftp.on('RENAME', (reqid, from, to) => {
            const src = resolve(from).real;
            const dst = resolve(to).real;
            // SFTP v3: renaming onto an existing file fails (as OpenSSH's server does).
            if (existsSync(dst))
              return sftp.status(reqid, STATUS_CODE.FAILURE, `${posix.basename(to)} already exists`);
            step(reqid, () => renameSync(src, dst));
          });
          sftp.on('READLINK', (reqid) => sftp.status(reqid, STATUS_CODE.OP_UNSUPPORTED));
          sftp.on('SYMLINK', (reqid) => sftp.status(reqid, STATUS_CODE.PERMISSION_DENIED));
        });
      });
    });
  });

  const tcp = createServer((socket) => {
    const connection = `${socket.remoteAddress}:${socket.remotePort}`;
    sockets.add(socket);
    const timer = setTimeout(() => {
      log(
        `sftp: closed a connection from ${socket.remoteAddress} that did not log in within ${config.limits.loginSeconds} s`,
      );
      socket.destroy();
    }, config.limits.loginSeconds * 1000);
    timer.unref();
    notLoggedIn.set(connection, timer);
    socket.on('close', () => {
      clearTimeout(timer);
      notLoggedIn.delete(connection);
      sockets.delete(socket);
    });
    server.injectSocket(socket);
  });

  return new Promise((resolvePromise, reject) => {
    tcp.on('error', (err: NodeJS.ErrnoException) =>
      reject(err.code === 'EADDRINUSE' ? portInUse('SFTP', config.host, config.sftp.port, 'sftp.port') : err),
    );
    tcp.listen(config.sftp.port, config.host, () => {
      const port = (tcp.address() as AddressInfo).port;
      resolvePromise({
        port,
        hostKeyFingerprint: key.fingerprint,
        isBusy: (path) => busy.has(path),
        close: () =>
          new Promise((r) => {
            for (const c of clients) c.end();
            tcp.close(() => r());
            // Connections still open after a moment (a client that never logs in) are cut.
            setTimeout(() => {
              for (const s of sockets) s.destroy();
            }, 500).unref();
          }),
      });
    });
  });
}

/**
 * Failed logins per address, across parallel connections: after `max` failures within the
 * window, the address is refused for `lockMs`, whatever it sends.
 */
export class LoginLockout {
  private readonly failures = new Map<string, { count: number; last: number; lockedUntil: number }>();

  constructor(
    private readonly max: number,
    private readonly lockMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Counts a failure; returns the failures counted for `ip` in the current window. */
  failed(ip: string): number {
    const t = this.now();
    const f = this.failures.get(ip);
    const count = f && t - f.last < this.lockMs ? f.count + 1 : 1;
    this.failures.set(ip, { count, last: t, lockedUntil: count >= this.max ? t + this.lockMs : 0 });
    return count;
  }

  succeeded(ip: string): void {
    this.failures.delete(ip);
  }

  /** Milliseconds `ip` stays locked out (0: not locked). */
  lockedFor(ip: string): number {
    const f = this.failures.get(ip);
    return f ? Math.max(0, f.lockedUntil - this.now()) : 0;
  }
}
