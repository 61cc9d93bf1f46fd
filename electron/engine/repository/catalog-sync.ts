import { nameGuestId, parseGuestId, type GuestId } from '../../../shared/domain/guest-id.js';
import type { Catalog } from '../catalog/catalog.js';
import type { Repository } from './repository.js';
import { toSummary } from './snapshot/manifest.js';

/**
 * Makes the catalog's snapshot cache match the repository: adds snapshots it lacks (reading
 * only their manifests) and drops ids the repository no longer has. Cheap when nothing changed
 * (one directory listing; manifests written before guest ids are looked at only while the
 * catalog still keeps a guest by name, see {@link adoptRecoveredGuests}). Returns the number of changes.
 */
export async function syncCatalog(repo: Repository, cat: Catalog): Promise<number> {
  const inRepo = await repo.snapshotIds();
  const have = new Set(cat.snapshots.ids());
  const repoSet = new Set(inRepo);
  let changes = 0;
  for (const id of inRepo) {
    if (have.has(id)) continue;
    try {
      cat.snapshots.upsert(toSummary(await repo.readManifest(id)));
      changes++;
    } catch {
      // damaged manifest: verify reports it
    }
  }
  for (const id of have) {
    if (!repoSet.has(id)) {
      cat.snapshots.delete(id);
      changes++;
    }
  }
  if (cat.guests.list().some((g) => parseGuestId(g.id)?.kind === 'name')) changes += await adoptRecoveredGuests(repo, cat);
  return changes;
}

/**
 * Recreates the catalog's snapshot tables from the repository alone, in one transaction (a
 * killed rebuild leaves the previous catalog intact). Returns the number of snapshots.
 */
export async function rebuildCatalog(repo: Repository, cat: Catalog): Promise<number> {
  const all = await repo.listSnapshots();
  cat.snapshots.replaceAll(all);
  await adoptRecoveredGuests(repo, cat);
  return all.length;
}

/**
 * Brings the catalog in line with the guest ids recovered for manifests written before guest ids
 * (`Repository.oldManifestGuests`): their rows that an older catalog keyed by name move to the
 * recovered id, and a name whose old points all recovered one id is adopted into it
 * (`guests.adopt`), so the schedule, retention policy and jobs kept under the name follow its
 * history. A name whose points recovered several ids, or none, is left as it is (the live VM of
 * that name adopts it, as before); so is a name already adopted into some id. Returns the number of rows moved.
 */
export async function adoptRecoveredGuests(repo: Repository, cat: Catalog): Promise<number> {
  const old = await repo.oldManifestGuests();
  let moved = 0;
  const idsOfName = new Map<string, Set<GuestId>>();
  for (const [snapshotId, o] of old) {
    idsOfName.set(o.guest, (idsOfName.get(o.guest) ?? new Set()).add(o.guestId ?? nameGuestId(o.guest)));
    if (!o.guestId) continue;
    const row = cat.snapshots.get(snapshotId);
    if (!row || row.guestId === cat.guests.canonical(o.guestId)) continue;
    try {
      cat.snapshots.upsert(toSummary(await repo.readManifest(snapshotId)));
      moved++;
    } catch {
      // forgotten meanwhile
    }
  }
  for (const [name, ids] of idsOfName) {
    const [only] = ids;
    const alias = nameGuestId(name);
    if (ids.size !== 1 || only === alias || cat.guests.canonical(alias) !== alias) continue;
    cat.guests.adopt(alias, only!);
  }
  return moved;
}
