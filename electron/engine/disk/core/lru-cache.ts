/**
 * A small LRU of promises keyed by number: concurrent lookups of the same key share one load,
 * and failed loads are not cached. Bounded by entry count.
 */
export class LruCache<V> {
  private readonly map = new Map<number, Promise<V>>();

  constructor(private readonly maxEntries: number) {}

  /** The cached value for `key`, or the result of `load()` (cached). */
  get(key: number, load: () => Promise<V>): Promise<V> {
    const hit = this.map.get(key);
    if (hit) {
      this.map.delete(key);
      this.map.set(key, hit);
      return hit;
    }
    const p = load();
    this.map.set(key, p);
    p.catch(() => this.map.delete(key));
    if (this.map.size > this.maxEntries) this.map.delete(this.map.keys().next().value as number);
    return p;
  }
}
