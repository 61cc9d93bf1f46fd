import { describe, it, expect } from 'vitest';
import { FakeHypervisor, fakeVm } from '../../electron/engine/hypervisor/fake/fake-hypervisor.js';
import { hypervisorConformance } from '../conformance/hypervisor.suite.js';

hypervisorConformance('FakeHypervisor', async () => {
  const hv = new FakeHypervisor();
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
    leftovers: async (id) => [...(hv.snapshots.has(id) ? [hv.snapshots.get(id)!] : []), ...[...hv.twins.values()].filter((t) => t.adapterData?.production === id).map((t) => t.id)],
    dispose: async () => {},
  };
});

describe('FakeHypervisor rules', () => {
  it('refuses to release a snapshot while a twin still uses its disks', async () => {
    const hv = new FakeHypervisor({ vms: [fakeVm({ id: 'a' })] });
    const frozen = await hv.freeze(await hv.getVm('a'));
    await hv.resume(frozen);
    await hv.buildTwin(frozen, 't');
    await expect(hv.releaseFrozen(frozen)).rejects.toMatchObject({ code: 'HV_VM_BAD_STATE' });
  });

  it('times out the graceful stop of a twin that ignores the power button', async () => {
    const hv = new FakeHypervisor({ vms: [fakeVm({ id: 'a', ignoresPowerButton: true })] });
    const frozen = await hv.freeze(await hv.getVm('a'));
    const twin = await hv.buildTwin(frozen, 't');
    await hv.startTwin(twin);
    await expect(hv.shutdownTwin(twin)).rejects.toMatchObject({ code: 'HV_SHUTDOWN_TIMEOUT' });
  });

  it('injects a failure once', async () => {
    const hv = new FakeHypervisor({ vms: [fakeVm({ id: 'a' })] });
    hv.failNext('freeze', 'HV_COMMAND_TIMEOUT');
    await expect(hv.freeze(await hv.getVm('a'))).rejects.toMatchObject({ code: 'HV_COMMAND_TIMEOUT' });
    await expect(hv.freeze(await hv.getVm('a'))).resolves.toMatchObject({ handle: expect.any(String) });
  });
});
