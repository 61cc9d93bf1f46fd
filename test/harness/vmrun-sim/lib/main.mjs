// vmrun command-line front end of the simulator: flags, dispatch, output and exit codes.
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  cmdCheckToolsState,
  cmdList,
  cmdPause,
  cmdReadVariable,
  cmdReset,
  cmdStart,
  cmdStop,
  cmdSuspend,
  cmdWriteVariable,
  openVm,
  requireRunning,
} from './power.mjs';
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
    case 'checktoolsstate':
      return { out: cmdCheckToolsState(args) };
    case 'getguestipaddress': {
      const vm = openVm(args[0]);
      requireRunning(vm);
      throw new VmrunError('Unable to get the IP address of the virtual machine (vmrun-sim guests have no network stack)');
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

/** Runs vmrun with the given argv and exits the process. */
export async function main(argv) {
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
