import type { ByteSource } from './byte-source.js';

/** What a signature probe found at the start of a volume. */
export interface DetectedFs {
  /** ntfs, fat, exfat, ext, refs, xfs, btrfs, lvm, bitlocker, luks, swap, iso9660, or unknown. */
  type: string;
  /** Whether a driver exists for this type. */
  supported: boolean;
}

const SUPPORTED = new Set(['ntfs', 'fat', 'exfat', 'ext']);

/** True when the first sector carries a plausible FAT BIOS parameter block. */
export function looksLikeFat(b: Buffer): boolean {
  if (b.length < 512 || b.readUInt16LE(510) !== 0xaa55) return false;
  if (b[0] !== 0xeb && b[0] !== 0xe9) return false;
  const bps = b.readUInt16LE(11);
  const spc = b[13];
  if (![512, 1024, 2048, 4096].includes(bps)) return false;
  if (spc === 0 || (spc & (spc - 1)) !== 0) return false;
  if (b.readUInt16LE(14) === 0 || b[16] === 0 || b[16] > 4) return false;
  const tot = b.readUInt16LE(19) || b.readUInt32LE(32);
  return tot > 0 && b[21] >= 0xf0;
}

/**
 * Identifies the filesystem (or container) at the start of `src` by its signatures only; never
 * throws on garbage (returns `unknown`).
 */
export async function detectFilesystem(src: ByteSource): Promise<DetectedFs> {
  const head = await src.read(0, 68 * 1024);
  const type = probe(head);
  return { type, supported: SUPPORTED.has(type) };
}

function probe(b: Buffer): string {
  const at = (off: number, s: string) => b.length >= off + s.length && b.toString('latin1', off, off + s.length) === s;
  if (at(3, 'NTFS    ')) return 'ntfs';
  if (at(3, 'EXFAT   ')) return 'exfat';
  if (at(3, 'ReFS')) return 'refs';
  if (at(3, '-FVE-FS-')) return 'bitlocker';
  if (at(0, 'XFSB')) return 'xfs';
  if (at(0, 'LUKS\xba\xbe')) return 'luks';
  if (b.length >= 1024 + 0x3a && b.readUInt16LE(1024 + 0x38) === 0xef53) return 'ext';
  for (let s = 0; s < 4; s++) if (at(s * 512, 'LABELONE')) return 'lvm';
  if (at(0x10040, '_BHRfS_M')) return 'btrfs';
  if (at(4086, 'SWAPSPACE2') || at(4086, 'SWAP-SPACE')) return 'swap';
  if (at(0x8001, 'CD001')) return 'iso9660';
  if (looksLikeFat(b)) return 'fat';
  return 'unknown';
}
