/**
 * A 32-bit hash of a byte range (FNV-1a with a murmur3 finalizer), for the typed-array indexes and
 * as a cheap first test of record equality. Not a fingerprint: equal hashes are always confirmed
 * by comparing the bytes.
 */
export function hashBytes(bytes: Uint8Array, start: number, end: number, seed = 0x811c9dc5): number {
  let h = seed;
  for (let i = start; i < end; i++) h = Math.imul(h ^ bytes[i]!, 0x01000193);
  return mix32(h);
}

/** The murmur3 finalizer: spreads every input bit over the output. */
export function mix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** A 32-bit hash of a string's UTF-8 bytes. */
export function hashString(text: string, seed?: number): number {
  const bytes = Buffer.from(text, 'utf8');
  return hashBytes(bytes, 0, bytes.length, seed);
}

/** True when two byte ranges hold the same bytes. */
export function sameBytes(
  a: Uint8Array,
  aStart: number,
  aEnd: number,
  b: Uint8Array,
  bStart: number,
  bEnd: number,
): boolean {
  const n = aEnd - aStart;
  if (n !== bEnd - bStart) return false;
  // Ids and most records compare faster in JS than through a native call (and two subarrays).
  if (n <= 256) {
    for (let k = 0; k < n; k++) if (a[aStart + k] !== b[bStart + k]) return false;
    return true;
  }
  return Buffer.compare(a.subarray(aStart, aEnd), b.subarray(bStart, bEnd)) === 0;
}

/** Byte order of two ranges (as Buffer.compare): negative, zero or positive. */
export function compareBytes(
  a: Uint8Array,
  aStart: number,
  aEnd: number,
  b: Uint8Array,
  bStart: number,
  bEnd: number,
): number {
  const n = Math.min(aEnd - aStart, bEnd - bStart);
  for (let k = 0; k < n; k++) {
    const d = a[aStart + k]! - b[bStart + k]!;
    if (d !== 0) return d;
  }
  return aEnd - aStart - (bEnd - bStart);
}
