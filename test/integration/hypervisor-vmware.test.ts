import { describe, it, expect, afterAll } from 'vitest';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { execFileSync } from 'node:child_process';
import { VmrunHypervisor } from '../../electron/engine/hypervisor/vmware/vmrun-hypervisor.js';
import { VmxFile } from '../../electron/engine/hypervisor/vmware/vmx-file.js';
import { detectVmrun } from '../../electron/engine/hypervisor/vmware/vmware-tool-detect.js';
import { systemClock } from '../../electron/engine/core/clock.js';
import type { Logger } from '../../electron/engine/core/logger.js';
import { makeTestVm } from '../harness/guest/make-test-vm.js';
import { hypervisorConformance } from '../conformance/hypervisor.suite.js';

const VMRUN = resolve(import.meta.dirname, '../harness/vmrun-sim/vmrun');
const quiet: Logger = { log() {}, debug() {}, info() {}, warn() {}, error() {}, child: () => quiet };
const haveSim = existsSync(VMRUN);

async function waitTools(vmx: string, ms = 90_000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const out = (() => {
      try {
        return execFileSync(VMRUN, ['checkToolsState', vmx], { encoding: 'utf8' });
      } catch {
        return '';
      }
    })();
    if (/running/.test(out)) return;
    await new Promise((r) => setTimeout(r, 300));
  }
  throw new Error(`tools of ${vmx} never came up`);
}

function makeHost() {
  const root = mkdtempSync(join(tmpdir(), 'twinsnap-vmsim-'));
  process.env.VMRUN_SIM_STATE = join(root, 'sim-state');
  const vmsDir = join(root, 'vms');
  const hv = new VmrunHypervisor({ vmrunPath: VMRUN, vmFolders: [vmsDir], logger: quiet, clock: systemClock, inventory: { inventoryFiles: [], preferencesFiles: [] } });
  const started: string[] = [];
  let n = 0;
  return {
    root,
    vmsDir,
    hv,
    async freshVm(name = `Prod ${++n}`, displayName?: string) {
      const t0 = Date.now();
      const vm = await makeTestVm(join(vmsDir, `vm${n}-${Date.now()}`), { name, memMiB: 128, diskMiB: 32, workload: 'on', extraKeys: displayName ? { displayName } : {} });
      execFileSync(VMRUN, ['-T', 'ws', 'start', vm.vmxPath, 'nogui']);
      started.push(vm.vmxPath);
      await waitTools(vm.vmxPath);
      console.log(`test vm ready in ${Date.now() - t0} ms`);
      return vm.vmxPath;
    },
    leftovers(vmx: string): string[] {
      const out: string[] = [];
      const snaps = execFileSync(VMRUN, ['listSnapshots', vmx], { encoding: 'utf8' });
      out.push(
        ...snaps
          .split('\n')
          .filter((l) => l.startsWith('twinsnap-'))
          .map((l) => `snapshot ${l}`),
      );
      out.push(...readdirSync(vmsDir).filter((f) => f.startsWith('.twinsnap-') || f.startsWith('twinsnap-twin-')));
      out.push(
        ...readdirSync(dirname(vmx))
          .filter((f) => /-0000\d\d\.vmdk$/.test(f))
          .map((f) => `delta ${f}`),
      );
      return out;
    },
    async dispose() {
      const running = execFileSync(VMRUN, ['list'], { encoding: 'utf8' }).split('\n').slice(1).filter(Boolean);
      for (const vmx of running) {
        try {
          execFileSync(VMRUN, ['stop', vmx, 'hard'], { stdio: 'ignore' });
        } catch {
          // already gone
        }
      }
      rmSync(root, { recursive: true, force: true });
    },
  };
}

const HOSTILE = `Prod a'; rm -rf / #$(touch /tmp/pwned) \`id\` \u2018q\u2019 "d" ${'x'.repeat(60)}`;

describe.skipIf(!haveSim)('VmrunHypervisor via vmrun-sim', () => {
  // One host and one production VM (hostile display name) for the whole file: QEMU boots are slow.
  let h: ReturnType<typeof makeHost> | undefined;
  let prod: string | undefined;
  const host = () => (h ??= makeHost());
  const production = async () => {
    const hh = host();
    if (!prod || !execFileSync(VMRUN, ['list'], { encoding: 'utf8' }).includes(prod)) {
      // file names cannot hold '/', so the folder/.vmx name is the same text without it
      prod = await hh.freshVm(HOSTILE.replace(/\//g, '_'), HOSTILE);
    }
    return prod;
  };
  afterAll(async () => h?.dispose());

  hypervisorConformance(
    'VmrunHypervisor via vmrun-sim',
    async () => ({
      hv: host().hv,
      bootsGuest: true,
      toolsWaitMs: 90_000,
      freshVm: production,
      exists: async (p) => existsSync(p),
      leftovers: async (id) => host().leftovers(id),
      dispose: async () => {},
    }),
    180_000,
  );

  it('detects vmrun version and an unknown edition for a bare vmrun (no vmware/vmplayer beside it)', async () => {
    const d = await detectVmrun(VMRUN);
    expect(d).toMatchObject({ path: VMRUN, version: '1.17.0 build-12990004', edition: 'unknown' });
    expect(d.problem).toBeUndefined();
  });

  it('builds a twin: captured suspend state, child disks, nics on a private segment, hostile name intact, production paused only briefly', async () => {
    rmSync('/tmp/pwned', { force: true });
    const hh = host();
    const vmx = await production();
    const vm = await hh.hv.getVm(vmx);
    expect(vm).toMatchObject({ name: HOSTILE, state: 'running', toolsRunning: true, encrypted: false });

    const t0 = performance.now();
    const frozen = await hh.hv.freeze(vm);
    const t1 = performance.now();
    await hh.hv.resume(frozen);
    const pauseMs = performance.now() - t0;
    const resumeMs = performance.now() - t1;
    const engineMs = pauseMs - (frozen.hypervisorCallMs ?? 0) - resumeMs;
    const captureMs = Number(frozen.adapterData?.memoryCaptureMs);
    console.log(
      `vmware twin pause: ${pauseMs.toFixed(0)} ms, hypervisor calls ${(frozen.hypervisorCallMs ?? 0).toFixed(0)} ms + resume ${resumeMs.toFixed(0)} ms, engine share ${engineMs.toFixed(1)} ms of which memory capture (${frozen.adapterData?.memoryCapture} of ${frozen.adapterData?.memoryBytes} bytes) ${captureMs} ms`,
    );
    // The memory capture is the one copy made while production waits (a reflink where the file
    // system has one: hypervisor/README.md, "Memory image"). The ≤ 50 ms goal for the rest is
    // measured by `npm run bench` on a quiet machine; here (parallel test files, QEMU on 2 cores)
    // only a gross regression — other data copied during the pause — must fail.
    expect(captureMs).toBeGreaterThanOrEqual(0);
    expect(engineMs - captureMs).toBeLessThan(500);

    const twin = await hh.hv.buildTwin(frozen, HOSTILE);
    const twinVmx = VmxFile.parse(readFileSync(twin.id));
    expect(twinVmx.get('displayName')).toBe(HOSTILE);
    expect(twinVmx.get('ethernet0.startConnected')).toBe('FALSE');
    expect(twinVmx.get('ethernet0.connectionType')).toBe('pvn');
    expect(twinVmx.get('checkpoint.vmState')).toBe('twin.vmss');
    expect(twinVmx.has('uuid.location')).toBe(false);
    const info = JSON.parse(execFileSync('qemu-img', ['info', '--output=json', twin.disks[0]!.path], { encoding: 'utf8' }));
    expect(info['backing-filename']).toBe(frozen.frozenDisks[0]!.path);
    expect(readdirSync(twin.folder).some((f) => f.endsWith('.lck') || f.endsWith('.log') || f.endsWith('.vmsd'))).toBe(false);

    await hh.hv.startTwin(twin);
    expect(await hh.hv.twinToolsRunning(twin)).toBe(true);
    await hh.hv.shutdownTwin(twin, { timeoutMs: 60_000 });
    await hh.hv.deleteTwin(twin);
    await hh.hv.releaseFrozen(frozen);
    expect(hh.leftovers(vmx)).toEqual([]);
    expect(existsSync('/tmp/pwned')).toBe(false);
  }, 240_000);
});
