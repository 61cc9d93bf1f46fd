import { AppError, isAppError } from '../../../shared/errors/app-error.js';
import type { Clock } from '../core/clock.js';

/** Limits of one guarded call. */
export interface GuardLimits {
  /** Time allowed without any progress report (0 = none). */
  timeoutMs: number;
  signal?: AbortSignal;
  /**
   * A progress report moves the deadline to at least `idleMs` after it (default `timeoutMs`),
   * but never past `ceilingMs` from the start (default: no extension). So a call that keeps
   * reporting is not killed for being slow, and one that stops reporting still is.
   */
  idleMs?: number;
  ceilingMs?: number;
}

/**
 * Runs `fn` bounded by a time limit (a watchdog: `alive()` reports progress, see GuardLimits)
 * and (optionally) a cancel signal. `fn` receives a signal that aborts on either; if `fn`
 * ignores it, the guard still rejects on time (the call may go on in the background — callers
 * follow up with clean-up that does not depend on it).
 * Rejects with TIMEOUT (`what` timed out after N s / made no progress for N s) or CANCELLED.
 */
export async function guarded<T>(clock: Clock, what: string, opts: GuardLimits, fn: (signal: AbortSignal, alive: () => void) => Promise<T>): Promise<T> {
  const ctl = new AbortController();
  const timer = new AbortController();
  let rejectGuard: (e: unknown) => void = () => {};
  const guard = new Promise<never>((_, reject) => {
    rejectGuard = reject;
  });
  const fail = (e: AppError) => {
    ctl.abort(e);
    rejectGuard(e);
  };
  const onCancel = () => fail(new AppError('CANCELLED', `${what}: cancelled`));
  if (opts.signal?.aborted) throw new AppError('CANCELLED', `${what}: cancelled`);
  opts.signal?.addEventListener('abort', onCancel, { once: true });
  const start = clock.monotonic();
  const idle = opts.idleMs ?? opts.timeoutMs;
  const ceiling = Math.max(opts.timeoutMs, opts.ceilingMs ?? opts.timeoutMs);
  let deadline = start + opts.timeoutMs;
  let progressed = false;
  const alive = () => {
    if (opts.timeoutMs <= 0 || ctl.signal.aborted) return;
    progressed = true;
    deadline = Math.min(start + ceiling, Math.max(deadline, clock.monotonic() + idle));
  };
  if (opts.timeoutMs > 0) {
    void (async () => {
      // Sleep to the deadline; a progress report meanwhile has moved it, so sleep again.
      for (let left = opts.timeoutMs; left > 0; left = deadline - clock.monotonic()) await clock.sleep(left, timer.signal);
      const took = clock.monotonic() - start;
      const why = progressed && took < ceiling ? `made no progress for ${formatSeconds(idle)}` : `timed out after ${formatSeconds(took >= ceiling ? ceiling : opts.timeoutMs)}`;
      fail(new AppError('TIMEOUT', `${what} ${why}`));
    })().catch(() => {});
  }
  try {
    return await Promise.race([fn(ctl.signal, alive), guard]);
  } catch (e) {
    // A hypervisor call aborted by our own signal may reject with its own error: report ours.
    if (ctl.signal.aborted && !isAppError(e, 'TIMEOUT') && !isAppError(e, 'CANCELLED')) throw ctl.signal.reason;
    throw e;
  } finally {
    timer.abort();
    opts.signal?.removeEventListener('abort', onCancel);
    guard.catch(() => {});
  }
}

/** `120 s`, `0.5 s`. */
export function formatSeconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(ms < 1000 ? 2 : 0))} s`;
}
