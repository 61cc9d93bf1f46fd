import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { JobInfo } from '../../shared/domain/job.js';
import { nullLogger } from '../../electron/engine/core/logger.js';
import { createEngine, type Engine } from '../../electron/engine/engine.js';
import { ScriptedHypervisor } from './hypervisor-scripted.js';

let dir: string;
let engine: Engine;
let hv: ScriptedHypervisor;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'twinsnap-jh-'));
  const disk = join(dir, 'off-vm.img');
  const data = Buffer.alloc(1024 * 1024);
  data.write('hello twinsnap', 4096);
  writeFileSync(disk, data);
  hv = new ScriptedHypervisor();
  hv.addVm({ id: '/vms/off/off.vmx', name: 'Off VM', state: 'off', disks: [{ slot: 'scsi0:0', path: disk }] });
  engine = await createEngine({ dataDir: join(dir, 'data'), hypervisors: [hv], logger: nullLogger });
});
afterEach(async () => {
  await engine.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('jobs.* handlers', () => {
  it('back up a powered-off guest into the repository, list it, show its log, and publish jobs.finished', async () => {
    const finished: JobInfo[] = [];
    engine.onEvent((e, p) => e === 'jobs.finished' && finished.push(p as JobInfo));
    const { jobIds } = await engine.service.call('jobs.backupNow', { guests: ['Off VM'] });
    // the contract's jobs.wait: the report `twinsnap backup` prints, the same as the manager's outcome
    const report = await engine.service.call('jobs.wait', { jobId: jobIds[0]! });
    const outcome = await engine.context.jobs.manager.wait(jobIds[0]!);
    expect(outcome).toMatchObject({ status: 'succeeded', consistency: 'cold', logicalBytes: 1024 * 1024 });
    expect(report).toMatchObject({ jobId: jobIds[0], guest: 'Off VM', status: 'succeeded', consistency: 'cold', snapshotId: outcome.snapshotId, bytes: { logical: 1024 * 1024 }, warnings: [] });
    expect(Object.keys(report.steps)).toContain('archive');
    const job = await engine.service.call('jobs.get', { jobId: jobIds[0]! });
    expect(job).toMatchObject({ status: 'succeeded', guest: 'Off VM', snapshotId: outcome.snapshotId });
    expect((await engine.service.call('jobs.list', {})).map((j) => j.id)).toEqual(jobIds);
    expect((await engine.service.call('jobs.log', { jobId: jobIds[0]! })).map((l) => l.message)).toContainEqual(expect.stringMatching(/^snapshot .* logical bytes/));
    const snaps = await engine.service.call('snapshots.list', {});
    expect(snaps).toMatchObject([{ id: outcome.snapshotId, guest: 'Off VM', consistency: 'cold' }]);
    await new Promise((r) => setTimeout(r, 50));
    expect(finished.map((j) => j.id)).toEqual(jobIds);
    expect((await engine.service.call('engine.status', {})).runningJobs).toBe(0);
  });

  it('engine.status counts running jobs; jobs.cancel stops them', async () => {
    hv.vms.get('/vms/off/off.vmx')!.state = 'running';
    hv.faults.set('startTwin', { kind: 'hang', honourSignal: true });
    const reached = new Promise<void>((r) => (hv.onCall = (op) => op === 'startTwin' && r()));
    const { jobIds } = await engine.service.call('jobs.backupNow', { guests: ['Off VM'] });
    await reached;
    expect((await engine.service.call('engine.status', {})).runningJobs).toBe(1);
    expect(await engine.service.call('jobs.cancel', { jobId: jobIds[0]! })).toEqual({ cancelled: true });
    expect(await engine.service.call('jobs.wait', { jobId: jobIds[0]! })).toMatchObject({ status: 'cancelled', error: { code: 'CANCELLED' } });
    expect((await engine.service.call('jobs.get', { jobId: jobIds[0]! })).status).toBe('cancelled');
    expect(hv.clean().ok).toBe(true);
  });

  it('unknown jobs and guests are typed errors', async () => {
    await expect(engine.service.call('jobs.get', { jobId: 'nope' })).rejects.toMatchObject({ code: 'JOB_NOT_FOUND' });
    await expect(engine.service.call('jobs.wait', { jobId: 'nope' })).rejects.toMatchObject({ code: 'JOB_NOT_FOUND' });
    await expect(engine.service.call('jobs.backupNow', { guests: ['ghost'] })).rejects.toMatchObject({ code: 'HV_VM_NOT_FOUND' });
  });

  it('the scheduler launcher resolves with the job result, failures included', async () => {
    const jobs = engine.context.jobs;
    expect(await jobs.launch('Off VM', {})).toMatchObject({ status: 'succeeded', snapshotId: expect.any(String), bytes: 1024 * 1024 });
    expect(await jobs.launch('ghost', {})).toMatchObject({ status: 'failed', error: { code: 'HV_VM_NOT_FOUND' } });
  });
});
