/**
 * `npm run demo`: TwinSnap without VMware or Hyper-V. Builds the harness's small Linux guest
 * (once, cached in .cache/guest), makes a few simulated VMware VMs from it under .cache/demo/vms,
 * starts them with the repository's vmrun simulator (QEMU behind vmrun's command line), and runs
 * `twinsnap serve` pointed at them: open the printed URL and try the whole journey (Back up now,
 * calendar, browse, restore a file, restore a whole VM and start it). Ctrl+C stops everything.
 *
 *   npm run demo                      # 3 guests, a free port
 *   npm run demo -- --guests 2 --port 8080
 *   npm run demo -- --no-start        # set up only (the VMs stay off)
 *
 * Needs Linux with qemu-system-x86_64 and qemu-img (Debian: `apt-get install qemu-system-x86
 * qemu-utils`); the first run also downloads the guest's Debian packages (see build-guest.ts).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureGuest } from './guest/build-guest.js';
import { makeTestVm, type TestVm } from './guest/make-test-vm.js';

/** The repository root. */
export const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
/** The simulated vmrun. */
export const VMRUN_SIM = join(ROOT, 'test', 'harness', 'vmrun-sim', 'vmrun');
/** Names of the demo guests, in order. */
export const DEMO_GUESTS = ['Mail server', 'Ledger', 'File share'];

/** What setupDemo made. */
export interface Demo {
  dir: string;
  vmsDir: string;
  dataDir: string;
  vms: TestVm[];
  /** Environment for twinsnap and vmrun (the simulator and its state folder). */
  env: NodeJS.ProcessEnv;
}

/** Throws a clear error when a tool the demo needs is missing. */
function need(tool: string, pkg: string): void {
  try {
    execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' });
  } catch {
    throw new Error(`the demo needs ${tool} (Debian/Ubuntu: sudo apt-get install ${pkg}); it runs on Linux with QEMU`);
  }
}

/**
 * Sets the demo up in `dir`: the guest, `count` VMs (kept between runs), a data folder whose
 * config lists the VM folder, and — with `start` — the VMs running with their tools up.
 */
export async function setupDemo(o: { dir: string; count: number; start: boolean; say?: (line: string) => void }): Promise<Demo> {
  const say = o.say ?? (() => {});
  if (process.platform !== 'linux') throw new Error('the demo runs the simulated VMs with QEMU on Linux');
  need('qemu-system-x86_64', 'qemu-system-x86');
  need('qemu-img', 'qemu-utils');
  const dir = resolve(o.dir);
  const vmsDir = join(dir, 'vms');
  const dataDir = join(dir, 'data');
  const env = { ...process.env, TWINSNAP_VMRUN: VMRUN_SIM, VMRUN_SIM_STATE: join(dir, 'sim-state') };
  say('building the test guest (cached in .cache/guest; the first time takes a few minutes)…');
  await ensureGuest();
  const vms: TestVm[] = [];
  for (const name of DEMO_GUESTS.slice(0, Math.max(1, Math.min(DEMO_GUESTS.length, o.count)))) {
    const folder = join(vmsDir, name);
    const vmxPath = join(folder, `${name}.vmx`);
    if (existsSync(vmxPath)) vms.push({ dir: folder, vmxPath, diskPath: join(folder, `${name}.vmdk`) });
    else {
      say(`making VM '${name}'`);
      vms.push(await makeTestVm(folder, { name, memMiB: 256, diskMiB: 64 }));
    }
  }
  mkdirSync(dataDir, { recursive: true });
  const config = join(dataDir, 'config.json');
  if (!existsSync(config)) writeFileSync(config, JSON.stringify({ version: 1, repository: join(dataDir, 'repository'), vmFolders: [vmsDir] }, null, 2));
  if (o.start) {
    const vmrun = (...args: string[]) => execFileSync(VMRUN_SIM, args, { env, encoding: 'utf8', timeout: 600_000 });
    const running = new Set(vmrun('list').split('\n').slice(1).filter(Boolean));
    for (const vm of vms) {
      if (running.has(vm.vmxPath)) continue;
      say(`starting '${vm.vmxPath}'`);
      vmrun('-T', 'ws', 'start', vm.vmxPath, 'nogui');
    }
    for (const vm of vms) {
      const until = Date.now() + 10 * 60_000;
      while (!/running/.test(vmrun('checkToolsState', vm.vmxPath))) {
        if (Date.now() > until) throw new Error(`'${vm.vmxPath}' did not report its tools running within 10 minutes`);
        await new Promise((r) => setTimeout(r, 2000));
      }
      say(`'${vm.vmxPath}' is up`);
    }
  }
  return { dir, vmsDir, dataDir, vms, env };
}

/** Powers the demo VMs off (hard: they are throw-away). */
export function stopDemo(demo: Demo): void {
  for (const vm of demo.vms) {
    try {
      execFileSync(VMRUN_SIM, ['-T', 'ws', 'stop', vm.vmxPath, 'hard'], { env: demo.env, stdio: 'ignore', timeout: 60_000 });
    } catch {
      // already off
    }
  }
}

/** `twinsnap serve` on the demo's data folder and simulator (prints its URL). */
export function serveDemo(demo: Demo, port = 0): ChildProcess {
  return spawn(process.execPath, [join(ROOT, 'bin', 'twinsnap.mjs'), 'serve', '--port', String(port), '--data-dir', demo.dataDir], { cwd: ROOT, env: demo.env, stdio: 'inherit' });
}

async function main(argv: string[]): Promise<void> {
  const arg = (name: string) => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const count = Number(arg('--guests') ?? 3);
  const port = Number(arg('--port') ?? 0);
  const start = !argv.includes('--no-start');
  const demo = await setupDemo({ dir: join(ROOT, '.cache', 'demo'), count, start, say: (l) => console.log(`demo: ${l}`) });
  console.log(`demo: ${demo.vms.length} simulated VMware guests in ${demo.vmsDir}; twinsnap data in ${demo.dataDir}`);
  console.log('demo: open the URL below in a browser; Ctrl+C stops the server and the VMs');
  const server = serveDemo(demo, port);
  const stop = () => {
    server.kill('SIGTERM');
    stopDemo(demo);
    process.exit(0);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  server.once('exit', (code) => {
    stopDemo(demo);
    process.exit(code ?? 0);
  });
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).catch((e: Error) => {
    console.error(`demo: ${e.message}`);
    process.exit(1);
  });
}
