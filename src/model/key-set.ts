/**
 * Sets and maps of strings that may hold more entries than one V8 Set or Map allows (2^24 on
 * Node 20, reported 2^23 on Node 24). They start as one native Set/Map (no hashing of our own on
 * the hot path) and open another when one reaches SHARD_LIMIT; a lookup asks each in turn. Ten
 * million enrollment ids take two shards.
 */
export const SHARD_LIMIT = 4_000_000;

export class KeySet {
  private readonly shards: Set<string>[] = [new Set<string>()];

  constructor(private readonly limit = SHARD_LIMIT) {}

  /** Adds `key`; returns false when it was already present. */
  add(key: string): boolean {
    if (this.has(key)) return false;
    let last = this.shards[this.shards.length - 1]!;
    if (last.size >= this.limit) {
      last = new Set<string>();
      this.shards.push(last);
    }
    last.add(key);
    return true;
  }

  has(key: string): boolean {
    for (const s of this.shards) if (s.has(key)) return true;
    return false;
  }

  get size(): number {
    return this.shards.reduce((n, s) => n + s.size, 0);
  }

  /** How many native Sets hold the keys (for tests). */
  get shardCount(): number {
    return this.shards.length;
  }
}

/** A map from string keys, sharded like KeySet. Setting an existing key replaces its value. */
export class KeyMap<V> {
  private readonly shards: Map<string, V>[] = [new Map<string, V>()];

  constructor(private readonly limit = SHARD_LIMIT) {}

  set(key: string, value: V): void {
    for (const m of this.shards) {
      if (m.has(key)) {
        m.set(key, value);
        return;
      }
    }
    let last = this.shards[this.shards.length - 1]!;
    if (last.size >= this.limit) {
      last = new Map<string, V>();
      this.shards.push(last);
    }
    last.set(key, value);
  }

  get(key: string): V | undefined {
    for (const m of this.shards) {
      const v = m.get(key);
      if (v !== undefined || m.has(key)) return v;
    }
    return undefined;
  }

  has(key: string): boolean {
    for (const m of this.shards) if (m.has(key)) return true;
    return false;
  }

  get size(): number {
    return this.shards.reduce((n, m) => n + m.size, 0);
  }

  get shardCount(): number {
    return this.shards.length;
  }
}
