import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { compress, decompress } from 'zstd-napi';
import { AppError } from '../../../../shared/errors/app-error.js';

/**
 * Chunk file format: a 16-byte header then the payload.
 *   0  'TSCK'  magic
 *   4  u8      format version (1)
 *   5  u8      codec: 0 = stored, 1 = zstd
 *   6  u16     reserved (0)
 *   8  u32 LE  plain length
 *   12 u32     reserved (0)
 * The file name is the SHA-256 of the plain data, which is how every read is verified; the file
 * lives at `chunks/xx/yy/<digest>` (chunkFile). The chunk workers (chunk-worker.ts) write and
 * read the same format through these functions.
 */
export const CHUNK_HEADER_SIZE = 16;
const MAGIC = 0x4b435354; // 'TSCK' little-endian
const FORMAT_VERSION = 1;

/** Codec ids. */
export const CODEC_STORED = 0;
export const CODEC_ZSTD = 1;

/** `<chunksDir>/xx/yy/<digest>`: where the chunk of `digest` is stored. */
export function chunkFile(chunksDir: string, digest: string): string {
  return join(chunksDir, digest.slice(0, 2), digest.slice(2, 4), digest);
}

/** Writes the 16-byte chunk header into the start of `target` (reserved fields zeroed); returns `target`. */
export function writeChunkHeader(target: Buffer, codec: number, plainLength: number): Buffer {
  target.writeUInt32LE(MAGIC, 0);
  target.writeUInt8(FORMAT_VERSION, 4);
  target.writeUInt8(codec, 5);
  target.writeUInt16LE(0, 6);
  target.writeUInt32LE(plainLength, 8);
  target.writeUInt32LE(0, 12);
  return target;
}

/** Builds the 16-byte chunk header. */
export function chunkHeader(codec: number, plainLength: number): Buffer {
  return writeChunkHeader(Buffer.alloc(CHUNK_HEADER_SIZE), codec, plainLength);
}

/** The codec and plain length of a chunk file; undefined when it does not start with a chunk header. */
export function readChunkHeader(file: Buffer): { codec: number; plainLength: number } | undefined {
  if (file.length < CHUNK_HEADER_SIZE || file.readUInt32LE(0) !== MAGIC || file.readUInt8(4) !== FORMAT_VERSION) return undefined;
  return { codec: file.readUInt8(5), plainLength: file.readUInt32LE(8) };
}

/** Encodes plain data as a chunk file (header + zstd payload, or stored when zstd doesn't shrink it). */
export function encodeChunk(plain: Buffer, level: number): Buffer {
  const z = compress(plain, { compressionLevel: level });
  if (z.length < plain.length) return Buffer.concat([chunkHeader(CODEC_ZSTD, plain.length), z]);
  return Buffer.concat([chunkHeader(CODEC_STORED, plain.length), plain]);
}

/**
 * Decodes a chunk file and checks that the plain data hashes to `digest`. Any mismatch or
 * malformed header is CHUNK_CORRUPT, naming the chunk.
 */
export function decodeChunk(file: Buffer, digest: string): Buffer {
  const bad = (why: string) => new AppError('CHUNK_CORRUPT', `chunk ${digest} is corrupt: ${why}`, { details: { digest } });
  const header = readChunkHeader(file);
  if (!header) throw bad('bad header');
  const { codec, plainLength: plainLen } = header;
  let plain: Buffer;
  if (codec === CODEC_STORED) plain = file.subarray(CHUNK_HEADER_SIZE);
  else if (codec === CODEC_ZSTD) {
    try {
      plain = decompress(file.subarray(CHUNK_HEADER_SIZE));
    } catch (e) {
      throw bad(`cannot decompress (${(e as Error).message})`);
    }
  } else throw bad(`unknown codec ${codec}`);
  if (plain.length !== plainLen) throw bad(`length ${plain.length} != ${plainLen}`);
  if (sha256(plain) !== digest) throw bad('content does not match its hash');
  return plain;
}

/** Hex SHA-256. */
export function sha256(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex');
}
