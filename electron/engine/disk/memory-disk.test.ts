import { describe, expect, it } from 'vitest';
import { MemoryDisk } from './memory-disk.js';

describe('MemoryDisk', () => {
  it('reads what was written and reports data, zero and unallocated blocks', async () => {
    const d = new MemoryDisk(256 * 1024);
    d.write(70_000, Buffer.from('hello'));
    d.writeZeros(131_072, 65_536);
    expect((await d.read(70_000, 5)).toString()).toBe('hello');
    expect(await d.read(0, 10)).toEqual(Buffer.alloc(10));
    expect(await d.extents()).toEqual([
      { offset: 0, length: 65_536, kind: 'unallocated' },
      { offset: 65_536, length: 65_536, kind: 'data' },
      { offset: 131_072, length: 65_536, kind: 'zero' },
      { offset: 196_608, length: 65_536, kind: 'unallocated' },
    ]);
    expect((await d.read(256 * 1024 - 2, 10)).length).toBe(2);
    await d.close();
    await expect(d.read(0, 1)).rejects.toThrow(/closed/);
  });
});
