import { randomBytes } from 'node:crypto';
import { basename } from 'node:path';
import { renderDescriptor } from '../vmdk/vmdk-descriptor.js';

/** Grain size used by our writers (sectors) and GTEs per GT. */
export const GRAIN_SECTORS = 128;
export const GRAIN_BYTES = GRAIN_SECTORS * 512;
export const GTES_PER_GT = 512;
/** Sectors reserved for the embedded descriptor. */
export const DESCRIPTOR_SECTORS = 20;

/** Fields of a sparse header we write. */
export interface SparseHeaderFields {
  version: number;
  flags: number;
  capacity: number;
  rgdOffset: bigint;
  gdOffset: bigint;
  overHead: number;
  compress: boolean;
}

/** Encodes a 512-byte KDMV header. */
export function encodeSparseHeader(f: SparseHeaderFields): Buffer {
  const b = Buffer.alloc(512);
  b.write('KDMV', 0, 'latin1');
  b.writeUInt32LE(f.version, 4);
  b.writeUInt32LE(f.flags, 8);
  b.writeBigUInt64LE(BigInt(f.capacity), 12);
  b.writeBigUInt64LE(BigInt(GRAIN_SECTORS), 20);
  b.writeBigUInt64LE(1n, 28);
  b.writeBigUInt64LE(BigInt(DESCRIPTOR_SECTORS), 36);
  b.writeUInt32LE(GTES_PER_GT, 44);
  b.writeBigUInt64LE(f.rgdOffset, 48);
  b.writeBigUInt64LE(f.gdOffset, 56);
  b.writeBigUInt64LE(BigInt(f.overHead), 64);
  b[72] = 0;
  b[73] = 0x0a;
  b[74] = 0x20;
  b[75] = 0x0d;
  b[76] = 0x0a;
  b.writeUInt16LE(f.compress ? 1 : 0, 77);
  return b;
}

/** The embedded descriptor (padded to DESCRIPTOR_SECTORS sectors) for a single-file VMDK. */
export function embeddedDescriptor(dst: string, capacity: number, createType: string): Buffer {
  const text = renderDescriptor({
    cid: randomBytes(4).toString('hex'),
    createType,
    sectors: capacity,
    extents: [{ sectors: capacity, type: 'SPARSE', file: basename(dst) }],
  });
  const b = Buffer.alloc(DESCRIPTOR_SECTORS * 512);
  b.write(text, 0, 'utf8');
  return b;
}
