import type { DamagedPoint } from '../../../shared/domain/snapshot.js';
import { rebuildCatalog, syncCatalog, type RetentionTarget } from '../repository/repository.js';
import type { RecordingDeps } from './engine-context.js';
import type { ResolvedGuest } from './guest-directory.js';
import type { HandlerFactory } from './handlers.js';
import { runAsJob } from './job-traces.js';

/** Key of the last repository verify in the catalog's settings table. */
export const LAST_VERIFY = 'repository.lastVerify';

/** What retention works on: the guest's id and the `name:` ids adopted into it (older manifests). */
export function retentionTarget(g: ResolvedGuest): RetentionTarget {
  return { guestId: g.id, guest: g.name, aliases: g.aliases };
}

/** A damaged restore point as people name it: guest and time (the id for commands). */
export type NamedPoint = DamagedPoint;

/**
 * After a verify: each damaged point is marked damaged in the catalog (calendar, drawer, restore
 * wizard and guests page show it) and named by guest and time.
 */
export function markDamaged(ctx: RecordingDeps, damaged: string[]): NamedPoint[] {
  const catalog = ctx.store.catalog();
  const at = new Date(ctx.clock.now()).toISOString();
  const points = damaged.map((id) => {
    const s = catalog.snapshots.get(id);
    if (s) catalog.snapshots.setVerify(id, { ok: false, at });
    return { snapshotId: id, ...(s ? { guest: s.guest, guestId: s.guestId, time: s.time } : {}) };
  });
  // every open view reloads the points and shows them damaged
  const changed = new Map(points.filter((p) => p.guestId).map((p) => [p.guestId!, p.guest!]));
  for (const [guestId, guest] of changed) ctx.emit('snapshots.changed', { guest, guestId });
  return points;
}

/** "Ledger at 2026-12-07 14:02 UTC (id …)" for job details and logs. */
export function pointWords(p: NamedPoint): string {
  return p.guest && p.time ? `${p.guest} at ${p.time.slice(0, 16).replace('T', ' ')} UTC (${p.snapshotId})` : p.snapshotId;
}

/** The verify job's detail: what was damaged and what to do. */
export function verifyDetail(points: NamedPoint[]): { detail: string; status?: 'failed' } {
  if (!points.length) return { detail: 'every restore point checked is intact' };
  return {
    status: 'failed',
    detail: `damaged restore point(s): ${points.map(pointWords).join('; ')}. Forget the damaged point(s) and take a new backup now`,
  };
}

/**
 * snapshots.list/verify, retention.*, repository.stats/verify/gc, catalog.rebuild — the
 * repository and catalog as the contract exposes them.
 */
export const repositoryHandlers: HandlerFactory = (ctx) => ({
  'snapshots.list': async ({ guest, source }) => {
    if (source === 'offsite') {
      // the offsite copy's own manifests (read-only, through its cache): what a restore from it can use
      const all = await (await ctx.store.repositoryFor('offsite')).listSnapshots();
      if (!guest) return all;
      const id = (await ctx.guests.resolve(guest)).id;
      return all.filter((s) => s.guestId === id);
    }
    const { catalog } = await ctx.store.synced();
    if (!guest) return catalog.snapshots.list();
    return catalog.snapshots.list({ guestId: (await ctx.guests.resolve(guest)).id });
  },
  'snapshots.verify': async ({ snapshotId, full }) => {
    const repo = await ctx.store.repository();
    const guest = await repo.readManifest(snapshotId).then(
      (m) => m.guest,
      (e) => {
        if ((e as { code?: string }).code === 'SNAPSHOT_NOT_FOUND') throw e;
        return ctx.store.catalog().snapshots.get(snapshotId)?.guest;
      },
    );
    return runAsJob(
      ctx,
      { kind: 'verify', trigger: 'manual', label: 'Verify a restore point', ...(guest ? { guest } : {}) },
      async () => {
        const r = await repo.verify({ full: full ?? false, snapshotIds: [snapshotId] });
        const at = new Date(ctx.clock.now()).toISOString();
        ctx.store.catalog().snapshots.setVerify(snapshotId, { ok: r.ok, at });
        return { ok: r.ok, damaged: r.damaged, damagedPoints: markDamaged(ctx, r.damaged) };
      },
      (r) => verifyDetail(r.damagedPoints),
    );
  },
  'retention.get': async ({ guest }) => {
    const g = await ctx.guests.resolve(guest);
    return { guestId: g.id, guest: g.name, policy: ctx.store.catalog().retention.get(g.id) ?? {} };
  },
  'retention.set': async ({ guest, policy }) => {
    const g = await ctx.guests.resolve(guest, { record: true });
    ctx.store.catalog().retention.set(g.id, g.name, policy);
    return { guestId: g.id, guest: g.name, policy };
  },
  'retention.preview': async ({ guest, policy }) => (await ctx.store.repository()).previewRetention(retentionTarget(await ctx.guests.resolve(guest)), policy),
  'retention.apply': async ({ guest, policy }) => {
    const g = await ctx.guests.resolve(guest);
    return runAsJob(
      ctx,
      { kind: 'forget', trigger: 'manual', guest: g.name, guestId: g.id, label: `Apply the retention policy of ${g.name}` },
      async () => {
        const repo = await ctx.store.repository();
        const r = await repo.applyRetention(retentionTarget(g), policy);
        await syncCatalog(repo, ctx.store.catalog());
        ctx.emit('snapshots.changed', { guest: g.name, guestId: g.id });
        return r;
      },
      (r) => ({ detail: r.forgetCount ? `${r.forgetCount} restore point(s) of ${g.name} forgotten` : 'nothing to forget' }),
    );
  },
  'repository.stats': async () => {
    const s = await (await ctx.store.repository()).stats();
    const lastVerify = ctx.store.catalog().settings.get<{ at: string; ok: boolean; damaged: string[]; damagedPoints?: NamedPoint[] }>(LAST_VERIFY);
    return { ...s, ...(lastVerify ? { lastVerify } : {}) };
  },
  'repository.verify': async ({ full }) =>
    runAsJob(
      ctx,
      { kind: 'verify', trigger: 'manual', label: full ? 'Verify the repository (every chunk)' : 'Verify the repository (light)' },
      () => verifyRepository(ctx, full ?? false),
      (r) => verifyDetail(r.damagedPoints),
    ),
  'repository.gc': async () =>
    runAsJob(
      ctx,
      { kind: 'gc', trigger: 'manual', label: 'Free unused space (gc)' },
      async () => {
        const r = await (await ctx.store.repository()).gc();
        return { removedChunks: r.removedChunks, freedBytes: r.freedBytes };
      },
      (r) => ({ detail: `${r.removedChunks} unused chunk(s) removed, ${Math.round(r.freedBytes / 1048576)} MiB freed` }),
    ),
  'catalog.rebuild': async () => ({ snapshots: await rebuildCatalog(await ctx.store.repository(), ctx.store.catalog()) }),
});

/** A repository verify whose damaged points are marked and named, and remembered as the last verify. */
export async function verifyRepository(ctx: RecordingDeps, full: boolean): Promise<{ ok: boolean; damaged: string[]; damagedPoints: NamedPoint[]; checkedChunks: number }> {
  const r = await (await ctx.store.repository()).verify({ full });
  const damagedPoints = markDamaged(ctx, r.damaged);
  ctx.store.catalog().settings.set(LAST_VERIFY, { at: new Date(ctx.clock.now()).toISOString(), ok: r.ok, damaged: r.damaged, damagedPoints });
  return { ok: r.ok, damaged: r.damaged, damagedPoints, checkedChunks: r.checkedChunks };
}
