import type { Catalog } from '../catalog/catalog.js';
import type { Repository } from './repository.js';
import { toSummary } from './snapshot/manifest.js';

/**
 * Makes the catalog's snapshot cache match the repository: adds snapshots it lacks (reading
 * only their manifests) and drops ids the repository no longer has. Cheap when nothing changed
 * (one directory listing). Returns the number of changes.
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
  return changes;
}

/**
 * Recreates the catalog's snapshot tables from the repository alone, in one transaction (a
 * killed rebuild leaves the previous catalog intact). Returns the number of snapshots.
 */
export async function rebuildCatalog(repo: Repository, cat: Catalog): Promise<number> {
  const all = await repo.listSnapshots();
  cat.snapshots.replaceAll(all);
  return all.length;
}
