#!/usr/bin/env node
// The `twinsnap` command. Runs the bundled CLI (dist/cli/bundle, built by `npm run build` /
// `prepare`, see build/scripts/cli-bundle.mjs) when it was built from the current sources; when
// a source changed since, it rebuilds the bundle (esbuild, well under a second) and runs that.
// Without esbuild, or with TWINSNAP_FROM_SOURCE=1, it runs the TypeScript sources through tsx.
// Either way `npx twinsnap` is never stale; the bundle only saves tsx's start-up (~1–2 CPU-s).
let entry;
if (process.env.TWINSNAP_FROM_SOURCE !== '1') {
  try {
    const { currentCliBundle, buildCliBundle } = await import('../build/scripts/cli-bundle.mjs');
    entry = currentCliBundle() ?? (await buildCliBundle());
  } catch {
    entry = undefined; // no esbuild (or no build script) here: run from the sources
  }
}
let main;
if (entry) ({ main } = await import(entry));
else {
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import('../electron/cli/index.ts'));
}
process.exitCode = await main(process.argv.slice(2));
