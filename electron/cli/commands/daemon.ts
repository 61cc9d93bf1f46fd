import { AppError } from '../../../shared/errors/app-error.js';
import { getSchedulerService } from '../../engine/service/schedule-handlers.js';
import type { SchedulerEvent } from '../../engine/scheduler/scheduler.js';
import type { CommandModule } from '../cli-context.js';

/** One log line of the daemon for a scheduler event (stdout; the engine log has the details). */
export function describeEvent(e: SchedulerEvent): string {
  const at = new Date(e.at).toISOString();
  switch (e.type) {
    case 'run-started':
      return `${at} backup of '${e.guest}' started (${e.trigger}${e.slots.length > 1 ? `, catching up ${e.slots.length} runs` : ''})`;
    case 'run-finished':
      return `${at} backup of '${e.guest}' ${e.result.status}${e.result.jobId ? ` [job ${e.result.jobId}]` : ''}${e.result.error ? `: ${e.result.error.message}` : ''}`;
    case 'runs-missed':
      return `${at} ${e.slots.length} run(s) of '${e.guest}' missed: ${e.reason}`;
    case 'guest-stale':
      return `${at} '${e.guest}' has no successful backup for longer than its schedule expects`;
    case 'maintenance-finished':
      return `${at} maintenance ${e.ok ? 'ok' : 'FAILED'}: forgot ${e.forgotten}, freed ${e.freedBytes} bytes${e.error ? `: ${e.error}` : ''}`;
  }
}

/** `daemon`: the engine headless with the scheduler, until SIGTERM / SIGINT. */
export const daemonCommand: CommandModule = (program, ctx) => {
  program
    .command('daemon')
    .description('run the engine headless with the scheduler (what the boot service starts); stops on SIGTERM')
    .option('--catch-up-grace <hours>', 'catch up missed runs at most this many hours late (default 24)')
    .action(async (o: { catchUpGrace?: string }) => {
      let graceMs: number | undefined;
      if (o.catchUpGrace !== undefined) {
        const h = Number(o.catchUpGrace);
        if (!Number.isFinite(h) || h < 0 || h > 24 * 30) ctx.usage(`invalid --catch-up-grace '${o.catchUpGrace}': hours from 0 to 720`);
        graceMs = h * 3_600_000;
      }
      const engine = await ctx.engine({ schedulerOwner: 'this' });
      if (graceMs !== undefined) (engine.context.options as Record<string, unknown>).catchUpGraceMs = graceMs;
      const svc = getSchedulerService(engine.context);
      const stopLog = svc.onEvent((e) => ctx.io.stdout(`${describeEvent(e)}\n`));
      const r = svc.start({ role: 'daemon' });
      if (!r.started) {
        stopLog();
        const h = r.holder!;
        throw new AppError('REPO_LOCKED', `another process already runs the scheduler of this repository (pid ${h.pid} on ${h.host}, ${h.role}, since ${h.startedAt}); stop it first`, {
          details: { ...h },
        });
      }
      const schedules = await engine.service.call('schedules.list', {});
      ctx.io.stdout(`twinsnap daemon running (pid ${process.pid}); repository ${engine.context.config().repository}; ${schedules.length} schedule(s)\n`);
      for (const s of schedules) ctx.io.stdout(`  ${s.guest}: next ${s.nextRuns[0] ?? 'never'}\n`);
      const signal = await new Promise<string>((resolve) => {
        const on = (sig: string) => () => resolve(sig);
        process.once('SIGTERM', on('SIGTERM'));
        process.once('SIGINT', on('SIGINT'));
      });
      ctx.io.stdout(`${signal} received: stopping the scheduler (running backups are cancelled and cleaned up)\n`);
      await svc.stop();
      stopLog();
      ctx.io.stdout('twinsnap daemon stopped\n');
    });
};
