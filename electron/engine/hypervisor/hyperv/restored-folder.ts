import { AppError } from '../../../../shared/errors/app-error.js';

/**
 * Checks the layout of a Hyper-V VM restored as a new VM: the backup stored the export's
 * configuration (`<id>.vmcx`, `.vmgs`) and the disks under the file names that configuration gives
 * them (the twin ran on the exported disks themselves), so the import finds each disk by name in
 * the restored folder. Hyper-V attaches only VHD/VHDX files, so a whole Hyper-V VM restored with
 * its disks in another format is refused (DISK_UNSUPPORTED: restore the disks only for those).
 * Other restore points pass unchanged. Pure.
 */
export function checkRestoredHyperVFolder<P extends { configFiles: { name: string }[]; disks: { format: string }[] }>(plan: P): P {
  if (!plan.configFiles.some((c) => /\.vmcx$/i.test(c.name))) return plan;
  const other = plan.disks.find((d) => d.format !== 'vhdx');
  if (other) {
    throw new AppError(
      'DISK_UNSUPPORTED',
      `hyper-v attaches only vhd and vhdx disks, so a whole hyper-v vm cannot be restored with its disks as ${other.format}: choose the original format or vhdx, or restore the disks only`,
    );
  }
  return plan;
}
