#!/usr/bin/env node
// Starts the desktop app. The Electron binary is fetched on first start (not at install time, so
// `npm ci` never fails offline); where it cannot be downloaded, say so and point to `serve`.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);
const electronDir = dirname(require.resolve('electron/package.json'));
const pathFile = join(electronDir, 'path.txt');
if (!existsSync(pathFile)) {
  console.log('downloading the Electron runtime (first start only)…');
  const r = spawnSync(process.execPath, [join(electronDir, 'install.js')], { stdio: 'inherit', env: { ...process.env, ELECTRON_SKIP_BINARY_DOWNLOAD: '' } });
  if (r.status !== 0 || !existsSync(pathFile)) {
    console.error('the Electron runtime could not be downloaded here. Run TwinSnap in a browser instead: npx twinsnap serve');
    process.exit(1);
  }
}
const exe = join(electronDir, 'dist', readFileSync(pathFile, 'utf8').trim());
const r = spawnSync(exe, [new URL('../..', import.meta.url).pathname, ...process.argv.slice(2)], { stdio: 'inherit' });
process.exit(r.status ?? 1);
