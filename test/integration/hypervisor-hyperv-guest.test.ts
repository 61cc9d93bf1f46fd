import { describe, it, expect, afterAll } from 'vitest';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { execFileSync } from 'node:child_process';
import { HyperVHypervisor } from '../../electron/engine/hypervisor/hyperv/hyperv-hypervisor.js';
import { systemClock } from '../../electron/engine/core/clock.js';
import type { Logger } from '../../electron/engine/core/logger.js';
import { makeTestVm } from '../harness/guest/make-test-vm.js';
import { adoptSimVm, simState } from '../harness/hyperv-sim/lib/sim-host.mjs';
import { hypervisorConformance } from '../conformance/hypervisor.suite.js';

const SIM = resolve(import.meta.dirname, '../harness/hyperv-module/powershell');
const VMRUN = resolve(import.meta.dirname, '../harness/vmrun-sim/vmrun');
const quiet: Logger = { log() {}, debug() {}, info() {}, warn() {}, error() {}, child: () => quiet };

describe.skipIf(!existsSync(VMRUN))('HyperVHypervisor via hyperv-sim with a real QEMU guest', () => {
  const root = mkdtempSync(join(tmpdir(), 'twinsnap-hvguest-'));
  // the test itself starts the production guest through vmrun-sim, so it shares the sim's state dir
  process.env.VMRUN_SIM_STATE = join(root, 'vmrun-state');
  const env = { ...process.env, HYPERV_SIM_ROOT: root };
  const hv = new HyperVHypervisor({ powershellPath: SIM, logger: quiet, clock: systemClock, env, twinsRoot: join(root, 'twins') });
  let prodId: string | undefined;

  const production = async (): Promise<string> => {
    if (prodId) return prodId;
    const tvm = await makeTestVm(join(root, 'vms', 'prod'), { name: 'Accounting', diskFormat: 'vhdx', memMiB: 128, diskMiB: 32 });
    prodId = adoptSimVm(root, { name: 'Accounting', vmxPath: tvm.vmxPath, diskPath: tvm.diskPath, start: true }).id;
    const end = Date.now() + 120_000;
    while (!(await hv.getVm(prodId)).toolsRunning) {
      if (Date.now() > end) throw new Error('production guest never came up');
      await new Promise((r) => setTimeout(r, 500));
    }
    return prodId;
  };

  afterAll(async () => {
    await hv.dispose();
    const running = execFileSync(VMRUN, ['list'], { encoding: 'utf8', env }).split('\n').slice(1).filter(Boolean);
    for (const vmx of running) {
      try {
        execFileSync(VMRUN, ['stop', vmx, 'hard'], { stdio: 'ignore', env });
      } catch {
        // already off
      }
    }
    rmSync(root, { recursive: true, force: true });
  });

  hypervisorConformance(
    'HyperVHypervisor via hyperv-sim (QEMU guest)',
    async () => ({
      hv,
      bootsGuest: true,
      toolsWaitMs: 90_000,
      freshVm: production,
      exists: async (p) => existsSync(p),
      leftovers: async (id) => {
        const st = simState(root);
        const out = st.snapshots.filter((s) => s.vmId === id).map((s) => `checkpoint ${s.id}`);
        if (existsSync(join(root, 'twins'))) out.push(...readdirSync(join(root, 'twins')));
        const prod = st.vms.find((v) => v.id === id)!;
        out.push(...prod.disks.filter((d) => /\.avhdx/.test(d.path)).map((d) => d.path));
        return out;
      },
      dispose: async () => {},
    }),
    240_000,
  );

  it('the twin resumes the running guest and shuts down through its power-button handler: its VHDX holds the clean-shutdown marker', async () => {
    const id = await production();
    const frozen = await hv.freeze(await hv.getVm(id));
    const twin = await hv.buildTwin(frozen, 'resume check');
    await hv.startTwin(twin);
    expect((await hv.getVm(twin.id)).state).toBe('running');
    const end = Date.now() + 90_000;
    while (!(await hv.twinToolsRunning(twin))) {
      if (Date.now() > end) throw new Error('twin never reported its services');
      await new Promise((r) => setTimeout(r, 500));
    }
    await hv.shutdownTwin(twin, { timeoutMs: 90_000 });
    expect((await hv.getVm(twin.id)).state).toBe('off');
    // the guest's power-button handler wrote its clean-shutdown marker into the twin's VHDX
    const dump = join(root, 'twin-check.raw');
    execFileSync('qemu-img', ['convert', '-O', 'raw', twin.disks[0]!.path, dump]);
    const ls = execFileSync('debugfs', ['-R', 'ls -l /', dump], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    expect(ls).toMatch(/CLEAN_SHUTDOWN/);
    rmSync(dump, { force: true });
    await hv.deleteTwin(twin);
    await hv.releaseFrozen(frozen);
    expect((await hv.getVm(id)).state).toBe('running');
  }, 300_000);
});
