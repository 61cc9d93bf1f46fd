import { readdir, rename } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { randomBytes } from 'node:crypto';
import { AppError } from '../../../shared/errors/app-error.js';
import { planReplacedVmwareFolder, planRestoredVmwareFolder, type VmxNetworkChoice } from '../hypervisor/vmware/restored-identity.js';
import { pickNetwork } from '../hypervisor/host-networks.js';
import type { Hypervisor } from '../hypervisor/hypervisor.js';
import type { HypervisorKind, RestoreNetwork } from '../../../shared/domain/guest.js';
import { checkRestoredHyperVFolder } from '../hypervisor/hyperv/restored-folder.js';
import type { ExportFormat, Repository, RestorePlan } from '../repository/repository.js';

/**
 * A whole VM restored as a new VM into `to` (a new folder): the configuration names exactly the
 * restored disk files and the VM's own name (`<name>.vmx` with a new identity for VMware;
 * planRestoredVmwareFolder; Hyper-V: the export's `.vmcx` and the disks under the names it gives
 * them, imported with a new id by registerRestored), the disks in the original or the chosen format. Used by
 * `restore.start` (new-vm) and `twinsnap restore`.
 */
export function restoreVmFolder(
  repo: Repository,
  snapshotId: string,
  opts: { to: string; name: string; format?: ExportFormat | 'original'; net?: VmxNetworkChoice; onProgress?: (bytesDone: number, bytesTotal: number) => void; signal?: AbortSignal },
): Promise<{ path: string; files: string[] }> {
  return repo.restoreSnapshot(snapshotId, {
    to: opts.to,
    format: opts.format ?? 'original',
    signal: opts.signal,
    onProgress: opts.onProgress ? (p) => opts.onProgress!(p.bytesDone, p.bytesTotal) : undefined,
    plan: (f: RestorePlan) => checkRestoredHyperVFolder(planRestoredVmwareFolder(f, opts.name, opts.net)),
  });
}

/**
 * "Replace the original" for a VMware VM that is off: the restore point is restored next to the
 * VM's folder (same .vmx file name and identity, the disks its .vmx names), then the VM's folder
 * is moved aside to `<folder>.before-restore-<time>` — kept, so the replace can be undone — and
 * the restored folder takes its place. The VM keeps its path, so Workstation knows it as before.
 * Returns the VM's folder and where its previous files are.
 */
export async function replaceVmwareVm(
  repo: Repository,
  snapshotId: string,
  opts: { vmxPath: string; stamp: string; net?: VmxNetworkChoice; onProgress?: (bytesDone: number, bytesTotal: number) => void; signal?: AbortSignal },
): Promise<{ folder: string; previous: string; files: string[] }> {
  const folder = dirname(opts.vmxPath);
  const others = (await readdir(folder)).filter((f) => /\.vmx$/i.test(f) && f !== basename(opts.vmxPath));
  if (others.length) {
    throw new AppError('PATH_UNSAFE', `'${folder}' holds other vms too (${others.join(', ')}): replacing moves the whole folder aside, so restore this one as a new vm instead`);
  }
  const staging = `${folder}.twinsnap-restore-${randomBytes(3).toString('hex')}`;
  const r = await repo.restoreSnapshot(snapshotId, {
    to: staging,
    format: 'original',
    signal: opts.signal,
    onProgress: opts.onProgress ? (p) => opts.onProgress!(p.bytesDone, p.bytesTotal) : undefined,
    plan: (f: RestorePlan) => {
      if (!f.configFiles.some((c) => /\.vmx$/i.test(c.name))) {
        throw new AppError('NOT_IMPLEMENTED', 'this restore point holds no .vmx, so it cannot replace the vm: restore it as a new vm or its disks only');
      }
      return planReplacedVmwareFolder(f, basename(opts.vmxPath), opts.net);
    },
  });
  const previous = `${folder}.before-restore-${opts.stamp}`;
  await rename(folder, previous);
  try {
    await rename(staging, folder);
  } catch (e) {
    await rename(previous, folder);
    throw e;
  }
  return { folder, previous, files: r.files };
}

/**
 * Which hypervisor a restored folder (or a restore point's configuration files) belongs to, by its
 * configuration file (a Hyper-V import moves the .vmcx into 'Virtual Machines').
 */
export function kindOfFolder(files: string[]): HypervisorKind | undefined {
  if (files.some((f) => /\.vmx$/i.test(f))) return 'vmware';
  if (files.some((f) => /\.vmcx$/i.test(f) || f.toLowerCase() === 'virtual machines')) return 'hyperv';
  return undefined;
}

/**
 * The network choice of a whole-VM restore, checked before anything is written: to connect, the
 * network must be one the host of the restore point's hypervisor lists (HV_NETWORK_NOT_FOUND
 * naming those it has; HV_NOT_INSTALLED when that hypervisor is not set up here).
 */
export async function checkRestoreNetwork(hypervisors: Hypervisor[], configFiles: string[], network: RestoreNetwork): Promise<VmxNetworkChoice> {
  if (network.kind !== 'network') return { network };
  const kind = kindOfFolder(configFiles);
  const hv = kind && hypervisors.find((h) => h.kind === kind);
  if (!hv?.listNetworks) {
    throw new AppError(
      'HV_NOT_INSTALLED',
      `${kind === 'hyperv' ? 'hyper-v' : kind === 'vmware' ? 'vmware workstation' : 'the hypervisor of this restore point'} is not set up here, so its networks cannot be checked: restore the vm disconnected and connect it in the hypervisor`,
    );
  }
  return { network, target: pickNetwork(await hv.listNetworks(), network.name) };
}
