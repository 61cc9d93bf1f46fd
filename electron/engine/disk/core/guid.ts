import { randomBytes } from 'node:crypto';

/** Formats 16 bytes stored in Microsoft mixed-endian form as an upper-case GUID string. */
export function guidToString(b: Uint8Array, off = 0): string {
  const h = (i: number) => b[off + i].toString(16).padStart(2, '0');
  return (h(3) + h(2) + h(1) + h(0) + '-' + h(5) + h(4) + '-' + h(7) + h(6) + '-' + h(8) + h(9) + '-' + h(10) + h(11) + h(12) + h(13) + h(14) + h(15)).toUpperCase();
}

/** Encodes a GUID string (with or without braces) in Microsoft mixed-endian form. */
export function guidToBytes(s: string): Buffer {
  const hex = s.replace(/[{}-]/g, '');
  if (!/^[0-9a-fA-F]{32}$/.test(hex)) throw new Error(`invalid guid '${s}'`);
  const raw = Buffer.from(hex, 'hex');
  const out = Buffer.alloc(16);
  out[0] = raw[3];
  out[1] = raw[2];
  out[2] = raw[1];
  out[3] = raw[0];
  out[4] = raw[5];
  out[5] = raw[4];
  out[6] = raw[7];
  out[7] = raw[6];
  raw.copy(out, 8, 8, 16);
  return out;
}

/** A random (version 4) GUID in mixed-endian byte form. */
export function randomGuidBytes(): Buffer {
  const b = randomBytes(16);
  b[7] = (b[7] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  return b;
}

/** True when all 16 bytes are zero. */
export function isNullGuid(b: Uint8Array, off = 0): boolean {
  for (let i = 0; i < 16; i++) if (b[off + i] !== 0) return false;
  return true;
}
