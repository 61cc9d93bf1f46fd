import type { EngineClient } from '../../../shared/ipc/contract.js';
import type { AppStore } from './app-store.js';
import type { ThemeMode } from './slices/ui-slice.js';

const KEY = 'twinsnap.theme';

function isMode(v: unknown): v is ThemeMode {
  return v === 'light' || v === 'dark' || v === 'system';
}

/**
 * Sets the theme from localStorage at once (no flash), then from the engine's settings (the
 * source of truth, shared by Electron and browsers).
 */
export function loadThemePreference(store: AppStore, engine: EngineClient): void {
  try {
    const v = globalThis.localStorage?.getItem(KEY);
    if (isMode(v)) store.getState().setThemeMode(v);
  } catch {
    /* storage may be disabled */
  }
  engine['settings.get']({})
    .then((s) => {
      if (isMode(s.theme)) store.getState().setThemeMode(s.theme);
    })
    .catch(() => undefined);
}

/** Mirrors theme changes into localStorage. */
export function watchThemePreference(store: AppStore): () => void {
  return store.subscribe((s, prev) => {
    if (s.themeMode === prev.themeMode) return;
    try {
      globalThis.localStorage?.setItem(KEY, s.themeMode);
    } catch {
      /* ignore */
    }
  });
}
