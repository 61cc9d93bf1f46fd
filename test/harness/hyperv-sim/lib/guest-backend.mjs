// Real guests for the Hyper-V simulator: a VM whose record has `simVmx` runs on QEMU through the
// sibling vmrun simulator (test/harness/vmrun-sim/vmrun), which owns all QEMU handling. The
// hidden .vmx (sim.kernel/initrd/append, disks pointing at the VM's VHDX files) is the VM's
// "hardware"; Hyper-V semantics (checkpoint, export/import, merge) are built on top of it.
import { execFile } from 'node:child_process';
import { constants as fsConstants, copyFileSync, existsSync, linkSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { VmxFile } from '../../vmrun-sim/lib/vmx.mjs';
import { vmDisks } from '../../vmrun-sim/lib/machine.mjs';
import { psFail } from './state.mjs';

const VMRUN = resolve(dirname(fileURLToPath(import.meta.url)), '../../vmrun-sim/vmrun');

/** Runs the vmrun simulator; resolves { code, out }. */
export function vmrun(args) {
  return new Promise((res) => {
    execFile(VMRUN, ['-T', 'ws', ...args], { encoding: 'utf8', maxBuffer: 1 << 20 }, (err, stdout, stderr) => {
      res({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, out: `${stdout}${stderr}` });
    });
  });
}

async function must(args, what) {
  const r = await vmrun(args);
  if (r.code !== 0) throw psFail(`hyperv-sim: ${what} failed: ${r.out.trim()}`);
  return r.out;
}

/** Boots or resumes (if the hidden .vmx has a suspend state). */
export async function guestStart(vm) {
  await must(['start', vm.simVmx, 'nogui'], 'start');
}

/** Whether the guest reports its integration services (the simulated Tools line). */
export async function guestServicesUp(vm) {
  const r = await vmrun(['checkToolsState', vm.simVmx]);
  return r.code === 0 && /running/.test(r.out);
}

/** Graceful shutdown through the guest's power-button handler; resolves when it is off. */
export async function guestShutdown(vm) {
  await must(['stop', vm.simVmx, 'soft'], 'shutdown');
}

/** Hard power-off; ignores "not running". */
export async function guestTurnOff(vm) {
  await vmrun(['stop', vm.simVmx, 'hard']);
}

function setDisks(vmxPath, paths) {
  const vmx = VmxFile.read(vmxPath);
  vmDisks(vmx).forEach((d, i) => vmx.set(d.key, paths[i]));
  vmx.write();
}

/** The memory file beside a saved-state file (`X.vmss`/`X.vmrs` → `X.vmem`), as vmrun-sim names it. */
export function companionVmem(stateFile) {
  return stateFile.replace(/\.(vmss|vmrs)$/i, '') + '.vmem';
}

/**
 * Standard checkpoint of a running guest: memory state + frozen disks. The guest is suspended
 * (memory to the vmrun-sim .vmss), its disks are switched to new overlays, and it is resumed —
 * the pause is internal to the simulator. Returns the saved-state file and the hidden .vmx text.
 */
export async function guestCheckpoint(vm, snapId, overlays, prepare) {
  await must(['suspend', vm.simVmx, 'hard'], 'checkpoint (suspend)');
  prepare();
  const vmx = VmxFile.read(vm.simVmx);
  const vmss = resolve(dirname(vm.simVmx), vmx.get('checkpoint.vmState'));
  const snapDir = join(vm.path, 'Snapshots');
  mkdirSync(snapDir, { recursive: true });
  const vmrs = join(snapDir, `${snapId}.vmrs`);
  linkSync(vmss, vmrs);
  // vmrun-sim keeps guest RAM in the .vmss's companion .vmem, mapped shared: production writes it
  // again once resumed, so the checkpoint takes its own copy (a Hyper-V checkpoint's memory state
  // is its own file, never production's live memory).
  copyFileSync(companionVmem(vmss), companionVmem(vmrs), fsConstants.COPYFILE_FICLONE);
  const vmxText = vmx.text();
  // QEMU picks the image driver by extension; the .avhdx overlays are qcow2, so point at a link.
  const links = overlays.map((o) => {
    const l = `${o}.qcow2`;
    symlinkSync(o, l);
    return l;
  });
  setDisks(vm.simVmx, links);
  await must(['start', vm.simVmx, 'nogui'], 'checkpoint (resume)');
  return { vmrs, vmxText };
}

/**
 * An imported VM's hidden .vmx in its configuration folder `dir`: the exported hardware, the
 * imported disks, NICs unplugged (the sim's QEMU guests have no network), the saved state linked.
 */
export function guestTwinConfig(snap, dir, diskPaths, name) {
  mkdirSync(dir, { recursive: true });
  const vmxPath = join(dir, 'twin.vmx');
  writeFileSync(vmxPath, snap.vmxText);
  const vmx = VmxFile.read(vmxPath);
  vmDisks(vmx).forEach((d, i) => vmx.set(d.key, diskPaths[i]));
  for (const [lk] of vmx.entries()) {
    const m = /^(ethernet\d+)\.present$/.exec(lk);
    if (m) vmx.set(`${m[1]}.startConnected`, 'FALSE');
  }
  vmx.set('displayName', name);
  if (snap.vmrs && existsSync(snap.vmrs)) {
    try {
      linkSync(snap.vmrs, join(dir, 'twin.vmss'));
    } catch {
      copyFileSync(snap.vmrs, join(dir, 'twin.vmss'));
    }
    // the twin's RAM is mapped shared and written while it runs: its own copy, never the checkpoint's
    if (existsSync(companionVmem(snap.vmrs))) copyFileSync(companionVmem(snap.vmrs), join(dir, 'twin.vmem'), fsConstants.COPYFILE_FICLONE);
    vmx.set('checkpoint.vmState', 'twin.vmss');
  } else {
    vmx.set('checkpoint.vmState', '');
  }
  vmx.write();
  return vmxPath;
}

/** Merges overlays back while the guest keeps its memory: suspend, commit, switch disks, resume. */
export async function guestMerge(vm, commit, parents) {
  const running = vm.state === 'Running';
  if (running) await must(['suspend', vm.simVmx, 'hard'], 'merge (suspend)');
  commit();
  setDisks(vm.simVmx, parents);
  if (running) await must(['start', vm.simVmx, 'nogui'], 'merge (resume)');
}

/** Copies a saved-state file and its companion memory file (when there is one). */
export function copySavedState(from, to) {
  copyFileSync(from, to);
  if (existsSync(companionVmem(from))) copyFileSync(companionVmem(from), companionVmem(to), fsConstants.COPYFILE_FICLONE);
}

/** Removes a saved-state file and its companion memory file. */
export function removeSavedState(file) {
  rmSync(file, { force: true });
  rmSync(companionVmem(file), { force: true });
}

/** Removes the symlinks made for overlays. */
export function dropOverlayLinks(overlays) {
  for (const o of overlays) rmSync(`${o}.qcow2`, { force: true });
}
