import { describe, it, expect } from 'vitest';
import { ScriptedHypervisor, fakeVm } from './hypervisor-scripted.js';
import { hypervisorConformance } from '../conformance/hypervisor.suite.js';

hypervisorConformance('ScriptedHypervisor (test double)', async () => {
  const hv = new ScriptedHypervisor();
  let n = 0;
  return {
    hv,
    bootsGuest: false,
    async freshVm() {
      const vm = fakeVm({ id: `vm-${++n}` });
      hv.vms.set(vm.id, vm);
      return vm.id;
    },
    exists: async () => true,
    leftovers: async (id) => hv.leftoversOf(id),
    dispose: async () => {},
  };
});

hypervisorConformance('ScriptedHypervisor as Hyper-V (checkpoint leaves production running, full-copy twin)', async () => {
  const hv = new ScriptedHypervisor({ kind: 'hyperv', capabilities: { linkedTwin: false, runningAfterFreeze: true } });
  let n = 0;
  return {
    hv,
    bootsGuest: false,
    async freshVm() {
      const vm = fakeVm({ id: `00000000-0000-0000-0000-${String(++n).padStart(12, '0')}` });
      hv.vms.set(vm.id, vm);
      return vm.id;
    },
    exists: async () => true,
    leftovers: async (id) => hv.leftoversOf(id),
    dispose: async () => {},
  };
});

describe('ScriptedHypervisor rules', () => {
  it('refuses to release a snapshot while a twin still uses its disks', async () => {
    const hv = new ScriptedHypervisor({ vms: [fakeVm({ id: 'a' })] });
    const frozen = await hv.freeze(await hv.getVm('a'));
    await hv.resume(frozen);
    await hv.buildTwin(frozen, 't');
    await expect(hv.releaseFrozen(frozen)).rejects.toMatchObject({ code: 'HV_VM_BAD_STATE' });
  });

  it('refuses a twin whose frozen state was released, and a second freeze while one is held', async () => {
    const hv = new ScriptedHypervisor({ vms: [fakeVm({ id: 'a' })] });
    const frozen = await hv.freeze(await hv.getVm('a'));
    await hv.resume(frozen);
    await expect(hv.freeze(await hv.getVm('a'))).rejects.toMatchObject({ code: 'HV_VM_BAD_STATE' });
    await hv.releaseFrozen(frozen);
    await expect(hv.buildTwin(frozen, 't')).rejects.toMatchObject({ code: 'HV_COMMAND_FAILED' });
  });

  it('times out the graceful stop of a twin that ignores the power button', async () => {
    const hv = new ScriptedHypervisor({ vms: [fakeVm({ id: 'a', ignoresPowerButton: true })] });
    const frozen = await hv.freeze(await hv.getVm('a'));
    const twin = await hv.buildTwin(frozen, 't');
    await hv.startTwin(twin);
    await expect(hv.shutdownTwin(twin)).rejects.toMatchObject({ code: 'HV_SHUTDOWN_TIMEOUT' });
  });

  it('injects a failure once', async () => {
    const hv = new ScriptedHypervisor({ vms: [fakeVm({ id: 'a' })] });
    hv.failNext('freeze', 'HV_COMMAND_TIMEOUT');
    await expect(hv.freeze(await hv.getVm('a'))).rejects.toMatchObject({ code: 'HV_COMMAND_TIMEOUT' });
    await expect(hv.freeze(await hv.getVm('a'))).resolves.toMatchObject({ handle: expect.any(String) });
  });

  it('with runningAfterFreeze, production keeps running through the freeze', async () => {
    const hv = new ScriptedHypervisor({ kind: 'hyperv', capabilities: { linkedTwin: false, runningAfterFreeze: true }, vms: [fakeVm({ id: 'a' })] });
    await hv.freeze(await hv.getVm('a'));
    expect((await hv.getVm('a')).state).toBe('running');
  });
});
