// The simulated Hyper-V host behind the stand-in PowerShell module (test/harness/hyperv-module):
// one operation per cmdlet action, on the host state of state.mjs, driving real QEMU guests
// through guest-backend.mjs. Answers are plain JSON with the real objects' property names; the
// module turns them into the real .NET types. Run as a long-lived child of each pwsh session
// (`node host-backend.mjs --serve`: one JSON request per stdin line, one answer per stdout line),
// so a script's many cmdlet calls cost milliseconds, not a Node start each.
import { execFileSync } from 'node:child_process';
import { appendFileSync, closeSync, copyFileSync, existsSync, linkSync, mkdirSync, openSync, readFileSync, readSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { createHash, randomUUID } from 'node:crypto';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { findVm, loadState, newVmRecord, psFail, saveState, simRoot, withState } from './state.mjs';
import { copySavedState, dropOverlayLinks, guestCheckpoint, removeSavedState, guestMerge, guestServicesUp, guestShutdown, guestStart, guestTurnOff, guestTwinConfig } from './guest-backend.mjs';

const IC_GUIDS = { Shutdown: '9F8233AC-BE49-4C79-8EE3-E7E1985B2077', Heartbeat: '84EAAE65-2F2E-45F5-9BB5-0E857DC8EB47' };
const MiB = 1024 * 1024;

function hostName() {
  return 'TWINSNAP-SIM';
}

/** A domain failure: the module writes it as a non-terminating error (ErrorRecord) like the real cmdlets. */
function fail(message, category = 'InvalidOperation', errorId = 'OperationFailed') {
  const e = psFail(message, errorId, category);
  e.hv = { message, category, errorId };
  return e;
}

/**
 * The host's virtual switches: `state.host.switches` holds names (then an Internal switch, as
 * Windows' own "Default Switch") or `{ name, type: 'External' | 'Internal' | 'Private', adapter }`;
 * absent, the host has the "Default Switch" only. Ids are stable per name.
 */
function hostSwitches(state) {
  return (state.host.switches ?? ['Default Switch']).map((sw) => {
    const o = typeof sw === 'string' ? { name: sw, type: 'Internal' } : sw;
    const h = createHash('sha256').update(o.name).digest('hex');
    return { ...o, id: `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}` };
  });
}

function vmById(state, id) {
  const vm = findVm(state, id);
  if (!vm) throw fail(`Hyper-V was unable to find a virtual machine with id "${id}".`, 'ObjectNotFound', 'InvalidParameter');
  return vm;
}

function snapById(state, id) {
  const s = state.snapshots.find((x) => x.id.toLowerCase() === String(id).toLowerCase());
  if (!s) throw fail(`Hyper-V was unable to find a checkpoint with id "${id}".`, 'ObjectNotFound', 'InvalidParameter');
  return s;
}

/** Who may see VMs: Get-VM silently returns nothing to a user neither elevated nor in Hyper-V Administrators. */
function mayList() {
  return process.env.HYPERV_SIM_ELEVATED !== '0' || process.env.HYPERV_SIM_HVADMIN === '1';
}

function vmShape(vm) {
  return {
    Id: vm.id,
    Name: vm.name,
    State: vm.state,
    Status: 'Operating normally',
    MemoryAssigned: vm.state === 'Running' || vm.state === 'Paused' ? vm.memoryMiB * MiB : 0,
    MemoryStartup: vm.memoryMiB * MiB,
    ProcessorCount: vm.cpus,
    Generation: vm.generation,
    CheckpointType: vm.checkpointType,
    AutomaticCheckpointsEnabled: vm.automaticCheckpointsEnabled ?? false,
    Notes: vm.notes ?? '',
    Path: vm.path,
    ConfigurationLocation: vm.path,
    SnapshotFileLocation: vm.path,
    ComputerName: hostName(),
    IsDeleted: false,
  };
}

function slotParts(slot) {
  const [type, num, loc] = String(slot).split(/\s+/);
  return { ControllerType: type === 'IDE' ? 'IDE' : 'SCSI', ControllerNumber: Number(num ?? 0), ControllerLocation: Number(loc ?? 0) };
}

function diskShape(owner, d, snap) {
  const p = slotParts(d.slot);
  return {
    Name: 'Hard Drive',
    Id: `Microsoft:${owner.id.toUpperCase()}\\${p.ControllerType}-${p.ControllerNumber}-${p.ControllerLocation}`,
    VMId: owner.id,
    VMName: owner.name,
    VMSnapshotId: snap?.id ?? null,
    VMSnapshotName: snap?.name ?? null,
    ...p,
    Path: d.path,
    ComputerName: hostName(),
  };
}

async function servicesUp(vm) {
  if (vm.state !== 'Running') return false;
  if (vm.simVmx) return guestServicesUp(vm);
  return vm.guest.runsIntegrationServices;
}

const ops = {
  host(_a, state) {
    return { ComputerName: hostName(), VirtualMachinePath: state.host.virtualMachinePath, VirtualHardDiskPath: join(state.host.virtualMachinePath, 'Virtual Hard Disks') };
  },

  vms(a, state) {
    if (!mayList()) return [];
    return state.vms.filter((v) => !a.id || v.id.toLowerCase() === String(a.id).toLowerCase()).map(vmShape);
  },

  disks(a, state) {
    if (a.snapshotId) {
      const s = snapById(state, a.snapshotId);
      const owner = vmById(state, s.vmId);
      return s.disks.map((d) => diskShape(owner, d, s));
    }
    const vm = vmById(state, a.vmId);
    return vm.disks.map((d) => diskShape(vm, d));
  },

  nics(a, state) {
    const vm = vmById(state, a.vmId);
    return vm.nics.map((n, i) => ({
      Name: n.name,
      Id: `Microsoft:${vm.id.toUpperCase()}\\NIC-${i}`,
      VMId: vm.id,
      VMName: vm.name,
      SwitchName: n.connected ? n.switchName : '',
      Connected: !!n.connected,
      IsLegacy: false,
      MacAddress: n.mac ?? '00155D000000',
      ComputerName: hostName(),
    }));
  },

  // Get-VMSwitch: the host's virtual switches (state.host.switches: names, or { name, type, adapter })
  switches(a, state) {
    return hostSwitches(state).map((sw) => ({
      Name: sw.name,
      Id: sw.id,
      SwitchType: sw.type,
      NetAdapterInterfaceDescription: sw.adapter ?? '',
      AllowManagementOS: sw.type !== 'Private',
      ComputerName: hostName(),
    }));
  },

  // Connect-VMNetworkAdapter -SwitchName: the switch must exist (the real cmdlet's error otherwise)
  'connect-nic'(a) {
    return withState((state) => {
      const sw = hostSwitches(state).find((x) => x.name.toLowerCase() === String(a.switchName).toLowerCase());
      if (!sw) throw fail(`Hyper-V was unable to find a virtual switch with name "${a.switchName}".`, 'ObjectNotFound', 'InvalidParameter');
      const vm = findVm(state, a.vmId);
      if (!vm) throw fail(`Hyper-V was unable to find a virtual machine with id "${a.vmId}".`, 'ObjectNotFound', 'InvalidParameter');
      const n = vm.nics[Number(String(a.nicId).split('NIC-')[1])];
      if (!n) throw fail(`network adapter '${a.nicId}' not found`, 'ObjectNotFound');
      n.connected = true;
      n.switchName = sw.name;
      return null;
    });
  },

  'disconnect-nic'(a) {
    return withState((state) => {
      // an adapter of a registered VM, or of a planned VM (Compare-VM's report, before Import-VM)
      const vm = findVm(state, a.vmId);
      const planned = vm ? undefined : (state.planned ?? []).find((p) => p.vmId.toLowerCase() === String(a.vmId).toLowerCase());
      const nics = vm ? vm.nics : planned?.cfg.hardware.nics;
      if (!nics) throw fail(`Hyper-V was unable to find a virtual machine with id "${a.vmId}".`, 'ObjectNotFound', 'InvalidParameter');
      const n = nics[Number(String(a.nicId).split('NIC-')[1])];
      if (!n) throw fail(`network adapter '${a.nicId}' not found`, 'ObjectNotFound');
      if (n.switchName) n.lastSwitch = n.switchName;
      n.connected = false;
      n.switchName = '';
      return null;
    });
  },

  async ics(a, state) {
    const vm = vmById(state, a.vmId);
    const up = await servicesUp(vm);
    return Object.entries(IC_GUIDS).map(([name, guid]) => {
      const enabled = name === 'Shutdown' ? vm.integration.shutdown : vm.integration.heartbeat;
      return {
        Name: name,
        Id: `Microsoft:${vm.id.toUpperCase()}\\${guid}`,
        VMId: vm.id,
        VMName: vm.name,
        Enabled: enabled,
        PrimaryOperationalStatus: up && enabled ? 'Ok' : vm.state === 'Running' && enabled ? 'NoContact' : null,
        ComputerName: hostName(),
      };
    });
  },

  security(a, state) {
    const vm = vmById(state, a.vmId);
    return { Shielded: !!vm.shielded, TpmEnabled: !!vm.shielded, KsdEnabled: false, EncryptStateAndVmMigrationTraffic: !!vm.shielded, VirtualizationBasedSecurityOptOut: false, BindToHostTpm: false };
  },

  'set-vm'(a) {
    return withState((state) => {
      const vm = vmById(state, a.vmId);
      if (a.checkpointType != null) vm.checkpointType = String(a.checkpointType);
      if (a.automaticCheckpointsEnabled != null) vm.automaticCheckpointsEnabled = !!a.automaticCheckpointsEnabled;
      return null;
    });
  },

  rename(a) {
    return withState((state) => {
      vmById(state, a.vmId).name = String(a.newName);
      return null;
    });
  },

  snapshots(a, state) {
    let list = state.snapshots;
    if (a.id) {
      list = list.filter((s) => s.id.toLowerCase() === String(a.id).toLowerCase());
      if (list.length === 0) throw fail(`Hyper-V was unable to find a checkpoint with id "${a.id}".`, 'ObjectNotFound', 'InvalidParameter');
    }
    if (a.vmId) list = list.filter((s) => s.vmId.toLowerCase() === String(a.vmId).toLowerCase());
    return list.map((s) => snapShape(state, s));
  },

  checkpoint: (a) => checkpoint(a),
  'export-snapshot': (a) => exportSnapshot(a),
  compare: (a) => compare(a),
  import: (a) => importPlanned(a),
  'remove-planned'(a) {
    return withState((state) => {
      state.planned = (state.planned ?? []).filter((p) => p.id !== a.plannedId);
      return null;
    });
  },
  start: (a) => start(a),
  resume: (a) => start(a, true),
  stop: (a) => stop(a),
  'remove-vm'(a) {
    return withState((state) => {
      const vm = vmById(state, a.vmId);
      if (vm.state !== 'Off') throw fail(`The operation cannot be performed while the virtual machine is in its current state.`, 'InvalidOperation', 'InvalidState');
      state.vms = state.vms.filter((v) => v !== vm);
      return null;
    });
  },
  'remove-snapshot': (a) => removeSnapshot(a),
  // root\virtualization\v2 Msvm_ShutdownComponent instances, one per VM with the component
  async 'shutdown-components'(_a, state) {
    const out = [];
    for (const vm of state.vms) {
      const up = await servicesUp(vm);
      out.push({
        Caption: 'Shutdown',
        ElementName: 'Shutdown',
        CreationClassName: 'Msvm_ShutdownComponent',
        SystemCreationClassName: 'Msvm_ComputerSystem',
        SystemName: vm.id.toUpperCase(),
        DeviceID: `Microsoft:${vm.id.toUpperCase()}\\${IC_GUIDS.Shutdown}`,
        EnabledState: vm.integration.shutdown ? 2 : 3,
        OperationalStatus: up && vm.integration.shutdown ? [2] : [12],
      });
    }
    return out;
  },

  // root\virtualization\v2 Msvm_KvpExchangeComponent, one per VM: GuestIntrinsicExchangeItems are
  // the items the guest's KVP service reports (embedded Msvm_KvpExchangeDataItem instances as
  // CIM-XML strings), only while it runs. A simulated guest reports ProductType when it has one
  // (2 = VER_NT_DOMAIN_CONTROLLER).
  async 'kvp-components'(_a, state) {
    const out = [];
    for (const vm of state.vms) {
      const up = await servicesUp(vm);
      const items = up && vm.guest.productType !== undefined ? [kvpItem('ProductType', String(vm.guest.productType)), kvpItem('FullyQualifiedDomainName', vm.name)] : [];
      out.push({
        Caption: 'Key-Value Pair Exchange',
        ElementName: 'Key-Value Pair Exchange',
        CreationClassName: 'Msvm_KvpExchangeComponent',
        SystemCreationClassName: 'Msvm_ComputerSystem',
        SystemName: vm.id.toUpperCase(),
        EnabledState: 2,
        GuestIntrinsicExchangeItems: items,
      });
    }
    return out;
  },

  // InitiateShutdown(Force, Reason): 0 once the guest was asked; the shutdown then runs on its
  // own (the caller polls the VM's state). A guest with a locked session refuses an unforced
  // request with 32781; without a working component the answer is 32775 (invalid state).
  'initiate-shutdown'(a, state) {
    const vm = vmById(state, a.vmId);
    if (vm.state !== 'Running' || !vm.integration.shutdown) return { ReturnValue: 32775 };
    if ((vm.guest.lockedSession || process.env.HYPERV_SIM_LOCKED_SESSION === '1') && !a.force) return { ReturnValue: 32781 };
    background(async () => {
      if (vm.simVmx) await guestShutdown(vm);
      else while (vm.guest.ignoresPowerButton && findVm(loadState(), vm.id)?.state === 'Running') await new Promise((r) => setTimeout(r, 200));
      if (!vm.guest.ignoresPowerButton || vm.simVmx) {
        await mergeAutomaticCheckpoint(vm.id);
        withState((st) => {
          const live = findVm(st, vm.id);
          if (live) live.state = 'Off';
          return null;
        });
      }
    });
    return { ReturnValue: 0 };
  },

  /** Whether the Shutdown component would accept a plain (unforced) shutdown now (module's IsShutdownComponentAvailable). */
  async 'shutdown-available'(a, state) {
    const vm = vmById(state, a.vmId);
    return { available: vm.integration.shutdown && (await servicesUp(vm)) };
  },
};

function kvpItem(name, data) {
  const esc = (v) => v.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  return `<INSTANCE CLASSNAME="Msvm_KvpExchangeDataItem"><PROPERTY NAME="Data" TYPE="string"><VALUE>${esc(data)}</VALUE></PROPERTY><PROPERTY NAME="Name" TYPE="string"><VALUE>${esc(name)}</VALUE></PROPERTY><PROPERTY NAME="Source" TYPE="uint16"><VALUE>2</VALUE></PROPERTY></INSTANCE>`;
}

function snapShape(state, s) {
  const vm = findVm(state, s.vmId);
  return {
    Id: s.id,
    Name: s.name,
    VMId: s.vmId,
    VMName: vm?.name ?? '',
    SnapshotType: 'Standard',
    IsAutomaticCheckpoint: !!s.automatic,
    ParentSnapshotId: null,
    Path: vm?.path ?? '',
    CreationTime: s.created_at ?? new Date().toISOString(),
    State: s.vmState === 'Running' ? 'Saved' : 'Off',
    ComputerName: hostName(),
  };
}

function qemuImg(args) {
  execFileSync('qemu-img', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

// Checkpoint-VM: the current disks become read-only parents; the VM continues on new differencing
// children (<disk>_<GUID>.avhdx; qcow2 inside, because QEMU cannot write differencing VHDX). A
// Standard checkpoint of a running VM also saves its memory; a Production one does not (§1.4).
async function checkpoint(a) {
  const state = loadState();
  const vm = vmById(state, a.vmId);
  if (vm.checkpointType === 'Disabled') throw fail(`Checkpoint operation failed for '${vm.name}': Checkpoints are disabled for this virtual machine.`);
  const snapId = randomUUID();
  const frozen = vm.disks.map((d) => ({ ...d }));
  const created = childPaths(vm.disks, snapId);
  const switchDisks = (target) => () => moveToChildren(target.disks, created);
  const withMemory = vm.state === 'Running' && vm.checkpointType === 'Standard';
  let guestState = {};
  if (vm.simVmx && withMemory) guestState = await guestCheckpoint(vm, snapId, created, switchDisks(vm));
  else if (vm.simVmx && vm.state === 'Running') {
    // Production checkpoint of a running guest: disks only (the guest keeps running; the sim
    // suspends it only for the switch, like the real VSS freeze-thaw, and drops the memory)
    guestState = await guestCheckpoint(vm, snapId, created, switchDisks(vm));
    removeSavedState(guestState.vmrs);
    guestState = { vmxText: guestState.vmxText };
  } else {
    switchDisks(vm)();
    if (withMemory) {
      // a state-level VM's memory state: a small stand-in file with the real name and place
      const dir = join(vm.path, 'Snapshots');
      mkdirSync(dir, { recursive: true });
      guestState = { vmrs: join(dir, `${snapId.toUpperCase()}.vmrs`) };
      writeFileSync(guestState.vmrs, `hyperv-sim memory state of ${vm.id}\n`);
    }
  }
  return withState((st) => {
    const live = vmById(st, vm.id);
    live.disks = vm.disks;
    const snap = {
      id: snapId,
      name: a.name || `${vm.name} - (${new Date().toISOString()})`,
      vmId: vm.id,
      disks: frozen,
      created,
      vmState: withMemory ? 'Running' : 'Off',
      ics: vm.integration,
      guest: vm.guest,
      hardware: hardwareOf(vm),
      created_at: new Date().toISOString(),
      automatic: !!a.automatic,
      ...guestState,
    };
    st.snapshots.push(snap);
    return snapShape(st, snap);
  });
}

/** The differencing children a checkpoint creates: `<disk>_<GUID>.avhdx` beside each disk. */
function childPaths(disks, snapId) {
  return disks.map((d) => join(dirname(d.path), `${basename(d.path).replace(/\.a?vhdx$/i, '')}_${snapId.toUpperCase()}.avhdx`));
}

/** Creates each child (qcow2 inside) over its disk and switches the disk record to it. */
function moveToChildren(disks, created) {
  disks.forEach((d, i) => {
    qemuImg(['create', '-q', '-f', 'qcow2', '-u', '-b', d.path, '-F', d.format ?? 'vhdx', created[i], String(virtualBytes(d.path))]);
    d.parentFormat = d.format ?? 'vhdx';
    d.path = created[i];
    d.format = 'qcow2';
  });
}

/** What a configuration file (.vmcx) carries in the simulator: the VM's hardware and identity. */
function hardwareOf(vm) {
  return {
    name: vm.name,
    id: vm.id,
    memoryMiB: vm.memoryMiB,
    cpus: vm.cpus,
    generation: vm.generation,
    checkpointType: vm.checkpointType,
    nics: vm.nics,
    integration: vm.integration,
    guest: vm.guest,
    shielded: vm.shielded,
    automaticCheckpointsEnabled: vm.automaticCheckpointsEnabled ?? false,
  };
}

function safeName(s) {
  return (
    String(s)
      .replace(/[^A-Za-z0-9 ._-]/g, '_')
      .slice(0, 64) || 'vm'
  );
}

// Export-VMSnapshot: <Path>\<VM name>\{Virtual Machines\<ID>.vmcx (+ .vmrs memory), Virtual Hard
// Disks\<disk>.vhdx} — full copies of the checkpoint's disks, taken while the VM runs.
async function exportSnapshot(a) {
  const state = loadState();
  const snap = snapById(state, a.snapshotId);
  const vm = vmById(state, snap.vmId);
  const root = join(String(a.path), safeName(vm.name));
  if (existsSync(root)) throw fail(`Failed to export: the folder '${root}' already exists.`, 'ResourceExists', 'OperationFailed');
  const vmDir = join(root, 'Virtual Machines');
  const vhdDir = join(root, 'Virtual Hard Disks');
  mkdirSync(vmDir, { recursive: true });
  mkdirSync(vhdDir, { recursive: true });
  // switch: an export takes time in proportion to the disks' size (a real one copies every byte):
  // the VHDX is then written into the export folder 1 MiB at a time, so its bytes grow as it goes
  const msPerMiB = Number(process.env.HYPERV_SIM_EXPORT_MS_PER_MIB || 0);
  const disks = [];
  for (const [i, d] of snap.disks.entries()) {
    const file = join(vhdDir, `${basename(d.path).replace(/\.a?vhdx?$/i, '')}.vhdx`);
    if (msPerMiB > 0) await slowCopy(d, file, msPerMiB, (virtualBytes(d.path) / MiB) * msPerMiB);
    else qemuImg(['convert', '-q', '-U', '-f', d.format ?? 'vhdx', '-O', 'vhdx', d.path, file]);
    disks.push({ slot: d.slot, file: basename(file), i });
  }
  const cfg = join(vmDir, `${vm.id.toUpperCase()}.vmcx`);
  let vmrs;
  if (snap.vmrs && existsSync(snap.vmrs)) {
    vmrs = join(vmDir, `${vm.id.toUpperCase()}.vmrs`);
    copySavedState(snap.vmrs, vmrs);
  }
  writeFileSync(
    cfg,
    JSON.stringify({ twinsnapSimConfig: 1, hardware: snap.hardware ?? hardwareOf(vm), disks, vmState: snap.vmState, vmxText: snap.vmxText ?? null, vmrs: vmrs ? basename(vmrs) : null }, null, 2),
  );
  return snapShape(state, snap);
}

/** Set when the session that owns this backend ends (its stdin closed): a stalled export gives up. */
let closing = false;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * The slow export of one disk: converted aside, then appended to `file` in 1 MiB pieces spread
 * over `totalMs` (at least 20 ms each). HYPERV_SIM_EXPORT_STALL_AFTER_MIB=N: after N MiB the copy
 * stops making progress (nothing more is written) until its session ends — a hung export.
 */
async function slowCopy(d, file, msPerMiB, totalMs) {
  const tmp = join(simRoot(), `.export-${randomUUID()}.vhdx`);
  try {
    qemuImg(['convert', '-q', '-U', '-f', d.format ?? 'vhdx', '-O', 'vhdx', d.path, tmp]);
    const size = statSync(tmp).size;
    const pieces = Math.max(1, Math.ceil(size / MiB));
    const each = Math.max(20, totalMs / pieces);
    const stallAfter = process.env.HYPERV_SIM_EXPORT_STALL_AFTER_MIB;
    const fd = openSync(tmp, 'r');
    try {
      writeFileSync(file, Buffer.alloc(0));
      const buf = Buffer.alloc(MiB);
      for (let p = 0; p < pieces; p++) {
        if (stallAfter !== undefined && p >= Number(stallAfter)) {
          while (!closing) await sleep(100);
          throw fail(`Failed to export: the operation was cancelled after ${p} MiB.`, 'OperationStopped', 'OperationFailed');
        }
        await sleep(each);
        const n = readSync(fd, buf, 0, MiB, p * MiB);
        appendFileSync(file, buf.subarray(0, n));
      }
    } finally {
      closeSync(fd);
    }
  } finally {
    rmSync(tmp, { force: true });
  }
}

function readConfig(path) {
  let cfg;
  try {
    cfg = JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    cfg = undefined;
  }
  return cfg?.twinsnapSimConfig ? cfg : undefined;
}

// Compare-VM -Path (Register | Copy): reads the configuration, registers a *planned* VM and
// reports incompatibilities (33012: a network adapter's switch does not exist on this host).
function compare(a) {
  const path = String(a.path);
  if (!existsSync(path)) throw fail(`The system cannot find the file specified: '${path}'.`, 'ObjectNotFound', 'ObjectNotFound');
  let cfg = readConfig(path);
  if (!cfg) {
    // A restored folder's .vmcx is the real binary file (opaque to the simulator): default hardware.
    const base = newVmRecord({ name: basename(path).replace(/\.vmcx$/i, '') });
    cfg = { hardware: hardwareOf(base), disks: null, vmState: 'Off', vmxText: null, vmrs: null, opaque: true };
  }
  return withState((state) => {
    const switches = hostSwitches(state).map((sw) => sw.name);
    const id = a.generateNewId || !a.copy ? (a.generateNewId ? randomUUID() : cfg.hardware.id) : cfg.hardware.id;
    if (!a.generateNewId && findVm(state, id)) throw fail(`The virtual machine '${cfg.hardware.name}' with id '${id}' already exists on this host.`, 'ResourceExists', 'ObjectAlreadyExists');
    const plannedId = randomUUID();
    const planned = { id: plannedId, vmId: id, path, register: !a.copy, params: a, cfg };
    state.planned = [...(state.planned ?? []), planned];
    const vm = { ...vmShape({ ...newVmRecord({}), ...cfg.hardware, id, state: 'Off', path: a.virtualMachinePath || dirname(dirname(path)) }) };
    const incompatibilities = cfg.hardware.nics
      .map((n, i) => ({ n, i }))
      .filter(({ n }) => n.connected && n.switchName && !switches.includes(n.switchName))
      .map(({ n, i }) => ({
        Message: `Could not find Ethernet switch '${n.switchName}'.`,
        MessageId: 33012,
        nic: {
          Name: n.name,
          Id: `Microsoft:${id.toUpperCase()}\\NIC-${i}`,
          VMId: id,
          VMName: cfg.hardware.name,
          SwitchName: n.switchName,
          Connected: false,
          IsLegacy: false,
          MacAddress: '00155D000000',
          ComputerName: hostName(),
          planned: plannedId,
        },
      }));
    return { plannedId, vm, incompatibilities };
  });
}

// Import-VM: the planned VM becomes real. Register: in place; Copy: configuration (and memory)
// to VirtualMachinePath, disks copied from VhdSourcePath (default <config's grandparent>\Virtual
// Hard Disks) to VhdDestinationPath — unless the two folders are the same path (compared as
// strings, ignoring case, as the module's report and storage copy do): then nothing is copied
// and the disks are used where they are. State Saved when the configuration carries memory and
// its file is there.
async function importPlanned(a) {
  const state = loadState();
  const planned = (state.planned ?? []).find((p) => p.id === a.plannedId);
  if (!planned) throw fail('The compatibility report is no longer valid: the planned virtual machine was removed.', 'InvalidOperation', 'OperationFailed');
  const { cfg, params: p } = planned;
  // Import-VM regenerates the report and refuses while an incompatibility remains
  const switches = hostSwitches(state).map((sw) => sw.name);
  if (cfg.hardware.nics.some((n) => n.connected && n.switchName && !switches.includes(n.switchName)))
    throw fail('Unable to import virtual machine due to configuration errors.  Please use Compare-VM to repair the virtual machine.', 'InvalidOperation', 'OperationFailed');
  const srcRoot = dirname(dirname(planned.path));
  const vhdSrc = p.vhdSourcePath || join(srcRoot, 'Virtual Hard Disks');
  const vmDir = planned.register ? dirname(planned.path) : p.virtualMachinePath || join(state.host.virtualMachinePath, planned.vmId);
  const vhdDst = planned.register ? vhdSrc : p.vhdDestinationPath || join(state.host.virtualMachinePath, 'Virtual Hard Disks');
  mkdirSync(vmDir, { recursive: true });
  const files = cfg.disks
    ? cfg.disks.map((d) => ({ slot: d.slot, file: d.file }))
    : readdirSync(vhdSrc)
        .filter((f) => /\.(vhdx|vhd)$/i.test(f))
        .sort()
        .map((file, i) => ({ slot: `SCSI 0 ${i}`, file }));
  const disks = files.map(({ slot, file }) => {
    const src = join(vhdSrc, file);
    if (!existsSync(src)) throw fail(`Could not find the virtual hard disk '${src}'.`, 'ObjectNotFound', 'ObjectNotFound');
    let path = src;
    if (!planned.register && vhdSrc.toLowerCase() !== vhdDst.toLowerCase()) {
      mkdirSync(vhdDst, { recursive: true });
      path = join(vhdDst, file);
      if (existsSync(path)) throw fail(`Failed to copy '${src}': the file '${path}' exists.`, 'ResourceExists', 'OperationFailed');
      copyFileSync(src, path);
    }
    return { slot, path, format: /\.vhd$/i.test(file) ? 'vpc' : 'vhdx' };
  });
  const hw = cfg.hardware;
  const vm = {
    ...newVmRecord({}),
    ...hw,
    id: planned.vmId,
    name: hw.name,
    path: vmDir,
    disks,
    nics: hw.nics.map((n) => ({ ...n })),
    state: cfg.vmState === 'Running' && cfg.vmrs && existsSync(join(dirname(planned.path), cfg.vmrs)) ? 'Saved' : 'Off',
    imported: true,
    automaticCheckpointsEnabled: process.env.HYPERV_SIM_IMPORT_AUTO_CHECKPOINTS === '1' ? true : (hw.automaticCheckpointsEnabled ?? false),
  };
  const cfgFile = join(vmDir, `${vm.id.toUpperCase()}.vmcx`);
  let vmrs = cfg.vmrs && existsSync(join(dirname(planned.path), cfg.vmrs)) ? join(dirname(planned.path), cfg.vmrs) : undefined;
  if (!planned.register) {
    writeFileSync(cfgFile, cfg.opaque ? readFileSync(planned.path) : JSON.stringify({ ...cfg, vmrs: vmrs ? `${vm.id.toUpperCase()}.vmrs` : null, hardware: { ...hardwareOf(vm) } }, null, 2));
    if (vmrs) {
      // the saved memory state is copied with the configuration
      copySavedState(vmrs, join(vmDir, `${vm.id.toUpperCase()}.vmrs`));
      vmrs = join(vmDir, `${vm.id.toUpperCase()}.vmrs`);
    }
  }
  if (cfg.vmxText) {
    const snapLike = { vmxText: cfg.vmxText, vmrs };
    vm.simVmx = guestTwinConfig(
      snapLike,
      vmDir,
      disks.map((d) => d.path),
      vm.name,
    );
  }
  return withState((st) => {
    st.planned = (st.planned ?? []).filter((x) => x.id !== planned.id);
    if (findVm(st, vm.id)) throw fail(`A virtual machine with id '${vm.id}' already exists.`, 'ResourceExists', 'ObjectAlreadyExists');
    st.vms.push(vm);
    return vmShape(vm);
  });
}

const START_FROM = ['Off', 'Saved', 'Paused', 'FastSaved', 'Hibernated'];

async function start(a, resumeOnly = false) {
  const state = loadState();
  const vm = vmById(state, a.vmId);
  if (vm.state === 'Running') return { warning: `The virtual machine '${vm.name}' is already in the specified state.` };
  if (resumeOnly && vm.state !== 'Paused') throw fail(`'${vm.name}' failed to resume: the operation cannot be performed while the object is in its current state.`, 'InvalidOperation', 'InvalidState');
  if (!START_FROM.includes(vm.state)) throw fail(`'${vm.name}' failed to start: the operation cannot be performed while the object is in its current state.`, 'InvalidOperation', 'InvalidState');
  // An automatic checkpoint is taken when a VM with automatic checkpoints starts (Windows 10 1709+).
  if (vm.automaticCheckpointsEnabled && vm.checkpointType !== 'Disabled' && vm.state === 'Off') await checkpoint({ vmId: vm.id, name: `Automatic Checkpoint - ${vm.name}`, automatic: true });
  if (vm.automaticCheckpointsEnabled && vm.checkpointType !== 'Disabled' && vm.state === 'Saved') await autoCheckpointSaved(vm);
  if (vm.simVmx) await guestStart(loadVm(vm.id));
  return withState((st) => {
    const live = vmById(st, vm.id);
    live.state = 'Running';
    // switch: an imported VM that resumes a saved state comes back with its adapters connected
    // to the switch they had, whatever was disconnected before the start
    if (process.env.HYPERV_SIM_TWIN_NIC_RECONNECT === '1' && live.imported && vm.state === 'Saved') {
      for (const n of live.nics) {
        n.connected = true;
        n.switchName = n.lastSwitch || n.switchName || 'Default Switch';
      }
    }
    return null;
  });
}

/** An automatic checkpoint of a Saved VM: the disks move to children (memory stays with the VM). */
async function autoCheckpointSaved(vm) {
  const state = loadState();
  const live = vmById(state, vm.id);
  const snapId = randomUUID();
  const frozen = live.disks.map((d) => ({ ...d }));
  const created = childPaths(live.disks, snapId);
  moveToChildren(live.disks, created);
  if (live.simVmx) {
    const { VmxFile } = await import('../../vmrun-sim/lib/vmx.mjs');
    const { vmDisks } = await import('../../vmrun-sim/lib/machine.mjs');
    const vmx = VmxFile.read(live.simVmx);
    vmDisks(vmx).forEach((d, i) => {
      const l = `${created[i]}.qcow2`;
      try {
        linkSync(created[i], l);
      } catch {
        // exists
      }
      vmx.set(d.key, l);
    });
    vmx.write();
  }
  withState((st) => {
    vmById(st, vm.id).disks = live.disks;
    st.snapshots.push({
      id: snapId,
      name: `Automatic Checkpoint - ${live.name}`,
      vmId: live.id,
      disks: frozen,
      created,
      vmState: 'Off',
      ics: live.integration,
      guest: live.guest,
      hardware: hardwareOf(live),
      automatic: true,
      created_at: new Date().toISOString(),
    });
    return null;
  });
}

function loadVm(id) {
  return vmById(loadState(), id);
}

// Stop-VM: -TurnOff powers off; -Save is not simulated; otherwise a shutdown through the Shutdown
// integration component (the module asked ShouldContinue before when that component is not Ok).
async function stop(a) {
  const vm = loadVm(a.vmId);
  if (vm.state === 'Off') return { warning: `The virtual machine '${vm.name}' is already in the specified state.` };
  if (a.turnOff) {
    if (!['Running', 'Paused', 'Saved', 'FastSaved'].includes(vm.state))
      throw fail(`'${vm.name}' failed to turn off: the operation cannot be performed while the object is in its current state.`, 'InvalidOperation', 'InvalidState');
    if (vm.simVmx) await guestTurnOff(vm);
  } else {
    if (vm.state !== 'Running') throw fail(`'${vm.name}' failed to shut down: the operation cannot be performed while the object is in its current state.`, 'InvalidOperation', 'InvalidState');
    if ((vm.guest.lockedSession || process.env.HYPERV_SIM_LOCKED_SESSION === '1') && !a.force)
      throw fail(`The virtual machine '${vm.name}' is locked and cannot be shut down without the force option.`, 'InvalidOperation', 'OperationFailed');
    if (vm.simVmx) await guestShutdown(vm);
    // a guest that ignores the request never gets there; Stop-VM waits until someone turns it off
    else if (vm.guest.ignoresPowerButton) while (findVm(loadState(), vm.id)?.state === 'Running') await new Promise((r) => setTimeout(r, 200));
  }
  await mergeAutomaticCheckpoint(vm.id);
  return withState((st) => {
    const live = findVm(st, vm.id);
    if (live) live.state = 'Off';
    return null;
  });
}

/** After a shutdown or turn-off, Stop-VM deletes the VM's automatic checkpoint (merging it). */
async function mergeAutomaticCheckpoint(vmId) {
  for (const s of loadState().snapshots.filter((x) => x.vmId === vmId && x.automatic)) await removeSnapshot({ snapshotId: s.id });
}

// Remove-VMSnapshot: each child the checkpoint created is merged back into its parent.
async function removeSnapshot(a) {
  const state = loadState();
  const snap = snapById(state, a.snapshotId);
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
  const delayPerMiB = Number(process.env.HYPERV_SIM_MERGE_MS_PER_MIB || 0);
  if (delayPerMiB > 0) await new Promise((r) => setTimeout(r, delayPerMiB * sizeMiB(snap.created)));
  if (vm?.simVmx) {
    await guestMerge(
      vm,
      commit,
      vm.disks.map((d) => {
        const i = snap.created.indexOf(d.path);
        return i < 0 ? d.path : snap.disks[i].path;
      }),
    );
    dropOverlayLinks(snap.created);
  } else commit();
  if (snap.vmrs) removeSavedState(snap.vmrs);
  return withState((st) => {
    const live = vm && findVm(st, vm.id);
    if (live) live.disks = vm.disks;
    st.snapshots = st.snapshots.filter((s) => s.id !== snap.id);
    return null;
  });
}

function virtualBytes(path) {
  return JSON.parse(execFileSync('qemu-img', ['info', '-U', '--output=json', path], { encoding: 'utf8' }))['virtual-size'];
}

function sizeMiB(files) {
  return files.reduce((n, f) => n + (existsSync(f) ? statSync(f).size / MiB : 0), 0);
}

const pending = new Set();

/** Work that goes on after its request was answered (a guest shutting down); the process waits for it before exiting. */
function background(fn) {
  const p = fn()
    .catch(() => {})
    .finally(() => pending.delete(p));
  pending.add(p);
}

/** Runs one operation; resolves { ok, result } or { ok: false, error } (never throws). */
export async function runHostOp(op, args) {
  const f = ops[op];
  try {
    if (!f) throw fail(`hyperv-sim: unknown host operation '${op}'`, 'NotImplemented', 'NotImplemented');
    const result = await f(args ?? {}, loadState());
    return { ok: true, result: result ?? null };
  } catch (e) {
    return { ok: false, error: e?.hv ?? { message: String(e?.message ?? e), category: 'NotSpecified', errorId: 'HyperVSimInternal' } };
  }
}

/** `--serve`: one JSON request `{ op, args }` per stdin line, one answer per stdout line, in order. */
export function serve() {
  const rl = createInterface({ input: process.stdin, crlfDelay: Infinity, terminal: false });
  let chain = Promise.resolve();
  rl.on('line', (line) => {
    chain = chain.then(async () => {
      let req;
      try {
        req = JSON.parse(line);
      } catch {
        req = { op: '' };
      }
      process.stdout.write(JSON.stringify(await runHostOp(req.op, req.args)) + '\n');
    });
  });
  rl.on('close', () => {
    closing = true;
    chain.then(() => Promise.all([...pending])).then(() => process.exit(0));
  });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1] && process.argv.includes('--serve')) serve();
