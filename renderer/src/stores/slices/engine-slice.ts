import type { EngineStatus } from '../../../../shared/domain/engine.js';
import type { ConnectionState } from '../../api/ws-bridge.js';
import { idle, loaded, track, type Loadable } from '../loadable.js';
import type { SliceCreator } from './types.js';

/** Engine status and the connection to it. */
export interface EngineSlice {
  connection: ConnectionState;
  status: Loadable<EngineStatus>;
  refreshStatus(): Promise<void>;
  setConnection(c: ConnectionState): void;
  applyStatus(s: EngineStatus): void;
}

/** Creates the engine slice. */
export const createEngineSlice: SliceCreator<EngineSlice> = (deps) => (set, get) => ({
  connection: 'connecting',
  status: idle(),
  async refreshStatus() {
    await track(
      () => get().status,
      (status) => set({ status }),
      () => deps.engine['engine.status']({}),
    );
  },
  setConnection(connection) {
    set({ connection });
  },
  applyStatus(s) {
    set({ status: loaded(s, deps.now?.()) });
  },
});
