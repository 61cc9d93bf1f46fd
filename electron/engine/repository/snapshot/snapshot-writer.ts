import { nameGuestId, type GuestId } from '../../../../shared/domain/guest-id.js';
import { mkdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { AppError } from '../../../../shared/errors/app-error.js';
import type { Consistency, TwinRecord } from '../../../../shared/domain/snapshot.js';
import type { VirtualDisk } from '../../disk/virtual-disk.js';
import { systemClock } from '../../core/clock.js';
import { timeId } from '../../core/ids.js';
import type { ChunkPool } from '../chunks/chunk-pool.js';
import { sha256 } from '../chunks/chunk-codec.js';
import { ChunkMap } from '../index/chunk-map.js';
import { encodeFixedIndex } from '../index/fixed-index.js';
import { OWNER_DIR_MODE } from '../../core/owner-only.js';
import { fsyncDir, mapFsError, writeFileAtomic } from '../fs-util.js';
import type { RepoLayout } from '../layout.js';
import { sealObject, snapshotObjectName } from '../crypto/sealed-files.js';
import { acquireLock } from '../locks/lock-file.js';
import { fileDataMap } from '../chunks/file-data-map.js';
import { afterCleanup, removeWrittenChunks } from './failed-backup-cleanup.js';
import { encodeFingerprints, fingerprintPath, previousChunks, type PreviousChunks } from './fingerprints.js';
import { encodeManifest, safeName, type Manifest, type ManifestConfigFile, type ManifestDisk } from './manifest.js';

/** A disk to back up. The caller keeps ownership of `disk` (and closes it). */
export interface SnapshotDiskInput {
  name: string;
  disk: VirtualDisk;
  sourceFormat?: string;
  /** Original file name (for restoring the VM folder); defaults to `name`. */
  fileName?: string;
}

/** A VM configuration file to keep with the snapshot: a path to read or the content. */
export interface ConfigFileInput {
  name: string;
  path?: string;
  data?: Buffer | string;
}

/** What `createSnapshot` needs. */
export interface CreateSnapshotInput {
  /** The guest's identity (default `name:<guest>`: a guest known only by its name). */
  guestId?: GuestId;
  /** The guest's display name now (a label). */
  guest: string;
  consistency: Consistency;
  /** Time of the freeze; defaults to now. */
  timeMs?: number;
  pauseMs?: number;
  jobId?: string;
  /** What the backup recorded about its twin (isolation, shutdown method, host bytes). */
  twin?: TwinRecord;
  /** Workflow log lines to keep in the manifest. */
  log?: string[];
  configFiles?: ConfigFileInput[];
  disks: SnapshotDiskInput[];
}

/** Progress of a running backup: `bytesDone`/`bytesTotal` of the current disk, `all*` of the whole snapshot. */
export interface SnapshotProgress {
  disk: string;
  bytesDone: number;
  bytesTotal: number;
  allDone: number;
  allTotal: number;
  newBytes: number;
}

/** Options of `createSnapshot`. */
export interface CreateSnapshotOptions {
  onProgress?: (p: SnapshotProgress) => void;
  signal?: AbortSignal;
}

interface WriterDeps {
  layout: RepoLayout;
  pool: ChunkPool;
  chunkSize: number;
  now: () => number;
  /** One syncfs of the repository's file system; false when not available. */
  syncfs: () => Promise<boolean>;
  /** Ids of the committed snapshots (to find the previous snapshot of a disk). */
  snapshotIds: () => Promise<string[]>;
  /** Digests referenced by a committed snapshot (a failed backup keeps those chunks). */
  referencedDigests: (id: string) => Promise<Set<string>>;
}

/** Max chunks in flight per backup (each holds one arena slot while a worker stores it). */
const IN_FLIGHT = 8;

/** New chunk bytes after which a backup starts a background syncfs (see EarlyWriteback). */
const WRITEBACK_EVERY = 256 * 1024 * 1024;

/**
 * Starts writing new chunks to disk while the backup runs: every WRITEBACK_EVERY bytes of new
 * chunks, one `syncfs` in the background (never two at once). Durability still comes from the
 * final `makeDurable` before the commit; this only overlaps the disk writes with hashing and
 * compressing instead of paying for all of them at the end (a machine with much RAM would
 * otherwise keep gigabytes dirty until then).
 */
class EarlyWriteback {
  private pending = 0;
  private running: Promise<unknown> | undefined;

  constructor(private readonly syncfs: () => Promise<boolean>) {}

  /** Counts `bytes` of new chunk files; may start a background flush. */
  add(bytes: number): void {
    this.pending += bytes;
    if (this.pending < WRITEBACK_EVERY || this.running) return;
    this.pending = 0;
    this.running = this.syncfs()
      .catch(() => false)
      .finally(() => (this.running = undefined));
  }

  /** Waits for a running flush (so no child process outlives the backup). */
  async settle(): Promise<void> {
    await this.running;
  }
}

/** Extents are asked for in windows of this many bytes (a multiple of every chunk size). */
const EXTENT_WINDOW = 2 ** 40;

/** The disk's `extents()` data ranges, asked for in windows so a huge thin disk never costs a list over its whole size. */
async function* extentRanges(disk: VirtualDisk): AsyncGenerator<{ offset: number; length: number }> {
  for (let at = 0; at < disk.size; at += EXTENT_WINDOW) {
    for (const e of await disk.extents(at, Math.min(EXTENT_WINDOW, disk.size - at))) if (e.kind === 'data') yield e;
  }
}

/**
 * The data ranges of a disk, in order: what `extents()` reports as data (zero/unallocated ranges
 * are never read) and, for a plain raw image file, also what the file system stores (FIEMAP:
 * holes are never read either).
 */
async function* dataRanges(disk: VirtualDisk): AsyncGenerator<{ offset: number; length: number }> {
  const link = disk.chain[0];
  let map: { offset: number; length: number }[] | undefined;
  if (disk.format === 'raw' && disk.chain.length === 1 && link && link.format === 'raw' && !link.subformat) {
    const st = await stat(link.path).catch(() => undefined);
    if (st?.isFile() && st.size === disk.size) map = await fileDataMap(link.path, disk.size);
  }
  if (!map) {
    yield* extentRanges(disk);
    return;
  }
  // both lists are sorted and disjoint: walk them together and yield their overlaps
  let k = 0;
  for await (const e of extentRanges(disk)) {
    const end = e.offset + e.length;
    while (k < map.length && map[k]!.offset + map[k]!.length <= e.offset) k++;
    for (let j = k; j < map.length && map[j]!.offset < end; j++) {
      const from = Math.max(e.offset, map[j]!.offset);
      const to = Math.min(end, map[j]!.offset + map[j]!.length);
      if (to > from) yield { offset: from, length: to - from };
    }
  }
}

/**
 * Runs of chunks `[first, end)` that may hold data, in order and disjoint; every chunk outside
 * them is entirely zero/unallocated. Memory: one run at a time, whatever the disk size.
 */
async function* dataChunkRuns(disk: VirtualDisk, chunkSize: number): AsyncGenerator<[number, number]> {
  let run: [number, number] | undefined;
  for await (const r of dataRanges(disk)) {
    if (r.length <= 0) continue;
    const first = Math.floor(r.offset / chunkSize);
    const end = Math.ceil(Math.min(r.offset + r.length, disk.size) / chunkSize);
    if (run && first <= run[1]) run[1] = Math.max(run[1], end);
    else {
      if (run) yield run;
      run = [first, end];
    }
  }
  if (run) yield run;
}

/** A disk that reads into a caller's buffer (the disk layer's readers do; optional in the port). */
interface ReadIntoDisk {
  readInto(buf: Buffer, pos: number, offset: number, length: number): Promise<void>;
}

function canReadInto(d: VirtualDisk): d is VirtualDisk & ReadIntoDisk {
  return typeof (d as Partial<ReadIntoDisk>).readInto === 'function';
}

/**
 * Backs up one disk into the chunk store; returns its index and counters.
 *
 * Per chunk: zero/unallocated chunks (extents; holes of a raw image file) are skipped unread; the
 * rest is read into a slot of the pool's page-aligned arena shared with the workers, checked for
 * all-zero here (memcmp: a zero chunk never goes to a worker) and stored by a worker (hash, dedup,
 * compress, write) in place. No buffer is allocated or copied per chunk, so the garbage collector
 * has nothing to do and memory stays flat whatever the disk size. With `prev` (the previous
 * snapshot of this disk), a chunk whose fingerprint is unchanged reuses its digest unhashed.
 */
async function writeDisk(
  d: WriterDeps,
  input: SnapshotDiskInput,
  name: string,
  progress: { done: number; total: number; newBytes: number },
  opts: CreateSnapshotOptions,
  written: string[],
  writeback: EarlyWriteback,
  prev: PreviousChunks | undefined,
): Promise<{ index: Buffer; fingerprints: Buffer; disk: Omit<ManifestDisk, 'index' | 'indexSha256'> }> {
  const { disk } = input;
  const cs = d.chunkSize;
  const map = new ChunkMap(cs, disk.size);
  const n = map.chunks;
  // the previous snapshot's chunk i covers the same bytes when both are whole chunks or the sizes match
  const prevWhole = prev ? Math.floor(prev.size / cs) : 0;
  const prevAt = (i: number) => {
    if (!prev || i >= prev.chunks.chunks || (prev.size !== disk.size && (i >= prevWhole || (i + 1) * cs > disk.size))) return undefined;
    const digest = prev.chunks.digestAt(i);
    const fp = digest ? prev.chunks.fingerprintAt(i) : undefined;
    return digest && fp ? { digest, fp } : undefined;
  };
  let unchanged = 0;
  let dataCount = 0;
  let newBytes = 0;
  let dataBytes = 0;
  const inflight = new Set<Promise<void>>();
  let failure: unknown;
  const startDone = progress.done;
  const zero = Buffer.alloc(cs);
  const direct = canReadInto(disk);
  let lastReport = 0;
  const report = (force = false) => {
    // every 16 chunks and at the end: progress is for people, not per MiB
    if (!force && progress.done - lastReport < 16 * cs) return;
    lastReport = progress.done;
    opts.onProgress?.({ disk: name, bytesDone: progress.done - startDone, bytesTotal: disk.size, allDone: progress.done, allTotal: progress.total, newBytes: progress.newBytes });
  };
  const chunkBytes = (first: number, end: number) => Math.min(end * cs, disk.size) - first * cs;
  let next = 0; // chunks before `next` are dispatched or known to be zero
  try {
    for await (const [first, end] of dataChunkRuns(disk, cs)) {
      progress.done += chunkBytes(next, first); // zero/unallocated: never read
      next = end;
      for (let i = first; i < end; i++) {
        if (opts.signal?.aborted) throw new AppError('CANCELLED', 'backup cancelled');
        if (failure) break;
        const off = i * cs;
        const len = Math.min(cs, disk.size - off);
        const slot = await d.pool.acquireSlot();
        const buf = d.pool.slot(slot, len);
        try {
          if (direct) await disk.readInto(buf, 0, off, len);
          else (await disk.read(off, len)).copy(buf);
        } catch (e) {
          d.pool.releaseSlot(slot);
          throw e;
        }
        if (buf.equals(len === cs ? zero : zero.subarray(0, len))) {
          d.pool.releaseSlot(slot);
          progress.done += len;
          report();
          continue;
        }
        const pos = map.append(i); // its place in the index, filled when the worker is done
        const p = d.pool
          .storeSlot(slot, len, prevAt(i))
          .then((r) => {
            if (!r.zero) {
              map.fill(pos, r.digest, r.fp);
              dataCount++;
              if (r.reused) unchanged++;
              if (r.file) {
                written.push(r.file);
                writeback.add(r.storedBytes);
              }
              dataBytes += len;
              newBytes += r.storedBytes;
              progress.newBytes += r.storedBytes;
            }
            progress.done += len;
            report();
          })
          .catch((e) => {
            failure ??= e;
          })
          .finally(() => {
            d.pool.releaseSlot(slot);
            inflight.delete(p);
          });
        inflight.add(p);
        if (inflight.size >= IN_FLIGHT) await Promise.race(inflight);
      }
      if (failure) break;
      report();
    }
    if (!failure) progress.done += chunkBytes(next, n);
  } finally {
    // on every way out, stores already handed to a worker finish first (their files are listed in `written`)
    await Promise.allSettled(inflight);
  }
  if (failure) throw failure;
  if (opts.signal?.aborted) throw new AppError('CANCELLED', 'backup cancelled');
  report(true);
  return {
    index: encodeFixedIndex(map),
    fingerprints: encodeFingerprints(map),
    disk: {
      name,
      fileName: safeName(input.fileName ?? input.name),
      size: disk.size,
      ...(input.sourceFormat ? { sourceFormat: input.sourceFormat } : {}),
      chunkSize: cs,
      chunks: n,
      zeroChunks: n - dataCount,
      dataBytes,
      newBytes,
      ...(prev ? { unchangedChunks: unchanged } : {}),
    },
  };
}

/**
 * Creates a snapshot: takes a writer lock (protects its fresh chunks from GC), writes chunks,
 * then indexes, config files and the manifest into `tmp/<id>/`, fsyncs, and renames the folder
 * to `snapshots/<id>/` — the single atomic step that makes it visible. On any failure the temp
 * folder is removed; if the process dies, GC removes it later (its lock is stale).
 */
export async function createSnapshot(d: WriterDeps, input: CreateSnapshotInput, opts: CreateSnapshotOptions = {}): Promise<Manifest> {
  if (!input.guest.trim()) throw new AppError('INVALID_REQUEST', 'a snapshot needs a guest name');
  if (input.disks.length === 0 && !(input.configFiles ?? []).length) throw new AppError('INVALID_REQUEST', 'a snapshot needs at least one disk or configuration file');
  const start = d.now();
  const id = timeId(input.timeMs ?? start);
  const lockName = `writer-${id}.lock`;
  const startedWall = systemClock.now(); // compared with file mtimes: the wall clock, not the injected one
  const lock = await acquireLock(d.layout.locks, lockName, `backup of '${input.guest}'`, start);
  const tmpDir = join(d.layout.tmp, id);
  const written: string[] = [];
  try {
    await mkdir(join(tmpDir, 'disks'), { recursive: true, mode: OWNER_DIR_MODE }).catch((e) => {
      throw mapFsError(e, 'creating the snapshot folder');
    });
    await mkdir(join(tmpDir, 'config'), { recursive: true, mode: OWNER_DIR_MODE });
    const used = new Set<string>();
    const unique = (n: string) => {
      let s = safeName(n);
      for (let k = 2; used.has(s.toLowerCase()); k++) s = `${safeName(n)}-${k}`;
      used.add(s.toLowerCase());
      return s;
    };
    const progress = { done: 0, total: input.disks.reduce((a, x) => a + x.disk.size, 0), newBytes: 0 };
    const disks: ManifestDisk[] = [];
    const indexes: { rel: string; index: Buffer; fingerprints: Buffer; disk: Omit<ManifestDisk, 'index' | 'indexSha256'> }[] = [];
    const ids = input.disks.length ? await d.snapshotIds() : [];
    const writeback = new EarlyWriteback(d.syncfs);
    try {
      for (const di of input.disks) {
        const name = unique(di.name);
        const prev = await previousChunks(d.layout, ids, input.guestId ?? nameGuestId(input.guest), name, d.chunkSize);
        const { index, fingerprints, disk } = await writeDisk(d, di, name, progress, opts, written, writeback, prev);
        indexes.push({ rel: `disks/${name}.fidx`, index, fingerprints, disk });
      }
    } finally {
      await writeback.settle();
    }
    // every new chunk is durable before anything can reference it
    await d.pool.makeDurable(written, d.syncfs).catch((e) => {
      throw mapFsError(e, 'syncing chunks to disk');
    });
    for (const { rel, index, fingerprints, disk } of indexes) {
      await writeFileAtomic(join(tmpDir, rel), sealObject(d.layout, 'index', snapshotObjectName(id, rel), index), 'writing a disk index');
      await writeFileAtomic(join(tmpDir, fingerprintPath(rel)), sealObject(d.layout, 'fingerprints', snapshotObjectName(id, fingerprintPath(rel)), fingerprints), 'writing chunk fingerprints');
      disks.push({ ...disk, index: rel, indexSha256: sha256(index) });
    }
    const cfgUsed = new Set<string>();
    const configFiles: ManifestConfigFile[] = [];
    for (const cf of input.configFiles ?? []) {
      let name = safeName(cf.name);
      for (let k = 2; cfgUsed.has(name.toLowerCase()); k++) name = `${safeName(cf.name)}-${k}`;
      cfgUsed.add(name.toLowerCase());
      const data = cf.data !== undefined ? Buffer.from(cf.data) : await readFile(cf.path ?? '');
      const rel = `config/${name}`;
      await writeFileAtomic(join(tmpDir, rel), sealObject(d.layout, 'config-file', snapshotObjectName(id, rel), data), 'writing a configuration file');
      configFiles.push({ name, file: rel, size: data.length, sha256: sha256(data) });
    }
    const manifest: Manifest = {
      format: 1,
      id,
      guestId: input.guestId ?? nameGuestId(input.guest),
      guest: input.guest,
      time: new Date(input.timeMs ?? start).toISOString(),
      consistency: input.consistency,
      ...(input.pauseMs !== undefined ? { pauseMs: input.pauseMs } : {}),
      ...(input.jobId ? { jobId: input.jobId } : {}),
      ...(input.twin ? { twin: structuredClone(input.twin) } : {}),
      hostname: hostname(),
      log: input.log ?? [],
      configFiles,
      disks,
    };
    await writeFileAtomic(join(tmpDir, 'manifest.json'), sealObject(d.layout, 'manifest', snapshotObjectName(id, 'manifest.json'), encodeManifest(manifest)), 'writing the manifest');
    fsyncDir(join(tmpDir, 'disks'));
    fsyncDir(join(tmpDir, 'config'));
    fsyncDir(tmpDir);
    await mkdir(d.layout.snapshots, { recursive: true, mode: OWNER_DIR_MODE });
    await rename(tmpDir, d.layout.snapshot(id)).catch((e) => {
      throw mapFsError(e, 'committing the snapshot');
    });
    fsyncDir(d.layout.snapshots);
    return manifest;
  } catch (e) {
    await rm(tmpDir, { recursive: true, force: true }).catch(() => {});
    // still under our writer lock: the chunks only this backup wrote go again (GC's rules)
    const cleaned = await removeWrittenChunks(d, written, lockName, startedWall, systemClock.now()).catch(() => undefined);
    throw afterCleanup(e, cleaned);
  } finally {
    await lock.release();
  }
}
