// Power operations of the vmrun simulator: start (boot or resume), stop, suspend, reset,
// pause/unpause, plus the helpers other commands share.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildLaunch, readVmssHeader, validateVmx, vmssHeader } from './machine.mjs';
import { Qmp, qmpOnce } from './qmp.mjs';
import {
  VmrunError,
  pidAlive,
  pidIs,
  readJson,
  recordTiming,
  runningMeta,
  sleep,
  vmLog,
  vmStateDir,
  withVmLock,
  writeJson,
} from './state.mjs';
import { VmxFile } from './vmx.mjs';

const SUPERVISOR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'supervisor.mjs');

/** Resolves and checks the .vmx argument like vmrun does. */
export function openVm(vmxArg) {
  if (!vmxArg) throw new VmrunError('Invalid argument: a virtual machine path is required');
  if (path.extname(vmxArg).toLowerCase() !== '.vmx') throw new VmrunError(`Cannot open VM: ${vmxArg}, unknown file suffix`);
  const abs = path.resolve(vmxArg);
  if (!fs.existsSync(abs)) throw new VmrunError(`Cannot open VM: ${vmxArg}, The virtual machine cannot be found`);
  return { arg: vmxArg, abs, stateDir: vmStateDir(abs) };
}

/** Runtime meta of a powered-on VM, or the vmrun error for a VM that is not powered on. */
export function requireRunning(vm) {
  const meta = runningMeta(vm.stateDir);
  if (!meta) throw new VmrunError(`The virtual machine is not powered on: ${vm.arg}`);
  return meta;
}

/** Tools state: `running` once the guest printed `VMTOOLS: running` since it booted. */
export function toolsRunning(meta) {
  if (meta.toolsFromResume) return true;
  try {
    const fd = fs.openSync(meta.serialLog, 'r');
    try {
      const size = fs.fstatSync(fd).size;
      const start = Math.min(meta.bootOffset ?? 0, size);
      const buf = Buffer.alloc(size - start);
      fs.readSync(fd, buf, 0, buf.length, start);
      return buf.toString('latin1').includes('VMTOOLS: running');
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return false;
  }
}

function requireTools(vm, meta) {
  if (!toolsRunning(meta)) throw new VmrunError(`The VMware Tools are not running in the virtual machine: ${vm.arg}`);
}

/** Waits until QEMU and the supervisor of a VM are gone (disks closed), cleaning up orphans. */
export async function waitPoweredOff(vm, meta, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (pidAlive(meta.qemuPid) || pidAlive(meta.supervisorPid)) {
    if (!pidAlive(meta.qemuPid) && !pidAlive(meta.supervisorPid)) break;
    if (Date.now() > deadline) return false;
    await sleep(25);
  }
  if (pidAlive(meta.qsdPid)) {
    // supervisor was killed: finish its job
    process.kill(meta.qsdPid, 'SIGTERM');
    const d2 = Date.now() + 30_000;
    while (pidAlive(meta.qsdPid) && Date.now() < d2) await sleep(25);
    if (pidAlive(meta.qsdPid)) process.kill(meta.qsdPid, 'SIGKILL');
  }
  fs.rmSync(path.join(vm.stateDir, 'meta.json'), { force: true });
  return true;
}

/** Removes what a killed supervisor left behind (its storage daemon would hold the disks). */
async function cleanupStale(vm) {
  const meta = readJson(path.join(vm.stateDir, 'meta.json'));
  if (!meta) return;
  // a supervisor whose QEMU exited is shutting the storage daemon down: let it finish
  const until = Date.now() + 30_000;
  while (pidIs(meta.supervisorPid, 'supervisor.mjs') && Date.now() < until) await sleep(25);
  if (pidIs(meta.qsdPid, 'qemu-storage-daemon')) {
    process.kill(meta.qsdPid, 'SIGTERM');
    const deadline = Date.now() + 30_000;
    while (pidAlive(meta.qsdPid) && Date.now() < deadline) await sleep(25);
    if (pidAlive(meta.qsdPid)) process.kill(meta.qsdPid, 'SIGKILL');
  }
  fs.rmSync(path.join(vm.stateDir, 'meta.json'), { force: true });
}

/** `start vmx [gui|nogui]`: boots, or resumes a suspended VM from its .vmss. */
export async function cmdStart(args) {
  const vm = openVm(args[0]);
  return withVmLock(vm.stateDir, async () => {
    if (runningMeta(vm.stateDir)) return; // already powered on
    await cleanupStale(vm);
    const vmx = VmxFile.read(vm.abs);
    validateVmx(vmx, vm.arg);
    const stateName = vmx.get('checkpoint.vmState') ?? '';
    const vmssAbs = stateName ? path.resolve(path.dirname(vm.abs), stateName) : undefined;
    let header;
    if (vmssAbs) {
      if (!fs.existsSync(vmssAbs)) throw new VmrunError(`Cannot open VM: ${vm.arg}, The suspended state file ${stateName} cannot be found`);
      header = readVmssHeader(vmssAbs);
      if (!header) throw new VmrunError(`The operation was canceled (vmrun-sim: ${stateName} is not a simulator suspend file)`);
      fs.rmSync(path.join(vm.stateDir, 'vmss-in'), { force: true });
      fs.symlinkSync(vmssAbs, path.join(vm.stateDir, 'vmss-in'));
    }
    const launch = buildLaunch(vmx, vm.stateDir, vmssAbs);
    let bootOffset = 0;
    if (vmssAbs) {
      try {
        bootOffset = fs.statSync(launch.serialLog).size;
      } catch {
        bootOffset = 0;
      }
    }
    writeJson(path.join(vm.stateDir, 'launch.json'), {
      ...launch,
      bootOffset,
      toolsFromResume: Boolean(header?.toolsRunning),
      // the supervisor consumes the suspend state once the guest runs again, even if vmrun is killed
      consumeVmss: vmssAbs,
    });
    const t0 = Date.now();
    const result = await runSupervisor(vm.stateDir);
    const ms = Date.now() - t0;
    if (!result.ok) {
      vmLog(vm.abs, `start failed: ${result.message}`);
      throw new VmrunError(`The operation was canceled: ${result.message}`);
    }
    vmLog(vm.abs, `${vmssAbs ? 'resume' : 'power on'} took ${ms} ms`);
    recordTiming({ op: vmssAbs ? 'resume' : 'start', vmx: vm.abs, ms });
    return undefined;
  });
}

function runSupervisor(stateDir) {
  return new Promise((resolve) => {
    const logFd = fs.openSync(path.join(stateDir, 'supervisor.log'), 'a');
    const child = spawn(process.execPath, [SUPERVISOR, stateDir], {
      detached: true,
      stdio: ['ignore', 'pipe', logFd],
      env: process.env,
    });
    fs.closeSync(logFd);
    let out = '';
    const timer = setTimeout(() => done({ ok: false, message: 'timed out waiting for the virtual machine to start' }), 300_000);
    function done(r) {
      clearTimeout(timer);
      child.stdout.removeAllListeners('data');
      child.stdout.destroy();
      child.unref();
      resolve(r);
    }
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (d) => {
      out += d;
      const nl = out.indexOf('\n');
      if (nl < 0) return;
      const line = out.slice(0, nl);
      if (line.startsWith('READY')) done({ ok: true, info: JSON.parse(line.slice(6) || '{}') });
      else done({ ok: false, message: line.replace(/^ERROR\s*/, '') });
    });
    child.on('exit', (code) => done({ ok: false, message: `supervisor exited (${code}) before the virtual machine started` }));
  });
}

/** `stop vmx [hard|soft]`. */
export async function cmdStop(args) {
  const vm = openVm(args[0]);
  const mode = (args[1] ?? 'soft').toLowerCase();
  if (mode !== 'soft' && mode !== 'hard') throw new VmrunError('Invalid argument: ' + args[1]);
  if (mode === 'soft') {
    // press the button under the lock, wait without it (a `stop hard` may come meanwhile)
    const meta = await withVmLock(vm.stateDir, async () => {
      const m = requireRunning(vm);
      requireTools(vm, m);
      await qmpOnce(m.qmpSock, 'system_powerdown');
      return m;
    });
    const timeout = Number(process.env.VMRUN_SIM_SOFT_STOP_TIMEOUT_MS || 600_000);
    const t0 = Date.now();
    if (!(await waitPoweredOff(vm, meta, timeout))) {
      throw new VmrunError('The operation was canceled (the guest did not shut down)');
    }
    vmLog(vm.abs, `soft stop took ${Date.now() - t0} ms`);
    recordTiming({ op: 'stop-soft', vmx: vm.abs, ms: Date.now() - t0 });
    return undefined;
  }
  return withVmLock(vm.stateDir, async () => {
    const meta = requireRunning(vm);
    await qmpOnce(meta.qmpSock, 'quit').catch(() => {
      if (pidAlive(meta.qemuPid)) process.kill(meta.qemuPid, 'SIGTERM');
    });
    if (!(await waitPoweredOff(vm, meta, 30_000))) {
      if (pidAlive(meta.qemuPid)) process.kill(meta.qemuPid, 'SIGKILL');
      await waitPoweredOff(vm, meta, 30_000);
    }
    vmLog(vm.abs, 'hard stop');
  });
}

/** `suspend vmx [hard|soft]`: memory state to <name>.vmss, checkpoint.vmState set. */
export async function cmdSuspend(args) {
  const vm = openVm(args[0]);
  const mode = (args[1] ?? 'hard').toLowerCase();
  return withVmLock(vm.stateDir, async () => {
    const meta = requireRunning(vm);
    if (mode === 'soft') requireTools(vm, meta);
    const t0 = Date.now();
    const base = path.basename(vm.abs, path.extname(vm.abs));
    const vmssName = `${base}.vmss`;
    const vmssAbs = path.join(path.dirname(vm.abs), vmssName);
    const partial = `${vmssAbs}.partial`;
    const tools = toolsRunning(meta);
    const qmp = await Qmp.connect(meta.qmpSock);
    try {
      await qmp.execute('stop');
      const stoppedAt = Date.now();
      fs.writeFileSync(partial, vmssHeader({ toolsRunning: tools, suspendedAt: new Date().toISOString(), disks: meta.disks.length }));
      const link = path.join(vm.stateDir, 'vmss-out');
      fs.rmSync(link, { force: true });
      fs.symlinkSync(partial, link);
      await qmp.execute('migrate-set-parameters', { 'max-bandwidth': 64 * 1024 * 1024 * 1024 });
      await qmp.execute('migrate', { uri: `exec:cat >> '${link}'` });
      for (;;) {
        const st = await qmp.execute('query-migrate');
        if (st.status === 'completed') break;
        if (st.status === 'failed' || st.status === 'cancelled') {
          await qmp.execute('cont').catch(() => undefined);
          fs.rmSync(partial, { force: true });
          throw new VmrunError(`The operation was canceled (suspend failed: ${st['error-desc'] ?? st.status})`);
        }
        await sleep(10);
      }
      const savedAt = Date.now();
      await qmp.execute('quit').catch(() => undefined);
      qmp.close();
      await waitPoweredOff(vm, meta, 60_000);
      fs.renameSync(partial, vmssAbs);
      const vmx = VmxFile.read(vm.abs);
      vmx.set('checkpoint.vmState', vmssName);
      vmx.write();
      const ms = Date.now() - t0;
      vmLog(vm.abs, `suspend took ${ms} ms (guest stopped after ${stoppedAt - t0} ms, state saved after ${savedAt - t0} ms)`);
      recordTiming({ op: 'suspend', vmx: vm.abs, ms, saveMs: savedAt - stoppedAt, bytes: fs.statSync(vmssAbs).size });
    } finally {
      qmp.close();
    }
  });
}

/** `reset vmx [hard|soft]`. */
export async function cmdReset(args) {
  const vm = openVm(args[0]);
  const mode = (args[1] ?? 'soft').toLowerCase();
  return withVmLock(vm.stateDir, async () => {
    const meta = requireRunning(vm);
    if (mode === 'soft') requireTools(vm, meta);
    let size = 0;
    try {
      size = fs.statSync(meta.serialLog).size;
    } catch {
      size = 0;
    }
    writeJson(path.join(vm.stateDir, 'meta.json'), { ...meta, bootOffset: size, toolsFromResume: false });
    await qmpOnce(meta.qmpSock, 'system_reset');
  });
}

/** `pause vmx` / `unpause vmx`. */
export async function cmdPause(args, pause) {
  const vm = openVm(args[0]);
  return withVmLock(vm.stateDir, async () => {
    const meta = requireRunning(vm);
    await qmpOnce(meta.qmpSock, pause ? 'stop' : 'cont');
  });
}

/** `checkToolsState vmx`: running | installed | unknown. */
export function cmdCheckToolsState(args) {
  const vm = openVm(args[0]);
  const meta = runningMeta(vm.stateDir);
  if (!meta) return 'unknown';
  return toolsRunning(meta) ? 'running' : 'installed';
}

/** `list`. */
export function cmdList(listRunning) {
  const vms = listRunning();
  return [`Total running VMs: ${vms.length}`, ...vms].join('\n');
}

/** `readVariable vmx runtimeConfig|guestVar|guestEnv name`. */
export function cmdReadVariable(args) {
  const vm = openVm(args[0]);
  const kind = args[1];
  const name = args[2];
  if (!kind || !name) throw new VmrunError('Invalid argument');
  const meta = requireRunning(vm);
  if (kind === 'runtimeConfig') {
    if (meta.runtimeVars && name in meta.runtimeVars) return meta.runtimeVars[name];
    return VmxFile.read(vm.abs).get(name) ?? '';
  }
  if (kind === 'guestVar') return meta.guestVars?.[name] ?? '';
  if (kind === 'guestEnv') {
    requireTools(vm, meta);
    return '';
  }
  throw new VmrunError('Invalid argument: ' + kind);
}

/** `writeVariable vmx runtimeConfig|guestVar name value` (runtime only, like the real tool). */
export async function cmdWriteVariable(args) {
  const vm = openVm(args[0]);
  const [kind, name, value] = [args[1], args[2], args[3]];
  if (!kind || !name || value === undefined) throw new VmrunError('Invalid argument');
  return withVmLock(vm.stateDir, async () => {
    const meta = requireRunning(vm);
    const file = path.join(vm.stateDir, 'meta.json');
    const fresh = readJson(file) ?? meta;
    if (kind === 'runtimeConfig') fresh.runtimeVars = { ...fresh.runtimeVars, [name]: value };
    else if (kind === 'guestVar') fresh.guestVars = { ...fresh.guestVars, [name]: value };
    else throw new VmrunError('The operation is not supported');
    writeJson(file, fresh);
  });
}
