import { describe, expect, it } from 'vitest';
import { alignedBuffer } from './aligned-buffer.js';

describe('alignedBuffer', () => {
  it('gives a usable buffer of the requested size that starts a fresh 64 KiB-multiple memory', () => {
    const b = alignedBuffer(3 * 1024 * 1024 + 5);
    expect(b.length).toBe(3 * 1024 * 1024 + 5);
    expect(b.byteOffset).toBe(0);
    expect(b.buffer.byteLength % 65536).toBe(0);
    b.fill(7);
    expect(b[b.length - 1]).toBe(7);
    expect(alignedBuffer(0).length).toBe(0);
  });
});
