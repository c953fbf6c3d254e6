import { describe, expect, it } from 'vitest';
import { gallop, halve, OrderedSearch } from '../../../src/model/gallop.js';

describe('gallop', () => {
  it('finds the first item not below the one looked for, from any start that precedes it', () => {
    let seed = 11;
    const random = (n: number) => {
      seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
      return seed % n;
    };
    for (let round = 0; round < 300; round++) {
      // Ascending items with runs of equal ones, of any length (none too).
      const items: number[] = [];
      for (let n = random(60), v = 0; items.length < n; v += random(3)) items.push(v);
      const wanted = random(items.length * 3 + 2) - 1;
      const answer = items.findIndex((v) => v >= wanted);
      const expected = answer < 0 ? items.length : answer;
      const from = random(expected + 1); // every item before it is below
      let probes = 0;
      const found = gallop(from, items.length, (i) => {
        probes++;
        return items[i]! < wanted;
      });
      expect(found).toBe(expected);
      // Growing then halving: about twice the logarithm of the distance, never a walk.
      expect(probes).toBeLessThanOrEqual(2 * Math.ceil(Math.log2(expected - from + 2)) + 2);
      // Halving the whole sequence finds it too, in about the logarithm of its length.
      probes = 0;
      expect(
        halve(0, items.length, (i) => {
          probes++;
          return items[i]! < wanted;
        }),
      ).toBe(expected);
      expect(probes).toBeLessThanOrEqual(Math.ceil(Math.log2(items.length + 1)));
    }
  });

  it('finds keys asked one after another, in order or not, among items with gaps', () => {
    const items = Array.from({ length: 500 }, (_, i) => i * 3); // 0, 3, 6, ...
    const search = new OrderedSearch();
    let probes = 0;
    const find = (key: number) =>
      search.find(items.length, (i) => {
        probes++;
        return items[i]! - key;
      });
    for (let key = 0; key < 1500; key += 2) expect(find(key)).toBe(key % 3 === 0 ? key / 3 : -1);
    // In ascending order: a few steps each, not a halving of all 500.
    expect(probes / 750).toBeLessThan(4);
    for (const key of [900, 3, 1497, 1498, 0, -1, 1500]) expect(find(key)).toBe(items.indexOf(key));
  });
});
