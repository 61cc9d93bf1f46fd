import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { JobLogLine, JobStep } from '../../shared/domain/job.js';
import { AppError } from '../../shared/errors/app-error.js';
import { systemClock } from '../../electron/engine/core/clock.js';
import { nullLogger } from '../../electron/engine/core/logger.js';
import { BackupRun, type BackupRequest, type WorkflowDeps } from '../../electron/engine/workflow/backup-run.js';
import type { BackupStepId } from '../../electron/engine/workflow/backup-steps.js';
import { HostSemaphore } from '../../electron/engine/workflow/host-semaphore.js';
import { journalFile, readJournal, unfinishedJournals } from '../../electron/engine/workflow/job-journal.js';
import { recoverJobs } from '../../electron/engine/workflow/job-recovery.js';
import { MemorySnapshotSink } from '../../electron/engine/workflow/memory-snapshot-sink.js';
import { ScriptedHypervisor, type HvOp } from './hypervisor-scripted.js';

let dir: string;
let hv: ScriptedHypervisor;
let sink: MemorySnapshotSink;
const GiB = 1024 ** 3;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'twinsnap-wf-'));
  hv = new ScriptedHypervisor();
  hv.addVm({ id: '/vms/db/db.vmx', name: 'db' });
  sink = new MemorySnapshotSink();
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function deps(over: Partial<WorkflowDeps> = {}): WorkflowDeps {
  return {
    clock: systemClock,
    logger: nullLogger,
    dataDir: dir,
    sink,
    twinSlots: new HostSemaphore(1),
    probe: { freeMemoryBytes: () => 8 * GiB, freeDiskBytes: () => 100 * GiB },
    pollMs: 5,
    twinToolsWaitMs: 200,
    ...over,
  };
}

function request(over: Partial<BackupRequest> = {}): BackupRequest {
  return { jobId: 'job-1', guest: 'db', hypervisor: hv, vmId: '/vms/db/db.vmx', policy: 'require-clean', verify: false, ...over };
}

function recorder() {
  const steps: { id: BackupStepId; patch: Partial<JobStep> }[] = [];
  const log: JobLogLine[] = [];
  return {
    steps,
    log,
    reporter: { step: (id: BackupStepId, patch: Partial<JobStep>) => steps.push({ id, patch }), log: (l: JobLogLine) => log.push(l), progress: () => {} },
  };
}

async function run(over: Partial<BackupRequest> = {}, d: Partial<WorkflowDeps> = {}, signal = new AbortController().signal) {
  const rec = recorder();
  const outcome = await new BackupRun(deps(d), request(over), rec.reporter, signal).run();
  return { outcome, ...rec };
}

const ops = () => hv.calls.map((c) => c.op).filter((o) => o !== 'detect' && o !== 'twinToolsRunning');

describe('BackupRun — the twin path', () => {
  it('runs the steps in order and archives the clean twin with its measurements', async () => {
    const { outcome, steps } = await run({ verify: true });
    expect(outcome.status).toBe('succeeded');
    expect(outcome.consistency).toBe('clean-twin');
    expect(ops()).toEqual(['getVm', 'freeze', 'buildTwin', 'resume', 'startTwin', 'shutdownTwin', 'startTwin', 'powerOffTwin', 'powerOffTwin', 'deleteTwin', 'releaseFrozen']);
    expect(steps.filter((s) => s.patch.status === 'done').map((s) => s.id)).toEqual(['preflight', 'freeze', 'copy-config', 'resume', 'boot-twin', 'shutdown-twin', 'archive', 'verify', 'cleanup']);
    const snap = sink.snapshots[0]!;
    expect(snap.consistency).toBe('clean-twin');
    expect(snap.disks).toEqual([{ name: 'scsi0-0', path: '/twins/db-twin-job-1/scsi0-0.vmdk' }]);
    expect(snap.verify).toMatchObject({ ok: true, method: 'guest-tools', hypervisor: 'vmware', bootMs: expect.any(Number) });
    const m = outcome.metrics;
    expect(m.pauseMs).toBeGreaterThanOrEqual((m.hvFreezeMs ?? 0) + (m.hvResumeMs ?? 0));
    expect(m.engineShareMs).toBeCloseTo(m.pauseMs! - m.hvFreezeMs! - m.hvResumeMs!, 5);
    expect(m.twinBootMs).toBeTypeOf('number');
    expect(m.twinShutdownMs).toBeTypeOf('number');
    expect(m.archiveBytes).toBe(64 * 1024 * 1024);
    expect(hv.clean()).toEqual({ ok: true, problems: [] });
    const journal = readJournal(journalFile(dir, 'job-1'));
    expect(journal.at(-1)).toMatchObject({ kind: 'end', status: 'succeeded', snapshotId: snap.snapshotId });
  });

  it('reports nothing to the job records while production is paused (queued until it runs again)', async () => {
    const events: string[] = [];
    hv.onCall = (op) => events.push(`hv:${op}`);
    const rep = {
      step: (id: BackupStepId, p: Partial<JobStep>) => events.push(`step:${id}:${p.status}`),
      log: () => events.push('log'),
      progress: () => {},
    };
    await new BackupRun(deps(), request(), rep, new AbortController().signal).run();
    const between = events.slice(events.indexOf('hv:freeze') + 1, events.indexOf('hv:resume') + 1);
    expect(between).toEqual(['hv:buildTwin', 'hv:resume']);
    expect(events.indexOf('step:freeze:done')).toBeGreaterThan(events.indexOf('hv:resume'));
  });

  it('an adapter whose freeze leaves production running (Hyper-V checkpoint) gets its full-copy twin built after resume', async () => {
    hv.capabilities = { ...hv.capabilities, linkedTwin: false, runningAfterFreeze: true };
    const { outcome, steps } = await run();
    expect(outcome).toMatchObject({ status: 'succeeded', consistency: 'clean-twin' });
    expect(ops().slice(0, 4)).toEqual(['getVm', 'freeze', 'resume', 'buildTwin']);
    expect(
      steps
        .filter((s) => s.patch.status === 'done')
        .map((s) => s.id)
        .slice(0, 4),
    ).toEqual(['preflight', 'freeze', 'resume', 'copy-config']);
    // the pause ends with resume: the twin's copy is not part of it
    expect(outcome.metrics.pauseMs).toBeLessThan(outcome.metrics.steps['freeze']! + outcome.metrics.steps['resume']! + 50);
    expect(hv.clean()).toEqual({ ok: true, problems: [] });
  });

  it('an adapter that can only copy disks while production waits is refused (require-clean)', async () => {
    hv.capabilities = { ...hv.capabilities, linkedTwin: false, runningAfterFreeze: false };
    const { outcome } = await run();
    expect(outcome.error?.code).toBe('PREFLIGHT_FAILED');
    expect(outcome.error?.message).toMatch(/cannot build a twin/);
    expect(ops()).toEqual(['getVm']);
  });

  it('journals every intent before its side effect', async () => {
    const seen: string[] = [];
    hv.onCall = (op) => {
      const recs = readJournal(journalFile(dir, 'job-1'));
      const last = recs.filter((r) => r.kind === 'intent' || r.kind === 'fact').at(-1);
      seen.push(`${op}<-${last?.kind === 'intent' ? last.action.split(' ').slice(0, 3).join(' ') : last?.kind === 'fact' ? last.fact.split(' ')[0] : '-'}`);
    };
    await run();
    expect(seen).toContain('freeze<-about to freeze');
    expect(seen).toContain('buildTwin<-frozen');
    expect(seen).toContain('resume<-twin');
    expect(seen).toContain('startTwin<-about to start');
    expect(seen).toContain('shutdownTwin<-about to shut');
    expect(seen).toContain('deleteTwin<-about to delete');
    expect(seen).toContain('releaseFrozen<-about to release');
  });
});

const FAIL_POINTS: HvOp[] = ['getVm', 'freeze', 'buildTwin', 'startTwin', 'shutdownTwin'];

describe('BackupRun — production is never left suspended', () => {
  it.each(FAIL_POINTS)('when %s fails, production runs and the job fails', async (op) => {
    hv.faults.set(op, { kind: 'fail' });
    const { outcome } = await run();
    expect(outcome.status).toBe('failed');
    expect(hv.vms.get('/vms/db/db.vmx')!.state).toBe('running');
    expect(hv.clean().problems).toEqual([]);
    expect(sink.snapshots).toEqual([]);
  });

  it.each(['deleteTwin', 'releaseFrozen'] as HvOp[])('when clean-up (%s) fails, the snapshot is kept, the job ends with a warning, and start-up recovery finishes the clean-up', async (op) => {
    hv.faults.set(op, { kind: 'fail' });
    const { outcome } = await run();
    expect(outcome).toMatchObject({ status: 'warning', consistency: 'clean-twin' });
    expect(outcome.warnings.join()).toMatch(/clean-up incomplete .* retried when the engine next starts/);
    expect(sink.snapshots).toHaveLength(1);
    expect(hv.vms.get('/vms/db/db.vmx')!.state).toBe('running');
    expect(hv.clean().ok).toBe(false);
    expect(readJournal(journalFile(dir, 'job-1')).at(-1)).toMatchObject({ kind: 'end', status: 'warning', leftovers: true });
    hv.faults.clear();
    const res = await recoverJobs({ dataDir: dir, clock: systemClock, logger: nullLogger, hypervisors: [hv], sink });
    expect(res).toMatchObject([{ jobId: 'job-1', recovered: true, status: 'warning' }]);
    expect(hv.clean()).toEqual({ ok: true, problems: [] });
    expect(unfinishedJournals(dir)).toEqual([]);
    expect(sink.discarded).toEqual([]);
  });

  it('retries a failed resume and succeeds', async () => {
    hv.faults.set('resume', { kind: 'fail', times: 2 });
    const { outcome } = await run();
    expect(outcome.status).toBe('succeeded');
    expect(hv.calls.filter((c) => c.op === 'resume').length).toBe(3);
    expect(hv.clean().ok).toBe(true);
  });

  it('falls back to hypervisor recovery when resume keeps failing', async () => {
    hv.faults.set('resume', { kind: 'fail' });
    const { outcome } = await run();
    expect(outcome.status).toBe('failed');
    expect(outcome.error?.message).toMatch(/unable to resume vm 'db'/);
    expect(hv.calls.some((c) => c.op === 'recover')).toBe(true);
    expect(hv.clean()).toEqual({ ok: true, problems: [] });
  });

  it('fails when the archive fails, and cleans up', async () => {
    sink.fail = new AppError('DISK_FULL', 'repository disk full');
    const { outcome } = await run();
    expect(outcome.error).toEqual({ code: 'DISK_FULL', message: 'repository disk full' });
    expect(hv.clean().ok).toBe(true);
  });

  const HANG_POINTS: HvOp[] = ['freeze', 'buildTwin', 'startTwin', 'shutdownTwin'];

  it.each(HANG_POINTS)('when %s hangs past its step timeout, the job fails with TIMEOUT and production runs', async (op) => {
    hv.faults.set(op, { kind: 'hang' });
    const timeouts = { freeze: 100, 'copy-config': 100, 'boot-twin': 100, 'shutdown-twin': 100 };
    const { outcome } = await run({}, { timeouts, twinToolsWaitMs: 50 });
    expect(outcome.status).toBe('failed');
    expect(outcome.error?.code).toBe('TIMEOUT');
    expect(hv.vms.get('/vms/db/db.vmx')!.state).toBe('running');
    expect(hv.clean().problems).toEqual([]);
  });

  it.each([...HANG_POINTS, 'archive' as const])('cancelling during %s resumes production and cleans up', async (op) => {
    const ctl = new AbortController();
    if (op === 'archive') sink.hang = true;
    else hv.faults.set(op, { kind: 'hang', honourSignal: true });
    const started = new Promise<void>((resolve) => {
      hv.onCall = (o) => o === op && resolve();
      if (op === 'archive') hv.onCall = (o) => o === 'shutdownTwin' && setTimeout(resolve, 20);
    });
    const p = run({}, {}, ctl.signal);
    await started;
    ctl.abort(new AppError('CANCELLED', 'by test'));
    const { outcome } = await p;
    expect(outcome.status).toBe('cancelled');
    expect(hv.vms.get('/vms/db/db.vmx')!.state).toBe('running');
    expect(hv.clean().problems).toEqual([]);
    expect(sink.snapshots).toEqual([]);
  });

  it('a freeze that completes after its timeout is undone when it lands', async () => {
    let finish: () => void = () => {};
    const gate = new Promise<void>((r) => (finish = r));
    const orig = hv.freeze.bind(hv);
    hv.freeze = async (vm, opts) => {
      await gate;
      return orig(vm, opts);
    };
    const { outcome } = await run({}, { timeouts: { freeze: 50 } });
    expect(outcome.error?.code).toBe('TIMEOUT');
    finish();
    await new Promise((r) => setTimeout(r, 20));
    expect(hv.clean()).toEqual({ ok: true, problems: [] });
  });
});

describe('BackupRun — consistency policy', () => {
  it('require-clean: a twin that ignores the power button fails cleanly and nothing is archived', async () => {
    hv.twinBehaviour.ignoresPowerButton = true;
    const { outcome } = await run({ policy: 'require-clean' });
    expect(outcome.status).toBe('failed');
    expect(outcome.error?.code).toBe('HV_SHUTDOWN_TIMEOUT');
    expect(outcome.error?.message).toMatch(/did not shut down cleanly .*nothing was archived/);
    expect(sink.snapshots).toEqual([]);
    expect(hv.clean().ok).toBe(true);
  });

  it('allow-crash: a twin that ignores the power button gives a crash snapshot of the frozen disks and a warning', async () => {
    hv.twinBehaviour.ignoresPowerButton = true;
    const { outcome } = await run({ policy: 'allow-crash' });
    expect(outcome.status).toBe('warning');
    expect(outcome.consistency).toBe('crash');
    expect(outcome.warnings.join()).toMatch(/did not shut down cleanly/);
    expect(sink.snapshots[0]!.consistency).toBe('crash');
    expect(sink.snapshots[0]!.disks[0]!.path).toMatch(/disk-snap-\d+\.vmdk$/);
    expect(hv.clean().ok).toBe(true);
  });

  it('allow-crash: powering off a deaf twin on a slow host has its own time; the policy applies, the job does not time out', async () => {
    hv.twinBehaviour.ignoresPowerButton = true;
    const powerOff = hv.powerOffTwin.bind(hv);
    hv.powerOffTwin = async (t, o) => {
      await new Promise((r) => setTimeout(r, 600)); // longer than the whole shutdown-twin limit
      return powerOff(t, o);
    };
    const { outcome } = await run({ policy: 'allow-crash' }, { timeouts: { 'shutdown-twin': 300 } });
    expect(outcome.error).toBeUndefined();
    expect(outcome).toMatchObject({ status: 'warning', consistency: 'crash' });
    expect(hv.clean().ok).toBe(true);
  });

  it('require-clean: a guest without tools is refused before anything is frozen', async () => {
    hv.vms.get('/vms/db/db.vmx')!.toolsRunning = false;
    const { outcome } = await run({ policy: 'require-clean' });
    expect(outcome.error?.code).toBe('HV_TOOLS_NOT_RUNNING');
    expect(outcome.error?.message).toMatch(/install or start them/);
    expect(ops()).toEqual(['getVm']);
  });

  it('allow-crash: a guest without tools is archived crash-consistent without a twin', async () => {
    hv.vms.get('/vms/db/db.vmx')!.toolsRunning = false;
    const { outcome } = await run({ policy: 'allow-crash' });
    expect(outcome).toMatchObject({ status: 'warning', consistency: 'crash' });
    expect(ops()).toEqual(['getVm', 'freeze', 'resume', 'releaseFrozen']);
    expect(outcome.metrics.pauseMs).toBeTypeOf('number');
    expect(hv.clean().ok).toBe(true);
  });

  it('a twin whose tools stay silent for the whole boot-twin limit gets the policy, not a step timeout', async () => {
    hv.twinBehaviour.toolsRunning = false;
    const { outcome } = await run({ policy: 'allow-crash' }, { twinToolsWaitMs: undefined, timeouts: { 'boot-twin': 400 } });
    expect(outcome).toMatchObject({ status: 'warning', consistency: 'crash' });
    expect(outcome.warnings.join('\n')).toMatch(/never answered/);
    expect(hv.clean().ok).toBe(true);
  });

  it('a verification boot whose guest never answers is recorded as failed (how, limit, why) and the job ends with a warning', async () => {
    let starts = 0;
    hv.onCall = (op) => {
      if (op === 'startTwin' && ++starts === 2) hv.twinBehaviour.toolsRunning = false; // fine for the backup, not for the verification boot
    };
    // The tools wait leaves a tenth of the step's limit for powering the boot off: 2 s keeps that
    // margin (200 ms) above a loaded machine's scheduling delays; 300 ms (30 ms) did not.
    const { outcome } = await run({ verify: true }, { timeouts: { verify: 2000 } });
    expect(outcome).toMatchObject({ status: 'warning', consistency: 'clean-twin', verify: { ok: false, method: 'guest-tools', limitMs: 2000, detail: 'guest tools never answered' } });
    expect(outcome.verify!.bootMs).toBeUndefined();
    expect(sink.snapshots[0]!.verify).toEqual(outcome.verify);
    expect(outcome.warnings.join('\n')).toMatch(/boot verification of snapshot snap-0001 failed/);
    expect(hv.clean()).toEqual({ ok: true, problems: [] });
  });

  it('allow-crash with --verify: the crash snapshot is not boot-verified through the twin (it holds the frozen disks), and says so', async () => {
    hv.twinBehaviour.ignoresPowerButton = true;
    const { outcome, steps } = await run({ policy: 'allow-crash', verify: true }, { timeouts: { 'shutdown-twin': 6000 } });
    expect(outcome).toMatchObject({ status: 'warning', consistency: 'crash' });
    expect(outcome.verify).toBeUndefined();
    expect(sink.snapshots[0]!.verify).toBeUndefined();
    expect(steps.find((s) => s.id === 'verify')?.patch).toMatchObject({ status: 'skipped' });
    expect(outcome.warnings.join('\n')).toMatch(/boot verification skipped/);
    expect(hv.clean().ok).toBe(true);
  });

  it('a twin whose tools never answer is treated like an unclean shutdown', async () => {
    hv.twinBehaviour.toolsRunning = false;
    const { outcome } = await run({ policy: 'allow-crash' });
    expect(outcome).toMatchObject({ status: 'warning', consistency: 'crash' });
    expect(outcome.warnings.join()).toMatch(/never answered/);
  });

  it('a powered-off guest is archived directly as cold', async () => {
    hv.vms.get('/vms/db/db.vmx')!.state = 'off';
    const { outcome } = await run();
    expect(outcome).toMatchObject({ status: 'succeeded', consistency: 'cold' });
    expect(ops()).toEqual(['getVm']);
    expect(sink.snapshots[0]!.disks[0]!.path).toBe('/vms/db/disk.vmdk');
  });
});

describe('BackupRun — pre-flight checks', () => {
  it('refuses when the host lacks free memory for the twin, saying how much is needed', async () => {
    const { outcome } = await run({}, { probe: { freeMemoryBytes: () => 300 * 1024 * 1024, freeDiskBytes: () => 100 * GiB } });
    expect(outcome.error?.code).toBe('INSUFFICIENT_MEMORY');
    expect(outcome.error?.message).toMatch(/needs 768 MiB of free ram .* host has 300 MiB free/);
    expect(ops()).toEqual(['getVm']);
  });

  it('refuses without free disk space for the child disks', async () => {
    const { outcome } = await run({}, { probe: { freeMemoryBytes: () => 8 * GiB, freeDiskBytes: () => 10 * 1024 * 1024 } });
    expect(outcome.error?.code).toBe('DISK_FULL');
    expect(outcome.error?.message).toMatch(/free some space there/);
  });

  it('refuses encrypted vms and vmware player, listing every failed check', async () => {
    hv.vms.get('/vms/db/db.vmx')!.encrypted = true;
    hv.info = { ...hv.info, version: 'Workstation 17 Player' };
    const { outcome } = await run();
    expect(outcome.error?.code).toBe('PREFLIGHT_FAILED');
    expect(outcome.error?.message).toMatch(/install workstation pro.*encrypted/);
  });
});

describe('BackupRun — one twin per host', () => {
  it('two jobs sharing the host semaphore never have two twins at once', async () => {
    hv.addVm({ id: '/vms/web/web.vmx', name: 'web' });
    const slots = new HostSemaphore(1);
    const a = new BackupRun(deps({ twinSlots: slots }), request({ jobId: 'a' }), recorder().reporter, new AbortController().signal).run();
    const b = new BackupRun(deps({ twinSlots: slots }), request({ jobId: 'b', guest: 'web', vmId: '/vms/web/web.vmx' }), recorder().reporter, new AbortController().signal).run();
    const [ra, rb] = await Promise.all([a, b]);
    expect([ra.status, rb.status]).toEqual(['succeeded', 'succeeded']);
    expect(hv.maxTwins).toBe(1);
  });
});

describe('BackupRun — hostile guest names', () => {
  const HOSTILE = `it's "q" $(touch /tmp/pwned) \`id\`; rm -rf / ‘x’ “y” ${'z'.repeat(150)}`;

  it('round-trip exactly through the journal, the twin name and the snapshot', async () => {
    hv.vms.clear();
    hv.addVm({ id: `/vms/${HOSTILE}/${HOSTILE}.vmx`, name: HOSTILE });
    const { outcome } = await run({ guest: HOSTILE, vmId: `/vms/${HOSTILE}/${HOSTILE}.vmx` });
    expect(outcome.status).toBe('succeeded');
    expect(sink.snapshots[0]!.guest).toBe(HOSTILE);
    expect(hv.calls.find((c) => c.op === 'buildTwin')!.arg).toBe(`${HOSTILE}-twin-job-1`);
    const begin = readJournal(journalFile(dir, 'job-1'))[0]!;
    expect(begin).toMatchObject({ kind: 'begin', guest: HOSTILE, vmId: `/vms/${HOSTILE}/${HOSTILE}.vmx` });
  });
});
