import { useEffect } from 'react';
import { formatHash, parseHash } from '../lib/route-hash.js';
import { useServices } from '../stores/hooks.js';

/** Keeps the store's route and the address bar's hash in sync (back/forward work, pages are linkable). */
export function useHashRoute(): void {
  const { store } = useServices();
  useEffect(() => {
    const fromHash = () => {
      const { route, params } = parseHash(window.location.hash);
      const st = store.getState();
      if (formatHash(st.route, st.routeParams) !== formatHash(route, params)) st.navigate(route, params);
    };
    fromHash();
    window.addEventListener('hashchange', fromHash);
    const off = store.subscribe((s, prev) => {
      if (s.route === prev.route && s.routeParams === prev.routeParams) return;
      const h = formatHash(s.route, s.routeParams);
      if (window.location.hash !== h) window.location.hash = h;
    });
    return () => {
      window.removeEventListener('hashchange', fromHash);
      off();
    };
  }, [store]);
}
