import { friendlyError, type FriendlyError } from '../app/error-messages.js';

/** Data fetched from the engine, with its loading and error state. */
export interface Loadable<T> {
  data: T | undefined;
  loading: boolean;
  error: FriendlyError | undefined;
  /** Epoch ms of the last successful load. */
  loadedAt: number | undefined;
}

/** A Loadable that has not been fetched yet. */
export function idle<T>(): Loadable<T> {
  return { data: undefined, loading: false, error: undefined, loadedAt: undefined };
}

/** The same Loadable, marked as loading (keeps stale data visible meanwhile). */
export function loading<T>(l: Loadable<T>): Loadable<T> {
  return { ...l, loading: true };
}

/** A successful load. */
export function loaded<T>(data: T, now = Date.now()): Loadable<T> {
  return { data, loading: false, error: undefined, loadedAt: now };
}

/** A failed load (keeps stale data). */
export function failed<T>(l: Loadable<T>, e: unknown): Loadable<T> {
  return { ...l, loading: false, error: friendlyError(e) };
}

/**
 * Runs `fetch` and writes its Loadable through `put` (loading → loaded | failed).
 * Returns the data, or undefined on failure (the error is in the store).
 */
export async function track<T>(get: () => Loadable<T>, put: (l: Loadable<T>) => void, fetch: () => Promise<T>): Promise<T | undefined> {
  put(loading(get()));
  try {
    const data = await fetch();
    put(loaded(data));
    return data;
  } catch (e) {
    put(failed(get(), e));
    return undefined;
  }
}
