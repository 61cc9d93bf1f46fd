import { realpath } from 'node:fs/promises';
import { resolve } from 'node:path';
import { AppError } from '../../../shared/errors/app-error.js';
import { FileSource, type SourceOpener } from './core/file-source.js';
import type { OpenContext } from './core/open-context.js';
import { detectSourceFormat } from './detect-format.js';
import { ChainConfinement, LocalPathResolver } from './path-resolver.js';
import { openQcow2 } from './qcow2/qcow2-reader.js';
import { openRaw } from './raw/raw-reader.js';
import { openVhd } from './vhd/vhd-reader.js';
import { openVhdx } from './vhdx/vhdx-reader.js';
import type { PathResolver, VirtualDisk } from './virtual-disk.js';
import { openVmdk } from './vmdk/vmdk-reader.js';

export { detectFormat } from './detect-format.js';

/** Options of openDisk. */
export interface OpenDiskOptions {
  /**
   * Maps parent/extent references to local paths (default: LocalPathResolver). Whatever it
   * returns must still pass the chain confinement (see `allowedDirs`).
   */
  resolver?: PathResolver;
  /**
   * Folders besides the top image's own folder tree where parents and extents may live (e.g. a
   * twin's child disks point at production's frozen disks). Every other file is refused with
   * DISK_CHAIN_UNSAFE, as is any member that is not a regular file.
   */
  allowedDirs?: readonly string[];
  /** Longest chain accepted (default 255). */
  maxChainDepth?: number;
  /** Opens image files (default: FileSource.open, read-only from the local filesystem). */
  openSource?: SourceOpener;
}

/**
 * Opens the disk image at `path` (format detected from its content) with its whole chain of
 * parents and extents. Parents and extents must be regular files inside the image's folder tree
 * or `opts.allowedDirs` (DISK_CHAIN_UNSAFE otherwise). The caller must `close()` the returned disk.
 */
export async function openDisk(path: string, opts: OpenDiskOptions = {}): Promise<VirtualDisk> {
  const confinement = await ChainConfinement.of(path, opts.allowedDirs);
  const env: OpenEnv = {
    resolver: opts.resolver ? confined(opts.resolver, confinement) : new LocalPathResolver(confinement),
    maxDepth: opts.maxChainDepth ?? 255,
    openSource: opts.openSource ?? ((p) => FileSource.open(p)),
  };
  return openMember(resolve(path), env, []);
}

/** A caller's resolver whose answers must still pass the confinement. */
function confined(resolver: PathResolver, confinement: ChainConfinement): PathResolver {
  return {
    resolve: async (ref, from) => {
      const p = await resolver.resolve(ref, from);
      await confinement.check(p, ref, from);
      return p;
    },
  };
}

async function canonical(p: string): Promise<string> {
  try {
    return await realpath(p);
  } catch {
    return resolve(p);
  }
}

interface OpenEnv {
  resolver: PathResolver;
  maxDepth: number;
  openSource: SourceOpener;
}

async function openMember(path: string, env: OpenEnv, visited: string[]): Promise<VirtualDisk> {
  const { resolver, maxDepth } = env;
  const id = await canonical(path);
  if (visited.includes(id)) {
    throw new AppError('DISK_CHAIN_CYCLE', `disk chain loops back to '${path}' (${[...visited, id].join(' -> ')})`, {
      details: { file: path, chain: [...visited, id] },
    });
  }
  if (visited.length >= maxDepth) {
    throw new AppError('DISK_CHAIN_CYCLE', `disk chain of '${visited[0]}' is deeper than ${maxDepth} files`, { details: { file: path, depth: visited.length } });
  }
  const chain = [...visited, id];
  const ctx: OpenContext = {
    resolver,
    openParent: async (ref, from) => openMember(await resolver.resolve(ref, from), env, chain),
    openSource: env.openSource,
  };
  const src = await env.openSource(path);
  let detected;
  try {
    detected = await detectSourceFormat(src);
  } catch (e) {
    await src.close();
    throw e;
  }
  switch (detected.format) {
    case 'vmdk':
      return openVmdk(src, ctx);
    case 'vhdx':
      return openVhdx(src, ctx);
    case 'vhd':
      return openVhd(src, ctx);
    case 'qcow2':
      return openQcow2(src, ctx);
    case 'raw':
      return openRaw(src);
  }
}
