// vmrun command-line front end of the simulator: flags, dispatch, output and exit codes.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { cmdCheckToolsState, cmdList, cmdNamedDevice, cmdPause, cmdReadVariable, cmdReset, cmdStart, cmdStop, cmdSuspend, cmdWriteVariable, openVm, requireRunning } from './power.mjs';
import { cmdDeleteSnapshot, cmdListSnapshots, cmdRevertToSnapshot, cmdSnapshot } from './snapshots.mjs';
import { VmrunError, runningMeta, stateRoot } from './state.mjs';

const VERSION_LINE = 'vmrun version 1.17.0 build-12990004 (vmrun-sim: QEMU/TCG simulator)';
const USAGE = `${VERSION_LINE}

Usage: vmrun [AUTHENTICATION-FLAGS] COMMAND [PARAMETERS]

AUTHENTICATION-FLAGS
  -T <hostType> (ws|fusion|player)
  -vp <password for encrypted virtual machine>
  -gu <userName in guest OS>
  -gp <password in guest OS>

POWER COMMANDS: start, stop, reset, suspend, pause, unpause
SNAPSHOT COMMANDS: listSnapshots, snapshot, deleteSnapshot, revertToSnapshot
DEVICE COMMANDS: connectNamedDevice, disconnectNamedDevice
GENERAL COMMANDS: list, checkToolsState, getGuestIPAddress, readVariable, writeVariable
`;

const FLAGS_WITH_VALUE = new Set(['-t', '-vp', '-gu', '-gp', '-h', '-p', '-u']);

function listRunning() {
  const root = stateRoot();
  const vms = [];
  for (const id of fs.readdirSync(root)) {
    const meta = runningMeta(path.join(root, id));
    if (meta) vms.push(meta);
  }
  vms.sort((a, b) => String(a.startedAt).localeCompare(String(b.startedAt)));
  return vms.map((m) => m.vmx);
}

async function dispatch(argv) {
  const flags = {};
  let i = 0;
  while (i < argv.length && argv[i].startsWith('-') && FLAGS_WITH_VALUE.has(argv[i].toLowerCase())) {
    if (i + 1 >= argv.length) return { usage: true };
    flags[argv[i] === '-T' ? 'T' : argv[i].toLowerCase()] = argv[i + 1];
    i += 2;
  }
  const command = argv[i]?.toLowerCase();
  const args = argv.slice(i + 1);
  if (!command) return { usage: true };
  const player = (flags.T ?? 'ws').toLowerCase() === 'player';
  switch (command) {
    case 'list':
      return { out: cmdList(listRunning) };
    case 'start':
      await cmdStart(args);
      return {};
    case 'stop':
      await cmdStop(args);
      return {};
    case 'suspend':
      await cmdSuspend(args);
      return {};
    case 'reset':
      await cmdReset(args);
      return {};
    case 'pause':
      await cmdPause(args, true);
      return {};
    case 'unpause':
      await cmdPause(args, false);
      return {};
    case 'connectnameddevice':
    case 'disconnectnameddevice':
      await cmdNamedDevice(args, command === 'connectnameddevice');
      return {};
    case 'checktoolsstate':
      return { out: cmdCheckToolsState(args) };
    case 'getguestipaddress': {
      const vm = openVm(args[0]);
      requireRunning(vm);
      throw new VmrunError('Unable to get the IP address of the virtual machine (vmrun-sim has no Tools channel to ask the guest)');
    }
    case 'readvariable':
      return { out: cmdReadVariable(args) };
    case 'writevariable':
      await cmdWriteVariable(args);
      return {};
    case 'listsnapshots':
      return { out: cmdListSnapshots(args) };
    case 'snapshot':
    case 'deletesnapshot':
    case 'reverttosnapshot': {
      if (player) throw new VmrunError('The operation is not supported');
      if (command === 'snapshot') await cmdSnapshot(args);
      else if (command === 'deletesnapshot') await cmdDeleteSnapshot(args);
      else await cmdRevertToSnapshot(args);
      return {};
    }
    case 'vmrun-sim-state': {
      // simulator extension: runtime state of a VM as JSON (not a real vmrun command)
      const vm = openVm(args[0]);
      return { out: JSON.stringify(runningMeta(vm.stateDir) ?? null) };
    }
    default:
      return { usage: true, unknown: argv[i] };
  }
}

const MUTATING = new Set(['stop', 'suspend', 'reset', 'pause', 'unpause', 'writevariable', 'connectnameddevice', 'disconnectnameddevice', 'snapshot', 'deletesnapshot', 'reverttosnapshot']);

function commandOf(argv) {
  let i = 0;
  while (i < argv.length && FLAGS_WITH_VALUE.has(argv[i].toLowerCase())) i += 2;
  return argv[i]?.toLowerCase();
}

/**
 * Like the real vmrun (a client of the VM's own process), an operation that has begun finishes
 * even if vmrun itself is killed: mutating commands run in a detached worker process and this
 * process only relays its output and exit code. (`start` needs no worker: the detached
 * supervisor it launches completes the start, including consuming the suspend state.)
 */
async function runInWorker(argv) {
  const dir = path.join(stateRoot(), 'results');
  fs.mkdirSync(dir, { recursive: true });
  for (const f of fs.readdirSync(dir)) {
    // outputs left behind by killed vmrun processes
    const p = path.join(dir, f);
    try {
      if (Date.now() - fs.statSync(p).mtimeMs > 3_600_000) fs.rmSync(p, { force: true });
    } catch {
      // raced with another vmrun
    }
  }
  const outFile = path.join(dir, `${process.pid}-${Date.now()}.out`);
  const fd = fs.openSync(outFile, 'w');
  const child = spawn(process.execPath, [process.argv[1], ...argv], {
    detached: true,
    stdio: ['ignore', fd, fd],
    env: { ...process.env, VMRUN_SIM_IN_WORKER: '1' },
  });
  fs.closeSync(fd);
  const code = await new Promise((resolve) => {
    child.on('exit', (c) => resolve(c ?? 255));
    child.on('error', () => resolve(255));
  });
  process.stdout.write(fs.readFileSync(outFile));
  fs.rmSync(outFile, { force: true });
  process.exitCode = code;
}

/** Runs vmrun with the given argv and exits the process. */
export async function main(argv) {
  if (!process.env.VMRUN_SIM_IN_WORKER && MUTATING.has(commandOf(argv) ?? '')) {
    try {
      await runInWorker(argv);
    } catch (e) {
      process.stdout.write(`Error: The operation was canceled (vmrun-sim: ${e?.message ?? e})\n`);
      process.exitCode = 255;
    }
    return;
  }
  try {
    const r = await dispatch(argv);
    if (r.usage) {
      process.stdout.write(USAGE);
      process.exitCode = 255;
      return;
    }
    if (r.out !== undefined) process.stdout.write(r.out + '\n');
    process.exitCode = 0;
  } catch (e) {
    const msg = e instanceof VmrunError ? e.message : `The operation was canceled (vmrun-sim internal error: ${e?.stack ?? e})`;
    process.stdout.write(`Error: ${msg}\n`);
    process.exitCode = 255;
  }
}
