import { isRoute, type Route } from '../stores/slices/ui-slice.js';

/** Parses `#/page?key=value` into a route and its parameters (unknown pages → calendar). */
export function parseHash(hash: string): { route: Route; params: Record<string, string> } {
  const body = hash.replace(/^#\/?/, '');
  const [page = '', query = ''] = body.split('?');
  const params: Record<string, string> = {};
  new URLSearchParams(query).forEach((v, k) => {
    params[k] = v;
  });
  return { route: isRoute(page) ? page : 'calendar', params };
}

/** Formats a route and its parameters as a hash. */
export function formatHash(route: Route, params: Record<string, string> = {}): string {
  const q = new URLSearchParams(params).toString();
  return `#/${route}${q ? `?${q}` : ''}`;
}
