/**
 * Progress of long work, as events. The core emits them; only a command decides whether and how
 * to show them (a line on stderr when it is a terminal, nothing otherwise or with --quiet).
 */
export interface ProgressEvent {
  readonly stage: 'read' | 'plan' | 'deliver';
  /** What is being worked on, e.g. a file name. */
  readonly detail: string;
  /** Rows read so far, when reading. */
  readonly rows?: number;
}

export type ProgressListener = (event: ProgressEvent) => void;

/** How often (in rows) readers report. */
export const PROGRESS_EVERY_ROWS = 50_000;
