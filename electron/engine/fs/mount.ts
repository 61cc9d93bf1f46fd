import type { ByteSource } from './byte-source.js';
import { detectFilesystem } from './detect-fs.js';
import { ExtVolume } from './ext/ext-volume.js';
import { ExfatVolume } from './fat/exfat-volume.js';
import { FatVolume } from './fat/fat-volume.js';
import type { GuestFilesystem } from './guest-fs.js';
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
    const fs =
      det.type === 'ntfs'
        ? await NtfsVolume.open(src)
        : det.type === 'exfat'
          ? await ExfatVolume.open(src)
          : det.type === 'fat'
            ? await FatVolume.open(src)
            : await ExtVolume.open(src);
    return { fsType: fs.fsType, supported: true, fs, warnings: fs.warnings.map((w) => `${label}: ${w}`) };
  } catch (e) {
    return { fsType: det.type, supported: false, warnings: [`${label}: ${det.type} volume could not be opened: ${(e as Error).message}`] };
  }
}
