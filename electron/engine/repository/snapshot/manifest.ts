import { AppError } from '../../../../shared/errors/app-error.js';
import type { BootVerification, Consistency, SnapshotSummary, TwinRecord } from '../../../../shared/domain/snapshot.js';
import { isGuestId, nameGuestId, type GuestId } from '../../../../shared/domain/guest-id.js';
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
  /**
   * The guest's identity (shared/domain/guest-id.ts). Absent in manifests written before guest
   * ids: read as `name:<guest>` ({@link manifestGuestId}).
   */
  guestId?: GuestId;
  /** The guest's display name at the time of the snapshot (a label). */
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
  if (m.format !== 1 || m.id !== id || !Array.isArray(m.disks) || !Array.isArray(m.configFiles)) throw bad('unexpected content');
  if (typeof m.guest !== 'string' || m.guest === '') throw bad('missing guest name');
  if (m.guestId !== undefined && !isGuestId(m.guestId)) throw bad(`guest id ${JSON.stringify(m.guestId)} is not a guest id`);
  // the repository may sit on a share or a USB disk anyone can edit (and the digest is no
  // signature): every name that becomes a path is checked before it touches a file system
  const name = (v: unknown, what: string) => {
    const why = fileNameProblem(v);
    if (why) throw bad(`${what} ${JSON.stringify(v)} ${why}`);
  };
  for (const cf of m.configFiles) {
    name(cf?.name, 'configuration file name');
    if (cf.file !== `config/${cf.name}`) throw bad(`configuration file ${JSON.stringify(cf.name)} is stored at ${JSON.stringify(cf.file)}, not under config/`);
  }
  for (const d of m.disks) {
    name(d?.name, 'disk name');
    name(d.fileName, `file name of disk ${JSON.stringify(d.name)}`);
    if (d.index !== `disks/${d.name}.fidx`) throw bad(`index of disk ${JSON.stringify(d.name)} is stored at ${JSON.stringify(d.index)}, not disks/${d.name}.fidx`);
  }
  return m;
}

const DEVICE_NAME = /^(con|prn|aux|nul|com[1-9¹²³]|lpt[1-9¹²³])$/i;

/**
 * Why `name` is not a plain file name that is safe on every host, or undefined when it is:
 * not empty, at most 255 bytes, no `/` `\\` `:`, no control characters (C0, DEL, C1), no
 * trailing dot or space (so neither `.` nor `..`), not a Windows device name (CON, PRN, AUX,
 * NUL, COM1–9, LPT1–9) with or without an extension.
 */
export function fileNameProblem(name: unknown): string | undefined {
  if (typeof name !== 'string' || name === '') return 'is empty';
  if (/[/\\:]/.test(name)) return 'contains a path separator';
  if (/[\u0000-\u001f\u007f-\u009f]/.test(name)) return 'contains a control character';
  if (/[. ]$/.test(name)) return 'ends with a dot or a space';
  if (DEVICE_NAME.test(name.split('.')[0]!.trimEnd())) return 'is a Windows device name';
  if (Buffer.byteLength(name) > 255) return 'is longer than 255 bytes';
  return undefined;
}

/** `name` when it is a plain file name ({@link fileNameProblem}); MANIFEST_CORRUPT naming it and the snapshot otherwise. */
export function checkedFileName(name: unknown, snapshotId: string, what = 'file name'): string {
  const why = fileNameProblem(name);
  if (why) throw new AppError('MANIFEST_CORRUPT', `manifest of snapshot '${snapshotId}' is corrupt: ${what} ${JSON.stringify(name)} ${why}`, { details: { snapshotId } });
  return name as string;
}

/** The guest a manifest belongs to: its `guestId`, or `name:<guest>` for manifests written before guest ids. */
export function manifestGuestId(m: Pick<Manifest, 'guestId' | 'guest'>): GuestId {
  return m.guestId ?? nameGuestId(m.guest);
}

/** The catalog / contract view of a manifest. */
export function toSummary(m: Manifest): SnapshotSummary {
  const logicalBytes = m.disks.reduce((a, d) => a + d.size, 0);
  const s: SnapshotSummary = {
    id: m.id,
    guestId: manifestGuestId(m),
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

/** A safe file/disk name (passes {@link fileNameProblem}): basename, no separators or control characters, no device name, never empty. */
export function safeName(name: string): string {
  const base = name.split(/[\\/]/).pop() ?? '';
  let clean = base
    .replace(/[^A-Za-z0-9._ +=@,-]/g, '_')
    .replace(/^\.+/, '_')
    .slice(0, 200)
    .replace(/[. ]+$/, (m) => '_'.repeat(m.length));
  const dot = clean.indexOf('.');
  if (DEVICE_NAME.test((dot < 0 ? clean : clean.slice(0, dot)).trimEnd())) clean = dot < 0 ? `${clean}_` : `${clean.slice(0, dot)}_${clean.slice(dot)}`;
  return clean.length ? clean : 'unnamed';
}
