import type { JobInfo, JobLogLine } from '../../../shared/domain/job.js';
import type { CommandModule } from '../cli-context.js';

/** One job of `twinsnap jobs --json`: the record plus its log lines grouped by step. */
export interface JobHistoryEntry extends JobInfo {
  durationMs?: number;
  log: JobLogLine[];
}

/** `jobs`: job history from the catalog (steps, durations, bytes, errors, logs). */
export const jobsCommand: CommandModule = (program, ctx) => {
  program
    .command('jobs')
    .description('job history: status, per-step durations and logs, bytes, errors')
    .option('--guest <name>', 'only jobs of this guest')
    .option('--limit <n>', 'at most this many jobs, newest first (default 50)', '50')
    .option('--no-logs', 'leave out the log lines')
    .action(async (o: { guest?: string; limit: string; logs: boolean }) => {
      const limit = Number(o.limit);
      if (!Number.isInteger(limit) || limit < 1 || limit > 10000) ctx.usage(`invalid --limit '${o.limit}': 1 to 10000`);
      const engine = await ctx.engine();
      const jobs = await engine.service.call('jobs.list', { ...(o.guest ? { guest: o.guest } : {}), limit });
      const out: JobHistoryEntry[] = [];
      for (const j of jobs) {
        const log = o.logs ? await engine.service.call('jobs.log', { jobId: j.id }) : [];
        const durationMs = j.startedAt && j.finishedAt ? Date.parse(j.finishedAt) - Date.parse(j.startedAt) : undefined;
        out.push({ ...j, ...(durationMs !== undefined ? { durationMs } : {}), log });
      }
      ctx.print(out, (list) =>
        list.length === 0
          ? 'no jobs'
          : list
              .map((j) => {
                const head = `${j.createdAt.slice(0, 19).replace('T', ' ')}  ${j.kind.padEnd(8)} ${(j.guest ?? '').padEnd(20)} ${j.status.padEnd(9)} ${j.durationMs !== undefined ? `${Math.round(j.durationMs / 1000)} s` : ''}${j.bytesDone ? `  ${(j.bytesDone / 1e6).toFixed(1)} MB` : ''}`;
                const steps = j.steps
                  .filter((s) => s.status !== 'pending')
                  .map((s) => `    ${s.label.padEnd(18)} ${s.status.padEnd(8)} ${s.durationMs !== undefined ? `${Math.round(s.durationMs)} ms` : ''}${s.detail ? `  ${s.detail}` : ''}`);
                const err = j.error ? [`    error: ${j.error.message} [${j.error.code}]`] : [];
                const warn = j.warnings.map((w) => `    warning: ${w}`);
                return [head, ...steps, ...err, ...warn].join('\n');
              })
              .join('\n'),
      );
    });
};
