import { describe, expect, it } from 'vitest';
import { crc32c, crc32cWithZeroedField } from './crc32c.js';

describe('crc32c', () => {
  it('matches the Castagnoli check value and RFC 3720 vectors', () => {
    expect(crc32c(Buffer.from('123456789'))).toBe(0xe3069283);
    expect(crc32c(Buffer.alloc(32))).toBe(0x8a9136aa);
    expect(crc32c(Buffer.alloc(32, 0xff))).toBe(0x62a8ab43);
  });

  it('computes over a zeroed checksum field without changing the input', () => {
    const b = Buffer.from('abcdefgh');
    expect(crc32cWithZeroedField(b, 2)).toBe(crc32c(Buffer.from('ab\0\0\0\0gh')));
    expect(b.toString()).toBe('abcdefgh');
  });
});
