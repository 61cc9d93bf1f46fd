import { Worker } from 'node:worker_threads';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { dirname } from 'node:path';
import { AppError } from '../../../../shared/errors/app-error.js';
import { mapFsError } from '../fs-util.js';
import { CHUNK_WORKER_SOURCE } from './chunk-worker-source.js';

/** What storing one chunk produced; `buf` is the caller's buffer handed back for reuse. */
export type StoreResult = ({ zero: true } | { zero?: false; digest: string; written: boolean; storedBytes: number; file?: string }) & { buf?: ArrayBuffer };

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
  /** Test hook: fail with ENOSPC after this many chunk writes (env TWINSNAP_FAULT_ENOSPC_AFTER). */
  faultEnospcAfter?: number;
}

/**
 * A pool of worker threads that hash, compress and write chunks (see chunk-worker-source.ts).
 * `store()` hands a buffer over (transferred, not copied); callers bound how many are in flight.
 * Caller must `close()` it.
 */
export class ChunkPool {
  private readonly workers: Worker[] = [];
  private readonly pending = new Map<number, Pending>();
  private readonly busy: number[] = [];
  private nextId = 0;
  private closed = false;

  constructor(opts: ChunkPoolOptions) {
    const n = opts.workers ?? Math.max(1, Math.min(4, availableParallelism()));
    const zstdBindingPath = createRequire(import.meta.url).resolve('zstd-napi/binding');
    const envFault = Number(process.env.TWINSNAP_FAULT_ENOSPC_AFTER ?? '-1');
    for (let i = 0; i < n; i++) {
      const w = new Worker(CHUNK_WORKER_SOURCE, {
        eval: true,
        workerData: { zstdBindingPath, chunksDir: opts.chunksDir, chunkSize: opts.chunkSize, level: opts.level, faultEnospcAfter: opts.faultEnospcAfter ?? envFault },
      });
      w.on('message', (m: { id: number; error?: { code?: string; message: string }; buf?: ArrayBuffer; plain?: ArrayBuffer; len?: number } & Record<string, unknown>) => {
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

  /**
   * Stores one chunk's plain data. The buffer must not be used afterwards (it is transferred);
   * when it owned its whole ArrayBuffer, that comes back as `result.buf` for the next chunk.
   */
  store(data: Buffer): Promise<StoreResult> {
    if (this.closed) return Promise.reject(new AppError('INTERNAL', 'chunk pool is closed'));
    const id = this.nextId++;
    // transfer when the buffer owns its whole ArrayBuffer, else copy once
    const own = data.byteOffset === 0 && data.byteLength === data.buffer.byteLength && data.buffer instanceof ArrayBuffer;
    const ab = own ? (data.buffer as ArrayBuffer) : new Uint8Array(data).buffer;
    let best = 0;
    for (let i = 1; i < this.busy.length; i++) if (this.busy[i]! < this.busy[best]!) best = i;
    if (this.busy[best]!++ === 0) this.workers[best]!.ref();
    return new Promise<StoreResult>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.workers[best]!.postMessage({ id, buf: ab, len: data.byteLength }, [ab]);
    });
  }

  /**
   * Loads and verifies one chunk on a worker (restores use both cores). The plain data is
   * decoded straight into `into` when given (transferred: the result is a view of it, the caller
   * hands it back on the next call), else into a new buffer. Errors: CHUNK_MISSING,
   * CHUNK_CORRUPT, naming the chunk.
   */
  load(digest: string, into?: ArrayBuffer): Promise<Buffer> {
    if (this.closed) return Promise.reject(new AppError('INTERNAL', 'chunk pool is closed'));
    const id = this.nextId++;
    let best = 0;
    for (let i = 1; i < this.busy.length; i++) if (this.busy[i]! < this.busy[best]!) best = i;
    if (this.busy[best]!++ === 0) this.workers[best]!.ref();
    return new Promise<Buffer>((resolve, reject) => {
      this.pending.set(id, {
        resolve: resolve as (r: never) => void,
        reject: (e: unknown) =>
          reject(
            (e as { code?: string }).code === 'ENOENT'
              ? new AppError('CHUNK_MISSING', `chunk ${digest} is missing from the repository`, { details: { digest } })
              : e,
          ),
      });
      if (into) this.workers[best]!.postMessage({ id, load: digest, buf: into }, [into]);
      else this.workers[best]!.postMessage({ id, load: digest });
    });
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
