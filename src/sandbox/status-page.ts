/** The portal's status page: plain server-rendered HTML, readable without JavaScript. */
import type { Roster } from '../model/roster.js';
import type { SyncRecord } from './store.js';

const esc = (s: unknown) =>
  String(s ?? '').replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  );

export function renderStatusPage(
  roster: Roster | undefined,
  history: readonly SyncRecord[],
  addresses: { sftp: string; http: string },
): string {
  const counts = roster
    ? roster
        .entities()
        .map((e) => `<tr><td>${esc(e)}</td><td>${roster.table(e).size}</td></tr>`)
        .join('')
    : '';
  const latest = history.find((s) => s.rejections.length > 0);
  const rows = history
    .slice(0, 50)
    .map((s) => {
      const total = Object.values(s.counts).reduce((n, c) => n + c.created + c.updated + c.removed, 0);
      return `<tr><td><code>${esc(s.id)}</code></td><td>${esc(s.source)} / ${esc(s.user)}</td><td class="${esc(s.status)}">${esc(s.status)}</td><td>${esc(s.startedAt)}</td><td>${total}</td><td>${s.rejections.length}</td><td>${esc(s.message ?? '')}</td></tr>`;
    })
    .join('');
  const errors = latest
    ? `<h2>Latest errors (sync <code>${esc(latest.id)}</code>)</h2><table><tr><th>file</th><th>line</th><th>record</th><th>code</th><th>message</th></tr>${latest.rejections
        .slice(0, 100)
        .map(
          (r) =>
            `<tr><td>${esc(r.file)}</td><td>${esc(r.line ?? '')}</td><td>${esc(r.recordId ?? '')}</td><td>${esc(r.code)}</td><td>${esc(r.message)}</td></tr>`,
        )
        .join('')}</table>`
    : '<h2>Latest errors</h2><p>None.</p>';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>roster sandbox</title>
<style>body{font-family:system-ui,sans-serif;margin:2rem;max-width:70rem}table{border-collapse:collapse;margin:.5rem 0 1.5rem}td,th{border:1px solid #ccc;padding:.25rem .5rem;text-align:left}.rejected,.failed,.interrupted{color:#a00}.succeeded{color:#070}</style>
</head><body>
<h1>roster sandbox: a local vendor portal</h1>
<p>SFTP landing zone: <code>${esc(addresses.sftp)}</code> &middot; HTTP: <code>${esc(addresses.http)}</code> &middot; OneRoster REST: <code>/ims/oneroster/v1p1</code>, <code>/ims/oneroster/rostering/v1p2</code></p>
<h2>Records held${roster ? ` (OneRoster ${esc(roster.version)})` : ''}</h2>
${roster ? `<table><tr><th>entity</th><th>records</th></tr>${counts}</table>` : '<p>No data yet: deliver a OneRoster package to the landing zone and run a sync.</p>'}
${errors}
<h2>Sync history</h2>
${history.length ? `<table><tr><th>sync</th><th>source</th><th>status</th><th>started</th><th>changes</th><th>rejected</th><th>note</th></tr>${rows}</table>` : '<p>No syncs yet.</p>'}
</body></html>
`;
}
