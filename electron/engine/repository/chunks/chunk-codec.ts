import { createCipheriv, createDecipheriv, createHash, createHmac, createSecretKey, randomFillSync, type Cipher, type Decipher, type KeyObject } from 'node:crypto';
import { join } from 'node:path';
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
 * The file name is the SHA-256 of the plain data, which is how every read is verified; the file
 * lives at `chunks/xx/yy/<digest>` (chunkFile).
 *
 * Encrypted repositories (version 2): the header is `'TSCK' | 2` and zeros (codec and length are
 * not shown), followed by a sealed object (`RepoKeys.seal`: `'TSE1' | nonce | ciphertext | tag`,
 * kind `chunk`, name = the digest) whose plain text is `u8 codec | 3 × 0 | u32 LE plain length |
 * payload`. The name is HMAC-SHA256 of the plain data under the chunk-name key.
 *
 * The chunk workers (chunk-worker.ts) write and read the same format through these functions
 * (`ChunkSealKeys`, `sealChunkInto`, `openSealedChunk` for the encrypted kind).
 */
export const CHUNK_HEADER_SIZE = 16;
const MAGIC = 0x4b435354; // 'TSCK' little-endian
const FORMAT_VERSION = 1;
/** Header version of an encrypted repository's chunks. */
export const SEALED_CHUNK_VERSION = 2;
const SEALED_MAGIC = Buffer.from('TSE1', 'latin1');
const NONCE = 12;
const TAG = 16;
const INNER = 8;
/** Bytes a sealed chunk file has beyond header + payload ('TSE1', nonce, codec/length, tag). */
export const SEALED_CHUNK_OVERHEAD = SEALED_MAGIC.length + NONCE + INNER + TAG;

/** Codec ids. */
export const CODEC_STORED = 0;
export const CODEC_ZSTD = 1;

/** `<chunksDir>/xx/yy/<digest>`: where the chunk of `digest` is stored. */
export function chunkFile(chunksDir: string, digest: string): string {
  return join(chunksDir, digest.slice(0, 2), digest.slice(2, 4), digest);
}

/**
 * Writes the 16-byte chunk header into the start of `target` (reserved fields zeroed; version 2
 * shows neither codec nor length); returns `target`.
 */
export function writeChunkHeader(target: Buffer, codec: number, plainLength: number, version = FORMAT_VERSION): Buffer {
  const plain = version === FORMAT_VERSION;
  target.writeUInt32LE(MAGIC, 0);
  target.writeUInt8(version, 4);
  target.writeUInt8(plain ? codec : 0, 5);
  target.writeUInt16LE(0, 6);
  target.writeUInt32LE(plain ? plainLength : 0, 8);
  target.writeUInt32LE(0, 12);
  return target;
}

/** Builds the 16-byte chunk header (version 2 shows neither codec nor length). */
export function chunkHeader(codec: number, plainLength: number, version = FORMAT_VERSION): Buffer {
  return writeChunkHeader(Buffer.alloc(CHUNK_HEADER_SIZE), codec, plainLength, version);
}

const SEALED_HEADER = chunkHeader(0, 0, SEALED_CHUNK_VERSION);

/** The codec and plain length of a (plain, version 1) chunk file; undefined when it does not start with a chunk header. */
export function readChunkHeader(file: Buffer): { codec: number; plainLength: number } | undefined {
  if (file.length < CHUNK_HEADER_SIZE || file.readUInt32LE(0) !== MAGIC || file.readUInt8(4) !== FORMAT_VERSION) return undefined;
  return { codec: file.readUInt8(5), plainLength: file.readUInt32LE(8) };
}

/** True when `file` starts with the (constant) header of an encrypted chunk, byte for byte. */
export function hasSealedChunkHeader(file: Buffer): boolean {
  // the version-2 header is constant (nothing in it is authenticated, so nothing may vary)
  return file.length >= CHUNK_HEADER_SIZE && file.subarray(0, CHUNK_HEADER_SIZE).equals(SEALED_HEADER);
}

/** The associated data of a chunk's seal, before its digest (what `RepoKeys.seal('chunk', digest)` binds). */
export function chunkAadPrefix(repoId: string): string {
  return `twinsnap object\0${repoId}\0chunk\0`;
}

/** What a chunk worker needs of an encrypted repository's keys (the pool passes it as workerData). */
export interface ChunkSealKeys {
  dataKey: Buffer;
  chunkIdKey: Buffer;
  aadPrefix: string;
}

/** The worker's view of `keys` (null: a plain repository). */
export function chunkSealKeys(keys: RepoKeys | undefined): ChunkSealKeys | null {
  return keys ? { dataKey: keys.dataKey, chunkIdKey: keys.chunkIdKey, aadPrefix: chunkAadPrefix(keys.repoId) } : null;
}

/** The name of a chunk: SHA-256 of its data, or its HMAC under the chunk-name key in an encrypted repository. */
export function chunkName(plain: Uint8Array, keys?: RepoKeys | ChunkSealKeys | null): string {
  if (!keys) return sha256(plain);
  if ('chunkName' in keys) return keys.chunkName(plain);
  return createHmac('sha256', keys.chunkIdKey).update(plain).digest('hex');
}

/**
 * Piece size of the chunk cipher: Node's `update` returns a fresh buffer per call, and pieces this
 * small come from malloc's reused heap (a whole MiB would be a fresh mmap, its pages faulted in
 * and zeroed on every chunk, and left for the worker's GC to return: ~0.3 CPU-ms and up to tens
 * of MB of RSS per worker); each piece is copied into the caller's buffer at once.
 */
const PIECE = 64 * 1024;
const keyObjects = new WeakMap<Buffer, KeyObject>();
/** The data key as a KeyObject, made once per key (createCipheriv would import the raw key on every call). */
function dataKeyObject(keys: ChunkSealKeys): KeyObject {
  let k = keyObjects.get(keys.dataKey);
  if (!k) keyObjects.set(keys.dataKey, (k = createSecretKey(keys.dataKey)));
  return k;
}

/** Runs `input` through `c` in PIECE-sized pieces into `target` at `at`; returns the end offset. */
function cipherInto(c: Cipher | Decipher, input: Buffer, target: Buffer, at: number): number {
  for (let o = 0; o < input.length; o += PIECE) at += c.update(input.subarray(o, Math.min(input.length, o + PIECE))).copy(target, at);
  return at;
}

/**
 * Writes an encrypted chunk file (header, 'TSE1', nonce, ciphertext, tag) into `target`, which
 * must hold `CHUNK_HEADER_SIZE + SEALED_CHUNK_OVERHEAD + payload.length` bytes; returns its
 * length. The same bytes as `encodeChunk(…, keys)`, with nothing allocated beyond the cipher's
 * small pieces: the worker writes the file from its page-aligned `target` in one call.
 */
export function sealChunkInto(keys: ChunkSealKeys, digest: string, codec: number, plainLength: number, payload: Buffer, target: Buffer): number {
  SEALED_HEADER.copy(target, 0);
  SEALED_MAGIC.copy(target, CHUNK_HEADER_SIZE);
  let at = CHUNK_HEADER_SIZE + SEALED_MAGIC.length;
  const nonce = randomFillSync(target, at, NONCE).subarray(at, at + NONCE);
  at += NONCE;
  const c = createCipheriv('aes-256-gcm', dataKeyObject(keys), nonce);
  c.setAAD(Buffer.from(keys.aadPrefix + digest));
  const inner = Buffer.alloc(INNER);
  inner.writeUInt8(codec, 0);
  inner.writeUInt32LE(plainLength, 4);
  at = cipherInto(c, inner, target, at);
  at = cipherInto(c, payload, target, at);
  at += c.final().copy(target, at);
  return at + c.getAuthTag().copy(target, at);
}

/**
 * Opens an encrypted chunk file, decrypting into `scratch` (at least as long as the file): its
 * codec, plain length and payload (a view of `scratch`); throws what `bad(why)` makes on a bad
 * header or a failed authentication (damaged, or another chunk under this name). Authentication
 * binds the content to its name (the digest is associated data), so a caller need not re-compute
 * the name's HMAC: only a holder of the data key can produce a chunk that opens under a name.
 */
export function openSealedChunk(keys: ChunkSealKeys, digest: string, file: Buffer, scratch: Buffer, bad: (why: string) => Error): { codec: number; plainLength: number; payload: Buffer } {
  if (!hasSealedChunkHeader(file)) throw bad('bad header');
  const body = file.subarray(CHUNK_HEADER_SIZE);
  const fails = () => bad('it fails authentication (AES-256-GCM): damaged, or another chunk under this name');
  if (body.length < SEALED_MAGIC.length + NONCE + INNER + TAG || !body.subarray(0, SEALED_MAGIC.length).equals(SEALED_MAGIC)) throw fails();
  if (scratch.length < body.length) throw bad('file too large');
  let n: number;
  try {
    const d = createDecipheriv('aes-256-gcm', dataKeyObject(keys), body.subarray(SEALED_MAGIC.length, SEALED_MAGIC.length + NONCE));
    d.setAAD(Buffer.from(keys.aadPrefix + digest));
    d.setAuthTag(body.subarray(body.length - TAG));
    n = cipherInto(d, body.subarray(SEALED_MAGIC.length + NONCE, body.length - TAG), scratch, 0);
    n += d.final().copy(scratch, n);
  } catch {
    throw fails();
  }
  return { codec: scratch.readUInt8(0), plainLength: scratch.readUInt32LE(4), payload: scratch.subarray(INNER, n) };
}

/** Encodes plain data as a chunk file (header + zstd payload, or stored when zstd doesn't shrink it; sealed with `keys`). */
export function encodeChunk(plain: Buffer, level: number, keys?: RepoKeys): Buffer {
  const z = compress(plain, { compressionLevel: level });
  const [codec, payload] = z.length < plain.length ? [CODEC_ZSTD, z] : [CODEC_STORED, plain];
  if (!keys) return Buffer.concat([chunkHeader(codec, plain.length), payload]);
  const inner = Buffer.alloc(INNER);
  inner.writeUInt8(codec, 0);
  inner.writeUInt32LE(plain.length, 4);
  return Buffer.concat([SEALED_HEADER, keys.seal('chunk', keys.chunkName(plain), Buffer.concat([inner, payload]))]);
}

/**
 * Decodes a chunk file and checks that the plain data hashes to `digest`. Any mismatch, malformed
 * header or (encrypted) failed authentication is CHUNK_CORRUPT, naming the chunk.
 */
export function decodeChunk(file: Buffer, digest: string, keys?: RepoKeys): Buffer {
  const bad = (why: string) => new AppError('CHUNK_CORRUPT', `chunk ${digest} is corrupt: ${why}`, { details: { digest } });
  let codec: number;
  let plainLen: number;
  let payload: Buffer;
  if (keys) {
    if (!hasSealedChunkHeader(file)) throw bad('bad header');
    const inner = keys.open('chunk', digest, file.subarray(CHUNK_HEADER_SIZE));
    if (!inner || inner.length < INNER) throw bad('it fails authentication (AES-256-GCM): damaged, or another chunk under this name');
    codec = inner.readUInt8(0);
    plainLen = inner.readUInt32LE(4);
    payload = inner.subarray(INNER);
  } else {
    const header = readChunkHeader(file);
    if (!header) throw bad('bad header');
    ({ codec, plainLength: plainLen } = header);
    payload = file.subarray(CHUNK_HEADER_SIZE);
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
