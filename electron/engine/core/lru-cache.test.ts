import { describe, expect, it } from 'vitest';
import { LruCache } from './lru-cache.js';

describe('LruCache', () => {
  it('evicts the least recently used entries once the count budget is exceeded', () => {
    const c = new LruCache<number, string>(2);
    c.set(1, 'a');
    c.set(2, 'b');
    expect(c.get(1)).toBe('a'); // 1 is now the most recent
    c.set(3, 'c');
    expect([c.peek(1), c.peek(2), c.peek(3)]).toEqual(['a', undefined, 'c']);
    expect(c.count).toBe(2);
  });

  it('bounds by cost, skips an entry larger than the budget and keeps the total right on replace', () => {
    const c = new LruCache<string, Buffer>(100);
    c.set('x', Buffer.alloc(60), 60);
    c.set('y', Buffer.alloc(30), 30);
    c.set('x', Buffer.alloc(50), 50); // replaces x: 30 + 50
    expect(c.bytes).toBe(80);
    c.set('z', Buffer.alloc(40), 40); // y is the oldest now
    expect([c.peek('y'), c.count, c.bytes]).toEqual([undefined, 2, 90]);
    c.set('huge', Buffer.alloc(101), 101);
    expect([c.peek('huge'), c.bytes]).toEqual([undefined, 90]);
    c.clear();
    expect([c.count, c.bytes]).toEqual([0, 0]);
  });

  it('peek does not refresh an entry', () => {
    const c = new LruCache<number, number>(2);
    c.set(1, 1);
    c.set(2, 2);
    c.peek(1);
    c.set(3, 3);
    expect(c.peek(1)).toBeUndefined();
  });

  it('load shares one load per key and forgets a failed one', async () => {
    const c = new LruCache<number, Promise<string>>(4);
    let calls = 0;
    const ok = () => Promise.resolve(`v${++calls}`);
    const [a, b] = await Promise.all([c.load(1, ok), c.load(1, ok)]);
    expect([a, b, calls]).toEqual(['v1', 'v1', 1]);
    await expect(c.load(2, () => Promise.reject(new Error('read failed')))).rejects.toThrow('read failed');
    expect(c.peek(2)).toBeUndefined();
    expect(await c.load(2, ok)).toBe('v2');
  });
});
