import { describe, expect, it } from 'vitest';
import { fakeEngine, makeJob } from '../test/fakes.js';
import type { JobInfo } from '../../../shared/domain/job.js';
import { createAppStore } from './app-store.js';
import { mergeJobs } from './slices/jobs-slice.js';

const step = (id: string, status: JobInfo['steps'][number]['status']) => ({ id, label: id, status });

describe('jobs list vs live events', () => {
  it('a jobs.list answer taken before the job finished does not roll it back to pre-flight', async () => {
    let answer!: (v: JobInfo[]) => void;
    const engine = fakeEngine({ 'jobs.list': () => new Promise<JobInfo[]>((r) => (answer = r)) });
    const store = createAppStore({ engine });
    const s = () => store.getState();
    const pending = s().refreshJobs();
    // Events arrive while the list is in flight: the job runs through to the end.
    s().applyProgress({ jobId: 'j1', job: makeJob({ id: 'j1', status: 'running', steps: [step('preflight', 'done'), step('freeze', 'running')] }) });
    s().applyFinished(makeJob({ id: 'j1', status: 'succeeded', steps: [step('preflight', 'done'), step('freeze', 'done')] }));
    // …then the stale list lands, with the job still at pre-flight.
    answer([makeJob({ id: 'j1', status: 'running', steps: [step('preflight', 'running'), step('freeze', 'pending')] })]);
    await pending;
    expect(s().jobs.data?.map((j) => [j.id, j.status])).toEqual([['j1', 'succeeded']]);
  });

  it('a late progress event does not reopen a finished job', () => {
    const store = createAppStore({ engine: fakeEngine() });
    const s = () => store.getState();
    s().applyFinished(makeJob({ id: 'j1', status: 'failed' }));
    s().applyProgress({ jobId: 'j1', job: makeJob({ id: 'j1', status: 'running', steps: [step('preflight', 'running')] }) });
    expect(s().jobs.data?.[0]?.status).toBe('failed');
  });

  it('mergeJobs takes newer list copies, keeps event-only active jobs, drops event-only finished ones', () => {
    const cur = [makeJob({ id: 'a', status: 'running', steps: [step('x', 'running')] }), makeJob({ id: 'b', status: 'running' }), makeJob({ id: 'c', status: 'succeeded' })];
    const fetched = [makeJob({ id: 'a', status: 'succeeded', steps: [step('x', 'done')] })];
    const out = mergeJobs(cur, fetched);
    expect(out.map((j) => [j.id, j.status]).sort()).toEqual([
      ['a', 'succeeded'],
      ['b', 'running'],
    ]);
  });
});
