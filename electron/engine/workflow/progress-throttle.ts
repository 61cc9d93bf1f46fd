/**
 * Limits how often a job publishes progress: at most one update per `intervalMs` (default
 * 250 ms = 4/s); the latest update inside an interval is delivered at its end, and `flush()`
 * delivers a pending one immediately (step changes, job end). Uses the injected time source.
 */
export class ProgressThrottle<T> {
  private last = Number.NEGATIVE_INFINITY;
  private pending: T | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly deliver: (value: T) => void,
    private readonly now: () => number,
    private readonly intervalMs = 250,
  ) {}

  /** Offers an update; delivered now or coalesced into the next slot. */
  push(value: T): void {
    const t = this.now();
    if (t - this.last >= this.intervalMs && this.timer === undefined) {
      this.last = t;
      this.deliver(value);
      return;
    }
    this.pending = value;
    if (this.timer === undefined) {
      const wait = Math.max(0, this.intervalMs - (t - this.last));
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.emitPending();
      }, wait);
      this.timer.unref?.();
    }
  }

  /** Delivers a pending update now (if any) and cancels the timer. */
  flush(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.emitPending();
  }

  private emitPending(): void {
    if (this.pending === undefined) return;
    const v = this.pending;
    this.pending = undefined;
    this.last = this.now();
    this.deliver(v);
  }
}
