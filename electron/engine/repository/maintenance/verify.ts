import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { isAppError } from '../../../../shared/errors/app-error.js';
import { decodeChunk, sha256 } from '../chunks/chunk-codec.js';
import { decodeFixedIndex } from '../index/fixed-index.js';
import type { RepoLayout } from '../layout.js';
import { readObject, snapshotObjectName } from '../crypto/sealed-files.js';
import { decodeManifest, type Manifest } from '../snapshot/manifest.js';

/** What is wrong with one snapshot. */
export interface SnapshotDamage {
  snapshotId: string;
  problems: string[];
}

/** Result of verify. */
export interface VerifyResult {
  ok: boolean;
  /** Ids of damaged snapshots, sorted. */
  damaged: string[];
  details: SnapshotDamage[];
  checkedSnapshots: number;
  checkedChunks: number;
}

/** Options of verify. */
export interface VerifyOptions {
  /** Re-read, decompress and re-hash every referenced chunk (default: existence only). */
  full?: boolean;
  /** Only these snapshots (default: all). */
  snapshotIds?: string[];
  onProgress?: (p: { snapshots: number; chunks: number }) => void;
  /** Fast mode: whether a chunk exists, when it is kept elsewhere (a remote repository). */
  chunkExists?: (digest: string) => Promise<boolean>;
}

/**
 * Checks snapshots: manifest checksum, config file hashes, index checksums (against the file's
 * trailer and the manifest), and every referenced chunk (exists; with `full`, decodes to its
 * digest). Chunk results are shared between snapshots so each chunk is checked once. Snapshots
 * that vanish during the run (forgotten concurrently) are skipped, not reported.
 */
export async function verifySnapshots(layout: RepoLayout, allIds: string[], opts: VerifyOptions = {}): Promise<VerifyResult> {
  const ids = opts.snapshotIds ?? allIds;
  const chunkOk = new Map<string, string | null>(); // digest → problem or null
  const details: SnapshotDamage[] = [];
  const checkChunk = async (dg: string): Promise<string | null> => {
    const known = chunkOk.get(dg);
    if (known !== undefined) return known;
    let problem: string | null = null;
    try {
      if (opts.full) decodeChunk(await readFile(layout.chunk(dg)), dg, layout.keys);
      else if (opts.chunkExists) problem = (await opts.chunkExists(dg)) ? null : `chunk ${dg} is missing`;
      else if (!(await stat(layout.chunk(dg))).isFile()) problem = `chunk ${dg} is not a file`;
    } catch (e) {
      problem = (e as NodeJS.ErrnoException).code === 'ENOENT' ? `chunk ${dg} is missing` : (e as Error).message;
    }
    chunkOk.set(dg, problem);
    return problem;
  };
  let n = 0;
  for (const id of ids) {
    const problems: string[] = [];
    const dir = layout.snapshot(id);
    let m: Manifest;
    try {
      m = decodeManifest((await readObject(layout, 'manifest', snapshotObjectName(id, 'manifest.json'), layout.manifest(id))).toString('utf8'), id);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT' && !(await stat(dir).catch(() => undefined))) continue;
      details.push({ snapshotId: id, problems: [isAppError(e) ? e.message : `manifest unreadable: ${(e as Error).message}`] });
      continue;
    }
    for (const cf of m.configFiles) {
      let data: Buffer | undefined;
      try {
        data = await readObject(layout, 'config-file', snapshotObjectName(id, cf.file), join(dir, cf.file));
      } catch (e) {
        if (!isAppError(e)) problems.push(`configuration file ${cf.name} is missing`);
        else problems.push(`configuration file ${cf.name}: ${e.message}`);
        continue;
      }
      if (!data) problems.push(`configuration file ${cf.name} is missing`);
      else if (sha256(data) !== cf.sha256) problems.push(`configuration file ${cf.name} does not match its hash`);
    }
    for (const disk of m.disks) {
      let buf: Buffer;
      try {
        buf = await readObject(layout, 'index', snapshotObjectName(id, disk.index), join(dir, disk.index));
      } catch (e) {
        problems.push(isAppError(e) ? `index of disk ${disk.name}: ${e.message}` : `index of disk ${disk.name} is missing`);
        continue;
      }
      if (sha256(buf) !== disk.indexSha256) {
        problems.push(`index of disk ${disk.name} does not match the manifest`);
        continue;
      }
      try {
        const idx = decodeFixedIndex(buf, `${id}/${disk.name}`);
        if (idx.size !== disk.size) problems.push(`index of disk ${disk.name} has the wrong size`);
        const seen = new Set<string>();
        for (const dg of idx.digests()) {
          if (!dg || seen.has(dg)) continue;
          seen.add(dg);
          const p = await checkChunk(dg);
          if (p && problems.length < 50) problems.push(`disk ${disk.name}: ${p}`);
        }
      } catch (e) {
        problems.push((e as Error).message);
      }
    }
    n++;
    opts.onProgress?.({ snapshots: n, chunks: chunkOk.size });
    if (problems.length) {
      // a snapshot forgotten while we checked it is not damaged
      if (!(await stat(layout.manifest(id)).catch(() => undefined))) continue;
      details.push({ snapshotId: id, problems });
    }
  }
  details.sort((a, b) => (a.snapshotId < b.snapshotId ? -1 : 1));
  return { ok: details.length === 0, damaged: details.map((d) => d.snapshotId), details, checkedSnapshots: n, checkedChunks: chunkOk.size };
}
