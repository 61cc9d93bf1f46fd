import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { JobInfo, JobProgress } from '../../shared/domain/job.js';
import { systemClock } from '../../electron/engine/core/clock.js';
import { nullLogger } from '../../electron/engine/core/logger.js';
import { JobManager } from '../../electron/engine/workflow/job-manager.js';
import { memoryJobRecords } from '../../electron/engine/workflow/job-records.js';
import { MemorySnapshotSink } from '../../electron/engine/workflow/memory-snapshot-sink.js';
import { ScriptedHypervisor } from './hypervisor-scripted.js';
import type { SnapshotInput } from '../../electron/engine/workflow/snapshot-sink.js';
import { backupTargets } from '../helpers/backup-targets.js';
import { testJobManager } from '../helpers/test-job-manager.js';

let dir: string;
let hv: ScriptedHypervisor;
let sink: MemorySnapshotSink;
let progress: { at: number; p: JobProgress }[];
let finished: JobInfo[];
let manager: JobManager;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'twinsnap-jm-'));
  hv = new ScriptedHypervisor();
  hv.addVm({ id: '/vms/db/db.vmx', name: 'db' });
  hv.addVm({ id: '/vms/web/web.vmx', name: 'web' });
  sink = new MemorySnapshotSink();
  progress = [];
  finished = [];
  manager = testJobManager(dir, {
    sink,
    hypervisors: [hv],
    events: { progress: (p) => progress.push({ at: performance.now(), p }), finished: (j) => finished.push(j) },
  });
});
afterEach(async () => {
  await manager.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('JobManager', () => {
  it('runs a backup, records its steps and log, and publishes jobs.finished', async () => {
    const { jobIds } = await manager.backupNow({ targets: await backupTargets([hv], ['db']) });
    expect(manager.runningCount()).toBe(1);
    const outcome = await manager.wait(jobIds[0]!);
    expect(outcome.status).toBe('succeeded');
    const job = manager.get(jobIds[0]!);
    expect(job).toMatchObject({ status: 'succeeded', guest: 'db', snapshotId: outcome.snapshotId });
    expect(job.pauseMs).toBeTypeOf('number');
    expect(job.steps.map((s) => `${s.id}:${s.status}`)).toEqual([
      'preflight:done',
      'freeze:done',
      'copy-config:done',
      'resume:done',
      'boot-twin:done',
      'shutdown-twin:done',
      'archive:done',
      'verify:skipped',
      'cleanup:done',
    ]);
    expect(manager.log(jobIds[0]!).map((l) => l.message)).toContainEqual(expect.stringMatching(/^production paused/));
    expect(finished.map((j) => j.id)).toEqual(jobIds);
    expect(manager.list().map((j) => j.id)).toEqual(jobIds);
    expect(manager.runningCount()).toBe(0);
  });

  it('records the guest id of its target with the job (the name is only a label)', async () => {
    const [target] = await backupTargets([hv], ['web']);
    const { jobIds } = await manager.backupNow({ targets: [target!] });
    expect(manager.get(jobIds[0]!)).toMatchObject({ guest: 'web', guestId: target!.guestId });
    expect(manager.list({ guestId: target!.guestId }).map((j) => j.id)).toEqual(jobIds);
  });

  it('refuses a second backup of a guest that is being backed up', async () => {
    hv.faults.set('startTwin', { kind: 'hang', honourSignal: true });
    const { jobIds } = await manager.backupNow({ targets: await backupTargets([hv], ['db']) });
    await expect(manager.backupNow({ targets: await backupTargets([hv], ['db']) })).rejects.toMatchObject({ code: 'JOB_ALREADY_RUNNING' });
    manager.cancel(jobIds[0]!);
    await manager.wait(jobIds[0]!);
  });

  it('cancels a running job: status cancelled, production running, nothing left', async () => {
    const reached = new Promise<void>((r) => (hv.onCall = (op) => op === 'startTwin' && r()));
    hv.faults.set('startTwin', { kind: 'hang', honourSignal: true });
    const { jobIds } = await manager.backupNow({ targets: await backupTargets([hv], ['db']) });
    await reached;
    expect(manager.cancel(jobIds[0]!)).toEqual({ cancelled: true });
    const o = await manager.wait(jobIds[0]!);
    expect(o.status).toBe('cancelled');
    expect(manager.get(jobIds[0]!).status).toBe('cancelled');
    expect(hv.clean().ok).toBe(true);
    expect(manager.cancel(jobIds[0]!)).toEqual({ cancelled: false });
    expect(() => manager.cancel('missing')).toThrow(/not found/);
  });

  it('throttles progress to at most 4 events per second per job', async () => {
    const orig = sink.createSnapshot.bind(sink);
    sink.createSnapshot = async (input: SnapshotInput, opts) => {
      for (let i = 0; i <= 100; i++) {
        opts.onProgress?.(i * 1000, 100_000);
        await new Promise((r) => setTimeout(r, 10));
      }
      return orig(input, opts);
    };
    const { jobIds } = await manager.backupNow({ targets: await backupTargets([hv], ['db']) });
    await manager.wait(jobIds[0]!);
    const ts = progress.map((x) => x.at);
    expect(ts.length).toBeGreaterThan(3);
    // Any 1-second window holds at most 4 events, plus the final flush.
    let worst = 0;
    for (let i = 0; i < ts.length; i++) worst = Math.max(worst, ts.filter((t) => t >= ts[i]! && t < ts[i]! + 990).length);
    expect(worst).toBeLessThanOrEqual(5);
    const last = progress.filter((x) => x.p.bytesDone !== undefined).at(-1)!.p;
    expect(last.bytesTotal).toBe(100_000);
  });

  it('runs two guests at once with one twin at a time on the host', async () => {
    const { jobIds } = await manager.backupNow({ targets: await backupTargets([hv], ['db', 'web']) });
    const out = await Promise.all(jobIds.map((id) => manager.wait(id)));
    expect(out.map((o) => o.status)).toEqual(['succeeded', 'succeeded']);
    expect(hv.maxTwins).toBe(1);
  });

  it('start-up recovery leaves jobs running in this engine alone', async () => {
    hv.faults.set('startTwin', { kind: 'hang', honourSignal: true });
    const reached = new Promise<void>((r) => (hv.onCall = (op) => op === 'startTwin' && r()));
    const { jobIds } = await manager.backupNow({ targets: await backupTargets([hv], ['db']) });
    await reached;
    expect(await manager.recover()).toEqual([]);
    manager.cancel(jobIds[0]!);
    await manager.wait(jobIds[0]!);
  });

  it('a job whose journal cannot be created fails at once and touches nothing', async () => {
    const records = memoryJobRecords();
    const blocked = join(dir, 'not-a-folder');
    writeFileSync(blocked, 'x');
    const m = new JobManager({ clock: systemClock, logger: nullLogger, dataDir: blocked, sink, hypervisors: [hv], records, probe: { freeMemoryBytes: () => 1e12, freeDiskBytes: () => 1e12 } });
    await expect(m.backupNow({ targets: await backupTargets([hv], ['db']) })).rejects.toThrow(/ENOTDIR|not a directory/);
    expect(records.jobs.list()).toMatchObject([{ status: 'failed', error: { message: expect.stringMatching(/^unable to start the job/) } }]);
    expect(hv.calls.filter((c) => c.op === 'freeze')).toEqual([]);
    expect(m.runningCount()).toBe(0);
  });
});
