/**
 * Step time limits and the progress watchdog (issue 11), and a twin whose isolation the adapter
 * cannot verify: the workflow on the scripted hypervisor and a fake clock, so "150 s" takes
 * milliseconds.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { systemClock } from '../../electron/engine/core/clock.js';
import { nullLogger } from '../../electron/engine/core/logger.js';
import { initRepository } from '../../electron/engine/repository/repository.js';
import { RepositorySnapshotSink } from '../../electron/engine/workflow/repository-snapshot-sink.js';
const NOT_ISOLATED = 'twin isolation could not be verified';
import { BackupRun, type BackupOutcome, type BackupRequest, type WorkflowDeps } from '../../electron/engine/workflow/backup-run.js';
import { HostSemaphore } from '../../electron/engine/workflow/host-semaphore.js';
import { MemorySnapshotSink } from '../../electron/engine/workflow/memory-snapshot-sink.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { ScriptedHypervisor } from './hypervisor-scripted.js';

const GiB = 1024 ** 3;
let dir: string;
let clock: FakeClock;
let hv: ScriptedHypervisor;
let sink: MemorySnapshotSink;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'twinsnap-limits-'));
  clock = new FakeClock();
  hv = new ScriptedHypervisor({ clock });
  hv.addVm({ id: '/vms/db/db.vmx', name: 'db' });
  sink = new MemorySnapshotSink();
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function deps(over: Partial<WorkflowDeps> = {}): WorkflowDeps {
  return {
    clock,
    logger: nullLogger,
    dataDir: dir,
    sink,
    twinSlots: new HostSemaphore(1),
    probe: { freeMemoryBytes: () => 8 * GiB, freeDiskBytes: () => 100 * GiB },
    pollMs: 500,
    twinToolsWaitMs: 5_000,
    ...over,
  };
}

/** Runs one backup, advancing the fake clock a second at a time until it ends (at most `maxS`). */
async function run(req: Partial<BackupRequest> = {}, d: Partial<WorkflowDeps> = {}, maxS = 3_600): Promise<BackupOutcome> {
  const request: BackupRequest = { jobId: 'job-1', guest: 'db', hypervisor: hv, vmId: '/vms/db/db.vmx', policy: 'require-clean', verify: false, ...req };
  let outcome: BackupOutcome | undefined;
  const p = new BackupRun(deps(d), request, { step: () => {}, log: () => {}, progress: () => {} }, new AbortController().signal).run().then((o) => (outcome = o));
  for (let s = 0; s < maxS && !outcome; s++) await clock.advance(1_000);
  await p;
  return outcome!;
}

describe('step limits follow the adapter and the progress of the call', () => {
  it('a copy-config of 150 s that keeps reporting progress completes (default limit 120 s)', async () => {
    hv.work.set('buildTwin', { ms: 150_000, progressEveryMs: 10_000 });
    const o = await run();
    expect(o.status).toBe('succeeded');
    expect(o.consistency).toBe('clean-twin');
    expect(o.metrics.steps['copy-config']).toBeGreaterThanOrEqual(150_000);
    expect(hv.clean().ok).toBe(true);
  });

  it('a copy-config that stops reporting progress is killed once it stalls for the idle limit, and production runs', async () => {
    hv.work.set('buildTwin', { ms: 600_000, progressEveryMs: 10_000, progressUntilMs: 100_000 });
    const o = await run();
    expect(o.status).toBe('failed');
    expect(o.error).toMatchObject({ code: 'TIMEOUT', message: expect.stringContaining('made no progress for 120 s') });
    // killed 120 s after the last report (at 100 s), not at 600 s
    expect(o.metrics.steps['copy-config']).toBeGreaterThanOrEqual(220_000);
    expect(o.metrics.steps['copy-config']).toBeLessThan(240_000);
    expect(hv.vms.get('/vms/db/db.vmx')!.state).toBe('running');
  });

  it('a copy-config that never reports progress is killed at the limit', async () => {
    hv.work.set('buildTwin', { ms: 150_000 });
    const o = await run();
    expect(o.error).toMatchObject({ code: 'TIMEOUT', message: "step 'copy-config' timed out after 120 s" });
    expect(hv.vms.get('/vms/db/db.vmx')!.state).toBe('running');
  });

  it('progress never extends a step past its ceiling (10 × the limit)', async () => {
    hv.work.set('buildTwin', { ms: 2 * 3_600_000, progressEveryMs: 10_000 });
    const o = await run({}, {}, 4 * 3_600);
    expect(o.error).toMatchObject({ code: 'TIMEOUT', message: "step 'copy-config' timed out after 1200 s" });
  });

  it("the adapter's step limit for this VM replaces a smaller default; a limit the user configured wins", async () => {
    hv.work.set('buildTwin', { ms: 300_000 });
    hv.limits = { 'copy-config': 400_000 };
    expect((await run()).status).toBe('succeeded');
    const o = await run({ jobId: 'job-2' }, { timeouts: { 'copy-config': 120_000 } });
    expect(o.error).toMatchObject({ code: 'TIMEOUT', message: "step 'copy-config' timed out after 120 s" });
  });

  it('an adapter asking for less than the default gets the default', async () => {
    hv.work.set('buildTwin', { ms: 100_000 });
    hv.limits = { 'copy-config': 10_000 };
    expect((await run()).status).toBe('succeeded');
  });
});

describe('a twin whose isolation the adapter cannot verify', () => {
  it('allow-crash: the frozen disks are archived as crash with the reason; nothing is left', async () => {
    hv.twinBehaviour.isolated = false;
    const o = await run({ policy: 'allow-crash' });
    expect(o.status).toBe('warning');
    expect(o.consistency).toBe('crash');
    expect(o.warnings.join('\n')).toContain(NOT_ISOLATED);
    const snap = sink.snapshots[0]!;
    expect(snap.disks[0]!.path).toBe('/vms/db/disk-snap-1.vmdk');
    expect(snap.twin).toMatchObject({ isolation: { verified: false }, crashReason: expect.stringContaining(NOT_ISOLATED) });
    expect(hv.calls.filter((c) => c.op === 'shutdownTwin')).toEqual([]);
    expect(hv.clean()).toEqual({ ok: true, problems: [] });
  });

  it('require-clean: the job fails with that reason, nothing is archived, nothing is left', async () => {
    hv.twinBehaviour.isolated = false;
    const o = await run();
    expect(o.status).toBe('failed');
    expect(o.error).toMatchObject({ code: 'HV_TWIN_NOT_ISOLATED', message: expect.stringContaining(NOT_ISOLATED) });
    expect(sink.snapshots).toEqual([]);
    expect(hv.clean()).toEqual({ ok: true, problems: [] });
  });

  it('a verification boot whose isolation cannot be verified fails the verification, powered off at once', async () => {
    let starts = 0;
    hv.onCall = (op) => {
      if (op === 'startTwin' && ++starts === 2) hv.twinBehaviour.isolated = false;
    };
    const o = await run({ verify: true });
    expect(o.consistency).toBe('clean-twin');
    expect(o.verify).toMatchObject({ ok: false, detail: expect.stringContaining('twin isolation could not be verified') });
    expect(hv.clean()).toEqual({ ok: true, problems: [] });
  });

  it('an adapter that reports the isolation unverified (instead of rejecting) gets its twin powered off and the policy applied', async () => {
    hv.twinBehaviour.reportsUnverified = true;
    hv.onCall = (op) => {
      if (op === 'powerOffTwin') expect([...hv.twins.values()].some((t) => t.running)).toBe(true);
    };
    const o = await run({ policy: 'allow-crash' });
    expect(o).toMatchObject({ status: 'warning', consistency: 'crash' });
    const ops = hv.calls.map((c) => c.op);
    expect(ops.slice(ops.indexOf('startTwin'), ops.indexOf('startTwin') + 2)).toEqual(['startTwin', 'powerOffTwin']);
    expect(sink.snapshots[0]!.twin).toMatchObject({ isolation: { verified: false, detail: 'link state unknown' }, crashReason: expect.stringContaining(NOT_ISOLATED) });
    expect(hv.clean()).toEqual({ ok: true, problems: [] });
  });

  it('a clean twin records its isolation, shutdown method and host bytes in the manifest', async () => {
    hv.hostBytesWritten = 12_345;
    const o = await run();
    expect(o.consistency).toBe('clean-twin');
    expect(sink.snapshots[0]!.twin).toEqual({
      isolation: { verified: true, method: 'scripted: no network', detail: 'the double has no network' },
      shutdownMethod: 'scripted soft stop',
      hostBytesWritten: 12_345,
    });
    expect(o.twin).toEqual(sink.snapshots[0]!.twin);
  });

  it('the repository manifest (and its summary) carries the twin record', async () => {
    const twins = join(dir, 'twins');
    hv = new ScriptedHypervisor({ twinsRoot: twins });
    hv.addVm({ id: '/vms/db/db.vmx', name: 'db' });
    hv.hostBytesWritten = 4096;
    mkdirSync(join(twins, 'db-twin-job-1'), { recursive: true });
    // the twin's disk as the double names it: a real VMDK, so the sink can read it
    expect(spawnSync('qemu-img', ['create', '-q', '-f', 'vmdk', join(twins, 'db-twin-job-1', 'scsi0-0.vmdk'), '1M']).status).toBe(0);
    const repo = await initRepository(join(dir, 'repo'));
    const real = new RepositorySnapshotSink(
      async () => repo,
      () => Date.now(),
    );
    try {
      const o = await new BackupRun(
        deps({ clock: systemClock, sink: real, pollMs: 5 }),
        { jobId: 'job-1', guest: 'db', hypervisor: hv, vmId: '/vms/db/db.vmx', policy: 'require-clean', verify: false },
        { step: () => {}, log: () => {}, progress: () => {} },
        new AbortController().signal,
      ).run();
      expect(o).toMatchObject({ status: 'succeeded', consistency: 'clean-twin' });
      const m = await repo.readManifest(o.snapshotId!);
      expect(m.twin).toEqual({ isolation: { verified: true, method: 'scripted: no network', detail: 'the double has no network' }, shutdownMethod: 'scripted soft stop', hostBytesWritten: 4096 });
      expect((await repo.listSnapshots()).find((x) => x.id === o.snapshotId)?.twin).toEqual(m.twin);
    } finally {
      await repo.close();
    }
  });
});
