import { AppError } from '../../../shared/errors/app-error.js';
import { FileSource } from './core/file-source.js';
import { looksLikeDescriptor, MAX_DESCRIPTOR_BYTES } from './vmdk/vmdk-descriptor.js';
import type { DiskFormat } from './virtual-disk.js';

/** What content detection found: a format, plus whether a VMDK is a text descriptor. */
export interface DetectedFormat {
  format: DiskFormat;
  /** For vmdk: the file is a text descriptor (extents in other files). */
  descriptor?: boolean;
}

/** Container extensions that must carry a signature; a file with one and no magic is not raw. */
const CONTAINER_EXT = /\.(vmdk|vhd|vhdx|avhd|avhdx|qcow2?|qcow)$/i;
/** VMDK flat extent files are raw even though they end in .vmdk. */
const FLAT_EXTENT = /-(flat|f\d{3})\.vmdk$/i;

/** Detects the format of an open source by its content. */
export async function detectSourceFormat(src: FileSource): Promise<DetectedFormat> {
  const head = await src.readStrict(0, Math.min(src.size, 4096), 'file header');
  const ascii = head.toString('latin1', 0, Math.min(head.length, 8));
  if (ascii === 'vhdxfile') return { format: 'vhdx' };
  if (ascii.startsWith('KDMV') || ascii.startsWith('COWD')) return { format: 'vmdk' };
  if (head.length >= 4 && head.readUInt32BE(0) === 0x514649fb) return { format: 'qcow2' };
  if (ascii === 'conectix') return { format: 'vhd' };
  if (src.size >= 512) {
    const tail = await src.readStrict(src.size - 512, 512, 'footer');
    if (tail.toString('latin1', 0, 8) === 'conectix') return { format: 'vhd' };
    // Old Virtual PC images have a 511-byte footer.
    if (tail.toString('latin1', 1, 9) === 'conectix') return { format: 'vhd' };
  }
  if (src.size <= MAX_DESCRIPTOR_BYTES && looksLikeDescriptor(head.toString('utf8'))) return { format: 'vmdk', descriptor: true };
  if (CONTAINER_EXT.test(src.path) && !FLAT_EXTENT.test(src.path)) {
    throw new AppError('DISK_FORMAT_UNKNOWN', `'${src.path}' has no vmdk, vhdx, vhd or qcow2 signature; it is damaged or not a disk image`, {
      details: { file: src.path, structure: 'file header' },
    });
  }
  return { format: 'raw' };
}

/** Detects the format of the file at `path` by its content (not its extension). */
export async function detectFormat(path: string): Promise<DiskFormat> {
  const src = await FileSource.open(path);
  try {
    return (await detectSourceFormat(src)).format;
  } finally {
    await src.close();
  }
}
