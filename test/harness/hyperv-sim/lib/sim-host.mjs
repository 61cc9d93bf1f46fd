// Test-side helpers: create simulated VMs with real VHDX disks and inspect the host state.
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execFileSync } from 'node:child_process';
import { loadState, newVmRecord, saveState } from './state.mjs';

/** Adds a VM (folder + dynamic VHDX disk made by qemu-img) to the host at `root`; returns it. */
export function addSimVm(root, opts = {}) {
  const state = loadState(root);
  const vm = newVmRecord({ name: opts.name ?? 'vm', state: opts.state ?? 'Running', memoryMiB: opts.memoryMiB ?? 256 });
  const dir = join(root, 'vms', vm.id);
  mkdirSync(join(dir, 'Virtual Hard Disks'), { recursive: true });
  const disk = join(dir, 'Virtual Hard Disks', 'disk0.vhdx');
  execFileSync('qemu-img', ['create', '-q', '-f', 'vhdx', disk, `${opts.diskMiB ?? 16}M`]);
  vm.path = dir;
  vm.disks = [{ slot: 'SCSI 0 0', path: disk, format: 'vhdx' }];
  if (opts.ignoresPowerButton) vm.guest.ignoresPowerButton = true;
  if (opts.noIntegrationServices) vm.guest.runsIntegrationServices = false;
  if (opts.shielded) vm.shielded = true;
  if (opts.lockedSession) vm.guest.lockedSession = true;
  if (opts.domainController) vm.guest.productType = 2;
  if (opts.notes) vm.notes = opts.notes;
  state.vms.push(vm);
  saveState(state, root);
  return vm;
}

/** The host state (VMs and checkpoints). */
export function simState(root) {
  return loadState(root);
}

/**
 * Registers a real-guest VM: a vmrun-sim style folder (from makeTestVm with a VHDX disk) becomes a
 * Hyper-V VM whose hardware is that hidden .vmx. With `start`, the guest is booted now.
 */
export function adoptSimVm(root, opts) {
  const state = loadState(root);
  const vm = newVmRecord({ name: opts.name, state: 'Off', memoryMiB: opts.memoryMiB ?? 256 });
  vm.path = dirname(opts.vmxPath);
  vm.simVmx = opts.vmxPath;
  vm.disks = [{ slot: 'SCSI 0 0', path: opts.diskPath, format: 'vhdx' }];
  if (opts.start) {
    execFileSync(join(dirname(fileURLToPath(import.meta.url)), '../../vmrun-sim/vmrun'), ['-T', 'ws', 'start', opts.vmxPath, 'nogui']);
    vm.state = 'Running';
  }
  state.vms.push(vm);
  saveState(state, root);
  return vm;
}

/** Sets the host's virtual switches (what Get-VMSwitch lists): names, or { name, type, adapter }. */
export function setSimSwitches(root, switches) {
  const state = loadState(root);
  state.host.switches = switches;
  saveState(state, root);
}
