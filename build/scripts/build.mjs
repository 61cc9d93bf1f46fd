#!/usr/bin/env node
// Builds what the app and `twinsnap serve` run: dist/renderer (Vite), dist/app (the Electron main
// process + engine, transpiled file by file so worker threads keep their paths) and
// dist/preload/index.cjs (the sandboxed preload, bundled) and dist/cli/bundle (the CLI in one
// file, what bin/twinsnap.mjs runs; see cli-bundle.mjs). Runs from `npm install` (prepare).
import * as esbuild from 'esbuild';
import { buildCliBundle, chunkWorker } from './cli-bundle.mjs';
import { existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { spawnSync } from 'node:child_process';

const root = new URL('../..', import.meta.url).pathname;
const dist = join(root, 'dist');

function sources(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...sources(p));
    else if (/\.ts$/.test(name) && !/\.(test|spec|suite)\.ts$/.test(name) && !name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

const started = Date.now();
rmSync(join(dist, 'app'), { recursive: true, force: true });
await esbuild.build({
  entryPoints: [...sources(join(root, 'electron')), ...sources(join(root, 'shared'))],
  // the chunk pool runs its worker from this script (see chunk-worker-build.cjs)
  define: chunkWorker(esbuild).define,
  outdir: join(dist, 'app'),
  outbase: root,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  sourcemap: true,
  logLevel: 'warning',
});
await esbuild.build({
  entryPoints: [join(root, 'electron/preload/index.ts')],
  outfile: join(dist, 'preload/index.cjs'),
  bundle: true,
  platform: 'node',
  format: 'cjs',
  external: ['electron'],
  target: 'chrome120',
  logLevel: 'warning',
});
await buildCliBundle();

const viteConfig = join(root, 'renderer/vite.config.ts');
if (existsSync(viteConfig)) {
  const r = spawnSync(process.execPath, [join(root, 'node_modules/vite/bin/vite.js'), 'build', '--config', viteConfig, '--logLevel', 'warn'], {
    cwd: root,
    stdio: 'inherit',
  });
  if (r.status !== 0) process.exit(r.status ?? 1);
}
console.log(`built ${relative(root, dist)}/ in ${((Date.now() - started) / 1000).toFixed(1)} s`);
