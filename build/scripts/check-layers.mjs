#!/usr/bin/env node
// Layering rules of TwinSnap (see README "Architecture"). Scans every TS/TSX source's imports
// and fails with one line per violation naming the rule and the allowed alternative.
// Usage: node build/scripts/check-layers.mjs [rootDir]
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { builtinModules } from 'node:module';
import { fileURLToPath } from 'node:url';

/**
 * Engine sub-layers, lowest first. A layer may import its own folder and lower ranks only.
 * `scheduler` and `notify` only declare ports (launcher, schedule store, channels): `service`
 * plugs the workflow, the catalog and the repository into them. '(root)' is engine.ts, the
 * composition root and the faces' one entry, with host-tools.ts.
 */
export const ENGINE_RANKS = {
  core: 0,
  exec: 1,
  disk: 2,
  catalog: 2,
  hypervisor: 2,
  scheduler: 2,
  notify: 2,
  fs: 3,
  repository: 4,
  workflow: 5,
  offsite: 5,
  service: 7,
  '(root)': 8,
};

const NODE_BUILTINS = new Set([...builtinModules, ...builtinModules.map((m) => `node:${m}`)]);
const IMPORT_RE =
  /(?:^|[\s;])(?:import|export)\s[^'"`]*?from\s*['"]([^'"]+)['"]|(?:^|[\s;(])import\s*\(\s*['"]([^'"]+)['"]\s*\)|(?:^|[\s;])import\s+['"]([^'"]+)['"]|require\(\s*['"]([^'"]+)['"]\s*\)/gm;

function* walk(dir) {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name.startsWith('.') || name === 'dist') continue;
    const p = join(dir, name);
    const st = statSync(p);
    if (st.isDirectory()) yield* walk(p);
    else if (/\.(ts|tsx|mts)$/.test(name) && !name.endsWith('.d.ts')) yield p;
  }
}

/** Area of a repo-relative path: shared, renderer, preload, main, cli, server, engine:<layer>, test, other. */
function areaOf(rel) {
  const parts = rel.split('/');
  if (parts[0] === 'shared') return 'shared';
  if (parts[0] === 'renderer') return 'renderer';
  if (parts[0] === 'test') return 'test';
  if (parts[0] === 'electron') {
    if (parts[1] === 'engine') return `engine:${parts.length > 3 ? parts[2] : '(root)'}`;
    return parts[1] ?? 'other';
  }
  return 'other';
}

const isTestFile = (rel) => /\.(test|spec|suite)\.tsx?$/.test(rel) || rel.startsWith('test/');

/** The engine's one public entry: the only engine file the faces (cli, server, main) may import. */
export const ENGINE_ENTRY = 'electron/engine/engine.ts';
/** The repository's one public module: the only repository file imported from outside repository/. */
export const REPOSITORY_ENTRY = 'electron/engine/repository/repository.ts';
/** A face reaching into the engine's composed parts instead of the contract. */
const CONTEXT_USE_RE = /\bengine\.context\b|\.context\.(store|jobs|scheduler|notifier|browsing|tuning)\b/;

/** Repo-relative path of a relative import, with a .js/.mjs suffix read as the TypeScript source. */
function targetFile(root, file, spec) {
  return relative(root, resolve(dirname(file), spec))
    .split(sep)
    .join('/')
    .replace(/\.m?js$/, '.ts');
}

/** Returns the list of violations under `root` (empty when clean). */
export function checkLayers(root) {
  const violations = [];
  const dirs = ['shared', 'renderer', 'electron', 'test']
    .map((d) => join(root, d))
    .filter((d) => {
      try {
        return statSync(d).isDirectory();
      } catch {
        return false;
      }
    });
  for (const dir of dirs) {
    for (const file of walk(dir)) {
      const rel = relative(root, file).split(sep).join('/');
      const from = areaOf(rel);
      const src = readFileSync(file, 'utf8');
      if (['cli', 'server', 'main'].includes(from) && !isTestFile(rel) && CONTEXT_USE_RE.test(src))
        violations.push(
          `${rel}: uses the engine's composed parts (engine.context): electron/${from} reaches the engine only through engine.service (the contract), engine.local and the other members of Engine in ${ENGINE_ENTRY}`,
        );
      for (const m of src.matchAll(IMPORT_RE)) {
        const spec = m[1] ?? m[2] ?? m[3] ?? m[4];
        if (!spec) continue;
        const problem = judge(root, rel, from, spec, file);
        if (problem) violations.push(`${rel}: imports '${spec}': ${problem}`);
      }
    }
  }
  return violations;
}

function judge(root, rel, from, spec, file) {
  const test = isTestFile(rel);
  const pkg = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0];
  const relative_ = spec.startsWith('.');
  let target = null;
  if (relative_)
    target = areaOf(
      relative(root, resolve(dirname(file), spec))
        .split(sep)
        .join('/'),
    );

  if (from === 'test' || from === 'other') return null;
  if (test && (pkg === 'vitest' || pkg === '@testing-library/react' || pkg === '@testing-library/dom')) return null;
  if (from === 'shared') {
    if (NODE_BUILTINS.has(spec)) return 'shared/ must stay environment-free (no Node built-ins); move this code to electron/engine';
    if (relative_ && target !== 'shared') return `shared/ may import only shared/ (found ${target})`;
    if (!relative_ && pkg !== 'zod') return `shared/ may import only zod from npm (found ${pkg})`;
    return null;
  }
  if (from === 'renderer') {
    if (NODE_BUILTINS.has(spec)) return 'renderer/ runs in a browser sandbox: no Node built-ins; call the engine through the contract';
    if (pkg === 'electron') return "renderer/ may not import 'electron'; use the bridge from shared/ipc";
    if (relative_ && target !== 'renderer' && target !== 'shared') return `renderer/ may import only renderer/ and shared/ (found ${target}); reach the engine through the contract`;
    return null;
  }
  if (from === 'preload') {
    if (pkg === 'electron' || (relative_ && target === 'preload')) return null;
    if (relative_ && target === 'shared') return null;
    return `the preload may import only 'electron' (contextBridge, ipcRenderer) and shared/ (found ${spec})`;
  }
  if (from.startsWith('engine:')) {
    const layer = from.slice(7);
    if (pkg === 'electron') return "the engine is plain Node and may not import 'electron'; put Electron code in electron/main";
    if ((spec === 'child_process' || spec === 'node:child_process') && layer !== 'exec' && !test) return 'only electron/engine/exec may spawn processes; use runProcess from engine/exec';
    if (pkg === 'better-sqlite3' && layer !== 'catalog') return 'only electron/engine/catalog may import better-sqlite3; use the Catalog';
    if (relative_ && target) {
      if (target === 'shared') return null;
      if (!target.startsWith('engine:')) return `the engine may not import ${target}`;
      const tl = target.slice(7);
      if (tl === layer || test) return null;
      if (tl === 'repository' && targetFile(root, file, spec) !== REPOSITORY_ENTRY)
        return `engine/${layer} may import only ${REPOSITORY_ENTRY} from engine/repository (found ${spec}); export what is needed from there`;
      const a = ENGINE_RANKS[layer];
      const b = ENGINE_RANKS[tl];
      if (a === undefined) return `unknown engine folder '${layer}': add it to ENGINE_RANKS in build/scripts/check-layers.mjs`;
      if (b === undefined) return `unknown engine folder '${tl}'`;
      if (b >= a) return `engine/${layer} may not import engine/${tl} (layer order: core ← exec ← disk|catalog|hypervisor|scheduler|notify ← fs ← repository ← workflow|offsite ← service ← engine.ts)`;
      if (layer === 'fs' && tl !== 'disk' && b === 2) return 'engine/fs may use engine/disk only among its peers';
      if (['disk', 'fs', 'hypervisor'].includes(layer) && ['catalog', 'repository'].includes(tl)) return `engine/${layer} knows nothing about backups`;
    }
    return null;
  }
  if (from === 'cli' || from === 'server' || from === 'main') {
    if (pkg === 'better-sqlite3') return 'only electron/engine/catalog may import better-sqlite3';
    if ((spec === 'child_process' || spec === 'node:child_process') && !test) return 'only electron/engine/exec may spawn processes';
    if (from !== 'main' && pkg === 'electron') return `electron/${from} must run without Electron`;
    if (relative_ && (target === 'renderer' || target === 'preload')) return `electron/${from} may not import ${target}`;
    if (relative_ && target?.startsWith('engine:') && !test && targetFile(root, file, spec) !== ENGINE_ENTRY)
      return `electron/${from} may import only ${ENGINE_ENTRY} from the engine (found ${spec}): reach the engine through the contract (engine.service) or the Engine's own members; export what a face needs from there`;
    return null;
  }
  return null;
}

const isMain = process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (isMain) {
  const root = resolve(process.argv[2] ?? '.');
  const v = checkLayers(root);
  if (v.length) {
    console.error(`layering check failed (${v.length} violation${v.length > 1 ? 's' : ''}):`);
    for (const line of v) console.error(`  ${line}`);
    process.exit(1);
  }
  console.log('layering check passed');
}
