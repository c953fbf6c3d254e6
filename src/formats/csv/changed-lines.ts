/**
 * Which lines of a CSV file changed since an earlier copy of it: the incremental plan's first
 * step (docs/performance.md, "Incremental plan"). A city's files are hundreds of megabytes, and a
 * school's change touches a few thousand lines of them, so equal stretches are found by comparing
 * bytes natively (memcmp, gigabytes per second), never line by line in JavaScript.
 *
 * The answer is always exact: a line is "unchanged" only when its bytes are equal to a line of the
 * old copy, paired in order. How well the pairing follows the edit only decides how many lines are
 * read again (a poor pairing lists more lines as removed and added, never a wrong one as equal).
 */

import { closeSync, openSync, readSync } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';

const LF = 0x0a;
const QUOTE = 0x22;
/** Lines looked at on each side to find where two files agree again after a difference. */
const WINDOW = 64;
/** Lines looked at first, compared natively (a changed line, a few lines added or removed). */
const NEAR = 8;
const WIDE_WINDOW = 4096;

export interface ChangedLines {
  /** Lines only in the new text: [start, end) byte ranges, flat, without their line breaks. */
  readonly added: number[];
  /** Lines only in the old text, likewise. */
  readonly removed: number[];
}

/** Where diffSegment stopped: the line starts, on both sides, from which the texts go on. */
interface SegmentDiff extends ChangedLines {
  readonly afterStop: number;
  readonly beforeStop: number;
}

/**
 * The lines of `after` that are not in `before` and the other way round, each side in order.
 * Blank lines are listed too (the reader skips them). Lines end at LF; a CR before it is part of
 * the line. Undefined when more than `limit` bytes of lines differ.
 */
export function changedLines(
  before: Buffer,
  after: Buffer,
  limit = Number.POSITIVE_INFINITY,
): ChangedLines | undefined {
  const diff = diffSegment(before, true, after, true, limit);
  return diff && { added: diff.added, removed: diff.removed };
}

/** Near the end of a buffer whose file goes on, stop: what follows is read with the next segment. */
const MARGIN = 1 << 20;

/**
 * changedLines on pieces of two files: a side whose buffer does not reach its file's end (`ends`
 * false, cut after a line break) is only diffed up to MARGIN bytes before its end; the answer
 * says where to go on from.
 */
function diffSegment(
  before: Buffer,
  beforeEnds: boolean,
  after: Buffer,
  afterEnds: boolean,
  limit: number,
  margin = MARGIN,
): SegmentDiff | undefined {
  const added: number[] = [];
  const removed: number[] = [];
  const afterEnd = afterEnds ? after.length : Math.max(0, after.length - margin);
  const beforeEnd = beforeEnds ? before.length : Math.max(0, before.length - margin);
  let i = 0; // in after, at a line start
  let j = 0; // in before, at a line start
  // Bytes listed so far, checked against `limit` after each difference.
  let listed = 0;
  while (i < afterEnd && j < beforeEnd) {
    if (listed > limit) return undefined;
    // Bytes equal from here on (both at line starts): skip them, then back to the line that differs.
    const same = equalPrefix(after, i, before, j);
    if (i + same >= after.length && j + same >= before.length && afterEnds && beforeEnds)
      return { added, removed, afterStop: after.length, beforeStop: before.length };
    const lineStart = same === 0 ? i : Math.max(i, after.lastIndexOf(LF, i + same - 1) + 1);
    const back = i + same - lineStart;
    // (Where one text ends inside the equal stretch, its last line is a prefix of the other's.)
    i = lineStart;
    j = j + same - back;
    if (i >= afterEnd || j >= beforeEnd) break; // the next segment goes on from here
    const next =
      nearby(after, i, before, j) ??
      realign(after, i, before, j, WINDOW) ??
      realign(after, i, before, j, WIDE_WINDOW);
    const to = next ?? {
      // No common line near: these lines are read again on both sides (exact, only slower).
      after: skipLines(after, i, WIDE_WINDOW),
      before: skipLines(before, j, WIDE_WINDOW),
    };
    pushLines(after, i, to.after, added);
    pushLines(before, j, to.before, removed);
    listed += to.after - i + (to.before - j);
    i = to.after;
    j = to.before;
  }
  if (!afterEnds || !beforeEnds) {
    // A text at its end has no line left to pair: the other's lines (whole, in this buffer) are
    // all its own. Else what is left is diffed with the next segment.
    if (afterEnds && i >= after.length) j = pushLines(before, j, before.length, removed);
    else if (beforeEnds && j >= before.length) i = pushLines(after, i, after.length, added);
    return { added, removed, afterStop: i, beforeStop: j };
  }
  if (listed + (after.length - i) + (before.length - j) > limit) return undefined;
  pushLines(after, i, after.length, added);
  pushLines(before, j, before.length, removed);
  return { added, removed, afterStop: after.length, beforeStop: before.length };
}

/** The lines of two files that differ, as copies of their bytes (see changedLines). */
export interface FileDiff {
  readonly added: Buffer[];
  readonly removed: Buffer[];
  /** The first line (the header) differs. */
  readonly headerChanged: boolean;
}

/** Bytes read from each file at a time (into buffers reused for the whole diff). */
const SEGMENT = 16 << 20;

/**
 * changedLines over two files, read piece by piece into two reused buffers: a city's 600 MB file is
 * compared at the speed of reading it, without holding it (or the old copy) whole in memory.
 * Undefined when more than `limit` bytes of lines differ.
 */
export async function diffFiles(
  beforePath: string,
  afterPath: string,
  limit: number,
  segment = SEGMENT,
): Promise<FileDiff | undefined> {
  const margin = Math.min(MARGIN, segment >>> 2);
  const first = await open(beforePath, 'r');
  let second: FileHandle;
  try {
    second = await open(afterPath, 'r');
  } catch (err) {
    await first.close();
    throw err;
  }
  const handles = [first, second];
  try {
    const [b, a] = await Promise.all(handles.map((h) => h.stat()));
    const sides = [
      { handle: handles[0]!, size: b!.size, at: 0, buffer: Buffer.allocUnsafe(0) },
      { handle: handles[1]!, size: a!.size, at: 0, buffer: Buffer.allocUnsafe(0) },
    ];
    const added: Buffer[] = [];
    const removed: Buffer[] = [];
    let headerChanged = false;
    let budget = limit;
    for (;;) {
      // Each side's piece: from where the last segment stopped, cut after its last line break
      // (unless it reaches the file's end).
      const pieces = await Promise.all(
        sides.map(async (side) => {
          const want = Math.min(segment, side.size - side.at);
          if (side.buffer.length < want) side.buffer = Buffer.allocUnsafe(Math.max(want, segment));
          let got = 0;
          while (got < want) {
            const { bytesRead } = await side.handle.read(side.buffer, got, want - got, side.at + got);
            if (bytesRead === 0) break;
            got += bytesRead;
          }
          const ends = side.at + got >= side.size;
          const cut = ends ? got : side.buffer.lastIndexOf(LF, got - 1) + 1;
          return { bytes: side.buffer.subarray(0, cut), ends };
        }),
      );
      const [old, now] = pieces as [{ bytes: Buffer; ends: boolean }, { bytes: Buffer; ends: boolean }];
      if ((!old.ends && old.bytes.length === 0) || (!now.ends && now.bytes.length === 0)) return undefined; // a line longer than a segment: not a roster file to diff this way
      const diff = diffSegment(old.bytes, old.ends, now.bytes, now.ends, budget, margin);
      if (!diff) return undefined;
      const first = (side: { at: number }, ranges: number[]) => side.at === 0 && ranges[0] === 0;
      if (first(sides[1]!, diff.added) || first(sides[0]!, diff.removed)) headerChanged = true;
      for (let k = 0; k < diff.added.length; k += 2) {
        added.push(Buffer.from(now.bytes.subarray(diff.added[k]!, diff.added[k + 1]!)));
        budget -= diff.added[k + 1]! - diff.added[k]!;
      }
      for (let k = 0; k < diff.removed.length; k += 2) {
        removed.push(Buffer.from(old.bytes.subarray(diff.removed[k]!, diff.removed[k + 1]!)));
        budget -= diff.removed[k + 1]! - diff.removed[k]!;
      }
      if (budget < 0) return undefined;
      sides[0]!.at += diff.beforeStop;
      sides[1]!.at += diff.afterStop;
      if (old.ends && now.ends) return { added, removed, headerChanged };
      if (diff.beforeStop === 0 && diff.afterStop === 0 && !old.ends && !now.ends) {
        // (Cannot happen: a segment always gets past its margin.)
        return undefined;
      }
    }
  } finally {
    await Promise.all(handles.map((h) => h.close()));
  }
}

/** How many bytes from a[i] and b[j] on are equal (native compares, growing then halving). */
function equalPrefix(a: Buffer, i: number, b: Buffer, j: number): number {
  const limit = Math.min(a.length - i, b.length - j);
  let done = 0;
  let step = 256;
  while (done < limit) {
    const n = Math.min(step, limit - done);
    if (a.compare(b, j + done, j + done + n, i + done, i + done + n) === 0) {
      done += n;
      if (step < 1 << 22) step *= 2;
      continue;
    }
    // The first difference is within these n bytes: halve until found.
    let size = n;
    while (size > 1) {
      const half = size >>> 1;
      if (a.compare(b, j + done, j + done + half, i + done, i + done + half) === 0) {
        done += half;
        size -= half;
      } else size = half;
    }
    return done;
  }
  return limit;
}

/** The end of the line starting at `start` (its LF, or the text's end). */
function lineEnd(text: Buffer, start: number): number {
  const lf = text.indexOf(LF, start);
  return lf < 0 ? text.length : lf;
}

/** The start of the line `count` lines after `start` (or the text's end). */
function skipLines(text: Buffer, start: number, count: number): number {
  let at = start;
  for (let k = 0; k < count && at < text.length; k++) at = lineEnd(text, at) + 1;
  return Math.min(at, text.length);
}

/** Pushes the lines in [start, end) of `text` as ranges onto `out`; returns `end`. */
function pushLines(text: Buffer, start: number, end: number, out: number[]): number {
  let at = start;
  while (at < end) {
    const e = lineEnd(text, at);
    out.push(at, e);
    at = e + 1;
  }
  return end;
}

/** Line starts of up to NEAR + 1 lines from `start` (fewer at the text's end). */
function lineStarts(text: Buffer, start: number, out: number[]): number[] {
  out.length = 0;
  let at = start;
  for (let k = 0; k <= NEAR && at < text.length; k++) {
    out.push(at);
    at = lineEnd(text, at) + 1;
  }
  return out;
}
const nearAfter: number[] = [];
const nearBefore: number[] = [];

/**
 * The common cases without making strings: a line changed, or a few lines added or removed. The
 * nearest pair of equal lines at most NEAR lines on, compared natively.
 */
function nearby(
  after: Buffer,
  i: number,
  before: Buffer,
  j: number,
): { after: number; before: number } | undefined {
  const a = lineStarts(after, i, nearAfter);
  const b = lineStarts(before, j, nearBefore);
  for (let cost = 1; cost <= NEAR; cost++) {
    for (let k = 0; k <= cost; k++) {
      const m = cost - k;
      if (k >= a.length || m >= b.length) continue;
      const ea = lineEnd(after, a[k]!);
      const eb = lineEnd(before, b[m]!);
      if (ea - a[k]! === eb - b[m]! && after.compare(before, b[m]!, eb, a[k]!, ea) === 0)
        return { after: a[k]!, before: b[m]! };
    }
  }
  return undefined;
}

/**
 * The nearest pair of equal lines within `window` lines of after[i] and before[j] (the fewest
 * lines passed over on both sides), as the line starts where the texts agree again.
 */
function realign(
  after: Buffer,
  i: number,
  before: Buffer,
  j: number,
  window: number,
): { after: number; before: number } | undefined {
  const seen = new Map<string, number>();
  const oldStarts: number[] = [];
  let at = j;
  for (let k = 0; k < window && at < before.length; k++) {
    const e = lineEnd(before, at);
    const line = before.toString('latin1', at, e);
    if (!seen.has(line)) seen.set(line, k);
    oldStarts.push(at);
    at = e + 1;
  }
  let best: { after: number; before: number } | undefined;
  let bestCost = Number.POSITIVE_INFINITY;
  at = i;
  for (let k = 0; k < window && k < bestCost && at < after.length; k++) {
    const e = lineEnd(after, at);
    const b = seen.get(after.toString('latin1', at, e));
    if (b !== undefined && (k > 0 || b > 0) && k + b < bestCost) {
      bestCost = k + b;
      best = { after: at, before: oldStarts[b]! };
    }
    at = e + 1;
  }
  return best;
}

/**
 * True when no quoted value in bytes [start, end) runs over a line break (every line stands on
 * its own): then a line is a record, and equal lines are equal records. Cheap: it visits quotes only.
 */
export function quotesStayOnTheirLine(text: Buffer, start = 0, end = text.length): boolean {
  // (A view of the range: searches stop at its end, not at the end of a large file.)
  const view = start === 0 && end === text.length ? text : text.subarray(start, end);
  let at = 0;
  for (;;) {
    const open = view.indexOf(QUOTE, at);
    if (open < 0) return true;
    const close = view.indexOf(QUOTE, open + 1);
    if (close < 0) return false;
    const lf = view.indexOf(LF, open);
    if (lf >= 0 && lf < close) return false;
    at = close + 1;
  }
}

/** quotesStayOnTheirLine over a whole file, read a piece at a time (a city's files do not fit a string). */
export function fileQuotesStayOnTheirLines(path: string, segment = SEGMENT): boolean {
  const fd = openSync(path, 'r');
  try {
    const buffer = Buffer.allocUnsafe(segment);
    let at = 0;
    let held = 0; // bytes of an unfinished line carried over at the buffer's start
    for (;;) {
      const n = readSync(fd, buffer, held, buffer.length - held, at);
      const end = held + n;
      if (n === 0) return quotesStayOnTheirLine(buffer, 0, end);
      const cut = buffer.lastIndexOf(LF, end - 1) + 1;
      if (cut === 0) return false; // a line longer than a piece: not a roster file
      if (!quotesStayOnTheirLine(buffer, 0, cut)) return false;
      buffer.copy(buffer, 0, cut, end);
      held = end - cut;
      at += n;
    }
  } finally {
    closeSync(fd);
  }
}
