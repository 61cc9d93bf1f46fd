import { readFile } from 'node:fs/promises';
import { AppError } from '../../../../shared/errors/app-error.js';
import type { HostNetwork, RestoreNetwork } from '../../../../shared/domain/guest.js';
import type { VmxFile } from './vmx-file.js';
import { vmxNics } from './vmx-facts.js';
import { readVmxLike } from './vmware-inventory.js';

/**
 * The networks a restored VMware VM's adapters can name, and how the restored `.vmx` says it
 * (reference vmware-workstation.md §2.2 `ethernetN.connectionType` / `startConnected`;
 * vmware-twin-facts.md §1b for LAN segments and custom vmnets):
 * - `bridged`, `nat`, `hostonly`: `ethernetN.connectionType` of that name, on the host's default
 *   network of the kind (VMnet0 / VMnet8 / VMnet1) — always offered, every Workstation has them;
 * - `vmnetN` (a custom network): `connectionType = "custom"` + `vnet = "vmnetN"` (lowercase on a
 *   Linux host, `VMnetN` on Windows); listed from the host's networking configuration where
 *   Workstation for Linux keeps it (`/etc/vmware/networking`, `answer VNET_<N>_…` lines) — on
 *   Windows the vmnets live in the registry, which is not read, so only the three kinds are offered;
 * - a LAN segment by its name: `connectionType = "pvn"` + `pvnID`, from the user's preferences
 *   (`pref.namedPVNs<N>.name` / `.pvnID`).
 * "Disconnected": the backing is kept and every adapter gets `startConnected = "FALSE"`. A
 * restored VM is powered off (it has no suspend state), so it is powered on, not resumed, and
 * power-on honours `startConnected` ("Specifies whether or not to connect the device when the
 * virtual machine starts", vSphere VirtualDeviceConnectInfo, vmware-twin-facts.md §1a; the
 * resume caveat there concerns twins only).
 */

/** Where Workstation for Linux keeps the host's virtual networks. */
export const LINUX_NETWORKING_FILE = '/etc/vmware/networking';

/** What `listNetworks` reads: the host's networking file(s) and the user's preferences. */
export interface NetworkSources {
  networkingFiles: string[];
  preferencesFiles: string[];
  /** The host's platform: Windows spells custom networks `VMnetN`. */
  platform: NodeJS.Platform;
}

const KINDS: HostNetwork[] = [
  { name: 'bridged', kind: 'bridged', detail: "the host's physical network (VMnet0)" },
  { name: 'nat', kind: 'nat', detail: "shares the host's address (VMnet8)" },
  { name: 'hostonly', kind: 'hostonly', detail: 'a private network with the host (VMnet1)' },
];

/** The networks of this host (kinds, custom vmnets, LAN segments), each name once. */
export async function vmwareHostNetworks(src: NetworkSources): Promise<HostNetwork[]> {
  const out = [...KINDS];
  const seen = new Set(out.map((n) => n.name.toLowerCase()));
  const add = (n: HostNetwork) => {
    if (seen.has(n.name.toLowerCase())) return;
    seen.add(n.name.toLowerCase());
    out.push(n);
  };
  for (const f of src.networkingFiles) {
    const text = await readFile(f, 'utf8').catch(() => '');
    const vnets = new Map<number, Set<string>>();
    for (const m of text.matchAll(/^\s*answer\s+VNET_(\d+)_(\w+)\s*(.*)$/gm)) {
      const n = Number(m[1]);
      if (!vnets.has(n)) vnets.set(n, new Set());
      if (!/^(no|)$/i.test(m[3]!.trim())) vnets.get(n)!.add(m[2]!.toUpperCase());
    }
    for (const [n, keys] of [...vnets].sort((a, b) => a[0] - b[0])) {
      if (n === 0 || n === 1 || n === 8) continue; // the bridged / host-only / NAT defaults above
      const what = keys.has('NAT') ? 'NAT' : keys.has('INTERFACE') ? 'bridged' : keys.has('HOSTONLY_SUBNET') ? 'host-only' : 'custom';
      add({ name: vnetName(n, src.platform), kind: 'custom', detail: `custom network (${what})` });
    }
  }
  for (const f of src.preferencesFiles) {
    const prefs = await readVmxLike(f);
    if (!prefs) continue;
    for (const [k, v] of prefs.entries()) {
      const m = /^pref\.namedpvns(\d+)\.name$/i.exec(k);
      const id = m && prefs.get(`pref.namedPVNs${m[1]}.pvnID`);
      if (v && id) add({ name: v, kind: 'lan-segment', detail: 'LAN segment', id });
    }
  }
  return out;
}

function vnetName(n: number, platform: NodeJS.Platform): string {
  return platform === 'win32' ? `VMnet${n}` : `vmnet${n}`;
}

/**
 * Writes the chosen network into a restored VM's `.vmx` (in place): every present adapter
 * disconnected at power-on, left as it was (`original`), or on `target` (a LAN segment by its
 * `id`, the pvnID) and connected at power-on.
 */
export function applyVmxNetwork(vmx: VmxFile, network: RestoreNetwork, target?: HostNetwork): VmxFile {
  if (network.kind === 'original') return vmx;
  for (const nic of vmxNics(vmx)) {
    if (network.kind === 'disconnected') {
      vmx.set(`${nic}.startConnected`, 'FALSE');
      continue;
    }
    if (!target) throw new AppError('HV_NETWORK_NOT_FOUND', `there is no network '${network.name}' on this host`);
    vmx.delete(`${nic}.vnet`);
    vmx.delete(`${nic}.pvnID`);
    if (target.kind === 'custom') {
      vmx.set(`${nic}.connectionType`, 'custom');
      vmx.set(`${nic}.vnet`, target.name);
    } else if (target.kind === 'lan-segment') {
      if (!target.id) throw new AppError('HV_NETWORK_NOT_FOUND', `the lan segment '${target.name}' has no id in the preferences`);
      vmx.set(`${nic}.connectionType`, 'pvn');
      vmx.set(`${nic}.pvnID`, target.id);
    } else {
      vmx.set(`${nic}.connectionType`, target.kind);
    }
    vmx.set(`${nic}.startConnected`, 'TRUE');
  }
  return vmx;
}
