/**
 * A counting semaphore: at most `limit` holders at a time, FIFO. The job manager shares one per
 * host so that at most `maxConcurrentTwins` twins (default 1) exist at once.
 */
export class HostSemaphore {
  private held = 0;
  private readonly waiters: { resolve: () => void; reject: (e: unknown) => void; signal?: AbortSignal; onAbort?: () => void }[] = [];

  constructor(private limit: number) {}

  /** Changes the limit (new holders only; current holders keep their slot). */
  setLimit(limit: number): void {
    this.limit = Math.max(1, limit);
    this.drain();
  }

  /** Holders now. */
  get inUse(): number {
    return this.held;
  }

  /** True when acquire() would wait now (every slot held, or others already waiting). */
  wouldWait(): boolean {
    return !(this.held < this.limit && this.waiters.length === 0);
  }

  /** Waits for a slot; rejects with the signal's reason when aborted. Returns the release function. */
  async acquire(signal?: AbortSignal): Promise<() => void> {
    if (signal?.aborted) throw signal.reason;
    if (this.held < this.limit && this.waiters.length === 0) {
      this.held++;
      return this.releaser();
    }
    await new Promise<void>((resolve, reject) => {
      const w: (typeof this.waiters)[number] = { resolve, reject, signal };
      if (signal) {
        w.onAbort = () => {
          const i = this.waiters.indexOf(w);
          if (i >= 0) this.waiters.splice(i, 1);
          reject(signal.reason);
        };
        signal.addEventListener('abort', w.onAbort, { once: true });
      }
      this.waiters.push(w);
    });
    return this.releaser();
  }

  private releaser(): () => void {
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.held--;
      this.drain();
    };
  }

  private drain(): void {
    while (this.held < this.limit && this.waiters.length > 0) {
      const w = this.waiters.shift()!;
      if (w.onAbort) w.signal?.removeEventListener('abort', w.onAbort);
      this.held++;
      w.resolve();
    }
  }
}
