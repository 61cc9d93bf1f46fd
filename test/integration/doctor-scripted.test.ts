/**
 * `twinsnap doctor` (workflow/doctor.ts) on the scripted hypervisor: every experiment gets its
 * check, a host that breaks an assumption fails exactly that check, only the named VM is touched,
 * ambiguous names are refused before anything happens, and production runs on every path.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { systemClock } from '../../electron/engine/core/clock.js';
import { nullLogger } from '../../electron/engine/core/logger.js';
import { createEngine } from '../../electron/engine/engine.js';
import { doctorText } from '../../electron/cli/commands/doctor.js';
import { runDoctor, type DoctorOptions } from '../../electron/engine/workflow/doctor.js';
import { ScriptedHypervisor } from './hypervisor-scripted.js';

let dir: string;
let hv: ScriptedHypervisor;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'twinsnap-doctor-'));
  hv = new ScriptedHypervisor({ memoryDir: dir });
  hv.addVm({ id: '/vms/test/test.vmx', name: 'test' });
  hv.addVm({ id: '/vms/mail/mail.vmx', name: 'mail' });
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const doctor = (over: Partial<DoctorOptions> = {}) => runDoctor({ clock: systemClock, hypervisors: [hv], vm: 'test', stableWaitMs: 50, pollMs: 5, ...over });
const byName = (r: Awaited<ReturnType<typeof doctor>>) => Object.fromEntries(r.checks.map((c) => [c.name, c]));
const touched = () => [...new Set(hv.calls.filter((c) => c.arg !== undefined).map((c) => c.arg))];

describe('doctor on a host that behaves', () => {
  it('runs every experiment, each check holds, the report has the step times, and only the named vm (and its twin) is touched', async () => {
    const r = await doctor();
    expect(r.checks.map((c) => [c.name, c.ok])).toEqual([
      ['tool', true],
      ['vm-found', true],
      ['vm-ready', true],
      ['clean-before', true],
      ['freeze', true],
      ['twin-built', true],
      ['production-running', true],
      ['memory-image-stable', true],
      ['twin-isolated', true],
      ['twin-boots', true],
      ['graceful-shutdown', true],
      ['cleanup', true],
      ['production-running-after', true],
      ['nothing-left', true],
      ['only-this-vm', true],
    ]);
    expect(r).toMatchObject({ ok: true, hypervisor: 'vmware', vm: 'test', vmId: '/vms/test/test.vmx', tool: { version: 'Workstation 17 Pro' } });
    expect(Object.keys(r.durations).sort()).toEqual(['boot-twin', 'cleanup', 'copy-config', 'freeze', 'pause', 'resume', 'shutdown-twin']);
    expect(byName(r)['graceful-shutdown']!.detail).toContain('scripted soft stop');
    expect(touched().every((a) => a === '/vms/test/test.vmx' || a!.startsWith('test-twin-doctor') || a!.startsWith('snap-'))).toBe(true);
    expect(hv.clean()).toEqual({ ok: true, problems: [] });
  });

  it('skips the memory check with a note when the adapter names no memory files', async () => {
    hv = new ScriptedHypervisor();
    hv.addVm({ id: '/vms/test/test.vmx', name: 'test' });
    const c = byName(await doctor())['memory-image-stable']!;
    expect(c).toMatchObject({ ok: true, skipped: true, detail: expect.stringContaining('names no captured memory files') });
  });
});

describe('doctor on a host that breaks an assumption', () => {
  it('production writing the captured memory image after it resumed fails memory-image-stable', async () => {
    hv.productionWritesMemory = true;
    const r = await doctor();
    expect(r.ok).toBe(false);
    expect(r.checks.filter((c) => !c.ok).map((c) => c.name)).toEqual(['memory-image-stable']);
    expect(byName(r)['memory-image-stable']!.detail).toMatch(/snap-1\.vmem/);
    const text = doctorText(r);
    expect(text).toMatch(/^✗ memory-image-stable: changed/m);
    expect(text).toMatch(/^✓ twin-isolated: verified/m);
    expect(text.split('\n').at(-1)).toMatch(/^1 of 15 checks FAILED: memory-image-stable — do not trust TwinSnap/);
  });

  it('a twin whose isolation cannot be verified fails twin-isolated; nothing is left and production runs', async () => {
    hv.twinBehaviour.isolated = false;
    const r = await doctor();
    expect(r.checks.filter((c) => !c.ok).map((c) => c.name)).toEqual(['twin-isolated']);
    expect(hv.calls.some((c) => c.op === 'shutdownTwin')).toBe(false);
    expect(hv.clean()).toEqual({ ok: true, problems: [] });
  });

  it('a twin that ignores the power button fails graceful-shutdown (the twin is powered off and deleted)', async () => {
    hv.twinBehaviour.ignoresPowerButton = true;
    const r = await doctor();
    expect(r.checks.filter((c) => !c.ok).map((c) => c.name)).toEqual(['graceful-shutdown']);
    expect(hv.clean().ok).toBe(true);
  });

  it('a snapshot the hypervisor does not really release fails nothing-left', async () => {
    hv.releaseFrozen = async () => {}; // claims success, keeps the snapshot
    const r = await doctor();
    expect(r.checks.filter((c) => !c.ok).map((c) => c.name)).toEqual(['nothing-left']);
    expect(byName(r)['nothing-left']!.detail).toContain('frozen snap-1');
  });

  it('another vm changing state during the run fails only-this-vm', async () => {
    hv.onCall = (op) => {
      if (op === 'startTwin') hv.vms.get('/vms/mail/mail.vmx')!.state = 'suspended';
    };
    const r = await doctor();
    expect(r.checks.filter((c) => !c.ok).map((c) => c.name)).toEqual(['only-this-vm']);
  });

  it('a failed freeze fails its check and production runs', async () => {
    hv.failNext('freeze');
    const r = await doctor();
    expect(byName(r).freeze).toMatchObject({ ok: false, detail: expect.stringContaining('injected failure in freeze') });
    expect(hv.vms.get('/vms/test/test.vmx')!.state).toBe('running');
    expect(byName(r)['production-running-after']!.ok).toBe(true);
  });
});

describe('doctor refuses before touching anything', () => {
  it('an ambiguous name', async () => {
    hv.addVm({ id: '/other/test/test.vmx', name: 'test' });
    const r = await doctor();
    expect(r.ok).toBe(false);
    expect(r.checks).toEqual([{ name: 'vm-found', ok: false, detail: expect.stringMatching(/2 vms are named 'test'.*name it by its id/) }]);
    expect(hv.calls.map((c) => c.op)).toEqual(['detect', 'listVms']);
  });

  it('an unknown name, a vm that is not running, and leftovers of an earlier run', async () => {
    expect((await doctor({ vm: 'nope' })).checks).toEqual([{ name: 'vm-found', ok: false, detail: expect.stringContaining("no vm named 'nope'") }]);
    hv.vms.get('/vms/test/test.vmx')!.state = 'off';
    expect((await doctor()).checks.at(-1)).toMatchObject({ name: 'vm-ready', ok: false });
    hv.vms.get('/vms/test/test.vmx')!.state = 'running';
    hv.frozenHandles.set('snap-old', '/vms/test/test.vmx');
    expect((await doctor()).checks.at(-1)).toMatchObject({ name: 'clean-before', ok: false, detail: expect.stringContaining('frozen snap-old') });
    expect(hv.calls.some((c) => c.op === 'freeze')).toBe(false);
  });

  it('an id picks the one vm even when names repeat', async () => {
    hv.addVm({ id: '/other/test/test.vmx', name: 'test' });
    const r = await doctor({ vm: '/other/test/test.vmx' });
    expect(r).toMatchObject({ ok: true, vmId: '/other/test/test.vmx' });
  });
});

describe('doctor through the engine service (doctor.run / doctor.last)', () => {
  it('stores the last report per hypervisor, and refuses a vm that is being backed up', async () => {
    const engine = await createEngine({ dataDir: join(dir, 'data'), hypervisors: [hv], logger: nullLogger });
    try {
      expect(await engine.service.call('doctor.last', {})).toEqual({});
      const r = await engine.service.call('doctor.run', { vm: 'test' });
      expect(r.ok).toBe(true);
      expect(await engine.service.call('doctor.last', {})).toEqual({ vmware: r });
      // an unknown vm says nothing about the host: the last real report stays
      expect((await engine.service.call('doctor.run', { vm: 'nope' })).ok).toBe(false);
      expect((await engine.service.call('doctor.last', {})).vmware).toEqual(r);
      // a backup of the vm in progress: doctor waits its turn
      hv.faults.set('getVm', { kind: 'hang', honourSignal: true });
      await engine.service.call('jobs.backupNow', { guests: ['test'] });
      await expect(engine.service.call('doctor.run', { vm: 'test' })).rejects.toMatchObject({ code: 'JOB_ALREADY_RUNNING' });
      hv.faults.delete('getVm');
    } finally {
      await engine.close();
    }
  });
});
