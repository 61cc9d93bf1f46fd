import { crc32c } from '../core/crc32c.js';
import { corrupt } from '../core/disk-error.js';
import type { FileSource } from '../core/file-source.js';
import { MiB, type VhdxHeader } from './vhdx-structures.js';

const SECTOR = 4096;
/** Most overlay pages a replay may produce (4 GiB of 4 KiB pages would be absurd). */
const MAX_OVERLAY_PAGES = 256 * 1024;
/** Largest log we load (Hyper-V and QEMU use 1 MiB). */
const MAX_LOG_BYTES = 256 * MiB;

/** A validated log entry. */
interface LogEntry {
  /** Position in the log (bytes from the log start). */
  pos: number;
  length: number;
  seq: bigint;
  flushedFileOffset: number;
  lastFileOffset: number;
  bytes: Buffer;
}

/**
 * Replays the VHDX log in memory (MS-VHDX §2.3): finds the active sequence (the valid chain of
 * entries with the highest sequence number) and returns its writes as an overlay of 4 KiB
 * pages, plus the logical file end. The user's file is never written.
 */
export async function replayLog(src: FileSource, h: VhdxHeader): Promise<{ pages: Map<number, Buffer>; end: number }> {
  const file = src.path;
  const logLen = h.logLength;
  if (logLen === 0 || logLen > MAX_LOG_BYTES || logLen % MiB !== 0 || h.logOffset < MiB || h.logOffset % MiB !== 0 || h.logOffset + logLen > src.size) {
    corrupt(file, 'log', `log region ${h.logOffset}+${logLen} is invalid`);
  }
  const log = await src.readStrict(h.logOffset, logLen, 'log');
  const entries = new Map<number, LogEntry>();
  for (let pos = 0; pos < logLen; pos += SECTOR) {
    const e = parseEntry(log, pos, h);
    if (e) entries.set(pos, e);
  }
  // The active sequence: the longest chain of consecutive sequence numbers, highest last seq wins.
  let best: LogEntry[] = [];
  const hasPredecessor = new Set<number>();
  for (const e of entries.values()) {
    const next = entries.get((e.pos + e.length) % logLen);
    if (next && next.seq === e.seq + 1n) hasPredecessor.add(next.pos);
  }
  for (const start of entries.values()) {
    if (hasPredecessor.has(start.pos)) continue;
    const chain = [start];
    let cur = start;
    while (chain.length <= entries.size) {
      const next = entries.get((cur.pos + cur.length) % logLen);
      if (!next || next.seq !== cur.seq + 1n) break;
      chain.push(next);
      cur = next;
    }
    const last = chain[chain.length - 1].seq;
    if (best.length === 0 || last > best[best.length - 1].seq) best = chain;
  }
  const pages = new Map<number, Buffer>();
  if (best.length === 0) return { pages, end: src.size };
  const final = best[best.length - 1];
  if (final.flushedFileOffset > src.size) corrupt(file, 'log entry', `flushed file offset ${final.flushedFileOffset} is past the end of the file (${src.size}); the file is truncated`);
  for (const e of best) applyEntry(e, pages, file);
  return { pages, end: Math.max(src.size, final.lastFileOffset) };
}

function readWrapped(log: Buffer, pos: number, len: number): Buffer {
  if (pos + len <= log.length) return log.subarray(pos, pos + len);
  const out = Buffer.allocUnsafe(len);
  const first = log.length - pos;
  log.copy(out, 0, pos);
  log.copy(out, first, 0, len - first);
  return out;
}

function parseEntry(log: Buffer, pos: number, h: VhdxHeader): LogEntry | undefined {
  if (log.toString('latin1', pos, pos + 4) !== 'loge') return undefined;
  const length = log.readUInt32LE(pos + 8);
  if (length < SECTOR || length % SECTOR !== 0 || length > log.length) return undefined;
  if (!log.subarray(pos + 32, pos + 48).equals(h.logGuidBytes)) return undefined;
  const bytes = Buffer.from(readWrapped(log, pos, length));
  const stored = bytes.readUInt32LE(4);
  bytes.writeUInt32LE(0, 4);
  if (crc32c(bytes) !== stored) return undefined;
  bytes.writeUInt32LE(stored, 4);
  const seq = bytes.readBigUInt64LE(16);
  const count = bytes.readUInt32LE(24);
  const descSectors = Math.ceil((64 + count * 32) / SECTOR);
  let dataSectors = 0;
  for (let i = 0; i < count; i++) {
    const o = 64 + i * 32;
    if (o + 32 > bytes.length) return undefined;
    const sig = bytes.toString('latin1', o, o + 4);
    if (sig === 'desc') dataSectors++;
    else if (sig !== 'zero') return undefined;
    if (bytes.readBigUInt64LE(o + 24) !== seq) return undefined;
  }
  if ((descSectors + dataSectors) * SECTOR > length) return undefined;
  const safe = (v: bigint) => (v > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(v));
  return { pos, length, seq, flushedFileOffset: safe(bytes.readBigUInt64LE(48)), lastFileOffset: safe(bytes.readBigUInt64LE(56)), bytes };
}

function applyEntry(e: LogEntry, pages: Map<number, Buffer>, file: string): void {
  const b = e.bytes;
  const count = b.readUInt32LE(24);
  let dataAt = Math.ceil((64 + count * 32) / SECTOR) * SECTOR;
  const lowSeq = Number(e.seq & 0xffffffffn);
  const highSeq = Number(e.seq >> 32n);
  for (let i = 0; i < count; i++) {
    const o = 64 + i * 32;
    const fileOffset = Number(b.readBigUInt64LE(o + 16));
    if (fileOffset % SECTOR !== 0 || !Number.isSafeInteger(fileOffset)) corrupt(file, 'log descriptor', `file offset ${fileOffset} is not 4 KiB aligned`);
    if (b.toString('latin1', o, o + 4) === 'desc') {
      const d = b.subarray(dataAt, dataAt + SECTOR);
      if (d.toString('latin1', 0, 4) !== 'data' || d.readUInt32LE(4) !== highSeq || d.readUInt32LE(4092) !== lowSeq) {
        corrupt(file, 'log data sector', `data sector of descriptor ${i} has a bad signature or sequence number`);
      }
      const page = Buffer.allocUnsafe(SECTOR);
      b.copy(page, 0, o + 8, o + 16); // leading bytes
      d.copy(page, 8, 8, 4092);
      b.copy(page, 4092, o + 4, o + 8); // trailing bytes
      pages.set(fileOffset, page);
      dataAt += SECTOR;
    } else {
      const zeroLength = Number(b.readBigUInt64LE(o + 8));
      if (zeroLength % SECTOR !== 0 || pages.size + zeroLength / SECTOR > MAX_OVERLAY_PAGES) corrupt(file, 'log zero descriptor', `zero length ${zeroLength} is invalid or too large`);
      const zero = Buffer.alloc(SECTOR);
      for (let p = 0; p < zeroLength; p += SECTOR) pages.set(fileOffset + p, zero);
    }
    if (pages.size > MAX_OVERLAY_PAGES) corrupt(file, 'log', 'replay would produce too many pages');
  }
}
