import { hostname } from 'node:os';
import type { ServiceStatus } from '../../../shared/domain/engine.js';
import { syncCatalog } from '../repository/repository.js';
import { SchedulerLock, processAlive } from '../scheduler/scheduler-lock.js';
import type { HandlerFactory } from './handlers.js';
import { getCatalog, getRepository } from './repository-access.js';
import { getSchedulerService } from './schedule-handlers.js';

/**
 * snapshots.forget (one restore point, chosen by the user in the snapshot panel) and
 * service.status (who runs the scheduler: the background service, this process, or nobody).
 *
 * Forget goes through the repository's own `forget` — the same machinery retention uses — so a
 * point being read (restore, file browser) is refused with REPO_LOCKED and nothing is half
 * deleted; the chunks it alone referenced stay until the next GC.
 */
export const snapshotAdminHandlers: HandlerFactory = (ctx) => ({
  'snapshots.forget': async ({ snapshotId }) => {
    const repo = await getRepository(ctx);
    const manifest = await repo.readManifest(snapshotId);
    const { forgotten } = await repo.forget([snapshotId]);
    if (!forgotten.includes(snapshotId)) {
      // Gone meanwhile (another process forgot it): nothing left to do, say so.
      await syncCatalog(repo, getCatalog(ctx));
      return { snapshotId, guest: manifest.guest, forgotten: false };
    }
    await syncCatalog(repo, getCatalog(ctx));
    ctx.logger.info('snapshot forgotten by the user', { snapshotId, guest: manifest.guest });
    ctx.emit('snapshots.changed', { guest: manifest.guest });
    return { snapshotId, guest: manifest.guest, forgotten: true };
  },
  'service.status': async () => {
    const repository = ctx.config().repository;
    const svc = getSchedulerService(ctx);
    const held = SchedulerLock.read(repository);
    if (svc.running()) return { owner: 'this', repository, ...(held ? { holder: { ...held, alive: true } } : {}) } satisfies ServiceStatus;
    if (!held) return { owner: 'none', repository } satisfies ServiceStatus;
    const alive = held.host !== hostname() || processAlive(held.pid);
    return { owner: alive ? 'other' : 'none', repository, holder: { ...held, alive } } satisfies ServiceStatus;
  },
});

