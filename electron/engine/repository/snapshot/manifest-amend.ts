import { AppError } from '../../../../shared/errors/app-error.js';
import type { BootVerification } from '../../../../shared/domain/snapshot.js';
import { writeFileAtomic } from '../fs-util.js';
import { readObject, sealObject, snapshotObjectName } from '../crypto/sealed-files.js';
import { isSnapshotId, type RepoLayout } from '../layout.js';
import { decodeManifest, encodeManifest, type Manifest } from './manifest.js';

/**
 * Records a boot verification in a committed snapshot's manifest. The verification boots the
 * archived state, so it can only run once the snapshot is stored; the manifest is rewritten
 * atomically (temp file, fsync, rename) with a fresh digest — its disks, indexes and chunks are
 * untouched, and a crash leaves either the old or the new manifest. Only the backup job that made
 * the snapshot calls this, once. Returns the new manifest. SNAPSHOT_NOT_FOUND when the snapshot
 * is gone (forgotten meanwhile).
 */
export async function recordBootVerification(layout: RepoLayout, id: string, result: BootVerification): Promise<Manifest> {
  if (!isSnapshotId(id)) throw new AppError('SNAPSHOT_NOT_FOUND', `no snapshot '${id}'`);
  const file = layout.manifest(id);
  let text: string;
  try {
    text = (await readObject(layout, 'manifest', snapshotObjectName(id, 'manifest.json'), file)).toString('utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new AppError('SNAPSHOT_NOT_FOUND', `snapshot '${id}' no longer exists: its boot verification was not recorded`);
    throw e;
  }
  const next: Manifest = { ...decodeManifest(text, id), bootVerify: { ...result } };
  await writeFileAtomic(file, sealObject(layout, 'manifest', snapshotObjectName(id, 'manifest.json'), encodeManifest(next)), `recording the boot verification of snapshot '${id}'`);
  return next;
}
