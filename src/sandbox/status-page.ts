/**
 * The portal's status page: plain server-rendered HTML, readable without JavaScript, that reloads
 * itself. It shows what the portal holds, the latest sync's errors (ids, fields and codes; values
 * of personal fields are withheld at the source) and the sync history, each sync linked to its
 * report as JSON and CSV.
 */
import type { Roster } from '../model/roster.js';
import type { SyncRecord } from './store.js';

const esc = (s: unknown) =>
  String(s ?? '').replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  );

/** Seconds between the page's reloads. */
export const STATUS_REFRESH_SECONDS = 10;

/** "2026-12-06 15:02:11 UTC": an ISO timestamp as a person reads it. */
export function readableTime(iso: string | undefined): string {
  if (!iso) return '';
  const m = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}:\d{2})/.exec(iso);
  return m ? `${m[1]} ${m[2]} UTC` : iso;
}

/** "0.4 s", "3 min 5 s": how long a sync took. */
export function readableDuration(from: string | undefined, to: string | undefined): string {
  if (!from || !to) return '';
  const ms = Date.parse(to) - Date.parse(from);
  if (!Number.isFinite(ms) || ms < 0) return '';
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;
}

export function renderStatusPage(
  roster: Roster | undefined,
  history: readonly SyncRecord[],
  addresses: { sftp: string; http: string },
): string {
  const counts = roster
    ? roster
        .entities()
        .map(
          (e) =>
            `<tr><td>${esc(e)}</td><td class="n">${roster.table(e).size.toLocaleString('en-US')}</td></tr>`,
        )
        .join('')
    : '';
  const latest = history[0];
  const report = (s: SyncRecord) =>
    `<a href="/syncs/${esc(s.id)}/report.json">JSON</a> &middot; <a href="/syncs/${esc(s.id)}/report.csv">CSV</a>`;
  const rows = history
    .slice(0, 50)
    .map((s) => {
      const total = Object.values(s.counts).reduce((n, c) => n + c.created + c.updated + c.removed, 0);
      return `<tr><td><code>${esc(s.id)}</code></td><td>${esc(s.source)} / ${esc(s.user)}</td><td class="${esc(s.status)}">${esc(s.status)}</td><td>${esc(readableTime(s.startedAt))}</td><td>${esc(readableDuration(s.startedAt, s.finishedAt))}</td><td class="n">${total}</td><td class="n">${s.rejections.length}</td><td>${report(s)}</td><td>${esc(s.message ?? '')}</td></tr>`;
    })
    .join('');
  const errors = !latest
    ? ''
    : latest.rejections.length === 0
      ? `<h2>Errors of the latest sync</h2><p>None in sync <code>${esc(latest.id)}</code> (${esc(latest.status)}, ${esc(readableTime(latest.finishedAt ?? latest.startedAt))}).</p>`
      : `<h2>Errors of the latest sync</h2><p>Sync <code>${esc(latest.id)}</code> (${esc(latest.status)}, ${esc(readableTime(latest.finishedAt ?? latest.startedAt))}): ${latest.rejections.length} rejected${latest.rejections.length > 100 ? ', the first 100 shown' : ''}. Full report: ${report(latest)}.</p><table id="errors"><tr><th>file</th><th>line</th><th>record</th><th>field</th><th>code</th><th>message</th></tr>${latest.rejections
          .slice(0, 100)
          .map(
            (r) =>
              `<tr><td>${esc(r.file)}</td><td class="n">${esc(r.line ?? '')}</td><td>${esc(r.recordId ?? '')}</td><td>${esc(r.field ?? '')}</td><td>${esc(r.code)}</td><td>${esc(r.message)}</td></tr>`,
          )
          .join('')}</table>`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>roster sandbox</title>
<meta http-equiv="refresh" content="${STATUS_REFRESH_SECONDS}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{font-family:system-ui,sans-serif;margin:2rem;max-width:80rem;color:#222}table{border-collapse:collapse;margin:.5rem 0 1.5rem}td,th{border:1px solid #ccc;padding:.25rem .5rem;text-align:left;vertical-align:top}td.n{text-align:right}.rejected,.failed,.interrupted{color:#a00}.succeeded{color:#070}.running,.committing{color:#a60}small{color:#666}</style>
</head><body>
<h1>roster sandbox: a local vendor portal</h1>
<p>SFTP landing zone: <code>${esc(addresses.sftp)}</code> &middot; HTTP: <code>${esc(addresses.http)}</code> &middot; OneRoster REST: <code>/ims/oneroster/v1p1</code>, <code>/ims/oneroster/rostering/v1p2</code><br><small>This page reloads every ${STATUS_REFRESH_SECONDS} s. Times are UTC.</small></p>
<h2>Records held${roster ? ` (OneRoster ${esc(roster.version)})` : ''}</h2>
${roster ? `<table id="held"><tr><th>entity</th><th>records</th></tr>${counts}</table>` : '<p>No data yet: deliver a OneRoster package to the landing zone and run a sync.</p>'}
${errors}
<h2>Sync history</h2>
${history.length ? `<table id="history"><tr><th>sync</th><th>source</th><th>status</th><th>started</th><th>took</th><th>changes</th><th>rejected</th><th>report</th><th>note</th></tr>${rows}</table>` : '<p>No syncs yet.</p>'}
</body></html>
`;
}
