import { Option } from 'commander';
import { AppError } from '../../../shared/errors/app-error.js';
import { isErrorCode } from '../../../shared/errors/error-codes.js';
import type { BackupReport, JobInfo } from '../../../shared/domain/job.js';
import type { CommandModule } from '../cli-context.js';

/** What `twinsnap backup --json` prints (the contract's `jobs.wait` report). */
export type { BackupReport };

function human(r: BackupReport): string {
  const lines = [`${r.guest}: ${r.status}${r.snapshotId ? ` — snapshot ${r.snapshotId}` : ''}${r.consistency ? ` (${r.consistency})` : ''}`];
  if (r.pauseMs !== undefined) lines.push(`production pause: ${r.pauseMs} ms (engine ${r.engineShareMs} ms, hypervisor freeze ${r.hypervisorFreezeMs} ms + resume ${r.hypervisorResumeMs} ms)`);
  if (r.twinBootMs !== undefined) lines.push(`twin boot ${r.twinBootMs} ms, shutdown ${r.twinShutdownMs ?? '-'} ms`);
  if (r.bytes.logical !== undefined) lines.push(`bytes: ${r.bytes.logical} logical, ${r.bytes.new ?? '?'} new${r.bytes.MBps ? `, ${r.bytes.MBps} MB/s` : ''}`);
  if (r.twin?.isolation) lines.push(`twin isolation: ${r.twin.isolation.verified ? 'verified' : 'NOT verified'} (${r.twin.isolation.method})`);
  if (r.twin?.shutdownMethod) lines.push(`twin shutdown: ${r.twin.shutdownMethod}`);
  if (r.twin?.hostBytesWritten !== undefined) lines.push(`host bytes written for the twin: ${r.twin.hostBytesWritten}`);
  if (r.verify) lines.push(`boot verification: ${r.verify.ok ? `passed in ${r.verify.bootMs} ms` : `FAILED (${r.verify.detail})`}`);
  lines.push(
    `steps: ${Object.entries(r.steps)
      .map(([k, v]) => `${k} ${v} ms`)
      .join(', ')}`,
  );
  for (const w of r.warnings) lines.push(`warning: ${w}`);
  return lines.join('\n');
}

/** `backup GUEST [--verify] [--consistency require-clean|allow-crash]`. Exit 1 unless the job succeeded or ended with a warning. */
export const backupCommand: CommandModule = (program, ctx) => {
  program
    .command('backup')
    .description('back up a guest now with the twin technique and wait for the result')
    .argument('<guest>', 'guest name or id (see `twinsnap guests`)')
    .option('--verify', 'boot the archived state isolated and check that it comes up')
    .addOption(new Option('--consistency <policy>', 'what to do when the twin cannot shut down cleanly').choices(['require-clean', 'allow-crash']).default('require-clean'))
    .action(async (guest: string, o: { verify?: boolean; consistency: 'require-clean' | 'allow-crash' }) => {
      const engine = await ctx.engine();
      const json = Boolean(ctx.globals().json);
      let lastStep = '';
      const off = engine.onEvent((event, payload) => {
        if (json || event !== 'jobs.progress') return;
        const p = payload as { step?: string; job: JobInfo };
        if (p.step && p.step !== lastStep) {
          lastStep = p.step;
          ctx.io.stderr(`… ${p.step}\n`);
        }
      });
      const { jobIds } = await engine.service.call('jobs.backupNow', { guests: [guest], consistency: o.consistency, verify: Boolean(o.verify) });
      const jobId = jobIds[0]!;
      const onSignal = () => void engine.service.call('jobs.cancel', { jobId }).catch(() => {});
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      let report: BackupReport;
      try {
        report = await engine.service.call('jobs.wait', { jobId });
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
        off();
      }
      ctx.print(report, human);
      if (report.status === 'failed' || report.status === 'cancelled') {
        const code = report.error && isErrorCode(report.error.code) ? report.error.code : 'INTERNAL';
        throw new AppError(code, report.error?.message ?? `backup ${report.status}`);
      }
    });
};
