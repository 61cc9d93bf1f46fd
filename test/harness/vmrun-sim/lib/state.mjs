// Per-VM runtime state of the vmrun simulator.
// Each VM (keyed by the absolute .vmx path) has a folder under the state root holding its
// sockets, pids and logs. Unix socket paths must stay short, so they never live in the VM folder.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/** An error that vmrun reports as `Error: <message>` on stdout with exit code 255. */
export class VmrunError extends Error {}

/** Root folder of all per-VM state (env VMRUN_SIM_STATE, default <tmp>/vmrun-sim-<uid>). */
export function stateRoot() {
  const uid = typeof process.getuid === 'function' ? process.getuid() : 0;
  const root = path.resolve(process.env.VMRUN_SIM_STATE || path.join(os.tmpdir(), `vmrun-sim-${uid}`));
  if (/[,'\n]/.test(root)) throw new VmrunError(`vmrun-sim state folder must not contain commas, quotes or newlines: ${root}`);
  fs.mkdirSync(root, { recursive: true, mode: 0o700 });
  return root;
}

/** Per-VM state folder for an absolute .vmx path. */
export function vmStateDir(vmxAbs) {
  const id = createHash('sha256').update(vmxAbs).digest('hex').slice(0, 16);
  const dir = path.join(stateRoot(), id);
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  return dir;
}

/** True if a process with this pid exists. */
export function pidAlive(pid) {
  if (!pid || !Number.isInteger(pid)) return false;
  try {
    process.kill(pid, 0);
  } catch (e) {
    return e.code === 'EPERM';
  }
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    if (/\) Z /.test(stat)) return false; // zombie
  } catch {
    // no /proc: trust kill(0)
  }
  return true;
}

/** True if pid is alive and its command line mentions `needle`. */
export function pidIs(pid, needle) {
  if (!pidAlive(pid)) return false;
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(needle);
  } catch {
    return true;
  }
}

export function readJson(file) {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
}

export function writeJson(file, data) {
  const tmp = `${file}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, JSON.stringify(data, null, 2) + '\n');
  fs.renameSync(tmp, file);
}

/**
 * Runtime info of a VM whose QEMU is alive, or undefined. `meta.json` is written by the
 * supervisor: { vmx, qemuPid, qsdPid, supervisorPid, bootOffset, toolsFromResume, nodes, ... }.
 */
export function runningMeta(stateDir) {
  const meta = readJson(path.join(stateDir, 'meta.json'));
  if (!meta || !pidIs(meta.qemuPid, 'qemu-system')) return undefined;
  return meta;
}

export function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}

/**
 * Serialises mutating operations on one VM across processes (exclusive lock file holding the
 * owner's pid; a lock whose owner died is taken over).
 */
export async function withVmLock(stateDir, fn, timeoutMs = 120_000) {
  const lock = path.join(stateDir, 'op.lock');
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      fs.writeFileSync(lock, String(process.pid), { flag: 'wx' });
      break;
    } catch (e) {
      if (e.code !== 'EEXIST') throw e;
      const owner = Number(fs.readFileSync(lock, 'utf8').trim() || 0);
      if (!pidAlive(owner)) {
        fs.rmSync(lock, { force: true });
        continue;
      }
      if (Date.now() > deadline) throw new VmrunError('The operation timed out waiting for another vmrun command on this virtual machine');
      await sleep(100);
    }
  }
  try {
    return await fn();
  } finally {
    fs.rmSync(lock, { force: true });
  }
}

/** Appends one line to the VM folder's vmware.log (best effort). */
export function vmLog(vmxAbs, text, who = 'vmrun-sim') {
  try {
    fs.appendFileSync(path.join(path.dirname(vmxAbs), 'vmware.log'), `${new Date().toISOString()}| ${who}| ${text}\n`);
  } catch {
    // read-only folder: ignore
  }
}

/** Appends a timing record to env VMRUN_SIM_TIMINGS (JSON lines), if set. */
export function recordTiming(record) {
  const file = process.env.VMRUN_SIM_TIMINGS;
  if (!file) return;
  try {
    fs.appendFileSync(file, JSON.stringify({ at: new Date().toISOString(), ...record }) + '\n');
  } catch {
    // ignore
  }
}
