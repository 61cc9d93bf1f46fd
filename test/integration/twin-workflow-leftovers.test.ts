/**
 * What a backup's failed clean-up leaves (a snapshot not released, a twin not deleted) is cleaned
 * up before the next backup of the same VM freezes it, and recovery never touches a VM that a live
 * job — in this engine or in another process — is working on (the adapters' recovery releases
 * every TwinSnap snapshot of the VM and starts production).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { systemClock } from '../../electron/engine/core/clock.js';
import { nullLogger } from '../../electron/engine/core/logger.js';
import { JobJournal, unfinishedJournals } from '../../electron/engine/workflow/job-journal.js';
import type { JobManager } from '../../electron/engine/workflow/job-manager.js';
import { recoverJobs } from '../../electron/engine/workflow/job-recovery.js';
import { MemorySnapshotSink } from '../../electron/engine/workflow/memory-snapshot-sink.js';
import { backupTargets } from '../helpers/backup-targets.js';
import { testJobManager } from '../helpers/test-job-manager.js';
import { ScriptedHypervisor } from './hypervisor-scripted.js';

const VM = '/vms/db/db.vmx';
let dir: string;
let hv: ScriptedHypervisor;
let sink: MemorySnapshotSink;
let manager: JobManager;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'twinsnap-left-'));
  hv = new ScriptedHypervisor();
  hv.addVm({ id: VM, name: 'db' });
  sink = new MemorySnapshotSink();
  manager = testJobManager(dir, { sink, hypervisors: [hv] });
});
afterEach(async () => {
  await manager.close();
  rmSync(dir, { recursive: true, force: true });
});

const opsSince = (n: number) => hv.calls.slice(n).map((c) => c.op);

describe('leftovers of an earlier job', () => {
  it('a snapshot the clean-up could not release is released before the next backup freezes the vm', async () => {
    hv.faults.set('releaseFrozen', { kind: 'fail', error: new Error('the snapshot is locked'), times: 1 });
    const first = await manager.wait((await manager.backupNow({ targets: await backupTargets([hv], ['db']) })).jobIds[0]!);
    expect(first.status).toBe('warning');
    expect(hv.leftoversOf(VM)).not.toEqual([]);
    expect(unfinishedJournals(dir)).toHaveLength(1);

    const mark = hv.calls.length;
    const { jobIds } = await manager.backupNow({ targets: await backupTargets([hv], ['db']) });
    const second = await manager.wait(jobIds[0]!);
    expect(second.status).toBe('succeeded');
    const ops = opsSince(mark);
    // recovery of the earlier job ran, and ran before this job's freeze
    expect(ops.indexOf('recover')).toBeGreaterThanOrEqual(0);
    expect(ops.indexOf('recover')).toBeLessThan(ops.indexOf('freeze'));
    expect(manager.log(jobIds[0]!).map((l) => l.message)).toContainEqual(expect.stringMatching(/^left over by job .* cleaned up first/));
    expect(hv.clean()).toEqual({ ok: true, problems: [] });
    expect(unfinishedJournals(dir)).toEqual([]);
  });

  it('a clean-up that fails again is logged, the backup goes on, and production keeps running', async () => {
    hv.faults.set('releaseFrozen', { kind: 'fail', error: new Error('the snapshot is locked'), times: 1 });
    await manager.wait((await manager.backupNow({ targets: await backupTargets([hv], ['db']) })).jobIds[0]!);
    hv.faults.set('recover', { kind: 'fail', error: new Error('still locked'), times: 1 });
    const { jobIds } = await manager.backupNow({ targets: await backupTargets([hv], ['db']) });
    const second = await manager.wait(jobIds[0]!);
    // (this scripted adapter refuses to stack a second backup snapshot; a real one may allow it)
    expect(second.error?.message ?? '').toMatch(/a backup snapshot already exists/);
    expect(hv.vms.get(VM)!.state).toBe('running');
    expect(manager.log(jobIds[0]!).map((l) => l.message)).toContainEqual(expect.stringMatching(/could not be cleaned up \(.*still locked.*\); the backup goes on/));
    // the earlier job's journal stays open: start-up recovery retries it
    expect(unfinishedJournals(dir).length).toBeGreaterThanOrEqual(1);
  });
});

describe('recovery and live jobs', () => {
  function journal(jobId: string, pid: number, ended: boolean): void {
    const j = JobJournal.open(dir, jobId, systemClock);
    j.append({ kind: 'begin', jobId, guest: 'db', hypervisor: 'vmware', vmId: VM, policy: 'require-clean', verify: false, pid });
    j.append({ kind: 'fact', step: 'freeze', fact: 'frozen', data: { frozen: { vm: { id: VM, name: 'db' }, handle: `h-${jobId}`, frozenDisks: [], configFiles: [] } } });
    if (ended) j.append({ kind: 'end', status: 'warning', leftovers: true });
    j.close();
  }

  it('leaves a vm alone while a job of another live process works on it, and recovers it once that process is gone', async () => {
    // A real other process that is alive while the test looks.
    const other = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
    try {
      journal('job-old', 2 ** 22 + 17, true); // ended with leftovers, its process long gone
      journal('job-live', other.pid!, false); // running now in the other process
      const deps = { dataDir: dir, clock: systemClock, logger: nullLogger, hypervisors: [hv], sink };
      const res = await recoverJobs(deps);
      expect(res).toEqual([]);
      expect(hv.calls.filter((c) => c.op === 'recover')).toEqual([]);
      other.kill('SIGKILL');
      await new Promise((r) => other.once('exit', r));
      const after = await recoverJobs(deps);
      expect(after.map((r) => r.jobId).sort()).toEqual(['job-live', 'job-old']);
      expect(after.every((r) => r.recovered)).toBe(true);
    } finally {
      other.kill('SIGKILL');
    }
  });

  it('leaves a vm alone while a job of this engine works on it', async () => {
    journal('job-old', 2 ** 22 + 17, true);
    const res = await recoverJobs({ dataDir: dir, clock: systemClock, logger: nullLogger, hypervisors: [hv], sink, busyVms: () => [`vmware:${VM}`] });
    expect(res).toEqual([]);
    expect(hv.calls.filter((c) => c.op === 'recover')).toEqual([]);
  });
});
