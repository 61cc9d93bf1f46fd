import { readFileSync, writeFileSync } from 'node:fs';

/** Saved bounds of the main window. */
export interface WindowState {
  x?: number;
  y?: number;
  width: number;
  height: number;
  maximized: boolean;
}

const DEFAULT: WindowState = { width: 1280, height: 820, maximized: false };

/** Reads the saved window state; defaults when missing or malformed. */
export function loadWindowState(file: string): WindowState {
  try {
    const s = JSON.parse(readFileSync(file, 'utf8')) as Partial<WindowState>;
    const num = (v: unknown, min: number) => (typeof v === 'number' && Number.isFinite(v) && v >= min ? v : undefined);
    return {
      x: num(s.x, -100000),
      y: num(s.y, -100000),
      width: num(s.width, 400) ?? DEFAULT.width,
      height: num(s.height, 300) ?? DEFAULT.height,
      maximized: s.maximized === true,
    };
  } catch {
    return { ...DEFAULT };
  }
}

/** Saves the window state (best effort). */
export function saveWindowState(file: string, state: WindowState): void {
  try {
    writeFileSync(file, JSON.stringify(state));
  } catch {
    // losing the window position is not worth an error dialog
  }
}
