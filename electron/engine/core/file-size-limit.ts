import { statfs } from 'node:fs/promises';
import { dirname } from 'node:path';
import { AppError } from '../../../shared/errors/app-error.js';

const TiB = 1024 ** 4;
const GiB = 1024 ** 3;

/** File systems with a known largest file, by `statfs` type (Linux magic numbers). */
const LIMITS: Record<number, { name: string; maxFile?: string }> = {
  0xef53: { name: 'ext2/3/4', maxFile: '16 TiB with 4 KiB blocks (2 TiB with 1 KiB blocks)' },
  0x4d44: { name: 'FAT', maxFile: '4 GiB' },
  0x2011bab0: { name: 'exFAT', maxFile: '16 EiB' },
  0x58465342: { name: 'XFS', maxFile: '8 EiB' },
  0x9123683e: { name: 'btrfs', maxFile: '16 EiB' },
  0x01021994: { name: 'tmpfs' },
  0x5346544e: { name: 'NTFS', maxFile: '16 TiB − 64 KiB on older Windows, 8 PiB on newer' },
  0x6969: { name: 'NFS' },
  0xff534d42: { name: 'CIFS/SMB' },
  0xfe534d42: { name: 'SMB2' },
};

function human(n: number): string {
  if (n >= TiB) return `${(n / TiB).toFixed(n % TiB === 0 ? 0 : 2)} TiB`;
  return `${(n / GiB).toFixed(2)} GiB`;
}

/**
 * The typed error for EFBIG (a file larger than its file system allows): FILE_TOO_LARGE naming
 * the file, the size asked for and, where known, the file system and its limit.
 */
export async function fileTooLarge(path: string, size: number, cause: unknown): Promise<AppError> {
  const st = await statfs(dirname(path)).catch(() => undefined);
  const fs = st ? LIMITS[Number(st.type)] : undefined;
  const where = fs
    ? `the ${fs.name} file system of '${dirname(path)}'${fs.maxFile ? ` holds files of at most ${fs.maxFile}` : ' has a smaller file size limit'}`
    : `the file system of '${dirname(path)}' cannot hold a file that large`;
  return new AppError(
    'FILE_TOO_LARGE',
    `'${path}' would be ${human(size)}, but ${where}: write it to a file system without that limit, or use a sparse image format (qcow2, vhdx), whose file only grows with the data`,
    { cause, details: { file: path, size, fileSystem: fs?.name, fsType: st ? Number(st.type) : undefined } },
  );
}

/** True for the error a file system gives for a file beyond its largest size. */
export function isFileTooLarge(e: unknown): boolean {
  return (e as NodeJS.ErrnoException | undefined)?.code === 'EFBIG';
}
