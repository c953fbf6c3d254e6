import { Flags } from '@oclif/core';
import { Cron } from 'croner';
import { BaseCommand } from '../../base-command.js';
import { UsageError } from '../../errors.js';
import { parseEvery, startSandbox } from '../../sandbox/sandbox.js';

export default class Sandbox extends BaseCommand {
  // A server that runs until stopped, not a result: its addresses are in <data>/sandbox.json.
  static override enableJsonFlag = false;
  static override summary = 'Run a local vendor portal: SFTP landing zone, batch API, OneRoster REST API.';
  static override description =
    'Listens on 127.0.0.1 (ports from the config; 0 picks free ones) and prints its addresses and credentials. Deliveries wait in the landing zone until a sync runs: on demand (POST /api/sync or `roster sandbox sync`) or on a schedule (--sync-every). Stop it with Ctrl-C.';
  static override examples = [
    '<%= config.bin %> sandbox --data .sandbox',
    '<%= config.bin %> sandbox --data .sandbox --config sandbox.yaml --sync-every 15m --smtp smtp://127.0.0.1:2525 --notify admin@district.example',
  ];
  static override flags = {
    data: Flags.string({
      required: true,
      description: "Folder for the portal's data, config, keys and reports.",
    }),
    config: Flags.string({
      description:
        'Sandbox config (schemas/sandbox.schema.json). Default: <data>/sandbox.yaml, written with random secrets when missing.',
    }),
    'sync-every': Flags.string({
      description: 'Sync on a schedule: a duration (15m, 30s) or a cron expression ("0 6 * * *").',
    }),
    smtp: Flags.string({ description: 'SMTP server for sync summaries, e.g. smtp://127.0.0.1:2525.' }),
    notify: Flags.string({ multiple: true, description: 'Address to send sync summaries to (repeatable).' }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(Sandbox);
    if (flags['sync-every']) {
      const every = parseEvery(flags['sync-every']);
      if ('cron' in every) {
        try {
          new Cron(every.cron).stop();
        } catch {
          throw new UsageError(
            'USAGE',
            `--sync-every "${flags['sync-every']}" is neither a duration nor a cron expression`,
            'Write e.g. 15m, or a cron expression like "0 6 * * *".',
          );
        }
      }
    }
    if (flags.notify?.length && !flags.smtp)
      throw new UsageError(
        'USAGE',
        '--notify needs --smtp',
        'Give the SMTP server, e.g. --smtp smtp://127.0.0.1:2525.',
      );
    const sandbox = await startSandbox({
      dataDir: flags.data,
      ...(flags.config ? { configFile: flags.config } : {}),
      ...(flags['sync-every'] ? { syncEvery: flags['sync-every'] } : {}),
      ...(flags.smtp ? { smtp: flags.smtp } : {}),
      ...(flags.notify ? { notify: flags.notify } : {}),
      log: (line) => process.stderr.write(`${new Date().toISOString()} ${line}\n`),
    });
    const c = sandbox.config;
    const lines = [
      'roster sandbox is running.',
      `  status page   ${sandbox.http.url}/`,
      `  SFTP          sftp://${sandbox.sftp.host}:${sandbox.sftp.port}   host key ${sandbox.sftp.hostKeyFingerprint}`,
      ...c.sftp.users.map(
        (u) =>
          `                user ${u.username}${u.password ? ` / password ${u.password}` : ' (public key)'}`,
      ),
      `  batch API     ${sandbox.http.url}/api   bearer token ${c.http.tokens[0]}`,
      `  OneRoster     ${sandbox.http.url}/ims/oneroster/v1p1 and /ims/oneroster/rostering/v1p2`,
      ...c.oauthClients.map(
        (o) =>
          `                OAuth client ${o.clientId} / secret ${o.clientSecret} at ${sandbox.http.url}/oauth/token`,
      ),
      `  config        ${sandbox.configPath}${sandbox.configCreated ? ' (new, with random secrets)' : ''}`,
      `  addresses     written to ${flags.data}/sandbox.json`,
      'Press Ctrl-C to stop.',
    ];
    this.write(`${lines.join('\n')}\n`);
    await new Promise<void>((resolve) => {
      const stop = () => {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
        void sandbox.close().then(resolve);
      };
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
    });
  }
}
