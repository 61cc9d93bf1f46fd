// Builds the chunk worker (chunk-worker.ts and what it imports) into one CommonJS script that
// ChunkPool runs with `new Worker(script, { eval: true })`: the same script whether the engine
// runs from its TypeScript sources (Vitest, tsx: ChunkPool calls this once per process), from
// dist/app or from the CLI bundle (build/scripts/build.mjs and cli-bundle.mjs call it and put the
// script into the built ChunkPool as the constant named by CHUNK_WORKER_DEFINE).
// npm packages stay outside the script (zstd-napi loads a native addon) and resolve from the
// pool's own module: the pool passes its URL as workerData.requireFrom.
'use strict';
const { join } = require('node:path');

/** The global constant the builds define to the script. */
const CHUNK_WORKER_DEFINE = 'TWINSNAP_CHUNK_WORKER_JS';

/** The repository root (this file is electron/engine/repository/chunks/chunk-worker-build.cjs). */
const ROOT = join(__dirname, '..', '..', '..', '..');

const BANNER = "var require = require('node:module').createRequire(require('node:worker_threads').workerData.requireFrom);";

/** esbuild options of the worker script (`write: false`; the text is outputFiles[0]). */
function chunkWorkerBuildOptions() {
  return {
    absWorkingDir: ROOT,
    entryPoints: ['electron/engine/repository/chunks/chunk-worker.ts'],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    packages: 'external',
    banner: { js: BANNER },
    write: false,
    metafile: true,
    logLevel: 'warning',
  };
}

/** Builds the script synchronously with the given esbuild module; its text and the repo-relative source files it was built from. */
function buildChunkWorker(esbuild) {
  const r = esbuild.buildSync(chunkWorkerBuildOptions());
  return { script: r.outputFiles[0].text, inputs: Object.keys(r.metafile.inputs) };
}

module.exports = { CHUNK_WORKER_DEFINE, buildChunkWorker };
