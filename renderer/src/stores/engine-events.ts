import type { ConnectedBridge } from '../api/ws-bridge.js';
import type { AppStore } from './app-store.js';

/**
 * Wires engine events and the connection state into the store (module-level actions, no hooks).
 * On (re)connect it reloads everything a page may show, so a reopened window sees running jobs
 * as they are. Returns a function that unsubscribes everything.
 */
export function connectEngineEvents(store: AppStore, bridge: ConnectedBridge): () => void {
  const s = () => store.getState();
  const reloadAll = () => {
    void s().refreshStatus();
    void s().refreshGuests();
    void s().refreshJobs();
    void s().refreshSnapshots();
    void s().refreshSchedules();
  };
  const offs = [
    bridge.on('engine.status', (st) => s().applyStatus(st)),
    bridge.on('jobs.progress', (p) => s().applyProgress(p)),
    bridge.on('jobs.finished', (j) => {
      s().applyFinished(j);
      void s().refreshStatus();
      if (j.kind === 'backup' || j.kind === 'forget' || j.kind === 'import') void s().refreshSnapshots();
    }),
    bridge.on('snapshots.changed', () => void s().refreshSnapshots()),
    bridge.onConnection((c) => {
      const was = s().connection;
      s().setConnection(c);
      if (c === 'open' && was !== 'open') reloadAll();
    }),
  ];
  s().setConnection(bridge.connection());
  if (bridge.connection() === 'open') reloadAll();
  return () => offs.forEach((off) => off());
}
