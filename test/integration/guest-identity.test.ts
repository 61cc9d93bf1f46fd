/**
 * One guest identity (shared/domain/guest-id.ts), end to end. On vmrun-sim (real .vmx folders,
 * Workstation's uuid.bios behaviour modelled): two VMs with the same display name in different
 * folders are backed up, scheduled and pruned independently; a renamed or moved VM keeps its
 * history; a copied VM gets its own; a shared name is a usage error (exit 2) naming both. On a
 * scripted hypervisor: "back up all" lists the VMs once.
 */
import { cpSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Guest } from '../../shared/domain/guest.js';
import { nullLogger } from '../../electron/engine/core/logger.js';
import { createEngine, type Engine } from '../../electron/engine/engine.js';
import { run } from '../harness/guest/exec.js';
import { makeTestVm, type TestVm } from '../harness/guest/make-test-vm.js';
import { runCliInProcess } from '../helpers/cli-in-process.js';
import { ScriptedHypervisor } from './hypervisor-scripted.js';

const ROOT = resolve(import.meta.dirname, '../..');
const VMRUN = join(ROOT, 'test/harness/vmrun-sim/vmrun');
const WORK = join(ROOT, '.cache/scratch/guest-identity');
const SIM_STATE = join(WORK, 'sim-state');
const NAME = 'Win 10';

async function vmrun(args: string[], env: Record<string, string> = {}): Promise<string> {
  const r = await run(VMRUN, ['-T', 'ws', ...args], { timeoutMs: 180_000, allowFailure: true, env: { ...process.env, VMRUN_SIM_STATE: SIM_STATE, ...env } });
  return `${r.stdout}${r.stderr}`;
}

async function until<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 240_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** A cold power-on and off: the moment Workstation settles a moved or copied VM's uuid. */
async function powerCycle(vmx: string, env: Record<string, string> = {}): Promise<void> {
  expect(await vmrun(['start', vmx, 'nogui'], env)).not.toMatch(/Error/);
  await vmrun(['stop', vmx, 'hard']);
}

describe('same-named, renamed, moved and copied VMs on vmrun-sim', () => {
  let engine: Engine;
  let office: TestVm;
  let lab: TestVm;
  const dataDir = join(WORK, 'data');
  const vms = join(WORK, 'vms');
  const guests = async () => engine.service.call('guests.list', { refresh: true });
  const byFolder = (gs: Guest[], folder: string) => gs.find((g) => g.folder === folder);
  const snapshotsOf = async (guest: string) => (await engine.service.call('snapshots.list', { guest })).map((s) => s.id);

  beforeAll(async () => {
    rmSync(WORK, { recursive: true, force: true });
    mkdirSync(SIM_STATE, { recursive: true });
    process.env.VMRUN_SIM_STATE = SIM_STATE;
    office = await makeTestVm(join(vms, 'office'), { name: NAME, memMiB: 128, diskMiB: 8, workload: 'off' });
    lab = await makeTestVm(join(vms, 'lab'), { name: NAME, memMiB: 128, diskMiB: 8, workload: 'off' });
    engine = await createEngine({ dataDir, vmrunPath: VMRUN, logger: nullLogger });
    await engine.service.call('settings.set', { patch: { vmFolders: [vms], vmrunPath: VMRUN } });
  }, 300_000);
  afterAll(async () => {
    for (const line of (await vmrun(['list'])).split('\n').slice(1)) if (line.trim()) await vmrun(['stop', line.trim(), 'hard']);
    await engine?.close();
  });

  it('keeps two same-named guests apart: ambiguity is a usage error, backups, schedules and retention go by id; a rename or move keeps the history, a copy starts its own', async () => {
    const both = (await guests()).filter((g) => g.name === NAME);
    const officeId = byFolder(both, office.dir)!.id;
    const labId = byFolder(both, lab.dir)!.id;
    expect(officeId).toMatch(/^vmware:[0-9a-f]{32}$/);
    expect(labId).toMatch(/^vmware:[0-9a-f]{32}$/);
    expect(officeId).not.toBe(labId);

    // the shared name is ambiguous, in the engine and at the command line (exit 2, both listed)
    await expect(engine.service.call('jobs.backupNow', { guests: [NAME] })).rejects.toMatchObject({
      code: 'USAGE',
      details: { candidates: [expect.objectContaining({ id: expect.any(String) }), expect.anything()] },
    });
    const cli = await runCliInProcess(dataDir, ['backup', NAME]);
    expect(cli.code).toBe(2);
    for (const s of [officeId, labId, office.dir, lab.dir]) expect(cli.err).toContain(s);

    // one real twin backup of the office VM, by id
    await vmrun(['start', office.vmxPath, 'nogui']);
    await until('office tools', async () => ((await vmrun(['checkToolsState', office.vmxPath])).includes('running') ? true : undefined));
    const [jobId] = (await engine.service.call('jobs.backupNow', { guests: [officeId], consistency: 'allow-crash' })).jobIds;
    const job = await until('the backup', async () => {
      const j = await engine.service.call('jobs.get', { jobId: jobId! });
      return j.status === 'running' || j.status === 'queued' ? undefined : j;
    });
    expect(job).toMatchObject({ guest: NAME, guestId: officeId });
    expect(['succeeded', 'warning']).toContain(job.status);
    await vmrun(['stop', office.vmxPath, 'hard']);
    // the powered-off lab VM is backed up cold, three times, named by its id at the command line
    for (let i = 0; i < 3; i++) expect((await runCliInProcess(dataDir, ['import-disk', '--guest', labId, lab.diskPath])).code).toBe(0);
    const officePoints = await snapshotsOf(officeId);
    expect(officePoints).toEqual([job.snapshotId]);
    expect(await snapshotsOf(labId)).toHaveLength(3);
    const listed = await engine.service.call('snapshots.list', {});
    expect(listed.map((s) => s.guestId).sort()).toEqual([officeId, labId, labId, labId].sort());

    // schedules by id: one each, both named alike; a schedule by the shared name is refused
    await engine.service.call('schedules.set', { guest: officeId, schedule: { kind: 'times', times: ['02:00'] } });
    await engine.service.call('schedules.set', { guest: labId, schedule: { kind: 'times', times: ['03:00'] } });
    await expect(engine.service.call('schedules.set', { guest: NAME, schedule: { kind: 'off' } })).rejects.toMatchObject({ code: 'USAGE' });
    const schedules = await engine.service.call('schedules.list', {});
    expect(schedules.map((s) => [s.guestId, s.guest, s.schedule])).toEqual(
      expect.arrayContaining([
        [officeId, NAME, { kind: 'times', times: ['02:00'] }],
        [labId, NAME, { kind: 'times', times: ['03:00'] }],
      ]),
    );

    // retention of the lab VM never touches the office VM's snapshots
    const applied = await engine.service.call('retention.apply', { guest: labId, policy: { keepLast: 1 } });
    expect(applied).toMatchObject({ guestId: labId, forgetCount: 2 });
    expect(await snapshotsOf(labId)).toHaveLength(1);
    expect(await snapshotsOf(officeId)).toEqual(officePoints);

    // renamed: same guest, same history and schedule, reachable by its new name
    writeFileSync(lab.vmxPath, readFileSync(lab.vmxPath, 'utf8').replace(`displayName = "${NAME}"`, 'displayName = "Lab box"'));
    const renamed = (await guests()).find((g) => g.id === labId);
    expect(renamed).toMatchObject({ name: 'Lab box', folder: lab.dir });
    expect(await snapshotsOf('Lab box')).toEqual(await snapshotsOf(labId));
    expect((await engine.service.call('schedules.list', {})).find((s) => s.guestId === labId)?.schedule).toEqual({ kind: 'times', times: ['03:00'] });

    // moved ("I moved it"): same guest in its new folder
    const movedDir = join(vms, 'lab-moved');
    renameSync(lab.dir, movedDir);
    await powerCycle(join(movedDir, `${NAME}.vmx`), { VMRUN_SIM_UUID_ANSWER: 'moved' });
    expect((await guests()).find((g) => g.id === labId)).toMatchObject({ name: 'Lab box', folder: movedDir });
    expect(await snapshotsOf(labId)).toHaveLength(1);

    // copied: until its first power-on the copy shares the uuid, and the original keeps it
    const copyDir = join(vms, 'office-copy');
    cpSync(office.dir, copyDir, { recursive: true, filter: (p) => !p.endsWith('.lck') });
    let gs = await guests();
    expect(byFolder(gs, office.dir)?.id).toBe(officeId);
    const waiting = byFolder(gs, copyDir)!;
    expect(waiting.id).toMatch(/^vmware:path-[0-9a-f]{24}$/);
    expect(waiting.warnings.join(' ')).toMatch(/same uuid\.bios/);
    // "I copied it" at its first power-on: a new uuid, a new guest with no history of its own
    await powerCycle(join(copyDir, `${NAME}.vmx`));
    gs = await guests();
    const copy = byFolder(gs, copyDir)!;
    expect(copy.id).toMatch(/^vmware:[0-9a-f]{32}$/);
    expect([officeId, labId]).not.toContain(copy.id);
    expect(await snapshotsOf(copy.id)).toEqual([]);
    expect(await snapshotsOf(officeId)).toEqual(officePoints);
  }, 400_000);
});

describe('"back up all" on a scripted hypervisor', () => {
  it('resolves N guests with one listing of the VMs, not one per guest', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'twinsnap-ident-'));
    const hv = new ScriptedHypervisor({ memoryDir: dir });
    for (const n of ['db', 'web', 'mail', 'files', 'print']) hv.addVm({ id: `/vms/${n}/${n}.vmx`, name: n });
    // jobs wait in pre-flight until the engine closes: only the listing before they start counts
    hv.faults.set('getVm', { kind: 'hang', honourSignal: true });
    const engine = await createEngine({ dataDir: join(dir, 'data'), hypervisors: [hv], logger: nullLogger });
    try {
      const ids = (await engine.service.call('guests.list', {})).map((g) => g.id);
      const before = hv.calls.filter((c) => c.op === 'listVms').length;
      const { jobIds } = await engine.service.call('jobs.backupNow', { guests: ids });
      expect(jobIds).toHaveLength(5);
      expect(hv.calls.filter((c) => c.op === 'listVms').length - before).toBe(1);
    } finally {
      await engine.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
