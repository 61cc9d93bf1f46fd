import { rebuildCatalog, syncCatalog } from '../repository/repository.js';
import type { HandlerFactory } from './handlers.js';
import { getCatalog, getRepository, getSyncedRepository } from './repository-access.js';

/** Key of the last repository verify in the catalog's settings table. */
const LAST_VERIFY = 'repository.lastVerify';

/**
 * snapshots.list/verify, retention.*, repository.stats/verify/gc, catalog.rebuild — the
 * repository and catalog as the contract exposes them.
 */
export const repositoryHandlers: HandlerFactory = (ctx) => ({
  'snapshots.list': async ({ guest }) => {
    const { catalog } = await getSyncedRepository(ctx);
    return catalog.snapshots.list(guest ? { guest } : {});
  },
  'snapshots.verify': async ({ snapshotId, full }) => {
    const repo = await getRepository(ctx);
    await repo.readManifest(snapshotId).catch((e) => {
      if ((e as { code?: string }).code === 'SNAPSHOT_NOT_FOUND') throw e;
    });
    const r = await repo.verify({ full: full ?? false, snapshotIds: [snapshotId] });
    const at = new Date(ctx.clock.now()).toISOString();
    getCatalog(ctx).snapshots.setVerify(snapshotId, { ok: r.ok, at });
    return { ok: r.ok, damaged: r.damaged };
  },
  'retention.get': async ({ guest }) => ({ guest, policy: getCatalog(ctx).retention.get(guest) ?? {} }),
  'retention.set': async ({ guest, policy }) => {
    getCatalog(ctx).retention.set(guest, policy);
    return { guest, policy };
  },
  'retention.preview': async ({ guest, policy }) => (await getRepository(ctx)).previewRetention(guest, policy),
  'retention.apply': async ({ guest, policy }) => {
    const repo = await getRepository(ctx);
    const r = await repo.applyRetention(guest, policy);
    await syncCatalog(repo, getCatalog(ctx));
    ctx.emit('snapshots.changed', { guest });
    return r;
  },
  'repository.stats': async () => {
    const s = await (await getRepository(ctx)).stats();
    const lastVerify = getCatalog(ctx).settings.get<{ at: string; ok: boolean; damaged: string[] }>(LAST_VERIFY);
    return { ...s, ...(lastVerify ? { lastVerify } : {}) };
  },
  'repository.verify': async ({ full }) => {
    const r = await (await getRepository(ctx)).verify({ full: full ?? false });
    getCatalog(ctx).settings.set(LAST_VERIFY, { at: new Date(ctx.clock.now()).toISOString(), ok: r.ok, damaged: r.damaged });
    return { ok: r.ok, damaged: r.damaged, checkedChunks: r.checkedChunks };
  },
  'repository.gc': async () => {
    const r = await (await getRepository(ctx)).gc();
    return { removedChunks: r.removedChunks, freedBytes: r.freedBytes };
  },
  'catalog.rebuild': async () => ({ snapshots: await rebuildCatalog(await getRepository(ctx), getCatalog(ctx)) }),
});
