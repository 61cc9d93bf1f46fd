import { AppError } from '../../../../shared/errors/app-error.js';
import type { BootVerification, Consistency, SnapshotSummary, TwinRecord } from '../../../../shared/domain/snapshot.js';
import { sha256 } from '../chunks/chunk-codec.js';

/** One disk of a snapshot, as recorded in its manifest. */
export interface ManifestDisk {
  name: string;
  /** File name of the source image (used when restoring the VM folder). */
  fileName: string;
  size: number;
  sourceFormat?: string;
  /** `disks/<name>.fidx`, relative to the snapshot folder. */
  index: string;
  /** SHA-256 of the index file. */
  indexSha256: string;
  chunkSize: number;
  chunks: number;
  zeroChunks: number;
  /** Bytes of non-zero chunks (logical). */
  dataBytes: number;
  /** Bytes this snapshot added to the chunk store (compressed, incl. headers). */
  newBytes: number;
  /**
   * Chunks whose fingerprint matched the previous snapshot of this disk, so their digest was
   * reused without hashing (absent when there was no previous snapshot to compare with).
   */
  unchangedChunks?: number;
}

/** A configuration file of the VM kept with the snapshot. */
export interface ManifestConfigFile {
  name: string;
  /** `config/<name>`, relative to the snapshot folder. */
  file: string;
  size: number;
  sha256: string;
}

/** The manifest of a snapshot (`snapshots/<id>/manifest.json`). */
export interface Manifest {
  format: 1;
  id: string;
  guest: string;
  /** ISO time of the freeze (or of the import). */
  time: string;
  consistency: Consistency;
  pauseMs?: number;
  jobId?: string;
  hostname: string;
  log: string[];
  configFiles: ManifestConfigFile[];
  disks: ManifestDisk[];
  /** Boot verification done by the backup (added after the disks were stored; see manifest-amend.ts). */
  bootVerify?: BootVerification;
  /** Twin backups: the twin's isolation, shutdown method, host bytes written, crash reason. */
  twin?: TwinRecord;
}

/**
 * Serialises a manifest with a trailing `digest` field: SHA-256 of the JSON of every other
 * field, so a flipped byte anywhere in the file is detected.
 */
export function encodeManifest(m: Manifest): string {
  const body = JSON.stringify(m);
  return `${JSON.stringify({ manifest: m, digest: sha256(body) }, null, 1)}\n`;
}

/** Parses and checks a manifest (MANIFEST_CORRUPT naming the snapshot on any problem). */
export function decodeManifest(text: string, id: string): Manifest {
  const bad = (why: string) => new AppError('MANIFEST_CORRUPT', `manifest of snapshot '${id}' is corrupt: ${why}`, { details: { snapshotId: id } });
  let outer: { manifest?: Manifest; digest?: string };
  try {
    outer = JSON.parse(text) as typeof outer;
  } catch {
    throw bad('not valid JSON');
  }
  const m = outer.manifest;
  if (!m || typeof outer.digest !== 'string') throw bad('missing fields');
  if (sha256(JSON.stringify(m)) !== outer.digest) throw bad('checksum mismatch');
  if (m.format !== 1 || m.id !== id || !Array.isArray(m.disks)) throw bad('unexpected content');
  return m;
}

/** The catalog / contract view of a manifest. */
export function toSummary(m: Manifest): SnapshotSummary {
  const logicalBytes = m.disks.reduce((a, d) => a + d.size, 0);
  const s: SnapshotSummary = {
    id: m.id,
    guest: m.guest,
    time: m.time,
    consistency: m.consistency,
    disks: m.disks.map((d) => ({ name: d.name, size: d.size, dataBytes: d.dataBytes, ...(d.sourceFormat ? { sourceFormat: d.sourceFormat } : {}) })),
    logicalBytes,
    newBytes: m.disks.reduce((a, d) => a + d.newBytes, 0),
  };
  if (m.pauseMs !== undefined) s.pauseMs = m.pauseMs;
  if (m.jobId) s.jobId = m.jobId;
  if (m.bootVerify) s.bootVerify = { ...m.bootVerify };
  if (m.twin) s.twin = structuredClone(m.twin);
  return s;
}

/** A safe file/disk name: basename, no separators or control characters, never empty. */
export function safeName(name: string): string {
  const base = name.split(/[\\/]/).pop() ?? '';
  const clean = base.replace(/[^A-Za-z0-9._ +=@,-]/g, '_').replace(/^\.+/, '_');
  return clean.length ? clean.slice(0, 200) : 'unnamed';
}
