/**
 * GitHub Actions workflow commands (`::error file=F,line=L::message`), written to stdout by a step:
 * annotations on files and lines, and groups that fold the log. One escaping, used everywhere.
 */

export type AnnotationKind = 'error' | 'warning' | 'notice';

export interface AnnotationPlace {
  readonly file?: string;
  readonly line?: number;
  readonly col?: number;
  readonly title?: string;
}

function escapeData(v: string): string {
  return v.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}

function escapeProperty(v: string): string {
  return escapeData(v).replace(/:/g, '%3A').replace(/,/g, '%2C');
}

/** One annotation command (a line without its newline). */
export function annotation(kind: AnnotationKind, message: string, place: AnnotationPlace = {}): string {
  const props: string[] = [];
  if (place.file) props.push(`file=${escapeProperty(place.file)}`);
  if (place.line !== undefined) props.push(`line=${place.line}`);
  if (place.line !== undefined && place.col !== undefined) props.push(`col=${place.col}`);
  if (place.title) props.push(`title=${escapeProperty(place.title)}`);
  return `::${kind}${props.length > 0 ? ` ${props.join(',')}` : ''}::${escapeData(message)}`;
}

/** Opens a folded group in the job log (closed by `::endgroup::`). */
export function groupStart(title: string): string {
  return `::group::${escapeData(title)}`;
}

export const GROUP_END = '::endgroup::';
