/**
 * Creates a VMware-style test VM folder (`<name>.vmx` + data disk) that boots the harness guest
 * under `test/harness/vmrun-sim/vmrun` (and whose disk the Hyper-V simulator can use as VHDX).
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { ensureGuest } from './build-guest.js';
import { makeDataDisk, type DiskFormat } from './data-disk.js';
import { uuidLocation } from '../vmrun-sim/lib/uuid.mjs';

/** Options for {@link makeTestVm}. */
export interface TestVmOptions {
  /**
   * VM name: the .vmx base name and displayName (any characters except `/` and NUL). The disk
   * file is named after it too, with `"` replaced by `'`.
   */
  name: string;
  /** Data disk container (default `vmdk-flat`, which QEMU can migrate without helpers). */
  diskFormat?: DiskFormat;
  /** Guest RAM in MiB (default 256). */
  memMiB?: number;
  /** Data disk size in MiB (default 64). */
  diskMiB?: number;
  /** `none`: the guest never reports Tools running. */
  tools?: 'running' | 'none';
  /** `ignore`: the guest ignores the ACPI power button. */
  acpi?: 'handle' | 'ignore';
  /** `off`: no SQLite workload. */
  workload?: 'on' | 'off';
  /** Disk bus key used in the .vmx (default `scsi0:0`). */
  diskNode?: string;
  /** Add ethernet0 (default true, `nat`, connected). */
  ethernet?: boolean;
  /** Extra .vmx keys (raw values, encoded on write). */
  extraKeys?: Record<string, string>;
}

/** A created test VM. */
export interface TestVm {
  /** Absolute path of the VM folder. */
  dir: string;
  /** Absolute path of the .vmx. */
  vmxPath: string;
  /** Absolute path of the data disk (descriptor for VMDK). */
  diskPath: string;
}

/** Encodes a .vmx value: `|` and `"` and control characters become `|XX` (VMware's escape). */
export function encodeVmxValue(value: string): string {
  let out = '';
  for (const c of value) {
    const code = c.charCodeAt(0);
    out += c === '|' || c === '"' || code < 0x20 || code === 0x7f ? '|' + code.toString(16).toUpperCase().padStart(2, '0') : c;
  }
  return out;
}

/** Serialises .vmx keys (`.encoding` first) as `key = "value"` lines. */
export function formatVmx(keys: Record<string, string>): string {
  const lines = ['.encoding = "UTF-8"'];
  for (const [k, v] of Object.entries(keys)) {
    if (k === '.encoding') continue;
    lines.push(`${k} = "${encodeVmxValue(v)}"`);
  }
  return lines.join('\n') + '\n';
}

function uuidBytes(): string {
  const b = [...randomBytes(16)].map((x) => x.toString(16).padStart(2, '0'));
  return `${b.slice(0, 8).join(' ')}-${b.slice(8).join(' ')}`;
}

function diskExtension(format: DiskFormat): string {
  if (format === 'vhdx') return '.vhdx';
  if (format === 'raw') return '.img';
  return '.vmdk';
}

/**
 * Creates `dir` (if needed) holding `<name>.vmx` and `<name>.vmdk` (or `.vhdx`/`.img`), with
 * `sim.kernel`/`sim.initrd`/`sim.append` pointing at the shared built guest. Builds the guest on
 * first use (cached in `.cache/guest/`).
 */
export async function makeTestVm(dir: string, opts: TestVmOptions): Promise<TestVm> {
  if (!opts.name || opts.name.includes('/') || opts.name.includes('\0')) {
    throw new Error(`invalid test VM name: ${JSON.stringify(opts.name)}`);
  }
  const guest = await ensureGuest();
  const absDir = path.resolve(dir);
  await fs.mkdir(absDir, { recursive: true });
  const format = opts.diskFormat ?? 'vmdk-flat';
  // VMDK descriptors cannot quote a file name containing `"` (Windows forbids it in paths too)
  const diskFile = opts.name.replace(/"/g, "'") + diskExtension(format);
  const diskPath = path.join(absDir, diskFile);
  await makeDataDisk(diskPath, { format, sizeMiB: opts.diskMiB ?? 64 });
  const node = opts.diskNode ?? 'scsi0:0';
  const bus = node.split(':')[0] ?? 'scsi0';
  const append = [guest.append];
  if (opts.tools === 'none') append.push('twinsnap.tools=none');
  if (opts.acpi === 'ignore') append.push('twinsnap.acpi=ignore');
  if (opts.workload === 'off') append.push('twinsnap.workload=off');
  const uuid = uuidBytes();
  const vmxPath = path.join(absDir, `${opts.name}.vmx`);
  const keys: Record<string, string> = {
    'config.version': '8',
    'virtualHW.version': '19',
    displayName: opts.name,
    guestOS: 'other6xlinux-64',
    memsize: String(opts.memMiB ?? 256),
    numvcpus: '1',
    [`${bus}.present`]: 'TRUE',
    ...(bus.startsWith('scsi') ? { [`${bus}.virtualDev`]: 'pvscsi' } : {}),
    [`${node}.present`]: 'TRUE',
    [`${node}.fileName`]: diskFile,
    nvram: `${opts.name}.nvram`,
    extendedConfigFile: `${opts.name}.vmxf`,
    'uuid.bios': uuid,
    // as Workstation writes for a VM made at this path: its first power-on keeps the uuid
    'uuid.location': uuidLocation(vmxPath),
    'checkpoint.vmState': '',
    'tools.syncTime': 'FALSE',
    cleanShutdown: 'TRUE',
    'sim.kernel': guest.kernel,
    'sim.initrd': guest.initrd,
    'sim.append': append.join(' '),
  };
  if (opts.ethernet ?? true) {
    Object.assign(keys, {
      'ethernet0.present': 'TRUE',
      'ethernet0.connectionType': 'nat',
      'ethernet0.startConnected': 'TRUE',
      'ethernet0.virtualDev': 'vmxnet3',
      'ethernet0.addressType': 'generated',
    });
  }
  Object.assign(keys, opts.extraKeys ?? {});
  await fs.writeFile(vmxPath, formatVmx(keys));
  return { dir: absDir, vmxPath, diskPath };
}
