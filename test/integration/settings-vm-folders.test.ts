import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { nullLogger } from '../../electron/engine/core/logger.js';
import { createEngine } from '../../electron/engine/engine.js';
import { makeTestVm } from '../harness/guest/make-test-vm.js';

// VM folders saved in Settings are searched at once: a guest added by folder must not vanish from
// the list when it is powered off until the engine restarts (found walking the journey).
const VMRUN = resolve(import.meta.dirname, '../harness/vmrun-sim/vmrun');
const dir = mkdtempSync(join(tmpdir(), 'twinsnap-vmfolders-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('settings: VM folders', () => {
  it('a folder saved in Settings is searched from the next listing on (the guest is off)', async () => {
    await makeTestVm(join(dir, 'vms', 'Ledger'), { name: 'Ledger', memMiB: 128, diskMiB: 8, workload: 'off' });
    process.env.VMRUN_SIM_STATE = join(dir, 'sim-state');
    const engine = await createEngine({ dataDir: join(dir, 'data'), logger: nullLogger, vmrunPath: VMRUN });
    try {
      expect((await engine.service.call('guests.list', { refresh: true })).map((g) => g.name)).not.toContain('Ledger');
      await engine.service.call('settings.set', { patch: { vmFolders: [join(dir, 'vms')] } });
      const guests = await engine.service.call('guests.list', { refresh: true });
      expect(guests.find((g) => g.name === 'Ledger')).toMatchObject({ hypervisor: 'vmware', state: 'off' });
    } finally {
      await engine.close();
    }
  });
});
