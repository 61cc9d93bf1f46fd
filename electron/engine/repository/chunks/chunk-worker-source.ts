/**
 * Source of the chunk worker thread, run with `new Worker(src, { eval: true })` so it works the
 * same under tsx, Vitest and a bundled app (no separate .js file to locate). It receives plain
 * chunks, detects all-zero ones, hashes the rest (SHA-256), touches the chunk file if it
 * already exists (the GC mark of a running backup), else compresses (zstd), writes a temp file
 * and renames it into `chunks/xx/yy/<digest>`. Durability is batched: the backup makes all new
 * chunks durable once, before its snapshot is committed (see `ChunkPool.makeDurable`).
 *
 * It also loads chunks for restores (read, decompress, verify the digest) so both cores work.
 *
 * Messages in:  { id, buf: ArrayBuffer, len } | { id, fsync: string[] } | { id, load: digest }
 * Messages out: { id, zero: true } | { id, digest, written, storedBytes, file? } | { id, done: true }
 *               | { id, plain: ArrayBuffer }
 *               | { id, error: { code, message } }
 */
export const CHUNK_WORKER_SOURCE = String.raw`
const { parentPort, workerData } = require('node:worker_threads');
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const zstd = require(workerData.zstdPath);
const { chunksDir, level, faultEnospcAfter } = workerData;
const zero = Buffer.alloc(workerData.chunkSize);
let writes = 0;
function header(codec, len) {
  const h = Buffer.alloc(16);
  h.writeUInt32LE(0x4b435354, 0); h.writeUInt8(1, 4); h.writeUInt8(codec, 5); h.writeUInt32LE(len, 8);
  return h;
}
function store(data) {
  const digest = crypto.createHash('sha256').update(data).digest('hex');
  const dir = path.join(chunksDir, digest.slice(0, 2), digest.slice(2, 4));
  const file = path.join(dir, digest);
  const now = Date.now() / 1000;
  try {
    fs.utimesSync(file, now, now);
    // an empty/truncated file can only come from a crash before its backup synced it: rewrite it
    if (fs.statSync(file).size > 16) return { digest, written: false, storedBytes: 0 };
  } catch (e) { if (e.code !== 'ENOENT') throw e; }
  let codec = 1, payload = zstd.compress(data, { compressionLevel: level });
  if (payload.length >= data.length) { codec = 0; payload = data; }
  if (faultEnospcAfter >= 0 && writes++ >= faultEnospcAfter) {
    const e = new Error('ENOSPC: no space left on device (injected)'); e.code = 'ENOSPC'; throw e;
  }
  const tmp = file + '.tmp-' + process.pid + '-' + crypto.randomBytes(4).toString('hex');
  let fd;
  try {
    try { fd = fs.openSync(tmp, 'wx'); }
    catch (e) { if (e.code !== 'ENOENT') throw e; fs.mkdirSync(dir, { recursive: true }); fd = fs.openSync(tmp, 'wx'); }
    fs.writevSync(fd, [header(codec, data.length), payload]);
    fs.closeSync(fd); fd = undefined;
    fs.renameSync(tmp, file);
  } catch (e) {
    if (fd !== undefined) { try { fs.closeSync(fd); } catch {} }
    try { fs.unlinkSync(tmp); } catch {}
    throw e;
  }
  return { digest, written: true, storedBytes: 16 + payload.length, file };
}
function fsyncPaths(paths) {
  for (const p of paths) {
    const fd = fs.openSync(p, 'r');
    try { fs.fsyncSync(fd); } finally { fs.closeSync(fd); }
  }
}
function load(digest) {
  const file = path.join(chunksDir, digest.slice(0, 2), digest.slice(2, 4), digest);
  const raw = fs.readFileSync(file);
  const bad = (why) => { const e = new Error('chunk ' + digest + ' is corrupt: ' + why); e.code = 'TS_CHUNK_CORRUPT'; return e; };
  if (raw.length < 16 || raw.readUInt32LE(0) !== 0x4b435354 || raw.readUInt8(4) !== 1) throw bad('bad header');
  const codec = raw.readUInt8(5), len = raw.readUInt32LE(8);
  let plain;
  if (codec === 0) plain = raw.subarray(16);
  else if (codec === 1) { try { plain = zstd.decompress(raw.subarray(16)); } catch (e) { throw bad('cannot decompress'); } }
  else throw bad('unknown codec ' + codec);
  if (plain.length !== len) throw bad('length ' + plain.length + ' != ' + len);
  if (crypto.createHash('sha256').update(plain).digest('hex') !== digest) throw bad('content does not match its hash');
  const out = new Uint8Array(plain.length);
  out.set(plain);
  return out.buffer;
}
parentPort.on('message', (m) => {
  try {
    if (m.load) { const ab = load(m.load); parentPort.postMessage({ id: m.id, plain: ab }, [ab]); return; }
    if (m.fsync) { fsyncPaths(m.fsync); parentPort.postMessage({ id: m.id, done: true }); return; }
    const data = Buffer.from(m.buf, 0, m.len);
    const isZero = data.length <= zero.length && data.equals(zero.subarray(0, data.length));
    // hand the input back (transfer): garbage then collects in one isolate, not in every worker
    if (isZero) { parentPort.postMessage({ id: m.id, zero: true, buf: m.buf }, [m.buf]); return; }
    const r = store(data);
    parentPort.postMessage({ id: m.id, ...r, buf: m.buf }, [m.buf]);
  } catch (e) {
    parentPort.postMessage({ id: m.id, error: { code: e && e.code, message: String(e && e.message || e) } });
  }
});
`;
