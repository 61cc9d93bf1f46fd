import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import type { Hypervisor, TwinVm } from '../../electron/engine/hypervisor/hypervisor.js';

/**
 * What every Hypervisor adapter must do, run against each one (the ScriptedHypervisor test double always; the vmrun
 * and Hyper-V adapters against their simulators). A fixture provides one running production VM
 * per call of `freshVm` (the suite may leave it frozen in the recovery test).
 */
export interface HypervisorFixture {
  hv: Hypervisor;
  /** Makes (or returns) a running production VM and gives its adapter id. */
  freshVm(): Promise<string>;
  /** Whether a file exists (the twin's disks, folder) — adapters with virtual files return true. */
  exists(path: string): Promise<boolean>;
  /** Paths of backup leftovers (snapshots, staging folders, twins) for a VM; [] when clean. */
  leftovers(vmId: string): Promise<string[]>;
  /** Whether twins boot a real guest (then tools must come up before the graceful stop). */
  bootsGuest: boolean;
  /** Time to wait for a booted twin's tools (ms). */
  toolsWaitMs?: number;
  dispose(): Promise<void>;
}

/** A twin name no adapter may execute or mangle. */
export const HOSTILE_TWIN_NAME = `twin a'; rm -rf / #$(touch /tmp/pwned) \`id\` ; \u2018x\u2019 "q" ${'n'.repeat(120)}`;

async function waitFor(cond: () => Promise<boolean>, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  for (;;) {
    if (await cond()) return true;
    if (Date.now() > end) return false;
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Registers the conformance tests for one adapter. */
export function hypervisorConformance(label: string, makeFixture: () => Promise<HypervisorFixture>, testTimeoutMs = 120_000): void {
  describe(`Hypervisor conformance: ${label}`, () => {
    let fx: HypervisorFixture;
    beforeAll(async () => {
      fx = await makeFixture();
    }, testTimeoutMs);
    afterAll(async () => {
      await fx?.dispose();
    });

    it(
      'detects its tool and lists the running vm',
      async () => {
        const info = await fx.hv.detect();
        expect(info).toMatchObject({ kind: fx.hv.kind, available: true });
        const id = await fx.freshVm();
        const vms = await fx.hv.listVms();
        expect(vms.find((v) => v.id === id)).toMatchObject({ id, state: 'running' });
      },
      testTimeoutMs,
    );

    it(
      'reports an unknown vm as HV_VM_NOT_FOUND',
      async () => {
        await expect(fx.hv.getVm(fx.hv.kind === 'hyperv' ? '00000000-0000-0000-0000-00000000dead' : '/nonexistent/vm/none.vmx')).rejects.toMatchObject({ code: 'HV_VM_NOT_FOUND' });
      },
      testTimeoutMs,
    );

    it(
      'freezes, resumes production, runs an isolated twin, shuts it down cleanly and leaves nothing behind',
      async () => {
        const id = await fx.freshVm();
        const vm = await fx.hv.getVm(id);
        const frozen = await fx.hv.freeze(vm);
        expect(frozen.frozenDisks.length).toBe(vm.disks.length);
        await fx.hv.resume(frozen);
        expect((await fx.hv.getVm(id)).state).toBe('running');

        const twin = await fx.hv.buildTwin(frozen, HOSTILE_TWIN_NAME);
        expect(twin.name).toBe(HOSTILE_TWIN_NAME);
        for (const d of twin.disks) expect(await fx.exists(d.path)).toBe(true);
        // the adapter's own leftovers() (doctor's check) sees what the fixture sees
        if (fx.hv.leftovers) expect((await fx.hv.leftovers(id)).length, 'leftovers() lists the backup in progress').toBeGreaterThan(0);
        await fx.hv.startTwin(twin);
        expect((await fx.hv.listVms()).map((v) => v.id)).not.toContain(twin.id); // twins are not guests
        if (fx.bootsGuest) expect(await waitFor(() => fx.hv.twinToolsRunning(twin), fx.toolsWaitMs ?? 60_000)).toBe(true);
        else expect(await fx.hv.twinToolsRunning(twin)).toBe(true);
        await fx.hv.shutdownTwin(twin, { timeoutMs: 60_000 });
        await fx.hv.deleteTwin(twin);
        await fx.hv.deleteTwin(twin); // idempotent
        await fx.hv.releaseFrozen(frozen);
        await fx.hv.releaseFrozen(frozen); // idempotent
        expect(await fx.leftovers(id)).toEqual([]);
        if (fx.hv.leftovers) expect(await fx.hv.leftovers(id)).toEqual([]);
        expect((await fx.hv.getVm(id)).state).toBe('running');
      },
      testTimeoutMs * 2,
    );

    it(
      'recovers a backup interrupted right after the freeze: production runs again, nothing is left',
      async () => {
        const id = await fx.freshVm();
        const vm = await fx.hv.getVm(id);
        const frozen = await fx.hv.freeze(vm);
        let twin: TwinVm | undefined;
        if (fx.hv.capabilities.linkedTwin) twin = await fx.hv.buildTwin(frozen, 'interrupted twin');
        // the engine "crashed" here: no resume, no clean-up
        await fx.hv.recover({ vmId: id, handle: frozen.handle, twin });
        await fx.hv.recover({ vmId: id, handle: frozen.handle, twin }); // idempotent
        expect((await fx.hv.getVm(id)).state).toBe('running');
        expect(await fx.leftovers(id)).toEqual([]);
      },
      testTimeoutMs,
    );

    it(
      'recovers a freeze and twin that crashed before their results were journaled',
      async () => {
        const id = await fx.freshVm();
        const frozen = await fx.hv.freeze(await fx.hv.getVm(id));
        await fx.hv.buildTwin(frozen, 'unjournaled twin');
        if (fx.hv.leftovers) expect((await fx.hv.leftovers(id)).length).toBeGreaterThan(0);
        await fx.hv.recover({ vmId: id });
        expect((await fx.hv.getVm(id)).state).toBe('running');
        expect(await fx.leftovers(id)).toEqual([]);
        if (fx.hv.leftovers) expect(await fx.hv.leftovers(id)).toEqual([]);
      },
      testTimeoutMs,
    );
  });
}
