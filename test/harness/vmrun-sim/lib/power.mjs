// Power operations of the vmrun simulator: start (boot or resume), stop, suspend, reset,
// pause/unpause, plus the helpers other commands share.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildLaunch, readVmssHeader, validateVmx, vmemPath, vmssHeader } from './machine.mjs';
import { Qmp, qmpOnce } from './qmp.mjs';
import { VmrunError, pidAlive, pidIs, readJson, recordTiming, runningMeta, sleep, stateRoot, vmLog, vmStateDir, withVmLock, writeJson } from './state.mjs';
import { settleUuid } from './uuid.mjs';
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

/** A numeric pessimistic switch (env var, ms); 0 when unset. */
export function envMs(name) {
  const v = Number(process.env[name] || 0);
  return Number.isFinite(v) && v > 0 ? v : 0;
}

/** SHA-256 of a file (hex), streamed. */
export async function sha256File(file) {
  const h = createHash('sha256');
  for await (const chunk of fs.createReadStream(file, { highWaterMark: 1 << 20 })) h.update(chunk);
  return h.digest('hex');
}

/**
 * Workstation starts a fresh vmware.log at every power-on or resume, keeping the previous ones
 * as vmware-0.log … vmware-2.log, and dumps the configuration it runs with (`DICT` lines).
 */
function rotateLog(vmxAbs) {
  const dir = path.dirname(vmxAbs);
  const f = (i) => path.join(dir, i < 0 ? 'vmware.log' : `vmware-${i}.log`);
  for (let i = 1; i >= -1; i--) {
    try {
      fs.renameSync(f(i), f(i + 1));
    } catch {
      // not there
    }
  }
}

/** The `DICT` lines of a .vmx's ethernet keys, as Workstation writes them at power-on/resume. */
function logNicConfig(vmxAbs, vmx) {
  for (const [lk, e] of vmx.entries()) if (/^ethernet\d+\./.test(lk)) vmLog(vmxAbs, `DICT ${e.key} = "${e.value}"`, 'vmx');
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
    rotateLog(vm.abs);
    // a cold power-on settles the VM's identity (moved or copied?); a resume does not
    if (!vmssAbs) {
      const uuid = settleUuid(vmx, vm.abs);
      if (uuid !== 'kept') vmLog(vm.abs, `vmrun-sim: uuid.bios ${uuid} (${vmx.get('uuid.bios')})`);
    }
    logNicConfig(vm.abs, vmx);
    // Pessimistic (VMRUN_SIM_RESUME_RESTORES_LINKS): a resumed VM's NICs come back with the link
    // state saved in its checkpoint, whatever `startConnected` says (vmware-twin-facts.md §1a).
    const links = vmssAbs && process.env.VMRUN_SIM_RESUME_RESTORES_LINKS === '1' ? header.links : undefined;
    // Pessimistic (VMRUN_SIM_RESUME_KEEPS_BACKING): a resumed VM's NICs stay on the networks saved
    // in its checkpoint, whatever the .vmx now says (untested on a real host, §1c).
    const networks = vmssAbs && process.env.VMRUN_SIM_RESUME_KEEPS_BACKING === '1' ? header.networks : undefined;
    if (vmssAbs && process.env.VMRUN_SIM_VMEM_HASH === '1') {
      const sha256 = await sha256File(vmemPath(vm.abs, vmssAbs)).catch(() => 'missing');
      vmLog(vm.abs, `vmrun-sim: resuming from memory file ${path.basename(vmemPath(vm.abs, vmssAbs))} sha256 ${sha256}`);
      recordTiming({ op: 'vmem-resumed', vmx: vm.abs, sha256 });
    }
    const launch = buildLaunch(vmx, vm.stateDir, vmssAbs, { links, networks, networksRoot: path.join(stateRoot(), 'networks') });
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
    for (const n of launch.nics) {
      vmLog(
        vm.abs,
        `VNET: Ethernet${n.index}: connectionType ${n.connectionType}, network ${n.network}, link ${n.up ? 'connected' : 'disconnected'}${links ? ' (state restored from the checkpoint)' : ''}`,
        'vmx',
      );
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
      // Pessimistic (VMRUN_SIM_TOOLS_WARMUP_MS): right after a resume Tools answer but cannot run
      // power scripts yet (VIX error 3009, vmware-workstation.md `stop`).
      const warm = envMs('VMRUN_SIM_TOOLS_WARMUP_MS');
      if (warm && m.resumed && Date.now() - Date.parse(m.startedAt) < warm) {
        vmLog(vm.abs, 'vmrun-sim: soft stop refused, tools still warming up (3009)');
        recordTiming({ op: 'soft-stop-refused', vmx: vm.abs });
        throw new VmrunError('Cannot run the power operation script: VIX_E_POWEROP_SCRIPTS_NOT_AVAILABLE (3009)');
      }
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
  await withVmLock(vm.stateDir, async () => {
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
      // Pessimistic (VMRUN_SIM_SUSPEND_SLOW_MS): the suspend takes that long before the guest
      // stops (a large VM on a slow disk); the VM stays listed meanwhile.
      const slow = envMs('VMRUN_SIM_SUSPEND_SLOW_MS');
      if (slow) await sleep(slow);
      await qmp.execute('stop');
      const stoppedAt = Date.now();
      fs.writeFileSync(
        partial,
        vmssHeader({
          toolsRunning: tools,
          suspendedAt: new Date().toISOString(),
          disks: meta.disks.length,
          links: meta.links ?? {},
          networks: Object.fromEntries((meta.nics ?? []).map((n) => [n.id, n.network])),
        }),
      );
      // guest RAM stays in the shared .vmem (as Workstation's named-file memory); the stream
      // carries the device state only
      await qmp.execute('migrate-set-capabilities', { capabilities: [{ capability: 'x-ignore-shared', state: true }] });
      fs.writeFileSync(path.join(vm.stateDir, 'suspending'), '');
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
      const vmem = vmemPath(vm.abs, vmssAbs);
      recordTiming({ op: 'suspend', vmx: vm.abs, ms, saveMs: savedAt - stoppedAt, bytes: fs.statSync(vmssAbs).size, vmemBytes: fs.statSync(vmem).size });
      if (process.env.VMRUN_SIM_VMEM_HASH === '1') {
        const sha256 = await sha256File(vmem);
        vmLog(vm.abs, `vmrun-sim: suspended memory file ${path.basename(vmem)} sha256 ${sha256}`);
        recordTiming({ op: 'vmem-suspended', vmx: vm.abs, sha256 });
      }
    } finally {
      qmp.close();
      fs.rmSync(path.join(vm.stateDir, 'suspending'), { force: true });
    }
  });
  // Pessimistic (VMRUN_SIM_SUSPEND_THEN): the VM is suspended, and then vmrun fails or hangs.
  const then = process.env.VMRUN_SIM_SUSPEND_THEN;
  if (then === 'fail') {
    vmLog(vm.abs, 'vmrun-sim: suspended, then reporting failure (VMRUN_SIM_SUSPEND_THEN=fail)');
    throw new VmrunError('The operation was canceled (vmrun-sim: VMRUN_SIM_SUSPEND_THEN=fail, after suspending)');
  }
  if (then === 'hang') {
    vmLog(vm.abs, 'vmrun-sim: suspended, then hanging (VMRUN_SIM_SUSPEND_THEN=hang)');
    await sleep(envMs('VMRUN_SIM_SUSPEND_HANG_MS') || 60_000);
  }
}

/** `disconnectNamedDevice vmx name` / `connectNamedDevice vmx name`: a NIC's link, live. */
export async function cmdNamedDevice(args, connect) {
  const vm = openVm(args[0]);
  const name = args[1];
  if (!name) throw new VmrunError('Invalid argument: a device name is required');
  const m = /^ethernet(\d+)$/i.exec(name);
  return withVmLock(vm.stateDir, async () => {
    const meta = requireRunning(vm);
    if (!m || !(meta.nics ?? []).some((n) => n.index === Number(m[1]))) throw new VmrunError(`The device ${name} does not exist in the virtual machine`);
    const id = `nic${m[1]}`;
    await qmpOnce(meta.qmpSock, 'set_link', { name: id, up: connect });
    const file = path.join(vm.stateDir, 'meta.json');
    const fresh = readJson(file) ?? meta;
    writeJson(file, { ...fresh, links: { ...fresh.links, [id]: connect } });
    vmLog(vm.abs, `VNET: Ethernet${m[1]}: link ${connect ? 'connected' : 'disconnected'} (${connect ? 'connectNamedDevice' : 'disconnectNamedDevice'})`, 'vmx');
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
