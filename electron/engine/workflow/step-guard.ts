import { AppError, isAppError } from '../../../shared/errors/app-error.js';
import type { Clock } from '../core/clock.js';

/**
 * Runs `fn` bounded by a time limit and (optionally) a cancel signal. `fn` receives a signal that
 * aborts on either; if `fn` ignores it, the guard still rejects on time (the call may go on in
 * the background — callers follow up with clean-up that does not depend on it).
 * Rejects with TIMEOUT (`what` timed out after N s) or CANCELLED.
 */
export async function guarded<T>(
  clock: Clock,
  what: string,
  opts: { timeoutMs: number; signal?: AbortSignal },
  fn: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const ctl = new AbortController();
  const timer = new AbortController();
  let rejectGuard: (e: unknown) => void = () => {};
  const guard = new Promise<never>((_, reject) => {
    rejectGuard = reject;
  });
  const onCancel = () => {
    const e = new AppError('CANCELLED', `${what}: cancelled`);
    ctl.abort(e);
    rejectGuard(e);
  };
  if (opts.signal?.aborted) throw new AppError('CANCELLED', `${what}: cancelled`);
  opts.signal?.addEventListener('abort', onCancel, { once: true });
  if (opts.timeoutMs > 0) {
    clock.sleep(opts.timeoutMs, timer.signal).then(
      () => {
        const e = new AppError('TIMEOUT', `${what} timed out after ${formatSeconds(opts.timeoutMs)}`);
        ctl.abort(e);
        rejectGuard(e);
      },
      () => {},
    );
  }
  try {
    return await Promise.race([fn(ctl.signal), guard]);
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
