/**
 * `roster trust-host`: read a server's SSH host key fingerprint (without logging in) and pin it in
 * roster.config.yaml, keeping the file's comments and layout.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import ssh2 from 'ssh2';
import { isMap, isSeq, parseDocument } from 'yaml';
import { RosterError, UsageError } from '../errors.js';
import { fingerprintOf } from '../targets/sftp.js';

/** Connects to host:port just far enough to see its host key. */
export function readHostKey(host: string, port: number, timeoutMs = 10_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const client = new ssh2.Client();
    let fingerprint: string | undefined;
    const done = (err?: Error) => {
      client.end();
      if (fingerprint) resolve(fingerprint);
      else
        reject(
          new RosterError(
            'SFTP_CONNECT_FAILED',
            `cannot read the host key of ${host}:${port}${err ? `: ${err.message}` : ''}`,
            { hint: 'Check the host name and port.' },
          ),
        );
    };
    client.on('error', (err) => done(err));
    client.on('close', () => done());
    client.connect({
      host,
      port,
      username: 'roster-trust-host',
      readyTimeout: timeoutMs,
      hostVerifier: (key: Buffer) => {
        fingerprint = fingerprintOf(key);
        return false; // seen what we came for; do not log in
      },
    });
  });
}

/** Pins `fingerprint` as hostKey of the sftp targets of `configFile` on host:port (or the one named). Returns their names. */
export function pinHostKey(
  configFile: string,
  host: string,
  port: number,
  fingerprint: string,
  targetName?: string,
): string[] {
  const doc = parseDocument(readFileSync(configFile, 'utf8'));
  const targets = doc.get('targets', true);
  const pinned: string[] = [];
  if (isSeq(targets)) {
    for (const t of targets.items) {
      if (!isMap(t)) continue;
      const name = String(t.get('name'));
      const matches = targetName
        ? name === targetName
        : t.get('kind') === 'sftp' && t.get('host') === host && Number(t.get('port') ?? 22) === port;
      if (!matches) continue;
      if (t.get('kind') !== 'sftp')
        throw new UsageError(
          'TARGET_NOT_SFTP',
          `target "${name}" is not an sftp target`,
          'trust-host pins the host key of sftp targets.',
        );
      t.set('hostKey', fingerprint);
      pinned.push(name);
    }
  }
  if (pinned.length > 0) writeFileSync(configFile, doc.toString());
  return pinned;
}
