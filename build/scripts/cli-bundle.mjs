// The bundled CLI: electron/cli/index.ts and everything it imports, sources and npm packages,
// bundled by esbuild into one ESM file. Native modules (better-sqlite3, zstd-napi and ws's
// optional helpers) stay external and load from node_modules as usual; bundling the pure-JS
// packages too saves resolving and compiling hundreds of small modules at every start. `bin/twinsnap.mjs` runs it when it is current,
// which saves the ~1–2 CPU-s of transpiling the TypeScript sources with tsx at every start.
//
// Current = every source file the bundle was built from still has the mtime it had at build
// time, and so has node_modules/.package-lock.json, which npm rewrites at every install (the
// files of packages carry npm's fixed tarball mtimes). The stamp lists them; ~150 stats ~2 ms. Any edit makes it stale, and
// bin/twinsnap.mjs rebuilds it (or falls back to tsx), so `npx twinsnap` is never stale.
//
// Layout: dist/cli/bundle/twinsnap-<hash>.mjs — three folders below the repository root like
// the sources in electron/cli/commands/, so `new URL('../../../…', import.meta.url)` in the
// sources (bin/twinsnap.mjs, dist/renderer) resolves to the same files. stamp.json is written
// last, atomically (temp + rename), so concurrent starts see either the old or the new bundle.
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const DIR = join(ROOT, 'dist/cli/bundle');
const STAMP = join(DIR, 'stamp.json');

/** mtime of a file under the root, -2 when it does not exist. */
function mtimeOf(rel) {
  try {
    return statSync(join(ROOT, rel)).mtimeMs;
  } catch {
    return -2;
  }
}

/** Builds the chunk worker's script (repo-relative path of its builder). */
const WORKER_BUILD = 'electron/engine/repository/chunks/chunk-worker-build.cjs';

/** The chunk worker built into one script: esbuild's `define` that puts it into the engine, and its source files. */
export function chunkWorker(esbuild) {
  const { CHUNK_WORKER_DEFINE, buildChunkWorker } = createRequire(import.meta.url)(join(ROOT, WORKER_BUILD));
  const { script, inputs } = buildChunkWorker(esbuild);
  return { define: { [CHUNK_WORKER_DEFINE]: JSON.stringify(script) }, inputs };
}

/** The bundle's path when it is current (no source changed since it was built), else undefined. */
export function currentCliBundle() {
  let stamp;
  try {
    stamp = JSON.parse(readFileSync(STAMP, 'utf8'));
    for (const [rel, mtimeMs] of Object.entries(stamp.inputs)) if (mtimeOf(rel) !== mtimeMs) return undefined;
    statSync(join(DIR, stamp.bundle));
  } catch {
    return undefined;
  }
  return join(DIR, stamp.bundle);
}

/** Builds the bundle and its stamp; returns the bundle's path. */
export async function buildCliBundle() {
  const esbuild = await import('esbuild');
  const started = Date.now();
  // the chunk worker goes into the bundle as a script (see chunk-worker-build.cjs)
  const worker = chunkWorker(esbuild);
  const r = await esbuild.build({
    absWorkingDir: ROOT,
    entryPoints: ['electron/cli/index.ts'],
    bundle: true,
    external: ['better-sqlite3', 'zstd-napi', 'bufferutil', 'utf-8-validate', 'electron'],
    // CommonJS packages inside an ES module bundle need a `require` for Node's built-ins
    banner: { js: "import { createRequire as __twinsnapRequire } from 'node:module'; const require = __twinsnapRequire(import.meta.url);" },
    platform: 'node',
    format: 'esm',
    target: 'node20',
    write: false,
    metafile: true,
    sourcemap: 'linked',
    outfile: join(DIR, 'twinsnap.mjs'),
    define: worker.define,
    logLevel: 'warning',
  });
  const js = r.outputFiles.find((f) => f.path.endsWith('.mjs'));
  const map = r.outputFiles.find((f) => f.path.endsWith('.map'));
  const hash = createHash('sha256').update(js.contents).digest('hex').slice(0, 12);
  const name = `twinsnap-${hash}.mjs`;
  // a source saved while we were building gets an impossible mtime: the bundle is stale at once
  const inputs = {};
  const watched = [...new Set([...Object.keys(r.metafile.inputs), ...worker.inputs])].filter((rel) => !rel.startsWith('node_modules/'));
  watched.push('node_modules/.package-lock.json', 'build/scripts/cli-bundle.mjs', WORKER_BUILD);
  for (const rel of watched) {
    const m = mtimeOf(rel);
    inputs[rel] = m >= started - 1000 ? -1 : m;
  }
  mkdirSync(DIR, { recursive: true });
  const tmp = `.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
  const text = Buffer.from(js.text.replace(/\/\/# sourceMappingURL=twinsnap\.mjs\.map/, `//# sourceMappingURL=${name}.map`));
  writeFileSync(join(DIR, tmp + '.map'), map.contents);
  renameSync(join(DIR, tmp + '.map'), join(DIR, `${name}.map`));
  writeFileSync(join(DIR, tmp), text);
  renameSync(join(DIR, tmp), join(DIR, name));
  // the bundle being replaced is retired now: its mtime starts the ten minutes before removal
  try {
    const old = JSON.parse(readFileSync(STAMP, 'utf8')).bundle;
    if (old !== name) utimesSync(join(DIR, old), new Date(), new Date());
  } catch {
    // no previous bundle
  }
  writeFileSync(join(DIR, tmp + '.json'), JSON.stringify({ bundle: name, builtMs: started, inputs }));
  renameSync(join(DIR, tmp + '.json'), STAMP);
  // drop bundles retired more than ten minutes ago (a process that picked one has loaded it)
  for (const f of readdirSync(DIR)) {
    if (f === 'stamp.json' || f.startsWith(name)) continue;
    try {
      if (statSync(join(DIR, f)).mtimeMs < started - 600_000) rmSync(join(DIR, f), { force: true });
    } catch {
      // removed concurrently
    }
  }
  return join(DIR, name);
}
