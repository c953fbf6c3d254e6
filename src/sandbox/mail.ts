/**
 * Sync notifications by e-mail (nodemailer, a real SMTP server). A summary per sync: counts,
 * rejected records by file, line, code and record id (never personal data), a pointer to the
 * report. A failure to send is logged and never stops the portal.
 */
import nodemailer from 'nodemailer';
import type { SyncRecord } from './store.js';

export interface Notifier {
  notify(record: SyncRecord): Promise<void>;
}

export function smtpNotifier(
  smtpUrl: string,
  to: readonly string[],
  statusUrl: () => string,
  log: (line: string) => void,
): Notifier {
  const transport = nodemailer.createTransport(smtpUrl);
  return {
    async notify(record) {
      const counts = Object.entries(record.counts)
        .map(
          ([e, c]) =>
            `  ${e}: ${c.created} created, ${c.updated} updated, ${c.unchanged} unchanged, ${c.removed} removed, ${c.rejected} rejected`,
        )
        .join('\n');
      const rejections = record.rejections
        .slice(0, 50)
        .map(
          (r) =>
            `  ${r.file}${r.line ? `:${r.line}` : ''}  ${r.code}  ${r.recordId ? `${r.recordId}: ` : ''}${r.message}`,
        )
        .join('\n');
      const text = [
        `Sync ${record.id} (${record.source}, ${record.user}): ${record.status}.`,
        record.message ?? '',
        counts ? `\nRecords:\n${counts}` : '',
        record.rejections.length
          ? `\nRejected (${record.rejections.length}${record.rejections.length > 50 ? ', first 50' : ''}):\n${rejections}`
          : '\nNo records were rejected.',
        `\nFull report: ${statusUrl()}/api/syncs/${record.id} and outbox/${record.id}-report.json in the landing zone.`,
      ]
        .filter(Boolean)
        .join('\n');
      try {
        await transport.sendMail({
          from: 'roster sandbox <sandbox@localhost>',
          to: [...to],
          subject: `[roster sandbox] sync ${record.status}: ${record.rejections.length} rejected`,
          text,
        });
      } catch (err) {
        log(`mail: could not send the summary of sync ${record.id}: ${(err as Error).message}`);
      }
    },
  };
}
