import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { startServer, isLoopback } from '../../server/serve.js';
import type { CommandModule } from '../cli-context.js';
import { disablePasswordPrompt } from '../password.js';

/** Where the built renderer lives (dist/renderer, made by `npm run build` / `prepare`). */
export function defaultRendererDir(): string {
  return fileURLToPath(new URL('../../../dist/renderer', import.meta.url));
}

/** `serve`: the UI in a browser, the contract over a WebSocket. */
export const serveCommand: CommandModule = (program, ctx) => {
  program
    .command('serve')
    .description('serve the UI over HTTP on loopback with a random access token (headless hosts, browsers)')
    .option('--port <n>', 'port (0 = any free port)', '0')
    .option('--host <host>', 'address to bind (default 127.0.0.1; anything else is reachable from the network)')
    .option('--renderer-dir <dir>', 'built renderer folder', defaultRendererDir())
    .option('--no-scheduler', 'do not run scheduled backups in this process')
    .action(async (o: { port: string; host?: string; rendererDir: string; scheduler: boolean; noScheduler?: boolean }) => {
      o.noScheduler = o.scheduler === false;
      const port = Number(o.port);
      if (!Number.isInteger(port) || port < 0 || port > 65535) ctx.usage(`invalid --port '${o.port}'`);
      if (!existsSync(o.rendererDir)) ctx.usage(`the UI is not built ('${o.rendererDir}' is missing): run 'npm run build'`);
      const host = o.host ?? '127.0.0.1';
      if (!isLoopback(host)) {
        ctx.io.stderr(`warning: binding ${host} makes TwinSnap reachable from the network; anyone with the URL's token can control backups\n`);
      }
      disablePasswordPrompt();
      const engine = await ctx.engine();
      if (!o.noScheduler) engine.startScheduler('serve');
      const server = await startServer({ engine, rendererDir: o.rendererDir, host, port });
      if (ctx.globals().json) ctx.io.stdout(`${JSON.stringify({ url: server.url, port: server.port, host })}\n`);
      else ctx.io.stdout(`TwinSnap is serving at ${server.url}\n`);
      await new Promise<void>((resolve) => {
        const stop = () => resolve();
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
      await server.close();
    });
};
