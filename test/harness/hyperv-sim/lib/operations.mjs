// What each TwinSnap script does, performed on the simulated host. Shapes of results mirror the
// scripts in electron/engine/hypervisor/hyperv/scripts/ (TS-VmInfo etc.).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { findVm, loadState, newVmRecord, psFail, saveState } from './state.mjs';
import { dropOverlayLinks, guestCheckpoint, guestMerge, guestServicesUp, guestShutdown, guestStart, guestTurnOff, guestTwinConfig } from './guest-backend.mjs';

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function vmOrThrow(state, id) {
  if (!GUID.test(String(id ?? ''))) throw psFail('TWINSNAP:VM_NOT_FOUND not a vm id', 'HyperVSim');
  const vm = findVm(state, id);
  if (!vm) throw psFail(`TWINSNAP:VM_NOT_FOUND ${String(id).toLowerCase()}`, 'HyperVSim');
  return vm;
}

async function servicesUp(vm) {
  if (vm.state !== 'Running') return false;
  return vm.simVmx ? guestServicesUp(vm) : vm.guest.runsIntegrationServices;
}

function ics(vm, up) {
  return [
    { name: 'Shutdown', kind: 'shutdown', enabled: vm.integration.shutdown, status: up && vm.integration.shutdown ? 'Ok' : '' },
    { name: 'Heartbeat', kind: 'heartbeat', enabled: vm.integration.heartbeat, status: up && vm.integration.heartbeat ? 'Ok' : '' },
  ];
}

async function info(vm) {
  const up = await servicesUp(vm);
  return {
    id: vm.id,
    name: vm.name,
    state: vm.state,
    status: 'Operating normally',
    memoryMiB: vm.memoryMiB,
    cpus: vm.cpus,
    generation: vm.generation,
    checkpointType: vm.checkpointType,
    path: vm.path,
    disks: vm.disks.map((d) => ({ slot: d.slot, path: d.path })),
    nics: vm.nics,
    integrationServices: ics(vm, up),
    shielded: vm.shielded,
  };
}

function qemuImg(args) {
  execFileSync('qemu-img', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

const ops = {
  probe() {
    return {
      psVersion: '5.1.19041.sim',
      psEdition: 'Desktop',
      elevated: process.env.HYPERV_SIM_ELEVATED !== '0',
      hyperVAdmin: process.env.HYPERV_SIM_HVADMIN === '1',
      module: process.env.HYPERV_SIM_MODULE !== '0',
    };
  },

  'list-vms'() {
    return Promise.all(loadState().vms.map(info));
  },

  'get-vm'(a) {
    return info(vmOrThrow(loadState(), a.id));
  },

  // Standard checkpoint: the current disks become read-only parents; production continues on new
  // differencing children. QEMU cannot write differencing VHDX, so the simulator's .avhdx files
  // are qcow2 overlays (an internal detail: only production uses them, and the merge removes them).
  async freeze(a) {
    const state = loadState();
    const vm = vmOrThrow(state, a.id);
    if (vm.state !== 'Running') throw psFail(`TWINSNAP:BAD_STATE the vm is ${vm.state}, not running`);
    const snapId = randomUUID();
    const frozen = vm.disks.map((d) => ({ ...d }));
    const created = vm.disks.map((d) => join(dirname(d.path), `${basename(d.path).replace(/\.a?vhdx$/i, '')}_${snapId.toUpperCase()}.avhdx`));
    const makeOverlays = () => {
      vm.disks.forEach((d, i) => {
        const size = JSON.parse(execFileSync('qemu-img', ['info', '-U', '--output=json', d.path], { encoding: 'utf8' }))['virtual-size'];
        qemuImg(['create', '-q', '-f', 'qcow2', '-u', '-b', d.path, '-F', d.format ?? 'vhdx', created[i], String(size)]);
        d.parentFormat = d.format ?? 'vhdx';
        d.path = created[i];
        d.format = 'qcow2';
      });
    };
    let guestState = {};
    if (vm.simVmx) guestState = await guestCheckpoint(vm, snapId, created, makeOverlays);
    else makeOverlays();
    state.snapshots.push({ id: snapId, name: a.snapshotName, vmId: vm.id, disks: frozen, created, vmState: 'Running', ics: vm.integration, guest: vm.guest, ...guestState });
    saveState(state);
    return { snapshotId: snapId, frozenDisks: frozen.map((d) => ({ slot: d.slot, path: d.path })), newDiskFiles: created, state: vm.state };
  },

  // Export-VMSnapshot + Import-VM -Copy -GenerateNewId: full VHDX copies of the frozen disks in the
  // twin folder, a new id, the new name, all adapters disconnected, state Saved (memory carried).
  async 'build-twin'(a) {
    const state = loadState();
    const snap = state.snapshots.find((s) => s.id.toLowerCase() === String(a.snapshotId).toLowerCase());
    if (!snap) throw psFail(`Hyper-V was unable to find a checkpoint with id ${a.snapshotId}`, 'ObjectNotFound,Microsoft.HyperV.PowerShell.Commands.GetVMSnapshot', 'ObjectNotFound');
    const prod = vmOrThrow(state, snap.vmId);
    const root = a.twinsRoot || join(state.host.virtualMachinePath, 'TwinSnap');
    const dir = join(root, String(a.folderName));
    const vhdDir = join(dir, 'Virtual Hard Disks');
    mkdirSync(vhdDir, { recursive: true });
    mkdirSync(join(dir, 'Virtual Machines'), { recursive: true });
    writeFileSync(join(dir, '.twinsnap-twin'), String(a.vmId));
    const disks = snap.disks.map((d, i) => {
      const target = join(vhdDir, `disk${i}.vhdx`);
      if (!existsSync(target)) qemuImg(['convert', '-q', '-U', '-f', d.format ?? 'vhdx', '-O', 'vhdx', d.path, target]);
      return { slot: d.slot, path: target, format: 'vhdx' };
    });
    const twin = {
      ...prod,
      id: randomUUID(),
      name: String(a.twinName),
      state: snap.vmState === 'Running' ? 'Saved' : 'Off',
      path: join(dir, 'Virtual Machines'),
      disks,
      nics: prod.nics.map((n) => ({ ...n, connected: false })),
      integration: { ...snap.ics },
      guest: { ...snap.guest },
      simVmx: snap.vmxText ? guestTwinConfig(snap, dir, disks.map((d) => d.path), String(a.twinName)) : undefined,
    };
    state.vms.push(twin);
    saveState(state);
    return { twin: await info(twin), folder: dir };
  },

  // Import-VM -Copy -GenerateNewId of a restored folder (one .vmcx + its disks side by side): the
  // disks are copied into 'Virtual Hard Disks', the VM gets a new id and the chosen name. The
  // simulator does not read the .vmcx (it is opaque to it); memory and adapters are its defaults.
  async 'import-restored'(a) {
    const state = loadState();
    const dir = String(a.folder);
    const configs = existsSync(dir) ? readdirSync(dir).filter((f) => f.toLowerCase().endsWith('.vmcx')) : [];
    if (configs.length !== 1) throw psFail(`TWINSNAP:VM_NOT_FOUND the restored folder holds ${configs.length} .vmcx files, expected one`);
    const vmDir = join(dir, 'Virtual Machines');
    const vhdDir = join(dir, 'Virtual Hard Disks');
    mkdirSync(vmDir, { recursive: true });
    mkdirSync(vhdDir, { recursive: true });
    const disks = readdirSync(dir)
      .filter((f) => /\.(vhdx|vhd)$/i.test(f))
      .sort()
      .map((f, i) => {
        const target = join(vhdDir, f);
        if (!existsSync(target)) writeFileSync(target, readFileSync(join(dir, f)));
        return { slot: `SCSI 0 ${i}`, path: target, format: f.toLowerCase().endsWith('.vhd') ? 'vpc' : 'vhdx' };
      });
    const vm = newVmRecord({ name: String(a.name), path: vmDir, disks });
    writeFileSync(join(vmDir, `${vm.id.toUpperCase()}.vmcx`), readFileSync(join(dir, configs[0])));
    state.vms.push(vm);
    saveState(state);
    // like the script: the restored originals at the top of the folder go once imported
    for (const f of readdirSync(dir)) if (/\.(vmcx|vmgs|vmrs|vhdx|vhd|avhdx|avhd)$/i.test(f)) rmSync(join(dir, f), { force: true });
    return { vm: await info(vm), configPath: vmDir, notRemoved: [] };
  },

  async 'start-vm'(a) {
    const state = loadState();
    const vm = vmOrThrow(state, a.id);
    if (vm.simVmx && vm.state !== 'Running') await guestStart(vm);
    vm.state = 'Running';
    saveState(state);
    return { state: vm.state };
  },

  async 'integration-state'(a) {
    const vm = vmOrThrow(loadState(), a.id);
    return { state: vm.state, integrationServices: ics(vm, await servicesUp(vm)) };
  },

  async 'stop-graceful'(a) {
    const state = loadState();
    const vm = vmOrThrow(state, a.id);
    if (vm.state !== 'Off') {
      const sd = ics(vm, await servicesUp(vm)).find((i) => i.kind === 'shutdown');
      if (!sd.enabled || sd.status !== 'Ok') throw psFail('TWINSNAP:SHUTDOWN_IC_UNAVAILABLE the shutdown integration service is not running in the guest');
      // Stop-VM blocks until the guest is off; a guest that ignores the request never gets there.
      if (vm.simVmx) await guestShutdown(vm);
      else if (vm.guest.ignoresPowerButton) await new Promise(() => {});
      vm.state = 'Off';
      saveState(state);
    }
    return { state: vm.state };
  },

  async 'turn-off'(a) {
    const state = loadState();
    const vm = findVm(state, a.id);
    if (vm?.simVmx) await guestTurnOff(vm);
    if (vm) {
      vm.state = 'Off';
      saveState(state);
    }
    return { gone: !vm };
  },

  async 'remove-twin'(a) {
    const state = loadState();
    let dir = a.folder ? String(a.folder) : '';
    if (!dir && a.folderName) dir = join(a.twinsRoot || join(state.host.virtualMachinePath, 'TwinSnap'), String(a.folderName));
    const doomed = state.vms.filter((v) => (a.id && v.id.toLowerCase() === String(a.id).toLowerCase()) || (dir && v.path.toLowerCase().startsWith(dir.toLowerCase())));
    for (const v of doomed) if (v.simVmx) await guestTurnOff(v);
    state.vms = state.vms.filter((v) => !doomed.includes(v));
    saveState(state);
    if (dir && existsSync(dir)) {
      if (!existsSync(join(dir, '.twinsnap-twin'))) throw psFail('TWINSNAP:NOT_A_TWIN_FOLDER refusing to delete a folder without the twinsnap marker');
      rmSync(dir, { recursive: true, force: true });
    }
    return { removed: true };
  },

  // Remove-VMSnapshot: merge each child created by the checkpoint back into its parent.
  async 'release-checkpoint'(a) {
    const state = loadState();
    const snap = state.snapshots.find((s) => s.id.toLowerCase() === String(a.snapshotId).toLowerCase());
    if (snap) {
      const vm = findVm(state, snap.vmId);
      const commit = () => {
        for (const d of vm?.disks ?? []) {
          const i = snap.created.indexOf(d.path);
          if (i < 0) continue;
          qemuImg(['commit', '-q', '-f', 'qcow2', d.path]);
          rmSync(d.path, { force: true });
          d.path = snap.disks[i].path;
          d.format = d.parentFormat ?? 'vhdx';
        }
      };
      if (vm?.simVmx) {
        await guestMerge(vm, commit, vm.disks.map((d) => { const i = snap.created.indexOf(d.path); return i < 0 ? d.path : snap.disks[i].path; }));
        dropOverlayLinks(snap.created);
      } else commit();
      if (snap.vmrs) rmSync(snap.vmrs, { force: true });
      state.snapshots = state.snapshots.filter((s) => s !== snap);
      saveState(state);
    }
    const pending = (a.mergeFiles ?? []).filter((f) => f && existsSync(f));
    if (pending.length > 0) throw psFail('TWINSNAP:MERGE_TIMEOUT the checkpoint merge did not finish in time');
    return { released: true, existed: !!snap };
  },
};

ops['find-leftovers'] = async (a) => {
  const state = loadState();
  const root = a.twinsRoot || join(state.host.virtualMachinePath, 'TwinSnap');
  const removed = [];
  if (existsSync(root)) {
    for (const name of readdirSync(root).filter((n) => n.startsWith('twinsnap-twin-'))) {
      const dir = join(root, name);
      const marker = join(dir, '.twinsnap-twin');
      if (!existsSync(marker) || readFileSync(marker, 'utf8').trim() !== String(a.vmId)) continue;
      await ops['remove-twin']({ folder: dir });
      removed.push(dir);
    }
  }
  const ids = loadState().snapshots.filter((s) => s.vmId.toLowerCase() === String(a.vmId).toLowerCase() && String(s.name).startsWith('twinsnap-')).map((s) => s.id);
  return { removedTwinFolders: removed, checkpointIds: ids };
};

// Read-only: what TwinSnap left for a VM (marked twin folders, their VMs, twinsnap- checkpoints).
ops['list-leftovers'] = async (a) => {
  const state = loadState();
  const root = a.twinsRoot || join(state.host.virtualMachinePath, 'TwinSnap');
  const found = [];
  if (existsSync(root)) {
    for (const name of readdirSync(root).filter((n) => n.startsWith('twinsnap-twin-'))) {
      const dir = join(root, name);
      const marker = join(dir, '.twinsnap-twin');
      if (!existsSync(marker) || readFileSync(marker, 'utf8').trim() !== String(a.vmId)) continue;
      found.push(`twin folder ${dir}`);
      for (const v of state.vms.filter((x) => String(x.path).startsWith(dir))) found.push(`twin vm ${v.name} (${v.id})`);
    }
  }
  for (const c of state.snapshots.filter((x) => x.vmId.toLowerCase() === String(a.vmId).toLowerCase() && String(x.name).startsWith('twinsnap-'))) found.push(`checkpoint ${c.name} (${c.id})`);
  return { leftovers: found };
};

/** Runs one operation by name. */
export async function runOperation(op, args) {
  const f = ops[op];
  if (!f) throw psFail(`hyperv-sim: unknown operation '${op}'`);
  return f(args ?? {});
}
