import { fsCorrupt } from '../fs-error.js';

/**
 * Decompresses an LZNT1 stream (MS-XCA §2.5) into exactly `outSize` bytes. Each chunk is a
 * 16-bit header (bit 15 compressed, low 12 bits + 1 = data length) followed by flag groups of
 * literals and back-references whose offset/length split depends on the position within the
 * 4 KiB output chunk. A chunk that decodes short is zero-padded to its 4 KiB boundary, as
 * Windows does. Malformed input throws FS_CORRUPT; output never exceeds `outSize`.
 */
export function lznt1Decompress(src: Buffer, outSize: number): Buffer {
  const out = Buffer.alloc(outSize);
  let sp = 0;
  let op = 0;
  while (sp + 2 <= src.length && op < outSize) {
    const hdr = src.readUInt16LE(sp);
    sp += 2;
    if (hdr === 0) break;
    const chunkLen = (hdr & 0x0fff) + 1;
    if (sp + chunkLen > src.length) throw fsCorrupt('lznt1 chunk runs past the compressed data');
    const chunkEnd = sp + chunkLen;
    const chunkStart = op;
    const chunkLimit = Math.min(outSize, chunkStart + 4096);
    if ((hdr & 0x8000) === 0) {
      const n = Math.min(chunkLen, chunkLimit - op);
      src.copy(out, op, sp, sp + n);
      op += n;
      sp = chunkEnd;
      continue;
    }
    while (sp < chunkEnd && op < chunkLimit) {
      let flags = src[sp++];
      for (let bit = 0; bit < 8 && sp < chunkEnd && op < chunkLimit; bit++, flags >>= 1) {
        if ((flags & 1) === 0) {
          out[op++] = src[sp++];
          continue;
        }
        if (sp + 2 > chunkEnd) throw fsCorrupt('lznt1 back-reference truncated');
        const tok = src.readUInt16LE(sp);
        sp += 2;
        const pos = op - chunkStart;
        let lg = 0;
        for (let p = pos - 1; p >= 0x10; p >>= 1) lg++;
        const length = (tok & (0x0fff >> lg)) + 3;
        const offset = (tok >> (12 - lg)) + 1;
        if (offset > pos) throw fsCorrupt('lznt1 back-reference before the chunk start');
        const n = Math.min(length, chunkLimit - op);
        for (let k = 0; k < n; k++, op++) out[op] = out[op - offset];
      }
    }
    op = chunkLimit; // short chunks are zero-padded to 4 KiB
    sp = chunkEnd;
  }
  return out;
}
