import { hostname } from 'node:os';
import type { ServiceStatus } from '../../../shared/domain/engine.js';
import { manifestGuestId, syncCatalog } from '../repository/repository.js';
import { queryBootService, withDaemonLockEvidence } from '../scheduler/boot-service-query.js';
import { SchedulerLock, processAlive } from '../scheduler/scheduler-lock.js';
import type { HandlerFactory } from './handlers.js';
import { runAsJob } from './job-traces.js';
import { pointWords } from './repository-handlers.js';

/**
 * snapshots.forget (one restore point, chosen by the user in the snapshot panel) and
 * service.status (who runs the scheduler: the background service, this process, or nobody; and
 * whether the boot service is installed / enabled / running, asked from systemd or Task Scheduler).
 *
 * Forget goes through the repository's own `forget` — the same machinery retention uses — so a
 * point being read (a restore, a file read or extract in flight, another process) is refused
 * with REPO_LOCKED and nothing is half deleted; this engine's idle file-browser session of the
 * point is closed first, so forgetting right after browsing works. The chunks it alone
 * referenced stay until the next GC.
 */
export const snapshotAdminHandlers: HandlerFactory = (ctx) => ({
  'snapshots.forget': async ({ snapshotId }) => {
    const repo = await ctx.store.repository();
    const manifest = await repo.readManifest(snapshotId);
    const point = pointWords({ snapshotId, guest: manifest.guest, time: manifest.time });
    const guestId = ctx.store.catalog().guests.canonical(manifestGuestId(manifest));
    return runAsJob(
      ctx,
      { kind: 'forget', trigger: 'manual', guest: manifest.guest, guestId, label: 'Forget a restore point' },
      async () => {
        // The file browser keeps a point open ~60 s after the last listing: let go of our own idle
        // session first. One in use (a read, a restore) keeps its lock and forget refuses below.
        await ctx.browsing.closeIdle(snapshotId);
        const { forgotten } = await repo.forget([snapshotId]);
        if (!forgotten.includes(snapshotId)) {
          // Gone meanwhile (another process forgot it): nothing left to do, say so.
          await syncCatalog(repo, ctx.store.catalog());
          return { snapshotId, guest: manifest.guest, guestId, forgotten: false };
        }
        await syncCatalog(repo, ctx.store.catalog());
        ctx.logger.info('snapshot forgotten by the user', { snapshotId, guest: manifest.guest });
        ctx.emit('snapshots.changed', { guest: manifest.guest, guestId });
        return { snapshotId, guest: manifest.guest, guestId, forgotten: true };
      },
      (r) => ({ detail: r.forgotten ? `forgot ${point}; its space is freed by the next gc` : `${point} was already gone` }),
    );
  },
  'service.status': async () => {
    const repository = ctx.config().repository;
    const svc = ctx.scheduler;
    const [lock, boot] = await Promise.all([lockStatus(repository, svc.running()), queryBootService()]);
    return { ...lock, bootService: withDaemonLockEvidence(boot, lock.holder, hostname()) };
  },
});

/** Who holds the repository's scheduler lock (this process, another live one, or nobody / a stale holder). */
function lockStatus(repository: string, runningHere: boolean): ServiceStatus {
  const held = SchedulerLock.read(repository);
  if (runningHere) return { owner: 'this', repository, ...(held ? { holder: { ...held, alive: true } } : {}) };
  if (!held) return { owner: 'none', repository };
  const alive = held.host !== hostname() || processAlive(held.pid);
  return { owner: alive ? 'other' : 'none', repository, holder: { ...held, alive } };
}
