/**
 * A set of strings that may hold more entries than one V8 Set allows (2^24 on Node 20, reported
 * 2^23 on Node 24): keys are spread over shards by a cheap hash. Ten million enrollment ids fit.
 */
const SHARDS = 16;

function shardOf(key: string): number {
  // FNV-1a over at most the last 8 UTF-16 units: ids usually differ at the end.
  let h = 0x811c9dc5;
  for (let i = Math.max(0, key.length - 8); i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % SHARDS;
}

export class KeySet {
  private readonly shards: Set<string>[] = Array.from({ length: SHARDS }, () => new Set<string>());

  /** Adds `key`; returns false when it was already present. */
  add(key: string): boolean {
    const shard = this.shards[shardOf(key)]!;
    if (shard.has(key)) return false;
    shard.add(key);
    return true;
  }

  has(key: string): boolean {
    return this.shards[shardOf(key)]!.has(key);
  }

  get size(): number {
    return this.shards.reduce((n, s) => n + s.size, 0);
  }
}

/** A map from string keys with the same sharding as KeySet. */
export class KeyMap<V> {
  private readonly shards: Map<string, V>[] = Array.from({ length: SHARDS }, () => new Map<string, V>());

  set(key: string, value: V): void {
    this.shards[shardOf(key)]!.set(key, value);
  }

  get(key: string): V | undefined {
    return this.shards[shardOf(key)]!.get(key);
  }

  has(key: string): boolean {
    return this.shards[shardOf(key)]!.has(key);
  }

  get size(): number {
    return this.shards.reduce((n, s) => n + s.size, 0);
  }
}
