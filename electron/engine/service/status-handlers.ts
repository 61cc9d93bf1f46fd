import { AppError } from '../../../shared/errors/app-error.js';
import type { EngineStatus } from '../../../shared/domain/engine.js';
import { configSchema, toSettings, withoutPassword } from '../core/config.js';
import { SMTP_PASSWORD } from '../core/secrets.js';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { RepoLayout } from '../repository/repository.js';
import type { HandlerFactory } from './handlers.js';

/** engine.status, settings.get/set. */
export const statusHandlers: HandlerFactory = (ctx) => {
  const startedAt = new Date(ctx.clock.now()).toISOString();
  const schedulerOwner = (): EngineStatus['schedulerOwner'] => {
    const svc = ctx.scheduler;
    return svc.running() ? 'this' : svc.holder() ? 'other' : 'none';
  };
  return {
    'engine.status': async () => {
      const hypervisors = await Promise.all(ctx.hypervisors.map((h) => h.detect()));
      const status: EngineStatus = {
        version: ctx.version,
        state: 'ready',
        dataDir: ctx.dataDir,
        repository: ctx.config().repository,
        logFile: join(ctx.dataDir, 'logs', 'engine.log'),
        hypervisors,
        runningJobs: ctx.jobs.runningCount(),
        startedAt,
        schedulerOwner: schedulerOwner(),
      };
      const recovered = ctx.store.recovery();
      if (recovered) status.catalogRecovered = recovered;
      return status;
    },
    'settings.get': async () => toSettings(ctx.config(), ctx.secrets),
    'settings.set': async ({ patch }) => {
      const cur = ctx.config();
      const next = { ...cur, ...patch, notifications: { ...cur.notifications, ...(patch.notifications ?? {}) } };
      const parsed = configSchema.safeParse(next);
      if (!parsed.success) throw new AppError('CONFIG_INVALID', `invalid settings: ${parsed.error.issues[0]?.message}`);
      // A folder that holds no repository is never saved as the repository (the default one is
      // created on first use): create or connect it with repository.create / repository.connect.
      const repo = resolve(parsed.data.repository);
      if (repo !== resolve(cur.repository) && repo !== resolve(join(ctx.dataDir, 'repository')) && !existsSync(new RepoLayout(repo).config)) {
        throw new AppError('REPO_NOT_FOUND', `'${repo}' holds no twinsnap repository: create one there or connect an existing one (Settings → Repository, or twinsnap repository init / connect)`, {
          details: { field: 'repository' },
        });
      }
      // the password is write-only: it goes to the secret store, never into config.json; an
      // e-mail block without one keeps the stored password, no e-mail block removes it
      const email = parsed.data.notifications.email;
      if (email?.password !== undefined) ctx.secrets.set(SMTP_PASSWORD, email.password || undefined);
      else if (!email) ctx.secrets.set(SMTP_PASSWORD, undefined);
      const saved = withoutPassword(parsed.data);
      ctx.updateConfig(saved);
      return toSettings(saved, ctx.secrets);
    },
  };
};
