// The simulated Hyper-V host: one JSON file under $HYPERV_SIM_ROOT holding VMs and checkpoints.
// VM folders and disks are real files (dynamic VHDX made with qemu-img).
import { existsSync, mkdirSync, readFileSync, renameSync, rmdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';

/** The simulator's root folder (required). */
export function simRoot() {
  const root = process.env.HYPERV_SIM_ROOT;
  if (!root) throw psFail('hyperv-sim: HYPERV_SIM_ROOT is not set', 'HyperVSimConfig');
  return root;
}

/** An error shaped like the `error` object TwinSnap's scripts report. */
export function psFail(message, fqid = 'HyperVSim', category = 'NotSpecified', type = 'Microsoft.HyperV.PowerShell.VirtualizationException') {
  const e = new Error(message);
  e.psError = { message, type, fqid, category };
  return e;
}

function file(root) {
  return join(root, 'state.json');
}

/** Loads the host state (creating an empty one). */
export function loadState(root = simRoot()) {
  if (!existsSync(file(root))) return { host: { virtualMachinePath: join(root, 'Hyper-V') }, vms: [], snapshots: [] };
  return JSON.parse(readFileSync(file(root), 'utf8'));
}

/** Saves the host state atomically. */
export function saveState(state, root = simRoot()) {
  mkdirSync(root, { recursive: true });
  const tmp = file(root) + '.tmp';
  writeFileSync(tmp, JSON.stringify(state, null, 2));
  renameSync(tmp, file(root));
}

const pause = new Int32Array(new SharedArrayBuffer(4));

/**
 * Load → change → save under a lock folder (several PowerShell sessions, each with its own
 * backend, share one host). `fn` must be synchronous; its return value is returned. A lock older
 * than 30 s is a crashed holder's and is broken.
 */
export function withState(fn, root = simRoot()) {
  mkdirSync(root, { recursive: true });
  const lock = join(root, 'state.lock');
  for (let i = 0; ; i++) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      try {
        if (Date.now() - statSync(lock).mtimeMs > 30_000) rmdirSync(lock);
      } catch {
        // released meanwhile
      }
      Atomics.wait(pause, 0, 0, Math.min(20, 1 + i));
    }
  }
  try {
    const state = loadState(root);
    const out = fn(state);
    saveState(state, root);
    return out;
  } finally {
    rmdirSync(lock);
  }
}

/** A new VM record (not yet saved). */
export function newVmRecord(over) {
  return {
    id: randomUUID(),
    name: 'vm',
    state: 'Off',
    memoryMiB: 256,
    cpus: 1,
    generation: 2,
    checkpointType: 'Production',
    path: '',
    disks: [],
    nics: [{ name: 'Network Adapter', switchName: 'Default Switch', connected: true }],
    integration: { shutdown: true, heartbeat: true },
    guest: { ignoresPowerButton: false, runsIntegrationServices: true },
    shielded: false,
    ...over,
  };
}

/** Finds a VM by id (case-insensitive GUID). */
export function findVm(state, id) {
  return state.vms.find((v) => v.id.toLowerCase() === String(id).toLowerCase());
}
