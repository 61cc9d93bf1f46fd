/** Parallel transfers with a shared bandwidth limit. */
import { AppError } from '../../../shared/errors/app-error.js';
import type { Clock } from '../core/clock.js';

/**
 * A token bucket over bytes: `take(n)` resolves once `n` bytes may be sent at `bytesPerSecond`
 * (one second of burst). Shared by all parallel transfers, so the limit is for the whole copy.
 */
export class RateLimiter {
  private tokens: number;
  private last: number;
  private queue: Promise<void> = Promise.resolve();

  constructor(
    private readonly bytesPerSecond: number,
    private readonly clock: Clock,
  ) {
    this.tokens = bytesPerSecond;
    this.last = clock.now();
  }

  take(n: number, signal?: AbortSignal): Promise<void> {
    // callers wait in order; each one leaves the bucket in debt until the time has passed
    const turn = this.queue.then(async () => {
      const now = this.clock.now();
      this.tokens = Math.min(this.bytesPerSecond, this.tokens + ((now - this.last) / 1000) * this.bytesPerSecond);
      this.last = now;
      this.tokens -= n;
      if (this.tokens < 0) await this.clock.sleep((-this.tokens / this.bytesPerSecond) * 1000, signal);
    });
    this.queue = turn.catch(() => {});
    return turn;
  }
}

/**
 * Runs `fn` over `items` with at most `jobs` at a time. The first failure stops new work, waits
 * for the running ones and is rethrown (so nothing is left running behind the caller's back).
 */
export async function runPool<T>(items: readonly T[], jobs: number, fn: (item: T) => Promise<void>, signal?: AbortSignal): Promise<void> {
  let next = 0;
  let failure: { e: unknown } | undefined;
  const worker = async () => {
    while (!failure && next < items.length) {
      if (signal?.aborted) {
        failure ??= { e: new AppError('CANCELLED', 'cancelled') };
        return;
      }
      const item = items[next++]!;
      try {
        await fn(item);
      } catch (e) {
        failure ??= { e };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(jobs, items.length)) }, worker));
  if (failure) throw failure.e;
}
