import { defineConfig } from 'vite';

/** This folder as a file-system path (no Node imports allowed in renderer/: see check-layers). */
const here = decodeURIComponent(new URL('.', import.meta.url).pathname).replace(/^\/([A-Za-z]:)/, '$1');

/**
 * Vite config of the renderer: root is renderer/, output goes to dist/renderer with relative
 * asset URLs (Electron loads it from a file, `twinsnap serve` from any path). JSX uses the
 * automatic runtime through Vite's built-in transformer; no inline scripts (CSP script-src 'self').
 */
export default defineConfig({
  root: here,
  base: './',
  oxc: { jsx: { runtime: 'automatic' } },
  build: {
    outDir: `${here}../dist/renderer`,
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: true,
    chunkSizeWarningLimit: 2000,
    modulePreload: { polyfill: false },
    rolldownOptions: {
      onwarn(warning, warn) {
        // MUI marks modules 'use client' (a React Server Components hint, meaningless here).
        if (warning.code === 'MODULE_LEVEL_DIRECTIVE') return;
        warn(warning);
      },
    },
  },
  server: { host: '127.0.0.1' },
});
