import { terminalSafe } from '../terminal-text.js';
import { chmodSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AppError } from '../../../shared/errors/app-error.js';
import { startServer, type RunningServer } from '../../server/serve.js';
import type { SchedulerEvent } from '../../engine/engine.js';
import type { CommandModule } from '../cli-context.js';
import { defaultRendererDir } from './serve.js';
import { disablePasswordPrompt } from '../password.js';

/** File in the data folder where a serving daemon publishes how clients reach it (mode 0600). */
export const DAEMON_ENDPOINT_FILE = 'daemon.json';

/** What `daemon.json` holds: the app reads it to become a client of the running daemon. */
export interface DaemonEndpoint {
  pid: number;
  url: string;
  token: string;
  repository: string;
  startedAt: string;
}

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
    .option('--catch-up-grace <hours>', 'catch up missed runs at most this many hours late (default: config.json scheduler.catchUpGraceHours, 24)')
    .option('--serve', `also serve the contract (and UI) on loopback; the URL and token go to <data dir>/${DAEMON_ENDPOINT_FILE} so the app can become a client`)
    .option('--port <n>', 'port for --serve (default: any free port)', '0')
    .action(async (o: { catchUpGrace?: string; serve?: boolean; port: string }) => {
      const port = Number(o.port);
      if (!Number.isInteger(port) || port < 0 || port > 65535) ctx.usage(`invalid --port '${o.port}'`);
      let graceMs: number | undefined;
      if (o.catchUpGrace !== undefined) {
        const h = Number(o.catchUpGrace);
        if (!Number.isFinite(h) || h < 0 || h > 24 * 30) ctx.usage(`invalid --catch-up-grace '${o.catchUpGrace}': hours from 0 to 720`);
        graceMs = h * 3_600_000;
      }
      disablePasswordPrompt();
      const engine = await ctx.engine(graceMs !== undefined ? { catchUpGraceMs: graceMs } : {});
      const stopLog = engine.onSchedulerEvent((e) => ctx.io.stdout(`${terminalSafe(describeEvent(e))}\n`));
      let server: RunningServer | undefined;
      const endpointFile = join(engine.dataDir, DAEMON_ENDPOINT_FILE);
      if (o.serve) server = await startServer({ engine, rendererDir: defaultRendererDir(), host: '127.0.0.1', port });
      // The lock (in the repository folder) names the endpoint without its token.
      const base = server ? `http://${server.host.includes(':') ? `[${server.host}]` : server.host}:${server.port}/` : undefined;
      const r = engine.startScheduler('daemon', base);
      if (!r.started) {
        stopLog();
        await server?.close();
        const h = r.holder!;
        throw new AppError('REPO_LOCKED', `another process already runs the scheduler of this repository (pid ${h.pid} on ${h.host}, ${h.role}, since ${h.startedAt}); stop it first`, {
          details: { ...h },
        });
      }
      const { repository } = await engine.service.call('settings.get', {});
      if (server) {
        const ep: DaemonEndpoint = { pid: process.pid, url: server.url, token: server.token, repository, startedAt: new Date().toISOString() };
        writeFileSync(endpointFile, `${JSON.stringify(ep, null, 2)}\n`, { mode: 0o600 });
        chmodSync(endpointFile, 0o600);
        // Never log the token (service logs are widely readable); it is only in the 0600 file.
        ctx.io.stdout(`serving the contract at ${base} (URL with token in ${endpointFile})\n`);
      }
      const schedules = await engine.service.call('schedules.list', {});
      ctx.io.stdout(`twinsnap daemon running (pid ${process.pid}); repository ${repository}; ${schedules.length} schedule(s)\n`);
      for (const s of schedules) ctx.io.stdout(`  ${terminalSafe(s.guest)}: next ${s.nextRuns[0] ?? 'never'}\n`);
      const signal = await new Promise<string>((resolve) => {
        const on = (sig: string) => () => resolve(sig);
        process.once('SIGTERM', on('SIGTERM'));
        process.once('SIGINT', on('SIGINT'));
      });
      ctx.io.stdout(`${signal} received: stopping the scheduler (running backups are cancelled and cleaned up)\n`);
      await engine.stopScheduler();
      if (server) {
        rmSync(endpointFile, { force: true });
        await server.close();
      }
      stopLog();
      ctx.io.stdout('twinsnap daemon stopped\n');
    });
};
