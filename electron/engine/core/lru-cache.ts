/**
 * The engine's one least-recently-used map. Each entry has a cost (1 unless `set` says
 * otherwise) and the oldest entries are evicted once the total exceeds the budget, so the same
 * class bounds a cache by entry count (disk readers' tables, a snapshot disk's chunks) or by bytes
 * (the filesystem caches: pass each entry's size). An entry costing more than the whole budget is
 * not stored. `load` caches promises: concurrent lookups of one key share one load, and a failed
 * load is dropped so the next lookup tries again.
 */
export class LruCache<K, V> {
  private readonly map = new Map<K, { value: V; cost: number }>();
  private total = 0;

  /** `budget`: the total cost allowed (entries, or bytes when costs are sizes). */
  constructor(readonly budget: number) {}

  /** Current total cost of the stored entries. */
  get bytes(): number {
    return this.total;
  }

  /** Number of entries. */
  get count(): number {
    return this.map.size;
  }

  /** The value for `key`, refreshed as most recently used. */
  get(key: K): V | undefined {
    const e = this.map.get(key);
    if (!e) return undefined;
    this.map.delete(key);
    this.map.set(key, e);
    return e.value;
  }

  /** The value for `key` without refreshing it. */
  peek(key: K): V | undefined {
    return this.map.get(key)?.value;
  }

  /** Stores `value` with its cost, evicting the least recently used entries as needed. */
  set(key: K, value: V, cost = 1): void {
    this.delete(key);
    if (cost > this.budget) return;
    this.map.set(key, { value, cost });
    this.total += cost;
    while (this.total > this.budget) {
      const first = this.map.keys().next();
      if (first.done) break;
      this.delete(first.value);
    }
  }

  /** Removes `key` (if present). */
  delete(key: K): void {
    const e = this.map.get(key);
    if (!e) return;
    this.total -= e.cost;
    this.map.delete(key);
  }

  /** Drops everything. */
  clear(): void {
    this.map.clear();
    this.total = 0;
  }

  /** The cached promise for `key`, or `loader()`'s (cached with cost 1 until it fails). */
  load<T>(this: LruCache<K, Promise<T>>, key: K, loader: () => Promise<T>): Promise<T> {
    const hit = this.get(key);
    if (hit) return hit;
    const p = loader();
    this.set(key, p);
    p.catch(() => {
      if (this.peek(key) === p) this.delete(key);
    });
    return p;
  }
}
