import { describe, expect, it } from 'vitest';
import { AppError } from '../../../../shared/errors/app-error.js';
import { lznt1Decompress } from './lznt1.js';

const chunk = (hdrFlags: number, data: number[]) => {
  const b = Buffer.alloc(2 + data.length);
  b.writeUInt16LE(hdrFlags | (data.length - 1), 0);
  Buffer.from(data).copy(b, 2);
  return b;
};
const ab = (s: string) => [...Buffer.from(s, 'latin1')];

describe('lznt1Decompress (MS-XCA 2.5)', () => {
  it('expands literals and an overlapping back-reference', () => {
    // flags 0b1000: three literals then a tuple (offset 3, length 9) at position 3 (4/12 split)
    const src = Buffer.concat([chunk(0xb000, [0x08, ...ab('abc'), 0x06, 0x20]), Buffer.alloc(2)]);
    expect(lznt1Decompress(src, 12).toString('latin1')).toBe('abcabcabcabc');
  });

  it('pads a short chunk to 4 KiB and continues with the next (uncompressed) chunk', () => {
    const raw = Buffer.alloc(4096, 0x41);
    const src = Buffer.concat([chunk(0xb000, [0x00, ...ab('xyz')]), chunk(0x3000, [...raw])]);
    const out = lznt1Decompress(src, 8192);
    expect(out.subarray(0, 3).toString('latin1')).toBe('xyz');
    expect(out.subarray(3, 4096).every((x) => x === 0)).toBe(true);
    expect(out.subarray(4096).equals(raw)).toBe(true);
  });

  it('uses the position-dependent offset/length split', () => {
    // 17 literals then a tuple at position 17: 5 offset bits / 11 length bits
    const lit = ab('0123456789abcdefg');
    const tok = ((17 - 1) << 11) | (4 - 3); // offset 17, length 4
    const flags = [0x00, 0x00, 0x02];
    const data = [flags[0], ...lit.slice(0, 8), flags[1], ...lit.slice(8, 16), flags[2], lit[16], tok & 0xff, tok >> 8];
    expect(lznt1Decompress(chunk(0xb000, data), 21).toString('latin1')).toBe('0123456789abcdefg0123');
  });

  it('rejects references before the chunk start and truncated chunks', () => {
    expect(() => lznt1Decompress(chunk(0xb000, [0x01, 0x00, 0x20]), 64)).toThrow(AppError);
    expect(() => lznt1Decompress(Buffer.from([0x10, 0xb0, 0x00]), 64)).toThrow(/runs past/);
  });
});
