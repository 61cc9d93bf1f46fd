/**
 * The chunk worker thread (started by ChunkPool, see chunk-pool.ts for how it is found when run
 * from sources, from dist/app and from the CLI bundle). It receives plain chunks, hashes them
 * (SHA-256), touches the chunk file if it already exists (the GC mark of a running backup), else
 * compresses (zstd) and writes a temp file renamed into `chunks/xx/yy/<digest>`. Durability is
 * batched: the backup makes all new chunks durable once, before its snapshot is committed (see
 * `ChunkPool.makeDurable`). The chunk file format is chunk-codec.ts's.
 *
 * It also loads chunks for restores (read, decompress, verify the digest) so both cores work.
 *
 * Nothing is allocated or transferred per chunk: chunk data sits in slots of a page-aligned arena
 * shared with the caller (see ChunkPool), and the worker keeps one page-aligned compression
 * output buffer and one page-aligned file read buffer, so every kernel copy between the page
 * cache and our memory is mutually aligned (misaligned copies cost ~3× the CPU). A chunk file's
 * payload starts at file offset 16, so it is always written from `out` at offset 16 (a raw chunk
 * is first copied there in user space, where alignment costs nothing). zstd runs through the
 * binding's contexts (`CCtx.compress`, `DCtx.decompress` into a given buffer).
 *
 * Incompressible data (encrypted or already compressed: media, archives, random) is detected
 * by compressing a 64 KiB sample (8 × 8 KiB spread over the chunk): if zstd cannot shrink the
 * sample by 2 %, the chunk is stored raw without compressing the whole MiB. This costs ~5 % of
 * a full compression, saves ~1 CPU-ms per MiB of such data, and can only miss compressible
 * stretches that lie entirely between the samples (< 120 KiB per MiB).
 *
 * Every stored chunk is also fingerprinted (two seeded XXH64, see snapshot/fingerprints.ts). A
 * store request may carry the previous snapshot's `{ fp, digest }` for the same offset: when the
 * fingerprints match, the chunk file of that digest is touched and reused without SHA-256.
 *
 * In an encrypted repository (workerData.enc) a chunk is named by HMAC-SHA256 of its plain data
 * instead of SHA-256 and its codec, length and payload are sealed with AES-256-GCM after
 * compression (chunk-codec.ts's sealChunkInto / openSealedChunk, the format the main thread's
 * decodeChunk reads). A sealed chunk that authenticates under its name is not re-hashed on load
 * (only the key holder can make one); `verify --full` still re-computes every name.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, fstatSync, fsyncSync, mkdirSync, openSync, readSync, renameSync, statSync, unlinkSync, utimesSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { parentPort, workerData } from 'node:worker_threads';
import * as zb from 'zstd-napi/binding.js';
import xxhash from 'xxhash-wasm';
import { alignedBuffer } from '../../disk/core/aligned-buffer.js';
import { CHUNK_HEADER_SIZE, CODEC_STORED, CODEC_ZSTD, SEALED_CHUNK_OVERHEAD, chunkFile, chunkName, openSealedChunk, readChunkHeader, sealChunkInto, writeChunkHeader } from './chunk-codec.js';
import type { ChunkSealKeys } from './chunk-codec.js';

/** What ChunkPool starts each worker with. */
export interface ChunkWorkerData {
  chunksDir: string;
  chunkSize: number;
  level: number;
  /** Test hook: fail with ENOSPC after this many chunk writes (negative: never). */
  faultEnospcAfter: number;
  /** The arena of chunk slots shared with the pool. */
  arena: SharedArrayBuffer;
  /** The repository's two XXH64 seeds of chunk fingerprints. */
  fpSeeds: [bigint, bigint];
  /** An encrypted repository's keys (chunks named by HMAC and sealed); null in a plain one. */
  enc: ChunkSealKeys | null;
}

/** A request: store the chunk in `slot` | make files durable | load chunk `load` (into `slot`, or a new buffer). */
export type ChunkWorkerRequest =
  | { id: number; slot: number; len: number; prev?: { fp: string; digest: string }; fsync?: undefined; load?: undefined }
  | { id: number; fsync: string[]; load?: undefined }
  | { id: number; load: string; slot?: number; fsync?: undefined };

/** An answer, one per request, with its id. */
export type ChunkWorkerReply = { id: number } & (
  | { zero: true }
  | { digest: string; written: boolean; storedBytes: number; fp: string; reused?: boolean; file?: string }
  | { done: true }
  | { len: number }
  | { plain: ArrayBuffer; len: number }
  | { error: { code?: string; message: string } }
);

const { chunksDir, chunkSize, level, faultEnospcAfter, arena, fpSeeds, enc } = workerData as ChunkWorkerData;
const port = parentPort!;
const corrupt = 'TS_CHUNK_CORRUPT';

let hasher: Awaited<ReturnType<typeof xxhash>> | undefined;
const hasherReady = xxhash().then((h) => {
  hasher = h;
});
function fingerprint(data: Buffer): string {
  const h = hasher!;
  return h.h64Raw(data, fpSeeds[0]).toString(16).padStart(16, '0') + h.h64Raw(data, fpSeeds[1]).toString(16).padStart(16, '0');
}

const cctx = new zb.CCtx();
const dctx = new zb.DCtx();
const zero = Buffer.alloc(chunkSize);
// a sealed chunk file is longer by SEALED_CHUNK_OVERHEAD (readWhole reads it whole into `raw`)
const bound = CHUNK_HEADER_SIZE + SEALED_CHUNK_OVERHEAD + Math.max(chunkSize, zb.compressBound(chunkSize));
const out = alignedBuffer(bound);
const raw = alignedBuffer(bound);
const SAMPLES = 8;
const SAMPLE = 8192;
const sample = Buffer.allocUnsafe(SAMPLES * SAMPLE);
const sampleOut = Buffer.allocUnsafe(zb.compressBound(sample.length));
let writes = 0;

/**
 * An encrypted repository's cipher hands back a fresh buffer per piece (Node's API cannot write
 * into ours): ~1 MiB of garbage per sealed chunk, which this small heap would otherwise keep until
 * V8's external-memory limit. A scavenge every 4 sealed chunks frees it while it is young
 * (measured, 256 MiB of new random data: peak RSS 183–192 MB without, 154 MB with — the unlock's
 * scrypt peak; CPU unchanged within noise). Loads showed no such difference, so only stores do it.
 */
const collectYoung: (() => void) | undefined = (() => {
  if (!enc) return undefined;
  try {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as (o: { type: 'minor' }) => void;
    return () => gc({ type: 'minor' });
  } catch {
    return undefined;
  }
})();
let sinceCollect = 0;
function sealedChunkDone(): void {
  if (collectYoung && ++sinceCollect >= 4) {
    sinceCollect = 0;
    collectYoung();
  }
}

const withCode = (message: string, code: string) => Object.assign(new Error(message), { code });

function compressible(data: Buffer): boolean {
  if (data.length < 4 * sample.length) return true;
  const step = Math.floor(data.length / SAMPLES);
  for (let k = 0; k < SAMPLES; k++) data.copy(sample, k * SAMPLE, k * step, k * step + SAMPLE);
  return cctx.compress(sampleOut, sample, level) < sample.length * 0.98;
}

/** Marks an existing chunk file as used (the GC mark); false when it is missing or truncated. */
function touch(file: string): boolean {
  // the mark is a file time, like the mtime the kernel gives a new chunk file; a worker has no Clock
  // eslint-disable-next-line no-restricted-syntax
  const now = Date.now() / 1000;
  try {
    utimesSync(file, now, now);
    // an empty/truncated file can only come from a crash before its backup synced it: rewrite it
    return statSync(file).size > CHUNK_HEADER_SIZE;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    return false;
  }
}

function store(data: Buffer): { digest: string; written: boolean; storedBytes: number; file?: string } {
  const digest = chunkName(data, enc);
  const file = chunkFile(chunksDir, digest);
  if (touch(file)) return { digest, written: false, storedBytes: 0 };
  let n = compressible(data) ? cctx.compress(out.subarray(CHUNK_HEADER_SIZE), data, level) : data.length;
  let codec = CODEC_ZSTD;
  if (n >= data.length) {
    codec = CODEC_STORED;
    n = data.length;
    if (!enc) data.copy(out, CHUNK_HEADER_SIZE);
  }
  let bytes: Buffer;
  if (enc) {
    // sealed straight from the slot (stored) or from `out` (compressed) into the aligned `raw`
    // (free while storing: a worker handles one request at a time), written from there
    const payload = codec === CODEC_STORED ? data : out.subarray(CHUNK_HEADER_SIZE, CHUNK_HEADER_SIZE + n);
    bytes = raw.subarray(0, sealChunkInto(enc, digest, codec, data.length, payload, raw));
    sealedChunkDone();
  } else bytes = writeChunkHeader(out, codec, data.length).subarray(0, CHUNK_HEADER_SIZE + n);
  const total = bytes.length;
  if (faultEnospcAfter >= 0 && writes++ >= faultEnospcAfter) throw withCode('ENOSPC: no space left on device (injected)', 'ENOSPC');
  const tmp = `${file}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  let fd: number | undefined;
  try {
    try {
      fd = openSync(tmp, 'wx', 0o600);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
      fd = openSync(tmp, 'wx', 0o600);
    }
    for (let w = 0; w < bytes.length;) w += writeSync(fd, bytes, w, bytes.length - w, w);
    closeSync(fd);
    fd = undefined;
    renameSync(tmp, file);
  } catch (e) {
    if (fd !== undefined) {
      try {
        closeSync(fd);
      } catch {
        // already failing: the original error is what counts
      }
    }
    try {
      unlinkSync(tmp);
    } catch {
      // never created, or already gone
    }
    throw e;
  }
  return { digest, written: true, storedBytes: total, file };
}

function fsyncPaths(paths: string[]): void {
  for (const p of paths) {
    const fd = openSync(p, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  }
}

/** The whole chunk file in `raw`; null when it is larger than any valid chunk (corrupt). */
function readWhole(file: string): Buffer | null {
  const fd = openSync(file, 'r');
  try {
    let got = 0;
    let n: number;
    while (got < raw.length && (n = readSync(fd, raw, got, raw.length - got, got)) > 0) got += n;
    if (got === raw.length && fstatSync(fd).size > raw.length) return null;
    return raw.subarray(0, got);
  } finally {
    closeSync(fd);
  }
}

function load(digest: string, slot: number | undefined): { ab?: ArrayBuffer; len: number } {
  const bad = (why: string) => withCode(`chunk ${digest} is corrupt: ${why}`, corrupt);
  const f = readWhole(chunkFile(chunksDir, digest));
  if (f === null) throw bad('file too large');
  let codec: number;
  let len: number;
  let payload: Buffer;
  if (enc)
    ({ codec, plainLength: len, payload } = openSealedChunk(enc, digest, f, out, bad)); // decrypted into `out` (free while loading)
  else {
    const header = readChunkHeader(f);
    if (!header) throw bad('bad header');
    ({ codec, plainLength: len } = header);
    payload = f.subarray(CHUNK_HEADER_SIZE);
  }
  if (len > chunkSize) throw bad(`length ${len} exceeds the chunk size`);
  const ab = slot === undefined ? new ArrayBuffer(chunkSize) : undefined;
  const plain = ab ? Buffer.from(ab, 0, len) : Buffer.from(arena, slot! * chunkSize, len);
  let got: number;
  if (codec === CODEC_STORED) got = payload.copy(plain, 0);
  else if (codec === CODEC_ZSTD) {
    try {
      got = dctx.decompress(plain, payload);
    } catch {
      throw bad('cannot decompress');
    }
  } else throw bad(`unknown codec ${codec}`);
  if (got !== len || (codec === CODEC_STORED && payload.length !== len)) throw bad(`length ${codec === CODEC_STORED ? payload.length : got} != ${len}`);
  // a plain chunk is verified by re-hashing; a sealed one was authenticated under its name (GCM,
  // the digest is associated data) before it was decompressed, which proves as much
  if (!enc && chunkName(plain) !== digest) throw bad('content does not match its hash');
  return { ab, len };
}

function reply(r: ChunkWorkerReply, transfer?: ArrayBuffer[]): void {
  port.postMessage(r, transfer);
}

function handle(m: ChunkWorkerRequest): void {
  try {
    if (m.load !== undefined) {
      const r = load(m.load, m.slot);
      if (r.ab) reply({ id: m.id, plain: r.ab, len: r.len }, [r.ab]);
      else reply({ id: m.id, len: r.len });
      return;
    }
    if (m.fsync !== undefined) {
      fsyncPaths(m.fsync);
      reply({ id: m.id, done: true });
      return;
    }
    const data = Buffer.from(arena, m.slot * chunkSize, m.len);
    if (data.equals(zero.subarray(0, data.length))) {
      reply({ id: m.id, zero: true });
      return;
    }
    const fp = fingerprint(data);
    if (m.prev && m.prev.fp === fp && /^[0-9a-f]{64}$/.test(m.prev.digest) && touch(chunkFile(chunksDir, m.prev.digest))) {
      reply({ id: m.id, digest: m.prev.digest, written: false, storedBytes: 0, fp, reused: true });
      return;
    }
    reply({ id: m.id, fp, ...store(data) });
  } catch (e) {
    const err = e as { code?: string; message?: string } | undefined;
    reply({ id: m.id, error: { code: err?.code, message: String(err?.message ?? e) } });
  }
}

// messages that arrive before the hasher is ready wait for it, in order
port.on('message', (m: ChunkWorkerRequest) => {
  if (hasher) handle(m);
  else
    void hasherReady.then(
      () => handle(m),
      (e: unknown) => reply({ id: m.id, error: { message: `cannot load xxhash: ${String((e as Error)?.message ?? e)}` } }),
    );
});
