#!/usr/bin/env node
// The `twinsnap` command. Runs the bundled CLI (dist/cli/bundle, built by `npm run build` /
// `prepare`, see build/scripts/cli-bundle.mjs) when it was built from the current sources; when
// a source changed since, it rebuilds the bundle (esbuild, well under a second) and runs that.
// Without esbuild, or with TWINSNAP_FROM_SOURCE=1, it runs the TypeScript sources through tsx.
// Either way `npx twinsnap` is never stale; the bundle only saves tsx's start-up (~1–2 CPU-s).
import { existsSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

async function bundle() {
  try {
    const { currentCliBundle, buildCliBundle } = await import('../build/scripts/cli-bundle.mjs');
    return currentCliBundle() ?? (await buildCliBundle());
  } catch {
    return undefined; // no esbuild (or no build script) here: run from the sources
  }
}

let entry = process.env.TWINSNAP_FROM_SOURCE === '1' ? undefined : await bundle();
let main;
if (entry) {
  try {
    ({ main } = await import(pathToFileURL(entry).href));
  } catch (e) {
    if (existsSync(entry)) throw e;
    // replaced and removed by a concurrent rebuild between the check and the import: pick again
    entry = await bundle();
    if (!entry) throw e;
    ({ main } = await import(pathToFileURL(entry).href));
  }
} else {
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import('../electron/cli/index.ts'));
}
process.exitCode = await main(process.argv.slice(2));
