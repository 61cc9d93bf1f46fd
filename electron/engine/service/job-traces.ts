import type { GuestId } from '../../../shared/domain/guest-id.js';
import type { JobInfo, JobKind, JobStatus, JobTrigger } from '../../../shared/domain/job.js';
import { toSerializedError } from '../../../shared/errors/serialize.js';
import { timeId } from '../core/ids.js';
import type { RecordingDeps } from './engine-context.js';

/** What a traced job is: its kind, guest (if it concerns one), who started it and its one step. */
export interface TraceSpec {
  kind: JobKind;
  guest?: string;
  guestId?: GuestId;
  trigger: JobTrigger;
  label: string;
}

/**
 * Records a job that could not even start (a scheduled run whose guest cannot be found, runs
 * missed past their window): a failed job in the list, a ✕ on the calendar, a `jobs.finished`
 * event. Returns it (its id goes into the notification).
 */
export function recordFailedStart(ctx: RecordingDeps, spec: TraceSpec, error: { code: string; message: string }): JobInfo {
  const catalog = ctx.store.catalog();
  const at = new Date(ctx.clock.now()).toISOString();
  const job: JobInfo = {
    id: timeId(ctx.clock.now()),
    kind: spec.kind,
    ...(spec.guest ? { guest: spec.guest } : {}),
    ...(spec.guestId ? { guestId: spec.guestId } : {}),
    trigger: spec.trigger,
    status: 'failed',
    createdAt: at,
    startedAt: at,
    finishedAt: at,
    steps: [{ id: 'start', label: spec.label, status: 'failed', startedAt: at, durationMs: 0, detail: error.message }],
    warnings: [],
    error,
  };
  catalog.jobs.insert(job);
  catalog.jobLog.append(job.id, { at, level: 'error', message: error.message, step: 'start' });
  ctx.emit('jobs.finished', job);
  return job;
}

/**
 * Runs repository work (verify, gc, forget) as a job of its own, so it is listed with the
 * backups: running while it works, then succeeded / warning / failed with a one-line detail.
 * Returns fn's result; rethrows its error after recording it. `fn` gets the job (to report
 * progress on it, e.g. an offsite copy's bytes).
 */
export async function runAsJob<T>(
  ctx: RecordingDeps,
  spec: TraceSpec,
  fn: (job: JobInfo) => Promise<T>,
  describe: (r: T) => { detail: string; status?: Extract<JobStatus, 'succeeded' | 'warning' | 'failed'>; warnings?: string[] },
): Promise<T> {
  const catalog = ctx.store.catalog();
  const now = () => new Date(ctx.clock.now()).toISOString();
  const started = ctx.clock.monotonic();
  const at = now();
  const job: JobInfo = {
    id: timeId(ctx.clock.now()),
    kind: spec.kind,
    ...(spec.guest ? { guest: spec.guest } : {}),
    ...(spec.guestId ? { guestId: spec.guestId } : {}),
    trigger: spec.trigger,
    status: 'running',
    createdAt: at,
    startedAt: at,
    steps: [{ id: spec.kind, label: spec.label, status: 'running', startedAt: at }],
    warnings: [],
  };
  catalog.jobs.insert(job);
  ctx.emit('jobs.progress', { jobId: job.id, step: spec.kind, job });
  try {
    const r = await fn(job);
    const d = describe(r);
    const status = d.status ?? 'succeeded';
    const done = catalog.jobs.update(job.id, {
      status,
      finishedAt: now(),
      warnings: d.warnings ?? [],
      ...(status === 'failed' ? { error: { code: 'REPO_CORRUPT', message: d.detail } } : {}),
      steps: [{ ...job.steps[0]!, status: status === 'failed' ? 'failed' : 'done', durationMs: ctx.clock.monotonic() - started, detail: d.detail }],
    });
    catalog.jobLog.append(job.id, { at: now(), level: status === 'succeeded' ? 'info' : 'warn', message: d.detail, step: spec.kind });
    ctx.emit('jobs.finished', done);
    return r;
  } catch (e) {
    const err = toSerializedError(e);
    const failed = catalog.jobs.update(job.id, {
      status: 'failed',
      finishedAt: now(),
      error: { code: err.code, message: err.message },
      steps: [{ ...job.steps[0]!, status: 'failed', durationMs: ctx.clock.monotonic() - started, detail: err.message }],
    });
    catalog.jobLog.append(job.id, { at: now(), level: 'error', message: err.message, step: spec.kind });
    ctx.emit('jobs.finished', failed);
    throw e;
  }
}
