import { describe, expect, it } from 'vitest';
import { AppError } from '../../../shared/errors/app-error.js';
import { fakeBridge, fakeEngine, makeJob } from '../test/fakes.js';
import { createAppStore } from './app-store.js';
import { connectEngineEvents } from './engine-events.js';
import type { GuestId } from '../../../shared/domain/guest-id.js';

const flush = () => new Promise((r) => setTimeout(r, 0));

describe('app store', () => {
  it('loads guests: loading, then data; errors keep stale data and are admin-friendly', async () => {
    let fail = false;
    const engine = fakeEngine({
      'guests.list': async () => {
        if (fail) throw new AppError('HV_NOT_ELEVATED', 'not a member of Hyper-V Administrators');
        return [{ id: 'vmware:a' as GuestId, name: 'A', hypervisor: 'vmware', state: 'running', disks: [], warnings: [] }];
      },
    });
    const store = createAppStore({ engine });
    const p = store.getState().refreshGuests();
    expect(store.getState().guests.loading).toBe(true);
    await p;
    expect(store.getState().guests).toMatchObject({ loading: false, data: [{ name: 'A' }], error: undefined });
    fail = true;
    await store.getState().refreshGuests(true);
    const g = store.getState().guests;
    expect(g.data).toHaveLength(1);
    expect(g.error?.code).toBe('HV_NOT_ELEVATED');
    expect(g.error?.action).toMatch(/Hyper-V Administrators/);
    expect(engine.calls.at(-1)).toEqual({ method: 'guests.list', req: { refresh: true } });
  });

  it('marks NOT_IMPLEMENTED as not available rather than as a failure', async () => {
    const store = createAppStore({ engine: fakeEngine() });
    await store.getState().refreshSnapshots();
    expect(store.getState().snapshots.error).toMatchObject({ code: 'NOT_IMPLEMENTED', notAvailable: true });
    expect(store.getState().snapshots.data).toBeUndefined();
  });

  it('applies progress and finished events to the jobs list (newest first) and tracks rates', () => {
    const store = createAppStore({ engine: fakeEngine() });
    const s = () => store.getState();
    s().applyProgress({ jobId: 'j1', bytesPerSecond: 100, etaSeconds: 5, job: makeJob({ id: 'j1', createdAt: '2026-11-22T10:00:00Z' }) });
    s().applyProgress({ jobId: 'j2', job: makeJob({ id: 'j2', createdAt: '2026-11-22T11:00:00Z' }) });
    expect(s().jobs.data?.map((j) => j.id)).toEqual(['j2', 'j1']);
    expect(s().rates.j1).toEqual({ bytesPerSecond: 100, etaSeconds: 5, step: undefined });
    s().applyFinished(makeJob({ id: 'j1', status: 'succeeded', createdAt: '2026-11-22T10:00:00Z' }));
    expect(s().jobs.data?.find((j) => j.id === 'j1')?.status).toBe('succeeded');
    expect(s().jobs.data).toHaveLength(2);
    expect(s().rates.j1).toBeUndefined();
  });

  it('backupNow reports success and failure as notices', async () => {
    const ok = createAppStore({ engine: fakeEngine({ 'jobs.backupNow': async ({ guests }) => ({ jobIds: guests.map((g) => `job-${g}`) }), 'jobs.list': async () => [] }) });
    expect(await ok.getState().backupNow(['a', 'b'])).toEqual(['job-a', 'job-b']);
    expect(ok.getState().notices.at(-1)).toMatchObject({ message: '2 backups started', severity: 'success' });
    const no = createAppStore({
      engine: fakeEngine({
        'jobs.backupNow': async () => {
          throw new AppError('JOB_ALREADY_RUNNING', 'a backup of a is running');
        },
      }),
    });
    expect(await no.getState().backupNow(['a'])).toEqual([]);
    expect(no.getState().notices.at(-1)).toMatchObject({ severity: 'error', detail: 'a backup of a is running' });
    expect(no.getState().notices.at(-1)?.message).toMatch(/already running/);
  });
});

describe('connectEngineEvents', () => {
  it('loads everything when the connection opens, applies pushed events, and unsubscribes', async () => {
    const engine = fakeEngine({
      'engine.status': async () => ({
        version: '1',
        state: 'ready',
        dataDir: '/d',
        repository: '/d/r',
        logFile: '/d/l',
        hypervisors: [],
        runningJobs: 0,
        startedAt: '2026-11-22T10:00:00Z',
        schedulerOwner: 'this',
      }),
      'jobs.list': async () => [],
    });
    const store = createAppStore({ engine });
    const fb = fakeBridge();
    const off = connectEngineEvents(store, fb.bridge);
    expect(engine.calls).toHaveLength(0);
    fb.setState('open');
    await flush();
    expect(new Set(engine.calls.map((c) => c.method))).toEqual(new Set(['engine.status', 'guests.list', 'jobs.list', 'snapshots.list', 'schedules.list']));
    expect(store.getState().status.data?.version).toBe('1');
    expect(store.getState().connection).toBe('open');

    fb.emit('jobs.progress', { jobId: 'j', job: makeJob({ id: 'j' }) });
    expect(store.getState().jobs.data?.[0]?.id).toBe('j');
    const before = engine.calls.length;
    fb.emit('jobs.finished', makeJob({ id: 'j', status: 'succeeded' }));
    await flush();
    expect(
      engine.calls
        .slice(before)
        .map((c) => c.method)
        .sort(),
    ).toEqual(['engine.status', 'snapshots.list']);

    fb.setState('closed');
    expect(store.getState().connection).toBe('closed');
    off();
    expect(fb.listenerCount()).toBe(0);
  });
});
