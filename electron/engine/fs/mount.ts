import type { ByteSource } from './byte-source.js';
import { detectFilesystem } from './detect-fs.js';
import { ExtVolume } from './ext/ext-volume.js';
import { ExfatVolume } from './fat/exfat-volume.js';
import { FatVolume } from './fat/fat-volume.js';
import type { FileContent, FsNode, GuestFilesystem } from './guest-fs.js';
import { AppError, isAppError } from '../../../shared/errors/app-error.js';
import { NtfsVolume } from './ntfs/ntfs-volume.js';

/** Result of trying to mount a volume: the filesystem, or why it can't be browsed. */
export interface MountResult {
  /** Detected type (ntfs, fat32, exfat, ext4, refs, xfs, lvm, bitlocker, unknown…). */
  fsType: string;
  supported: boolean;
  fs?: GuestFilesystem;
  warnings: string[];
}

/**
 * Detects and opens the filesystem of a volume. Unknown or unsupported types and corrupt
 * volumes never throw: they come back with `supported: false` and a warning.
 */
export async function mountVolume(src: ByteSource, label: string): Promise<MountResult> {
  let det;
  try {
    det = await detectFilesystem(src);
  } catch (e) {
    return { fsType: 'unknown', supported: false, warnings: [`${label}: could not read the volume: ${(e as Error).message}`] };
  }
  if (!det.supported) {
    const what = det.type === 'unknown' ? 'unrecognised filesystem' : `${det.type} is not supported yet`;
    return { fsType: det.type, supported: false, warnings: [`${label}: ${what}; its files cannot be browsed`] };
  }
  try {
    const fs = await openDriver(det.type, src);
    return { fsType: fs.fsType, supported: true, fs, warnings: fs.warnings.map((w) => `${label}: ${w}`) };
  } catch (e) {
    return { fsType: det.type, supported: false, warnings: [`${label}: ${det.type} volume could not be opened: ${(e as Error).message}`] };
  }
}

/**
 * Opens the driver for a detected type, wrapped so that out-of-bounds reads of malformed
 * structures (Node's RangeError) surface as FS_CORRUPT like every other inconsistency.
 */
export async function openDriver(type: string, src: ByteSource): Promise<GuestFilesystem> {
  const fs = await typed(async () =>
    type === 'ntfs' ? await NtfsVolume.open(src) : type === 'exfat' ? await ExfatVolume.open(src) : type === 'fat' ? await FatVolume.open(src) : await ExtVolume.open(src),
  );
  return {
    get fsType() {
      return fs.fsType;
    },
    warnings: fs.warnings,
    caseInsensitive: fs.caseInsensitive,
    root: () => typed(() => fs.root()),
    readdir: (dir: FsNode) => typed(() => fs.readdir(dir)),
    open: async (node: FsNode, stream?: string): Promise<FileContent> => {
      const c = await typed(() => fs.open(node, stream));
      const content: FileContent = { size: c.size, read: (o, l) => typed(() => c.read(o, l)) };
      if (c.readParts) content.readParts = (o, l) => typed(() => c.readParts!(o, l));
      if (c.readLeased) content.readLeased = (o, l) => typed(() => c.readLeased!(o, l));
      return content;
    },
  };
}

async function typed<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (isAppError(e)) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    if (e instanceof RangeError || code === 'ERR_OUT_OF_RANGE' || code === 'ERR_BUFFER_OUT_OF_BOUNDS')
      throw new AppError('FS_CORRUPT', `malformed filesystem structure: ${(e as Error).message}`, { cause: e });
    throw e;
  }
}
