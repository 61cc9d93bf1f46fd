import { planRestoredVmwareFolder } from '../hypervisor/vmware/restored-identity.js';
import type { ExportFormat, Repository, RestorePlan } from '../repository/repository.js';

/**
 * A whole VM restored as a new VM into `to` (a new folder): the configuration names exactly the
 * restored disk files and the VM's own name (`<name>.vmx` with a new identity for VMware;
 * planRestoredVmwareFolder), the disks in the original or the chosen format. Used by
 * `restore.start` (new-vm) and `twinsnap restore`.
 */
export function restoreVmFolder(
  repo: Repository,
  snapshotId: string,
  opts: { to: string; name: string; format?: ExportFormat | 'original'; onProgress?: (bytesDone: number, bytesTotal: number) => void; signal?: AbortSignal },
): Promise<{ path: string; files: string[] }> {
  return repo.restoreSnapshot(snapshotId, {
    to: opts.to,
    format: opts.format ?? 'original',
    signal: opts.signal,
    onProgress: opts.onProgress ? (p) => opts.onProgress!(p.bytesDone, p.bytesTotal) : undefined,
    plan: (f: RestorePlan) => planRestoredVmwareFolder(f, opts.name),
  });
}
