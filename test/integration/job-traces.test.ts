import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { JobInfo } from '../../shared/domain/job.js';
import { nullLogger } from '../../electron/engine/core/logger.js';
import { createEngine, type Engine } from '../../electron/engine/engine.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { ScriptedHypervisor } from './hypervisor-scripted.js';

// Every attempt leaves a trace (issue 17.4): a scheduled run that cannot start is a failed job
// (listed, a ✕ on the calendar, named in a notification), jobs say who started them, jobs
// waiting for a twin slot are queued, and verify / gc / forget are jobs too.
let dir: string;
let engine: Engine;
let clock: FakeClock;
let hv: ScriptedHypervisor;
let events: { e: string; p: unknown }[];

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'twinsnap-traces-'));
  clock = new FakeClock('2026-06-01T10:00:00Z');
  hv = new ScriptedHypervisor();
  const disk = join(dir, 'off.img');
  writeFileSync(disk, Buffer.alloc(256 * 1024, 7));
  hv.addVm({ id: '/vms/off/off.vmx', name: 'Off VM', state: 'off', disks: [{ slot: 'scsi0:0', path: disk }] });
  engine = await createEngine({ dataDir: join(dir, 'data'), hypervisors: [hv], logger: nullLogger, clock, catchUpGraceMs: 30 * 60_000 });
  events = [];
  engine.onEvent((e, p) => events.push({ e, p }));
});
afterEach(async () => {
  await engine.close();
  rmSync(dir, { recursive: true, force: true });
});

async function until<T>(what: string, fn: () => Promise<T | undefined>): Promise<T> {
  for (let i = 0; i < 200; i++) {
    const v = await fn();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('every attempt leaves a trace', () => {
  it('a scheduled run whose guest cannot be found is a failed scheduled job with a notification naming it', async () => {
    await engine.service.call('schedules.set', { guest: 'Gone VM', schedule: { kind: 'times', times: ['10:05'] }, timeZone: 'UTC' });
    expect(engine.context.scheduler.start({ role: 'app' })).toEqual({ started: true });
    await clock.advance(10 * 60_000);
    const job = await until('the failed job', async () => (await engine.service.call('jobs.list', { guest: 'Gone VM' }))[0]);
    expect(job).toMatchObject({ kind: 'backup', guest: 'Gone VM', trigger: 'scheduled', status: 'failed', error: { code: 'HV_VM_NOT_FOUND' } });
    expect(job.finishedAt).toBeDefined();
    expect(events.filter((x) => x.e === 'jobs.finished').map((x) => (x.p as JobInfo).id)).toContain(job.id);
    const note = await until('the notification', async () => events.find((x) => x.e === 'notify.raised')?.p as { severity: string; title: string; jobId?: string } | undefined);
    expect(note).toMatchObject({ severity: 'failure', jobId: job.id });
  });

  it('runs missed past their window (the host was asleep) are a failed job too', async () => {
    await engine.service.call('schedules.set', { guest: 'Off VM', schedule: { kind: 'times', times: ['10:05'] }, timeZone: 'UTC' });
    engine.context.scheduler.start({ role: 'app' });
    await clock.advance(60_000);
    await clock.suspend(3 * 3_600_000);
    const job = await until('the missed-run job', async () => (await engine.service.call('jobs.list', { guest: 'Off VM' })).find((j) => j.status === 'failed'));
    expect(job).toMatchObject({ trigger: 'scheduled', status: 'failed', error: { code: 'TIMEOUT', message: expect.stringMatching(/scheduled run\(s\) of 'Off VM' \(2026-06-01 10:05 UTC\) missed/) } });
  });

  it('a backup started by hand says manual; a repository verify and gc are listed as jobs with what they found', async () => {
    const { jobIds } = await engine.service.call('jobs.backupNow', { guests: ['Off VM'] });
    await engine.context.jobs.manager.wait(jobIds[0]!);
    expect(await engine.service.call('jobs.get', { jobId: jobIds[0]! })).toMatchObject({ trigger: 'manual', status: 'succeeded' });
    const v = await engine.service.call('repository.verify', {});
    expect(v).toMatchObject({ ok: true, damagedPoints: [] });
    await engine.service.call('repository.gc', {});
    const kinds = (await engine.service.call('jobs.list', {})).map((j) => [j.kind, j.trigger, j.status]);
    expect(kinds).toEqual(
      expect.arrayContaining([
        ['verify', 'manual', 'succeeded'],
        ['gc', 'manual', 'succeeded'],
        ['backup', 'manual', 'succeeded'],
      ]),
    );
  });

  it('a job waiting for the twin slot is queued, not running', async () => {
    hv.addVm({ id: '/vms/a/a.vmx', name: 'A', state: 'running', disks: [{ slot: 'scsi0:0', path: join(dir, 'off.img') }] });
    hv.addVm({ id: '/vms/b/b.vmx', name: 'B', state: 'running', disks: [{ slot: 'scsi0:0', path: join(dir, 'off.img') }] });
    hv.faults.set('startTwin', { kind: 'hang', honourSignal: true });
    const started = new Promise<void>((r) => (hv.onCall = (op) => op === 'startTwin' && r()));
    const { jobIds } = await engine.service.call('jobs.backupNow', { guests: ['A', 'B'] });
    await started;
    // A and B start together: whichever reaches the host's twin slot first runs, the other waits
    const statuses = await until('one job queued while the other runs', async () => {
      const st = await Promise.all(jobIds.map(async (id) => (await engine.service.call('jobs.get', { jobId: id })).status));
      return st.includes('queued') ? st : undefined;
    });
    expect([...statuses].sort()).toEqual(['queued', 'running']);
    for (const id of jobIds) await engine.service.call('jobs.cancel', { jobId: id });
    for (const id of jobIds) await engine.context.jobs.manager.wait(id);
  });
});
