/**
 * Data disks for the test guest: an empty ext4 file system (made with `mkfs.ext4` on a raw
 * image) converted by `qemu-img` into the requested container format.
 */
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { run } from './exec.js';

/**
 * Disk container formats the harness can produce.
 * - `vmdk-flat`: monolithicFlat VMDK (descriptor + raw `-flat.vmdk` extent).
 * - `vmdk-sparse`: monolithicSparse VMDK (one file, grain tables).
 * - `vmdk-split`: twoGbMaxExtentSparse VMDK (descriptor + `-s001.vmdk`).
 * - `vhdx`: dynamic VHDX (for the Hyper-V simulator).
 * - `raw`: plain image.
 */
export type DiskFormat = 'vmdk-flat' | 'vmdk-sparse' | 'vmdk-split' | 'vhdx' | 'raw';

/** Options for {@link makeDataDisk}. */
export interface DataDiskOptions {
  format: DiskFormat;
  /** Virtual size in MiB (default 64). */
  sizeMiB?: number;
  /** ext4 volume label (default `twinsnap-data`). */
  label?: string;
}

/** Creates `target` as an empty ext4 data disk in the given format. Returns `target`. */
export async function makeDataDisk(target: string, opts: DataDiskOptions): Promise<string> {
  const sizeMiB = opts.sizeMiB ?? 64;
  await fs.mkdir(path.dirname(target), { recursive: true });
  const raw = opts.format === 'raw' ? target : `${target}.tmp-raw-${process.pid}`;
  try {
    await fs.rm(raw, { force: true });
    await run('mkfs.ext4', ['-F', '-q', '-L', opts.label ?? 'twinsnap-data', '-E', 'lazy_itable_init=0,lazy_journal_init=0', raw, `${sizeMiB}M`]);
    if (opts.format === 'raw') return target;
    const [fmt, subformat] = ((): [string, string] => {
      switch (opts.format) {
        case 'vmdk-flat':
          return ['vmdk', 'monolithicFlat'];
        case 'vmdk-sparse':
          return ['vmdk', 'monolithicSparse'];
        case 'vmdk-split':
          return ['vmdk', 'twoGbMaxExtentSparse'];
        case 'vhdx':
          return ['vhdx', 'dynamic'];
      }
    })();
    const o = fmt === 'vmdk' ? `subformat=${subformat},adapter_type=lsilogic` : `subformat=${subformat}`;
    await run('qemu-img', ['convert', '-q', '-f', 'raw', '-O', fmt, '-o', o, raw, target]);
    return target;
  } finally {
    if (raw !== target) await fs.rm(raw, { force: true });
  }
}
