import { Worker } from 'node:worker_threads';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { dirname } from 'node:path';
import { AppError } from '../../../../shared/errors/app-error.js';
import { mapFsError } from '../fs-util.js';
import { chunkSealKeys } from './chunk-codec.js';
import type { ChunkWorkerData } from './chunk-worker.js';
import type { RepoKeys } from '../crypto/repo-keys.js';

/**
 * The chunk worker (chunk-worker.ts) built into one script by chunk-worker-build.cjs: defined by
 * the builds of dist/app and of the CLI bundle; undefined when the engine runs from its sources.
 */
declare const TWINSNAP_CHUNK_WORKER_JS: string | undefined;
let workerScriptFromSources: string | undefined;

/**
 * The chunk worker's script. From the sources (Vitest, tsx) it is built here once per process
 * with esbuild (a development dependency, present wherever the sources run).
 */
function chunkWorkerScript(): string {
  if (typeof TWINSNAP_CHUNK_WORKER_JS === 'string') return TWINSNAP_CHUNK_WORKER_JS;
  if (workerScriptFromSources === undefined) {
    const req = createRequire(import.meta.url);
    const { buildChunkWorker } = req('./chunk-worker-build.cjs') as { buildChunkWorker: (esbuild: unknown) => { script: string } };
    workerScriptFromSources = buildChunkWorker(req('esbuild')).script;
  }
  return workerScriptFromSources;
}

/** What storing one chunk produced. */
export type StoreResult =
  | { zero: true }
  | {
      zero?: false;
      digest: string;
      written: boolean;
      storedBytes: number;
      file?: string;
      /** Fingerprint of the chunk (see snapshot/fingerprints.ts). */
      fp: string;
      /** True when the previous snapshot's digest was reused on a fingerprint match (not re-hashed). */
      reused?: boolean;
    };

/** The previous snapshot's chunk at the same offset: its fingerprint and digest. */
export interface PreviousChunk {
  fp: string;
  digest: string;
}

/** Chunk-sized slots of the shared arena (a backup uses ≤ 9, an export ≤ 8; more callers wait). */
const ARENA_SLOTS = 24;

/**
 * Page-aligned memory shared with the workers: WebAssembly memory is page-aligned by construction
 * (malloc'd ArrayBuffers start 16 bytes past a page boundary), and the kernel copies between the
 * page cache and a buffer misaligned with it at ~3× the CPU (measured: 0.58 vs 0.16 ms per MiB
 * read on the 2-core AMD box). Shared, so chunks never travel: only slot numbers do.
 */
function sharedArena(bytes: number): SharedArrayBuffer {
  const pages = Math.ceil(bytes / 65536);
  const Memory = (globalThis as unknown as { WebAssembly: { Memory: new (d: { initial: number; maximum: number; shared: boolean }) => { buffer: SharedArrayBuffer } } }).WebAssembly.Memory;
  try {
    return new Memory({ initial: pages, maximum: pages, shared: true }).buffer;
  } catch {
    return new SharedArrayBuffer(bytes); // no shared WebAssembly memory: correct, only slower
  }
}

interface Pending {
  resolve: (r: never) => void;
  reject: (e: unknown) => void;
}

/** Options of ChunkPool. */
export interface ChunkPoolOptions {
  chunksDir: string;
  chunkSize: number;
  level: number;
  /** Worker count (default: available cores, at most 4). */
  workers?: number;
  /**
   * The repository's two XXH64 seeds of chunk fingerprints (see snapshot/fingerprints.ts).
   * Required for a pool that stores chunks; a pool that only loads may leave it out.
   */
  fingerprintSeeds?: [bigint, bigint];
  /** The keys of an encrypted repository: chunks are named by HMAC and sealed (see chunk-codec.ts). */
  keys?: RepoKeys;
  /** Test hook: fail with ENOSPC after this many chunk writes (env TWINSNAP_FAULT_ENOSPC_AFTER). */
  faultEnospcAfter?: number;
}

/**
 * A pool of worker threads that hash, compress and write chunks (see chunk-worker.ts).
 * Chunk data lives in slots of a page-aligned arena shared with the workers: a caller takes a
 * slot (`acquireSlot`), fills it (`slot(k)`), has it stored (`storeSlot`) or has a chunk decoded
 * into it (`loadSlot`), and gives it back (`releaseSlot`). Caller must `close()` the pool.
 */
export class ChunkPool {
  private readonly workers: Worker[] = [];
  private readonly pending = new Map<number, Pending>();
  private readonly busy: number[] = [];
  private nextId = 0;
  private closed = false;
  private readonly arena: SharedArrayBuffer;
  private readonly chunkSize: number;
  private readonly freeSlots: number[] = [];
  private readonly slotWaiters: ((k: number) => void)[] = [];

  constructor(opts: ChunkPoolOptions) {
    this.chunkSize = opts.chunkSize;
    this.arena = sharedArena(ARENA_SLOTS * opts.chunkSize);
    for (let k = ARENA_SLOTS - 1; k >= 0; k--) this.freeSlots.push(k);
    const n = opts.workers ?? Math.max(1, Math.min(4, availableParallelism()));
    const script = chunkWorkerScript();
    const envFault = Number(process.env.TWINSNAP_FAULT_ENOSPC_AFTER ?? '-1');
    for (let i = 0; i < n; i++) {
      const workerData: ChunkWorkerData & { requireFrom: string } = {
        requireFrom: import.meta.url,
        fpSeeds: opts.fingerprintSeeds ?? [0n, 0n],
        arena: this.arena,
        chunksDir: opts.chunksDir,
        chunkSize: opts.chunkSize,
        level: opts.level,
        faultEnospcAfter: opts.faultEnospcAfter ?? envFault,
        enc: chunkSealKeys(opts.keys),
      };
      const w = new Worker(script, { eval: true, workerData });
      w.on('message', (m: { id: number; error?: { code?: string; message: string }; plain?: ArrayBuffer; len?: number } & Record<string, unknown>) => {
        this.busy[i]!--;
        // keep the process alive only while work is pending (an idle pool never blocks exit)
        if (this.busy[i] === 0) w.unref();
        const p = this.pending.get(m.id);
        if (!p) return;
        this.pending.delete(m.id);
        if (m.error) {
          const err = Object.assign(new Error(m.error.message), { code: m.error.code });
          if (m.error.code === 'TS_CHUNK_CORRUPT') p.reject(new AppError('CHUNK_CORRUPT', m.error.message));
          else p.reject(mapFsError(err, 'writing a chunk'));
        } else p.resolve((m.plain ? Buffer.from(m.plain, 0, m.len) : m) as never);
      });
      w.on('error', (e) => this.failAll(e));
      w.unref();
      this.workers.push(w);
      this.busy.push(0);
    }
  }

  /** Number of workers. */
  get size(): number {
    return this.workers.length;
  }

  /** Takes a free slot of the arena (waits while all are in use). */
  acquireSlot(): Promise<number> {
    const k = this.freeSlots.pop();
    if (k !== undefined) return Promise.resolve(k);
    return new Promise((resolve) => this.slotWaiters.push(resolve));
  }

  /** Takes a free slot of the arena if one is free right now (never waits). */
  tryAcquireSlot(): number | undefined {
    return this.freeSlots.pop();
  }

  /** Slots of the arena that are free right now (all of them when no caller holds one). */
  get freeSlotCount(): number {
    return this.freeSlots.length;
  }

  /** Slots of the arena in all. */
  get slotCount(): number {
    return ARENA_SLOTS;
  }

  /** Gives a slot back. */
  releaseSlot(k: number): void {
    const waiter = this.slotWaiters.shift();
    if (waiter) waiter(k);
    else this.freeSlots.push(k);
  }

  /** The first `length` bytes (default: the chunk size) of slot `k`, as a view (page-aligned). */
  slot(k: number, length = this.chunkSize): Buffer {
    return Buffer.from(this.arena, k * this.chunkSize, length);
  }

  /**
   * Stores the first `length` bytes of slot `k` as a chunk; the slot stays the caller's. With
   * `prev`, a chunk whose fingerprint matches reuses `prev.digest` without being hashed.
   */
  storeSlot(k: number, length: number, prev?: PreviousChunk): Promise<StoreResult> {
    return this.request((id) => ({ msg: prev ? { id, slot: k, len: length, prev } : { id, slot: k, len: length } }));
  }

  /**
   * Loads and verifies one chunk into slot `k` (restores use both cores); resolves to the view
   * of its plain data. Errors: CHUNK_MISSING, CHUNK_CORRUPT, naming the chunk.
   */
  loadSlot(digest: string, k: number): Promise<Buffer> {
    return this.request<{ len: number }>((id) => ({ msg: { id, load: digest, slot: k } }), digest).then((r) => this.slot(k, r.len));
  }

  private request<T>(make: (id: number) => { msg: unknown }, digest?: string): Promise<T> {
    if (this.closed) return Promise.reject(new AppError('INTERNAL', 'chunk pool is closed'));
    const id = this.nextId++;
    let best = 0;
    for (let i = 1; i < this.busy.length; i++) if (this.busy[i]! < this.busy[best]!) best = i;
    if (this.busy[best]!++ === 0) this.workers[best]!.ref();
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, {
        resolve: resolve as (r: never) => void,
        reject: (e: unknown) =>
          reject(digest && (e as { code?: string }).code === 'ENOENT' ? new AppError('CHUNK_MISSING', `chunk ${digest} is missing from the repository`, { details: { digest } }) : e),
      });
      this.workers[best]!.postMessage(make(id).msg);
    });
  }

  /**
   * Loads and verifies one chunk into a new buffer (random access through the chunk cache).
   * Errors: CHUNK_MISSING, CHUNK_CORRUPT, naming the chunk.
   */
  load(digest: string): Promise<Buffer> {
    return this.request((id) => ({ msg: { id, load: digest } }), digest);
  }

  /**
   * Makes the given chunk files and their folders durable: one `syncfs` of the repository's
   * file system where available (Linux, `sync -f`), else fsync of each file and folder, spread
   * over the workers. Called once per backup, before its snapshot is committed.
   */
  async makeDurable(files: string[], syncfs: () => Promise<boolean>): Promise<void> {
    if (files.length === 0) return;
    if (await syncfs().catch(() => false)) return;
    const dirs = [...new Set(files.map((f) => dirname(f)))].map((d) => [d, dirname(d)]).flat();
    const all = [...files, ...new Set(dirs)];
    const per = Math.ceil(all.length / this.workers.length);
    await Promise.all(
      this.workers.map((w, i) => {
        const part = all.slice(i * per, (i + 1) * per);
        if (!part.length) return Promise.resolve();
        const id = this.nextId++;
        if (this.busy[i]!++ === 0) w.ref();
        return new Promise<void>((resolve, reject) => {
          this.pending.set(id, { resolve: resolve as (r: never) => void, reject });
          w.postMessage({ id, fsync: part });
        });
      }),
    );
  }

  private failAll(e: unknown): void {
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
  }

  /** Terminates the workers. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.failAll(new AppError('CANCELLED', 'chunk pool closed'));
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
