import { createStore, type StoreApi } from 'zustand/vanilla';
import { createEngineSlice } from './slices/engine-slice.js';
import { createGuestsSlice } from './slices/guests-slice.js';
import { createJobsSlice } from './slices/jobs-slice.js';
import { createRetentionSlice } from './slices/retention-slice.js';
import { createSnapshotsSlice } from './slices/snapshots-slice.js';
import type { AppState, StoreDeps } from './slices/types.js';
import { createUiSlice } from './slices/ui-slice.js';

export type { AppState, StoreDeps } from './slices/types.js';

/** The renderer's single store. */
export type AppStore = StoreApi<AppState>;

/** Creates the one zustand store of the renderer from its slices (one per app, or per test). */
export function createAppStore(deps: StoreDeps): AppStore {
  return createStore<AppState>()((...a) => ({
    ...createEngineSlice(deps)(...a),
    ...createGuestsSlice(deps)(...a),
    ...createJobsSlice(deps)(...a),
    ...createSnapshotsSlice(deps)(...a),
    ...createRetentionSlice(deps)(...a),
    ...createUiSlice(deps)(...a),
  }));
}
