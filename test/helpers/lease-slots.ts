import type { SnapshotDisk } from '../../electron/engine/repository/snapshot/snapshot-disk.js';

/**
 * Waits until a snapshot disk's lease pool has every slot free again (loads still running finish
 * first); throws with the disk's lease stats when some slot never comes back.
 */
export async function allSlotsFree(disk: SnapshotDisk): Promise<void> {
  for (let t = 0; t < 200; t++) {
    const s = disk.leaseStats;
    if (s.poolSlots !== undefined && s.poolFree === s.poolSlots && s.slotsInUse === 0) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`slots still in use: ${JSON.stringify(disk.leaseStats)}`);
}
