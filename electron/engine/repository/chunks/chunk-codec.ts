import { createHash } from 'node:crypto';
import { compress, decompress } from 'zstd-napi';
import { AppError } from '../../../../shared/errors/app-error.js';
import type { RepoKeys } from '../crypto/repo-keys.js';

/**
 * Chunk file format: a 16-byte header then the payload.
 *   0  'TSCK'  magic
 *   4  u8      format version (1)
 *   5  u8      codec: 0 = stored, 1 = zstd
 *   6  u16     reserved (0)
 *   8  u32 LE  plain length
 *   12 u32     reserved (0)
 * The file name is the SHA-256 of the plain data, which is how every read is verified.
 *
 * Encrypted repositories (version 2): the header is `'TSCK' | 2` and zeros (codec and length are
 * not shown), followed by a sealed object (`RepoKeys.seal`: `'TSE1' | nonce | ciphertext | tag`,
 * kind `chunk`, name = the digest) whose plain text is `u8 codec | 3 × 0 | u32 LE plain length |
 * payload`. The name is HMAC-SHA256 of the plain data under the chunk-name key. The chunk worker
 * (chunk-worker-source.ts) writes and reads the same format.
 */
export const CHUNK_HEADER_SIZE = 16;
const MAGIC = 0x4b435354; // 'TSCK' little-endian

/** Codec ids. */
export const CODEC_STORED = 0;
export const CODEC_ZSTD = 1;

/** The associated data of a chunk's seal, before its digest (what `RepoKeys.seal('chunk', digest)` binds). */
export function chunkAadPrefix(repoId: string): string {
  return `twinsnap object\0${repoId}\0chunk\0`;
}

/** Builds the 16-byte chunk header (version 2 shows neither codec nor length). */
export function chunkHeader(codec: number, plainLength: number, version = 1): Buffer {
  const h = Buffer.alloc(CHUNK_HEADER_SIZE);
  h.writeUInt32LE(MAGIC, 0);
  h.writeUInt8(version, 4);
  if (version === 1) {
    h.writeUInt8(codec, 5);
    h.writeUInt32LE(plainLength, 8);
  }
  return h;
}

/** The name of a chunk: SHA-256 of its data, or its HMAC in an encrypted repository. */
export function chunkName(plain: Uint8Array, keys?: RepoKeys): string {
  return keys ? keys.chunkName(plain) : sha256(plain);
}

/** Encodes plain data as a chunk file (header + zstd payload, or stored when zstd doesn't shrink it; sealed with `keys`). */
export function encodeChunk(plain: Buffer, level: number, keys?: RepoKeys): Buffer {
  const z = compress(plain, { compressionLevel: level });
  const [codec, payload] = z.length < plain.length ? [CODEC_ZSTD, z] : [CODEC_STORED, plain];
  if (!keys) return Buffer.concat([chunkHeader(codec, plain.length), payload]);
  const inner = Buffer.alloc(8);
  inner.writeUInt8(codec, 0);
  inner.writeUInt32LE(plain.length, 4);
  return Buffer.concat([chunkHeader(0, 0, 2), keys.seal('chunk', keys.chunkName(plain), Buffer.concat([inner, payload]))]);
}

/**
 * Decodes a chunk file and checks that the plain data hashes to `digest`. Any mismatch, malformed
 * header or (encrypted) failed authentication is CHUNK_CORRUPT, naming the chunk.
 */
export function decodeChunk(file: Buffer, digest: string, keys?: RepoKeys): Buffer {
  const bad = (why: string) => new AppError('CHUNK_CORRUPT', `chunk ${digest} is corrupt: ${why}`, { details: { digest } });
  if (file.length < CHUNK_HEADER_SIZE || file.readUInt32LE(0) !== MAGIC || file.readUInt8(4) !== (keys ? 2 : 1)) throw bad('bad header');
  let codec = file.readUInt8(5);
  let plainLen = file.readUInt32LE(8);
  let payload = file.subarray(CHUNK_HEADER_SIZE);
  if (keys) {
    // the version-2 header is constant (nothing in it is authenticated, so nothing may vary)
    if (!file.subarray(0, CHUNK_HEADER_SIZE).equals(chunkHeader(0, 0, 2))) throw bad('bad header');
    const inner = keys.open('chunk', digest, payload);
    if (!inner || inner.length < 8) throw bad('it fails authentication (AES-256-GCM): damaged, or another chunk under this name');
    codec = inner.readUInt8(0);
    plainLen = inner.readUInt32LE(4);
    payload = inner.subarray(8);
  }
  let plain: Buffer;
  if (codec === CODEC_STORED) plain = payload;
  else if (codec === CODEC_ZSTD) {
    try {
      plain = decompress(payload);
    } catch (e) {
      throw bad(`cannot decompress (${(e as Error).message})`);
    }
  } else throw bad(`unknown codec ${codec}`);
  if (plain.length !== plainLen) throw bad(`length ${plain.length} != ${plainLen}`);
  if (chunkName(plain, keys) !== digest) throw bad('content does not match its hash');
  return plain;
}

/** Hex SHA-256. */
export function sha256(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex');
}
