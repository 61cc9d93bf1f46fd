/**
 * Source of the chunk worker thread, run with `new Worker(src, { eval: true })` so it works the
 * same under tsx, Vitest and a bundled app (no separate .js file to locate). It receives plain
 * chunks, hashes them (SHA-256), touches the chunk file if it already exists (the GC mark of a
 * running backup), else compresses (zstd) and writes a temp file renamed into
 * `chunks/xx/yy/<digest>`. Durability is batched: the backup makes all new chunks durable once,
 * before its snapshot is committed (see `ChunkPool.makeDurable`).
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
 * compression (format in chunk-codec.ts, which decodes the same files on the main thread).
 *
 * Messages in:  { id, slot, len, prev?: { fp, digest } } | { id, fsync: string[] } | { id, load: digest, slot? }
 * Messages out: { id, zero: true } | { id, digest, written, storedBytes, fp, reused?, file? }
 *               | { id, done: true } | { id, len } (loaded into the slot) | { id, plain: ArrayBuffer, len }
 *               | { id, error: { code, message } }
 */
export const CHUNK_WORKER_SOURCE = String.raw`
const { parentPort, workerData } = require('node:worker_threads');
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const zb = require(workerData.zstdBindingPath);
const { chunksDir, chunkSize, level, faultEnospcAfter, arena, fpSeeds, enc } = workerData;
// the chunk's name: SHA-256 (plain repository) or HMAC-SHA256 under the chunk-name key (encrypted)
function nameOf(data) {
  return (enc ? crypto.createHmac('sha256', enc.chunkIdKey) : crypto.createHash('sha256')).update(data).digest('hex');
}
const SEALED_MAGIC = Buffer.from('TSE1', 'latin1');
// an encrypted chunk: header version 2 (nothing else in clear), then 'TSE1' | nonce | sealed(codec, length, payload) | tag
function sealedParts(digest, codec, len, payload) {
  const inner = Buffer.alloc(8); inner.writeUInt8(codec, 0); inner.writeUInt32LE(len, 4);
  const nonce = crypto.randomBytes(12);
  const c = crypto.createCipheriv('aes-256-gcm', enc.dataKey, nonce);
  c.setAAD(Buffer.from(enc.aadPrefix + digest));
  const h = Buffer.alloc(16); h.writeUInt32LE(0x4b435354, 0); h.writeUInt8(2, 4);
  const a = c.update(inner), b = c.update(payload), f = c.final();
  return [h, SEALED_MAGIC, nonce, a, b, f, c.getAuthTag()];
}
function openSealed(digest, f, bad) {
  // the version-2 header is constant (nothing in it is authenticated, so nothing may vary)
  if (f.length < 16 + 4 + 12 + 8 + 16 || f.readUInt32LE(8) !== 0 || f.readUInt32LE(12) !== 0 || f.readUInt16LE(6) !== 0 || f.readUInt8(5) !== 0 || !f.subarray(16, 20).equals(SEALED_MAGIC)) throw bad('bad header');
  let inner;
  try {
    const d = crypto.createDecipheriv('aes-256-gcm', enc.dataKey, f.subarray(20, 32));
    d.setAAD(Buffer.from(enc.aadPrefix + digest));
    d.setAuthTag(f.subarray(f.length - 16));
    const a = d.update(f.subarray(32, f.length - 16));
    d.final();
    inner = a;
  } catch { throw bad('it fails authentication (AES-256-GCM): damaged, or another chunk under this name'); }
  return { codec: inner.readUInt8(0), len: inner.readUInt32LE(4), payload: inner.subarray(8) };
}
let xx;
const xxReady = require(workerData.xxhashPath)().then((h) => { xx = h; });
function fingerprint(data) {
  return xx.h64Raw(data, fpSeeds[0]).toString(16).padStart(16, '0') + xx.h64Raw(data, fpSeeds[1]).toString(16).padStart(16, '0');
}
const cctx = new zb.CCtx();
const dctx = new zb.DCtx();
const zero = Buffer.alloc(chunkSize);
function aligned(bytes) {
  const pages = Math.ceil(bytes / 65536);
  try { return Buffer.from(new WebAssembly.Memory({ initial: pages, maximum: pages }).buffer, 0, bytes); }
  catch { return Buffer.allocUnsafe(bytes); }
}
const bound = 64 + Math.max(chunkSize, zb.compressBound(chunkSize));
const out = aligned(bound);
const raw = aligned(bound);
const SAMPLES = 8, SAMPLE = 8192;
const sample = Buffer.allocUnsafe(SAMPLES * SAMPLE);
const sampleOut = Buffer.allocUnsafe(zb.compressBound(sample.length));
let writes = 0;
function header(h, codec, len) {
  h.writeUInt32LE(0x4b435354, 0); h.writeUInt8(1, 4); h.writeUInt8(codec, 5); h.writeUInt16LE(0, 6);
  h.writeUInt32LE(len, 8); h.writeUInt32LE(0, 12);
  return h;
}
function compressible(data) {
  if (data.length < 4 * sample.length) return true;
  const step = Math.floor(data.length / SAMPLES);
  for (let k = 0; k < SAMPLES; k++) data.copy(sample, k * SAMPLE, k * step, k * step + SAMPLE);
  return cctx.compress(sampleOut, sample, level) < sample.length * 0.98;
}
function chunkPath(digest) {
  return path.join(chunksDir, digest.slice(0, 2), digest.slice(2, 4), digest);
}
// Marks an existing chunk file as used (the GC mark); false when it is missing or truncated.
function touch(file) {
  const now = Date.now() / 1000;
  try {
    fs.utimesSync(file, now, now);
    // an empty/truncated file can only come from a crash before its backup synced it: rewrite it
    return fs.statSync(file).size > 16;
  } catch (e) { if (e.code !== 'ENOENT') throw e; return false; }
}
function store(data) {
  const digest = nameOf(data);
  const dir = path.join(chunksDir, digest.slice(0, 2), digest.slice(2, 4));
  const file = path.join(dir, digest);
  if (touch(file)) return { digest, written: false, storedBytes: 0 };
  let n = compressible(data) ? cctx.compress(out.subarray(16), data, level) : data.length;
  let codec = 1;
  if (n >= data.length) { codec = 0; n = data.length; data.copy(out, 16); }
  const file16 = enc ? undefined : header(out, codec, data.length).subarray(0, 16 + n);
  const parts = enc ? sealedParts(digest, codec, data.length, out.subarray(16, 16 + n)) : [file16];
  const total = parts.reduce((a, p) => a + p.length, 0);
  if (faultEnospcAfter >= 0 && writes++ >= faultEnospcAfter) {
    const e = new Error('ENOSPC: no space left on device (injected)'); e.code = 'ENOSPC'; throw e;
  }
  const tmp = file + '.tmp-' + process.pid + '-' + crypto.randomBytes(4).toString('hex');
  let fd;
  try {
    try { fd = fs.openSync(tmp, 'wx', 0o600); }
    catch (e) { if (e.code !== 'ENOENT') throw e; fs.mkdirSync(dir, { recursive: true, mode: 0o700 }); fd = fs.openSync(tmp, 'wx', 0o600); }
    let pos = 0;
    for (const p of parts) for (let w = 0; w < p.length; ) { const k = fs.writeSync(fd, p, w, p.length - w, pos); w += k; pos += k; }
    fs.closeSync(fd); fd = undefined;
    fs.renameSync(tmp, file);
  } catch (e) {
    if (fd !== undefined) { try { fs.closeSync(fd); } catch {} }
    try { fs.unlinkSync(tmp); } catch {}
    throw e;
  }
  return { digest, written: true, storedBytes: total, file };
}
function fsyncPaths(paths) {
  for (const p of paths) {
    const fd = fs.openSync(p, 'r');
    try { fs.fsyncSync(fd); } finally { fs.closeSync(fd); }
  }
}
function readWhole(file) {
  const fd = fs.openSync(file, 'r');
  try {
    let got = 0, n;
    while (got < raw.length && (n = fs.readSync(fd, raw, got, raw.length - got, got)) > 0) got += n;
    // a file larger than any valid chunk is corrupt; report it by its (bad) length
    if (got === raw.length && fs.fstatSync(fd).size > raw.length) return null;
    return raw.subarray(0, got);
  } finally { fs.closeSync(fd); }
}
function load(digest, slot) {
  const file = path.join(chunksDir, digest.slice(0, 2), digest.slice(2, 4), digest);
  const bad = (why) => { const e = new Error('chunk ' + digest + ' is corrupt: ' + why); e.code = 'TS_CHUNK_CORRUPT'; return e; };
  const f = readWhole(file);
  if (f === null) throw bad('file too large');
  if (f.length < 16 || f.readUInt32LE(0) !== 0x4b435354 || f.readUInt8(4) !== (enc ? 2 : 1)) throw bad('bad header');
  const { codec, len, payload } = enc ? openSealed(digest, f, bad) : { codec: f.readUInt8(5), len: f.readUInt32LE(8), payload: f.subarray(16) };
  if (len > chunkSize) throw bad('length ' + len + ' exceeds the chunk size');
  const ab = slot === undefined ? new ArrayBuffer(chunkSize) : undefined;
  const plain = ab ? Buffer.from(ab, 0, len) : Buffer.from(arena, slot * chunkSize, len);
  let got;
  if (codec === 0) got = payload.copy(plain, 0);
  else if (codec === 1) { try { got = dctx.decompress(plain, payload); } catch (e) { throw bad('cannot decompress'); } }
  else throw bad('unknown codec ' + codec);
  if (got !== len || (codec === 0 && payload.length !== len)) throw bad('length ' + (codec === 0 ? payload.length : got) + ' != ' + len);
  if (nameOf(plain) !== digest) throw bad('content does not match its hash');
  return { ab, len };
}
function handle(m) {
  try {
    if (m.load) {
      const r = load(m.load, m.slot);
      if (r.ab) parentPort.postMessage({ id: m.id, plain: r.ab, len: r.len }, [r.ab]);
      else parentPort.postMessage({ id: m.id, len: r.len });
      return;
    }
    if (m.fsync) { fsyncPaths(m.fsync); parentPort.postMessage({ id: m.id, done: true }); return; }
    const data = Buffer.from(arena, m.slot * chunkSize, m.len);
    if (data.equals(zero.subarray(0, data.length))) { parentPort.postMessage({ id: m.id, zero: true }); return; }
    const fp = fingerprint(data);
    if (m.prev && m.prev.fp === fp && /^[0-9a-f]{64}$/.test(m.prev.digest) && touch(chunkPath(m.prev.digest))) {
      parentPort.postMessage({ id: m.id, digest: m.prev.digest, written: false, storedBytes: 0, fp, reused: true });
      return;
    }
    parentPort.postMessage({ id: m.id, fp, ...store(data) });
  } catch (e) {
    parentPort.postMessage({ id: m.id, error: { code: e && e.code, message: String(e && e.message || e) } });
  }
}
// messages that arrive before the hasher is ready wait for it, in order
parentPort.on('message', (m) => { if (xx) handle(m); else void xxReady.then(() => handle(m), (e) => parentPort.postMessage({ id: m.id, error: { message: 'cannot load xxhash: ' + String(e && e.message || e) } })); });
`;
