import { useEffect, useRef } from 'react';

/**
 * Runs `fn` `ms` after the last change of `deps` (e.g. an engine dry run while a slider moves).
 * `fn` gets an `isCurrent()` check so late answers of superseded calls can be dropped.
 */
export function useDebouncedEffect(fn: (isCurrent: () => boolean) => void, deps: unknown[], ms: number): void {
  const gen = useRef(0);
  useEffect(() => {
    const my = ++gen.current;
    const t = setTimeout(() => fn(() => gen.current === my), ms);
    return () => clearTimeout(t);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, deps);
}
