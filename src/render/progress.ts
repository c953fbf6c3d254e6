/** The one-line rendering of a progress event (for a terminal's stderr). */
import type { ProgressEvent } from '../progress.js';

const VERB = { read: 'reading', plan: 'planning', deliver: 'delivering' } as const;

export function progressLine(event: ProgressEvent): string {
  const rows = event.rows === undefined ? '' : `: ${event.rows.toLocaleString('en-US')} rows`;
  return `${VERB[event.stage]} ${event.detail}${rows}`;
}
