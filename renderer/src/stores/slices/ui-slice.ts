import { friendlyError } from '../../app/error-messages.js';
import type { SliceCreator } from './types.js';

/** Pages of the app (the navigation rail). */
export const ROUTES = ['calendar', 'guests', 'restore', 'jobs', 'repository', 'settings'] as const;
/** One page. */
export type Route = (typeof ROUTES)[number];
/** Theme preference. */
export type ThemeMode = 'light' | 'dark' | 'system';

/** A transient message (snackbar). */
export interface Notice {
  id: number;
  message: string;
  severity: 'success' | 'info' | 'warning' | 'error';
  detail?: string;
}

/** UI state: route, theme, notices. */
export interface UiSlice {
  route: Route;
  /** Extra route parameters (e.g. the guest or snapshot a page opens with). */
  routeParams: Record<string, string>;
  themeMode: ThemeMode;
  notices: Notice[];
  navigate(route: Route, params?: Record<string, string>): void;
  setThemeMode(mode: ThemeMode): void;
  notify(message: string, severity?: Notice['severity'], detail?: string): void;
  /** Reports a failed engine call as a notice with the admin-friendly text. */
  notifyError(e: unknown, what: string): void;
  dismissNotice(id: number): void;
}

let nextNotice = 1;

/** True when `s` names a page. */
export function isRoute(s: string): s is Route {
  return (ROUTES as readonly string[]).includes(s);
}

/** Creates the UI slice. */
export const createUiSlice: SliceCreator<UiSlice> = () => (set, get) => ({
  route: 'calendar',
  routeParams: {},
  themeMode: 'system',
  notices: [],
  navigate(route, params = {}) {
    set({ route, routeParams: params });
  },
  setThemeMode(themeMode) {
    set({ themeMode });
  },
  notify(message, severity = 'info', detail) {
    set({ notices: [...get().notices, { id: nextNotice++, message, severity, detail }] });
  },
  notifyError(e, what) {
    const f = friendlyError(e);
    if (f.notAvailable) get().notify(`${what}: not available yet in this build`, 'info', f.detail);
    else get().notify(`${what}: ${f.title}. ${f.action}`, 'error', f.detail);
  },
  dismissNotice(id) {
    set({ notices: get().notices.filter((n) => n.id !== id) });
  },
});
