import type { StateCreator } from 'zustand/vanilla';
import type { EngineClient } from '../../../../shared/ipc/contract.js';
import type { EngineSlice } from './engine-slice.js';
import type { GuestsSlice } from './guests-slice.js';
import type { JobsSlice } from './jobs-slice.js';
import type { RetentionSlice } from './retention-slice.js';
import type { SnapshotsSlice } from './snapshots-slice.js';
import type { UiSlice } from './ui-slice.js';

/** The whole renderer state: one store made of slices. */
export type AppState = EngineSlice & GuestsSlice & JobsSlice & SnapshotsSlice & RetentionSlice & UiSlice;

/** What slices need from outside. */
export interface StoreDeps {
  engine: EngineClient;
  /** Epoch ms; injectable for tests. */
  now?: () => number;
}

/** A slice creator over the whole state. */
export type SliceCreator<S> = (deps: StoreDeps) => StateCreator<AppState, [], [], S>;
