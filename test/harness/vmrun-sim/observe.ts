/**
 * What a test can observe of vmrun-sim from outside the adapter (test/harness/README.md,
 * "vmrun-sim: pessimistic switches"): the packets each VM put on each network, and the memory
 * hashes the simulator logs (VMRUN_SIM_VMEM_HASH=1) when it suspends a VM and when it resumes one.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** One packet capture: who (VM folder `--` VM name), on which network, how many frames. */
export interface NetworkCapture {
  network: string;
  file: string;
  who: string;
  frames: number;
}

/** Frames in a pcap file (libpcap format as QEMU's filter-dump writes it). */
export function pcapFrames(file: string): number {
  const b = readFileSync(file);
  if (b.length < 24) return 0;
  const le = b.readUInt32LE(0) === 0xa1b2c3d4;
  let n = 0;
  for (let off = 24; off + 16 <= b.length; n++) off += 16 + (le ? b.readUInt32LE(off + 8) : b.readUInt32BE(off + 8));
  return n;
}

/** Every capture under the simulator's state folder (`<state>/networks/<network>/<who>-ethN-<t>.pcap`). */
export function networkCaptures(simState: string): NetworkCapture[] {
  const root = join(simState, 'networks');
  if (!existsSync(root)) return [];
  const out: NetworkCapture[] = [];
  for (const network of readdirSync(root)) {
    for (const f of readdirSync(join(root, network))) {
      const file = join(root, network, f);
      out.push({ network, file, who: f.replace(/-eth\d+-\d+\.pcap$/, ''), frames: pcapFrames(file) });
    }
  }
  return out;
}

/** The capture owner name vmrun-sim uses for a VM folder + .vmx base name. */
export function captureWho(folderName: string, vmxBase: string): string {
  return `${folderName}--${vmxBase}`.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 120);
}

/** Memory hashes a VM folder's vmware*.log files record: at suspend (`suspended`) and at resume (`resumed`). */
export function loggedMemoryHashes(folder: string): { suspended: string[]; resumed: string[] } {
  const out = { suspended: [] as string[], resumed: [] as string[] };
  if (!existsSync(folder)) return out;
  for (const f of readdirSync(folder).filter((n) => /^vmware(-\d+)?\.log$/.test(n))) {
    for (const m of readFileSync(join(folder, f), 'utf8').matchAll(/(suspended|resuming from) memory file .+? sha256 ([0-9a-f]{64})/g)) {
      (m[1] === 'suspended' ? out.suspended : out.resumed).push(m[2]!);
    }
  }
  return out;
}
