import type { SnapshotSummary } from '../../../../shared/domain/snapshot.js';
import { idle, track, type Loadable } from '../loadable.js';
import type { SliceCreator } from './types.js';

/** Restore points of every guest. */
export interface SnapshotsSlice {
  snapshots: Loadable<SnapshotSummary[]>;
  refreshSnapshots(): Promise<void>;
}

/** Creates the snapshots slice. */
export const createSnapshotsSlice: SliceCreator<SnapshotsSlice> = (deps) => (set, get) => ({
  snapshots: idle(),
  async refreshSnapshots() {
    await track(
      () => get().snapshots,
      (snapshots) => set({ snapshots }),
      () => deps.engine['snapshots.list']({}),
    );
  },
});
