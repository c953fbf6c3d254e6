/**
 * Galloping search: the first position of an ascending sequence that is not below what is looked
 * for, found by growing steps from where the search starts, then halving. A search that starts
 * near its answer (keys looked for in ascending order, each a little past the one before) takes
 * a few steps, and reads nearby memory, where halving the whole sequence would miss the caches at
 * every step of a large file.
 */

/**
 * The first position in [from, n) whose item is not below the one looked for, or n. `below(i)`:
 * item i is below it (false for every position from the answer on). Every item before `from`
 * must be below it.
 */
export function gallop(from: number, n: number, below: (i: number) => boolean): number {
  let low = from;
  let high = from;
  for (let step = 1; high < n && below(high); step *= 2) {
    low = high + 1;
    high = Math.min(n, low + step);
  }
  return halve(low, high, below);
}

/**
 * The first position in [low, high) whose item is not below the one looked for, or high, by
 * halving: for a search that may land anywhere (galloping there from the start would take twice
 * the steps). Every item before `low` must be below it, and the item at `high` (if any) not.
 */
export function halve(low: number, high: number, below: (i: number) => boolean): number {
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (below(middle)) low = middle + 1;
    else high = middle;
  }
  return low;
}

/**
 * Keys looked for one after another in an ascending sequence: each from where the one before was
 * found, by galloping; a key below that one anywhere, by halving. Keys asked in ascending order
 * take a few steps each; any order works.
 */
export class OrderedSearch {
  /** Every item before it is below the last key looked for. */
  private from = 0;

  /** The position of the item equal to the key, or -1. `compare(i)`: item i's order to the key. */
  find(n: number, compare: (i: number) => number): number {
    const below = (i: number) => compare(i) < 0;
    const onward = this.from > 0 && this.from <= n && below(this.from - 1);
    const at = onward ? gallop(this.from, n, below) : halve(0, n, below);
    this.from = at;
    if (at < n && compare(at) === 0) {
      this.from = at + 1;
      return at;
    }
    return -1;
  }
}
