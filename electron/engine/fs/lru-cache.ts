/**
 * A least-recently-used map bounded by a byte budget: each entry declares its cost, and the
 * oldest entries are evicted once the total exceeds the budget. Entries larger than the whole
 * budget are not stored.
 */
export class LruCache<K, V> {
  private readonly map = new Map<K, { value: V; cost: number }>();
  private total = 0;

  constructor(readonly budgetBytes: number) {}

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

  /** Stores `value` with its cost (bytes), evicting older entries as needed. */
  set(key: K, value: V, cost: number): void {
    const old = this.map.get(key);
    if (old) {
      this.total -= old.cost;
      this.map.delete(key);
    }
    if (cost > this.budgetBytes) return;
    this.map.set(key, { value, cost });
    this.total += cost;
    while (this.total > this.budgetBytes) {
      const first = this.map.keys().next();
      if (first.done) break;
      const e = this.map.get(first.value)!;
      this.total -= e.cost;
      this.map.delete(first.value);
    }
  }

  /** Drops everything. */
  clear(): void {
    this.map.clear();
    this.total = 0;
  }
}
