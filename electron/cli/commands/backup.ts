import { Option } from 'commander';
import { AppError } from '../../../shared/errors/app-error.js';
import { isErrorCode } from '../../../shared/errors/error-codes.js';
import type { JobInfo } from '../../../shared/domain/job.js';
import { getJobService } from '../../engine/service/job-handlers.js';
import type { BackupOutcome } from '../../engine/workflow/backup-run.js';
import type { CommandModule } from '../cli-context.js';

/** What `twinsnap backup --json` prints. */
export interface BackupReport {
  jobId: string;
  guest: string;
  status: JobInfo['status'];
  snapshotId?: string;
  consistency?: string;
  pauseMs?: number;
  /** The engine's own share of the pause (pause − hypervisor freeze and resume calls). */
  engineShareMs?: number;
  hypervisorFreezeMs?: number;
  hypervisorResumeMs?: number;
  twinBootMs?: number;
  twinShutdownMs?: number;
  /** Duration of each step in ms. */
  steps: Record<string, number>;
  bytes: { logical?: number; new?: number; archived?: number; MBps?: number };
  verify?: { ok: boolean; bootMs?: number; detail?: string };
  /** The twin's isolation report, shutdown method and host bytes written (as in the manifest). */
  twin?: BackupOutcome['twin'];
  warnings: string[];
  error?: { code: string; message: string };
}

const r1 = (v: number | undefined) => (v === undefined ? undefined : Math.round(v * 10) / 10);

/** Builds the report of a finished backup. */
export function backupReport(job: JobInfo, o: BackupOutcome): BackupReport {
  const m = o.metrics;
  return {
    jobId: job.id,
    guest: job.guest ?? '',
    status: o.status,
    snapshotId: o.snapshotId,
    consistency: o.consistency,
    pauseMs: r1(m.pauseMs),
    engineShareMs: r1(m.engineShareMs),
    hypervisorFreezeMs: r1(m.hvFreezeMs),
    hypervisorResumeMs: r1(m.hvResumeMs),
    twinBootMs: r1(m.twinBootMs),
    twinShutdownMs: r1(m.twinShutdownMs),
    steps: Object.fromEntries(Object.entries(m.steps).map(([k, v]) => [k, Math.round(v)])),
    bytes: { logical: o.logicalBytes, new: o.newBytes, archived: m.archiveBytes, MBps: r1(m.archiveMBps) },
    verify: o.verify ? { ok: o.verify.ok, bootMs: r1(o.verify.bootMs), detail: o.verify.detail } : undefined,
    twin: o.twin,
    warnings: o.warnings,
    error: o.error,
  };
}

function human(r: BackupReport): string {
  const lines = [
    `${r.guest}: ${r.status}${r.snapshotId ? ` — snapshot ${r.snapshotId}` : ''}${r.consistency ? ` (${r.consistency})` : ''}`,
  ];
  if (r.pauseMs !== undefined) lines.push(`production pause: ${r.pauseMs} ms (engine ${r.engineShareMs} ms, hypervisor freeze ${r.hypervisorFreezeMs} ms + resume ${r.hypervisorResumeMs} ms)`);
  if (r.twinBootMs !== undefined) lines.push(`twin boot ${r.twinBootMs} ms, shutdown ${r.twinShutdownMs ?? '-'} ms`);
  if (r.bytes.logical !== undefined) lines.push(`bytes: ${r.bytes.logical} logical, ${r.bytes.new ?? '?'} new${r.bytes.MBps ? `, ${r.bytes.MBps} MB/s` : ''}`);
  if (r.twin?.isolation) lines.push(`twin isolation: ${r.twin.isolation.verified ? 'verified' : 'NOT verified'} (${r.twin.isolation.method})`);
  if (r.twin?.shutdownMethod) lines.push(`twin shutdown: ${r.twin.shutdownMethod}`);
  if (r.twin?.hostBytesWritten !== undefined) lines.push(`host bytes written for the twin: ${r.twin.hostBytesWritten}`);
  if (r.verify) lines.push(`boot verification: ${r.verify.ok ? `passed in ${r.verify.bootMs} ms` : `FAILED (${r.verify.detail})`}`);
  lines.push(`steps: ${Object.entries(r.steps).map(([k, v]) => `${k} ${v} ms`).join(', ')}`);
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
      const { manager, ready } = getJobService(engine.context);
      await ready;
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
      const onSignal = () => manager.cancel(jobId);
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      let outcome: BackupOutcome;
      try {
        outcome = await manager.wait(jobId);
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
        off();
      }
      const report = backupReport(manager.get(jobId), outcome);
      ctx.print(report, human);
      if (outcome.status === 'failed' || outcome.status === 'cancelled') {
        const code = outcome.error && isErrorCode(outcome.error.code) ? outcome.error.code : 'INTERNAL';
        throw new AppError(code, outcome.error?.message ?? `backup ${outcome.status}`);
      }
    });
};
