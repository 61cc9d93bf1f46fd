// Per-VM supervisor: a detached process that owns qemu-storage-daemon and QEMU for one VM.
// Usage: node supervisor.mjs <stateDir>   (reads <stateDir>/launch.json)
// Prints exactly one line on stdout — `READY {json}` or `ERROR <message>` — then keeps running
// until QEMU exits, shuts the storage daemon down cleanly (disks flushed and closed) and removes
// the runtime files.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Qmp } from './qmp.mjs';
import { readJson, sleep, writeJson } from './state.mjs';
import { VmxFile } from './vmx.mjs';

const stateDir = process.argv[2];
const launch = readJson(path.join(stateDir, 'launch.json'));
let reported = false;
let qemu;
let qsd;
let qemuExited = false;
let qsdExited = false;

function report(line) {
  if (reported) return;
  reported = true;
  try {
    process.stdout.write(line + '\n');
    process.stdout.end?.();
  } catch {
    // parent gone
  }
}

function logTail(file) {
  try {
    return fs.readFileSync(file, 'utf8').trim().split('\n').slice(-5).join(' | ');
  } catch {
    return '';
  }
}

async function waitExit(child, isExited, ms) {
  const deadline = Date.now() + ms;
  while (!isExited() && Date.now() < deadline) await sleep(50);
  if (!isExited()) {
    child.kill('SIGKILL');
    while (!isExited()) await sleep(20);
  }
}

async function shutdownStorage() {
  if (qsd && !qsdExited) {
    qsd.kill('SIGTERM');
    await waitExit(qsd, () => qsdExited, 30_000);
  }
}

/** `<name>.vmx.lck`: the lock directory Workstation keeps while the VM's process owns its files. */
const lockDir = `${launch.vmx}.lck`;

/**
 * Releases the VM's files at power-off: the memory file goes (kept when the VM was suspended:
 * it holds the guest RAM the .vmss needs), then the lock directory. Pessimistic
 * (VMRUN_SIM_LOCK_LINGER_MS): the lock stays that long after the VM left `vmrun list` — the
 * process still owns the folder, so a lock that is deleted meanwhile is there again (deleting a
 * locked file fails on Windows).
 */
function releaseFiles() {
  const suspending = fs.existsSync(path.join(stateDir, 'suspending'));
  if (!suspending && launch.vmem) fs.rmSync(launch.vmem, { force: true });
  const linger = Number(process.env.VMRUN_SIM_LOCK_LINGER_MS || 0);
  if (!(linger > 0)) {
    fs.rmSync(lockDir, { recursive: true, force: true });
    return;
  }
  // (a deleted lock is recreated, and that is recorded: `lock-released` with `recreated: true`)
  const code = `const fs=require('fs');const [d,f,ms,log]=process.argv.slice(1);const end=Date.now()+Number(ms);let recreated=false;
const t=setInterval(()=>{if(Date.now()>end){clearInterval(t);fs.rmSync(d,{recursive:true,force:true});
if(log)try{fs.appendFileSync(log,JSON.stringify({at:new Date().toISOString(),op:'lock-released',dir:d,recreated})+'\\n');}catch{}return;}
if(!fs.existsSync(f)){recreated=true;try{fs.mkdirSync(d,{recursive:true});fs.writeFileSync(f,'');}catch{}}},100);`;
  spawn(process.execPath, ['-e', code, lockDir, path.join(lockDir, `M${process.pid}.lck`), String(linger), process.env.VMRUN_SIM_TIMINGS ?? ''], { detached: true, stdio: 'ignore' }).unref();
}

async function finish(code) {
  await shutdownStorage();
  releaseFiles();
  for (const f of ['meta.json', 'qmp.sock', 'qsd.sock', 'nbd.sock', 'vmss-in', 'vmss-out']) {
    fs.rmSync(path.join(stateDir, f), { force: true });
  }
  writeJson(path.join(stateDir, 'last-exit.json'), { at: new Date().toISOString(), qemuExitCode: code });
  process.exit(0);
}

async function fail(message) {
  report(`ERROR ${message}`);
  if (qemu && !qemuExited) {
    qemu.kill('SIGKILL');
    await waitExit(qemu, () => qemuExited, 5000);
  }
  await shutdownStorage();
  for (const f of ['meta.json', 'qmp.sock', 'qsd.sock', 'nbd.sock']) fs.rmSync(path.join(stateDir, f), { force: true });
  process.exit(1);
}

async function main() {
  const t0 = Date.now();
  for (const f of [launch.qsdSock, launch.qmpSock, launch.nbdSock]) fs.rmSync(f, { force: true });
  const qsdLog = path.join(stateDir, 'qsd.log');
  const qemuLog = path.join(stateDir, 'qemu.log');
  const qsdFd = fs.openSync(qsdLog, 'w');
  qsd = spawn(process.env.VMRUN_SIM_QSD || 'qemu-storage-daemon', launch.qsdArgs, { stdio: ['ignore', qsdFd, qsdFd] });
  qsd.on('exit', () => {
    qsdExited = true;
    if (!reported) void fail(`qemu-storage-daemon exited: ${logTail(qsdLog)}`);
  });
  qsd.on('error', (e) => void fail(`cannot run qemu-storage-daemon: ${e.message}`));
  const storage = await Qmp.connect(launch.qsdSock, 20_000).catch((e) => fail(`storage daemon not ready: ${e.message} ${logTail(qsdLog)}`));
  storage.close();
  while (!fs.existsSync(launch.nbdSock)) await sleep(20);

  const qemuFd = fs.openSync(qemuLog, 'w');
  qemu = spawn(process.env.VMRUN_SIM_QEMU || 'qemu-system-x86_64', launch.qemuArgs, { stdio: ['ignore', qemuFd, qemuFd] });
  qemu.on('error', (e) => void fail(`cannot run qemu-system-x86_64: ${e.message}`));
  qemu.on('exit', (code) => {
    qemuExited = true;
    if (!reported) void fail(`QEMU exited (${code}): ${logTail(qemuLog)}`);
    else void finish(code);
  });
  const qmp = await Qmp.connect(launch.qmpSock, 30_000).catch((e) => fail(`QEMU monitor not ready: ${e.message} ${logTail(qemuLog)}`));
  for (const name of launch.linksDown) await qmp.execute('set_link', { name, up: false });
  if (launch.incoming) {
    await qmp.execute('migrate-set-capabilities', { capabilities: [{ capability: 'x-ignore-shared', state: true }] });
    await qmp.execute('migrate-incoming', { uri: launch.incomingUri });
    const deadline = Date.now() + 300_000;
    for (;;) {
      const st = await qmp.execute('query-status');
      if (st.status === 'running') break;
      if (st.status === 'paused') {
        // the source was stopped before its state was saved; the destination inherits that
        const mig = await qmp.execute('query-migrate').catch(() => ({}));
        if (mig.status === 'completed') {
          await qmp.execute('cont');
          continue;
        }
      }
      if (st.status !== 'inmigrate' && st.status !== 'prelaunch' && st.status !== 'restore-vm') {
        const mig = await qmp.execute('query-migrate').catch(() => ({}));
        await fail(`resume failed (state ${st.status}${mig.status ? `, migration ${mig.status}` : ''}): ${logTail(qemuLog)}`);
      }
      if (Date.now() > deadline) await fail('resume timed out');
      await sleep(20);
    }
  }
  qmp.close();
  if (launch.consumeVmss) {
    // a suspend state is consumed by resuming
    const vmx = VmxFile.read(launch.vmx);
    vmx.set('checkpoint.vmState', '');
    vmx.write();
    fs.rmSync(launch.consumeVmss, { force: true });
    fs.rmSync(path.join(stateDir, 'vmss-in'), { force: true });
  }
  const startMs = Date.now() - t0;
  fs.mkdirSync(lockDir, { recursive: true });
  fs.writeFileSync(path.join(lockDir, `M${process.pid}.lck`), '');
  writeJson(path.join(stateDir, 'meta.json'), {
    vmx: launch.vmx,
    qemuPid: qemu.pid,
    qsdPid: qsd.pid,
    supervisorPid: process.pid,
    startedAt: new Date().toISOString(),
    resumed: launch.incoming,
    bootOffset: launch.bootOffset ?? 0,
    toolsFromResume: Boolean(launch.toolsFromResume),
    serialLog: launch.serialLog,
    nodes: launch.nodes,
    disks: launch.disks,
    qmpSock: launch.qmpSock,
    qsdSock: launch.qsdSock,
    nics: launch.nics ?? [],
    links: Object.fromEntries((launch.nics ?? []).map((n) => [n.id, n.up])),
    vmem: launch.vmem,
    runtimeVars: {},
  });
  report(`READY ${JSON.stringify({ startMs, qemuPid: qemu.pid })}`);
}

process.stdout.on('error', () => undefined);
process.on('SIGTERM', () => {
  if (qemu && !qemuExited) qemu.kill('SIGTERM');
  else void finish(null);
});
process.on('SIGINT', () => undefined);
process.on('SIGHUP', () => undefined);
main().catch((e) => fail(e instanceof Error ? e.message : String(e)));
