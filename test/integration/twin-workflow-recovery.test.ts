import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { systemClock } from '../../electron/engine/core/clock.js';
import { nullLogger } from '../../electron/engine/core/logger.js';
import { BackupRun } from '../../electron/engine/workflow/backup-run.js';
import { HostSemaphore } from '../../electron/engine/workflow/host-semaphore.js';
import { journalFile, readJournal, unfinishedJournals } from '../../electron/engine/workflow/job-journal.js';
import { memoryJobRecords } from '../../electron/engine/workflow/job-records.js';
import { journalState, recoverJobs } from '../../electron/engine/workflow/job-recovery.js';
import { MemorySnapshotSink } from '../../electron/engine/workflow/memory-snapshot-sink.js';
import { ScriptedHypervisor, type HvOp } from './hypervisor-scripted.js';

let dir: string;
let hv: ScriptedHypervisor;
let sink: MemorySnapshotSink;
const VM = '/vms/db/db.vmx';

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'twinsnap-rec-'));
  hv = new ScriptedHypervisor();
  hv.addVm({ id: VM, name: 'db' });
  sink = new MemorySnapshotSink();
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** Starts a job that "crashes" (hangs forever, deaf to signals) at `op`; resolves once it got there. */
async function crashAt(op: HvOp | 'archive', after: boolean, verify = false): Promise<void> {
  if (op === 'archive') sink.hang = true;
  else hv.faults.set(op, { kind: 'hang', after });
  const reached = new Promise<void>((resolve) => {
    hv.onCall = (o) => o === op && resolve();
    if (op === 'archive') hv.onCall = (o) => o === 'shutdownTwin' && setTimeout(resolve, 30);
  });
  const run = new BackupRun(
    {
      clock: systemClock,
      logger: nullLogger,
      dataDir: dir,
      sink,
      twinSlots: new HostSemaphore(1),
      timeouts: Object.fromEntries(['freeze', 'copy-config', 'resume', 'boot-twin', 'shutdown-twin', 'archive', 'verify', 'cleanup'].map((k) => [k, 0])),
      probe: { freeMemoryBytes: () => 1e12, freeDiskBytes: () => 1e12 },
      pollMs: 5,
    },
    { jobId: 'job-x', guest: 'db', hypervisor: hv, vmId: VM, policy: 'require-clean', verify },
    { step: () => {}, log: () => {}, progress: () => {} },
    new AbortController().signal,
  );
  void run.run();
  await reached;
  await new Promise((r) => setTimeout(r, 10));
  hv.faults.clear();
  hv.onCall = undefined;
}

const POINTS: [HvOp | 'archive', boolean][] = [
  ['freeze', false],
  ['freeze', true],
  ['buildTwin', false],
  ['buildTwin', true],
  ['resume', false],
  ['resume', true],
  ['startTwin', false],
  ['startTwin', true],
  ['shutdownTwin', false],
  ['shutdownTwin', true],
  ['archive', false],
  ['deleteTwin', false],
  ['deleteTwin', true],
  ['releaseFrozen', false],
];

describe('recoverJobs', () => {
  it.each(POINTS)('after a crash at %s (effect done: %s) production runs, nothing is left, the job ends interrupted', async (op, after) => {
    await crashAt(op, after);
    expect(unfinishedJournals(dir).map((j) => j.jobId)).toEqual(['job-x']);
    const records = memoryJobRecords();
    const res = await recoverJobs({ dataDir: dir, clock: systemClock, logger: nullLogger, hypervisors: [hv], sink, records });
    expect(res).toHaveLength(1);
    expect(res[0]!.recovered).toBe(true);
    expect(hv.vms.get(VM)!.state).toBe('running');
    expect(hv.clean()).toEqual({ ok: true, problems: [] });
    // Past the archive step the snapshot is complete and kept (job: warning); before it, none is listed.
    const archived = op === 'deleteTwin' || op === 'releaseFrozen';
    const status = archived ? 'warning' : 'failed';
    expect(res[0]!.status).toBe(status);
    expect(records.jobs.get('job-x')).toMatchObject({ status, error: { message: expect.stringMatching(/^interrupted/) } });
    expect(sink.snapshots).toHaveLength(archived ? 1 : 0);
    if (op === 'archive') expect(sink.discarded).toEqual(['job-x']);
    expect(unfinishedJournals(dir)).toEqual([]);
    // A second start has nothing left to do.
    expect(await recoverJobs({ dataDir: dir, clock: systemClock, logger: nullLogger, hypervisors: [hv] })).toEqual([]);
  });

  it('keeps a snapshot that was stored completely before the crash and ends the job with a warning', async () => {
    await crashAt('deleteTwin', false);
    expect(sink.snapshots).toHaveLength(1);
    const res = await recoverJobs({ dataDir: dir, clock: systemClock, logger: nullLogger, hypervisors: [hv], sink });
    expect(res[0]).toMatchObject({ status: 'warning', recovered: true });
    expect(sink.discarded).toEqual([]);
  });

  it('records a boot verification that finished but died before reaching the manifest, without booting again', async () => {
    let reached!: () => void;
    const called = new Promise<void>((r) => (reached = r));
    const record = sink.recordVerification.bind(sink);
    sink.recordVerification = () => {
      reached();
      return new Promise<never>(() => {}); // the engine dies here
    };
    const run = new BackupRun(
      { clock: systemClock, logger: nullLogger, dataDir: dir, sink, twinSlots: new HostSemaphore(1), probe: { freeMemoryBytes: () => 1e12, freeDiskBytes: () => 1e12 }, pollMs: 5 },
      { jobId: 'job-v', guest: 'db', hypervisor: hv, vmId: VM, policy: 'require-clean', verify: true },
      { step: () => {}, log: () => {}, progress: () => {} },
      new AbortController().signal,
    );
    void run.run();
    await called;
    sink.recordVerification = record;
    expect(sink.snapshots).toHaveLength(1);
    expect(sink.snapshots[0]!.verify).toBeUndefined();
    const boots = () => hv.calls.filter((c) => c.op === 'startTwin').length;
    const bootsBefore = boots();

    const res = await recoverJobs({ dataDir: dir, clock: systemClock, logger: nullLogger, hypervisors: [hv], sink });
    expect(res[0]).toMatchObject({ status: 'warning', recovered: true });
    expect(res[0]!.actions).toContainEqual(expect.stringMatching(/^boot verification \(passed\) recorded in snapshot snap-0001$/));
    expect(sink.snapshots[0]!.verify).toMatchObject({ ok: true, method: 'guest-tools' });
    expect(boots()).toBe(bootsBefore);
    expect(hv.clean()).toEqual({ ok: true, problems: [] });
  });

  it('ignores a torn last journal line', async () => {
    await crashAt('startTwin', false);
    appendFileSync(journalFile(dir, 'job-x'), '{"kind":"intent","step":"boot-tw');
    const st = journalState('job-x', readJournal(journalFile(dir, 'job-x')));
    expect(st.twin?.name).toBe('db-twin-job-x');
    await recoverJobs({ dataDir: dir, clock: systemClock, logger: nullLogger, hypervisors: [hv], sink });
    expect(hv.clean().ok).toBe(true);
  });

  it('postpones a job whose hypervisor is not available and retries it at the next start', async () => {
    await crashAt('startTwin', false);
    const first = await recoverJobs({ dataDir: dir, clock: systemClock, logger: nullLogger, hypervisors: [] });
    expect(first[0]).toMatchObject({ recovered: false, error: expect.stringMatching(/not available/) });
    expect(unfinishedJournals(dir)).toHaveLength(1);
    const second = await recoverJobs({ dataDir: dir, clock: systemClock, logger: nullLogger, hypervisors: [hv] });
    expect(second[0]!.recovered).toBe(true);
    expect(hv.clean().ok).toBe(true);
  });

  it('the state of a successful journal cut after every record names exactly what may exist', async () => {
    const run = new BackupRun(
      { clock: systemClock, logger: nullLogger, dataDir: dir, sink, twinSlots: new HostSemaphore(1), probe: { freeMemoryBytes: () => 1e12, freeDiskBytes: () => 1e12 }, pollMs: 5 },
      { jobId: 'ok', guest: 'db', hypervisor: hv, vmId: VM, policy: 'require-clean', verify: false },
      { step: () => {}, log: () => {}, progress: () => {} },
      new AbortController().signal,
    );
    await run.run();
    const lines = readFileSync(journalFile(dir, 'ok'), 'utf8').trim().split('\n');
    const states = lines.map((_, k) => {
      writeFileSync(join(dir, 'cut.jsonl'), lines.slice(0, k + 1).join('\n'));
      const s = journalState('cut', readJournal(join(dir, 'cut.jsonl')));
      return `${s.frozen ? 'F' : '-'}${s.twin ? 'T' : '-'}${s.resumed ? 'R' : '-'}${s.snapshotId ? 'S' : '-'}${s.twinDeleted ? 'd' : '-'}${s.frozenReleased ? 'r' : '-'}`;
    });
    // Facts only ever accumulate, in workflow order.
    expect([...new Set(states)]).toEqual(['------', 'F-----', 'FT----', 'FTR---', 'FTRS--', 'FTRSd-', 'FTRSdr']);
  });
});
