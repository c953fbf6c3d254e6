import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '../base-command.js';
import { findConfigUpward } from '../config/config.js';
import { commandResult } from '../render/results.js';
import { pinHostKey, readHostKey } from '../services/trust-host.js';

export default class TrustHost extends BaseCommand {
  static override summary = "Print an SFTP server's host key fingerprint and pin it in roster.config.yaml.";
  static override description =
    'Connects without logging in, prints the SHA256 fingerprint, and records it as hostKey of the sftp targets on that host and port (or of --target). Compare the fingerprint with the one your vendor gives you before you trust it.';
  static override examples = [
    '<%= config.bin %> trust-host sftp.vendor.example',
    '<%= config.bin %> trust-host 127.0.0.1 --port 2222 --target sandbox',
  ];
  static override args = { host: Args.string({ required: true, description: 'The SFTP server.' }) };
  static override flags = {
    port: Flags.integer({ default: 22, description: 'The port.' }),
    repo: BaseCommand.repoFlags.repo,
    target: Flags.string({
      description: 'Pin into this target (default: every sftp target on that host and port).',
    }),
    'dry-run': Flags.boolean({ description: 'Only print the fingerprint.' }),
  };

  async run(): Promise<ReturnType<typeof commandResult>> {
    const { args, flags } = await this.parse(TrustHost);
    const fingerprint = await readHostKey(args.host, flags.port);
    this.write(`${args.host}:${flags.port} host key ${fingerprint}\n`);
    const result = (pinned: string[], config?: string) =>
      commandResult('trust-host', {
        host: args.host,
        port: flags.port,
        hostKey: fingerprint,
        pinned,
        ...(config ? { config } : {}),
      });
    if (flags['dry-run']) return this.done(result([]));
    const config = findConfigUpward(flags.repo);
    const pinned = config ? pinHostKey(config, args.host, flags.port, fingerprint, flags.target) : [];
    if (pinned.length === 0) {
      this.write(
        `No sftp target on ${args.host}:${flags.port} in ${config ?? 'roster.config.yaml (not found)'}; add one with hostKey: "${fingerprint}".\n`,
      );
      return this.done(result([], config));
    }
    this.write(
      `Pinned it for target(s) ${pinned.join(', ')} in ${config}. Check it matches the fingerprint your vendor publishes.\n`,
    );
    return this.done(result(pinned, config));
  }
}
