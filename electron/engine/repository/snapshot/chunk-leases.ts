/** A chunk's verified plain data, valid until `release()` (call it exactly once, after the last use). */
export interface ChunkLease {
  /** Read-only view of the chunk (for a pooled lease: of a page-aligned slot shared with the workers). */
  readonly data: Buffer;
  release(): void;
}

/** What leasing needs of the worker pool (ChunkPool has this shape). */
export interface LeasePool {
  /** A free slot right now, or undefined (never waits, so a lease can never deadlock on slots). */
  tryAcquireSlot(): number | undefined;
  releaseSlot(k: number): void;
  /** Free slots right now. */
  readonly freeSlotCount: number;
  /** Loads and verifies a chunk into slot `k` on a worker; resolves to the view of its data. */
  loadSlot(digest: string, k: number): Promise<Buffer>;
  /** Loads and verifies a chunk on a worker into a new buffer (when no slot is free). */
  load(digest: string): Promise<Buffer>;
}

/** Options of {@link ChunkLeases}. */
export interface ChunkLeasesOptions {
  /** Chunks loaded ahead of a sequential reader. Default 3. */
  readAhead?: number;
  /** Most slots held at once (leases beyond this load into new buffers). Default 16. */
  maxSlots?: number;
  /** Read-ahead only while more than this many slots of the pool are free. Default 6. */
  reserve?: number;
  /** Called whenever no lease is held by a caller any more (read-ahead may still hold slots). */
  onIdle?: () => void;
  /** Makes sure a chunk's file is here before it is loaded (a remote repository fetches it). */
  ensureChunk?: (digest: string) => Promise<void>;
}

interface Entry {
  p: Promise<Buffer>;
  /** The pool the slot belongs to. */
  pool: LeasePool;
  slot: number | undefined;
  /** Holders: callers' leases, plus one for an unclaimed read-ahead. */
  refs: number;
  /** Loaded by read-ahead and not yet claimed: the first lease takes over its reference. */
  ahead: boolean;
}

/**
 * Ref-counted leases of chunks loaded and verified on the worker threads straight into slots of
 * the pool's page-aligned arena: nothing is allocated or copied per chunk, and concurrent leases
 * of one chunk (neighbouring read windows share boundary chunks) share one load and one slot.
 * A sequential reader gets the next `readAhead` chunks loaded ahead. When no slot is free (or
 * `maxSlots` are held), a lease loads into a new buffer instead of waiting, so a caller holding
 * many leases can never deadlock. Every load is verified against its digest by the worker.
 */
export class ChunkLeases {
  private readonly entries = new Map<number, Entry>();
  private readonly readAhead: number;
  private readonly maxSlots: number;
  private readonly reserve: number;
  private slotsHeld = 0;
  /** Leases handed out and not yet released. */
  private held = 0;
  private last = -2;

  constructor(
    private readonly pool: () => LeasePool,
    /** Digest of chunk `i` (undefined for a zero chunk or beyond the end). */
    private readonly digestOf: (i: number) => string | undefined,
    /** Turns a load error into the caller's error (adds the snapshot). */
    private readonly wrap: (e: unknown, digest: string) => unknown,
    private readonly opts: ChunkLeasesOptions = {},
  ) {
    this.readAhead = opts.readAhead ?? 3;
    this.maxSlots = opts.maxSlots ?? 16;
    this.reserve = opts.reserve ?? 6;
  }

  /** Leases handed out and not yet released (for tests and idle detection). */
  get outstanding(): number {
    return this.held;
  }

  /** Slots held (by leases and unclaimed read-ahead). */
  get slotsInUse(): number {
    return this.slotsHeld;
  }

  /** Leases chunk `i` (must have a digest). Rejects with the load's error (CHUNK_CORRUPT, CHUNK_MISSING…). */
  lease(i: number): Promise<ChunkLease> {
    const digest = this.digestOf(i);
    if (!digest) return Promise.reject(new Error(`chunk ${i} has no data to lease`));
    let e = this.entries.get(i);
    if (e?.ahead) e.ahead = false;
    else if (e) e.refs++;
    else e = this.start(i, digest, false);
    const sequential = i === this.last + 1 || i === this.last;
    this.last = i;
    if (sequential) for (let j = i + 1; j <= i + this.readAhead; j++) this.prefetch(j);
    else this.dropAhead();
    const entry = e;
    this.held++;
    return entry.p.then(
      (data) => {
        let done = false;
        return {
          data,
          release: () => {
            if (done) return;
            done = true;
            this.held--;
            this.unref(i, entry);
            if (this.held === 0) this.opts.onIdle?.();
          },
        };
      },
      (err: unknown) => {
        this.held--;
        if (this.held === 0) this.opts.onIdle?.();
        throw err;
      },
    );
  }

  /** Gives back the slots of read-ahead nobody claimed (idle reader, jump elsewhere, close). */
  dropAhead(): void {
    for (const [i, e] of this.entries) {
      if (!e.ahead) continue;
      e.ahead = false;
      this.entries.delete(i);
      e.p.then(
        () => this.unref(i, e),
        () => {},
      );
    }
  }

  private prefetch(j: number): void {
    if (this.entries.has(j)) return;
    const digest = this.digestOf(j);
    if (!digest) return;
    const pool = this.pool();
    if (pool.freeSlotCount <= this.reserve || this.slotsHeld >= this.maxSlots) return;
    this.start(j, digest, true);
  }

  private start(i: number, digest: string, ahead: boolean): Entry {
    const pool = this.pool();
    const slot = this.slotsHeld < this.maxSlots ? pool.tryAcquireSlot() : undefined;
    if (slot !== undefined) this.slotsHeld++;
    const e: Entry = { p: undefined as unknown as Promise<Buffer>, pool, slot, refs: 1, ahead };
    const ensure = this.opts.ensureChunk;
    const load = () => (slot !== undefined ? pool.loadSlot(digest, slot) : pool.load(digest));
    e.p = (ensure ? ensure(digest).then(load) : load()).catch((err: unknown) => {
      // the worker is done with the slot: give it back now; nobody gets this entry's data
      if (this.entries.get(i) === e) this.entries.delete(i);
      this.freeSlot(e);
      throw this.wrap(err, digest);
    });
    e.p.catch(() => {}); // read-ahead nobody claims must not be an unhandled rejection
    this.entries.set(i, e);
    return e;
  }

  private unref(i: number, e: Entry): void {
    if (--e.refs > 0) return;
    if (this.entries.get(i) === e) this.entries.delete(i);
    this.freeSlot(e);
  }

  private freeSlot(e: Entry): void {
    if (e.slot === undefined) return;
    const k = e.slot;
    e.slot = undefined;
    this.slotsHeld--;
    e.pool.releaseSlot(k);
  }
}
