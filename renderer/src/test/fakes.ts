import { AppError } from '../../../shared/errors/app-error.js';
import type { JobInfo } from '../../../shared/domain/job.js';
import type { EngineClient, EngineEvent, EngineEvents } from '../../../shared/ipc/contract.js';
import { requestSchemas, type EngineMethod } from '../../../shared/ipc/schemas.js';
import type { ConnectedBridge, ConnectionState } from '../api/ws-bridge.js';

/**
 * An EngineClient for unit tests: every method throws NOT_IMPLEMENTED unless overridden, and
 * every call is recorded.
 */
export function fakeEngine(overrides: Partial<EngineClient> = {}): EngineClient & { calls: { method: string; req: unknown }[] } {
  const calls: { method: string; req: unknown }[] = [];
  const client = { calls } as unknown as Record<string, unknown>;
  for (const m of Object.keys(requestSchemas) as EngineMethod[]) {
    client[m] = async (req: unknown) => {
      calls.push({ method: m, req });
      const o = overrides[m] as ((r: unknown) => Promise<unknown>) | undefined;
      if (o) return o(req);
      throw new AppError('NOT_IMPLEMENTED', `${m} is not implemented yet`);
    };
  }
  return client as unknown as EngineClient & { calls: { method: string; req: unknown }[] };
}

/** A bridge whose events and connection state the test drives. */
export function fakeBridge() {
  const listeners = new Map<string, Set<(p: unknown) => void>>();
  const conn = new Set<(s: ConnectionState) => void>();
  let state: ConnectionState = 'connecting';
  const bridge: ConnectedBridge = {
    call: async () => ({ ok: false, error: { code: 'NOT_IMPLEMENTED', message: 'fake' } }),
    on(event, fn) {
      let s = listeners.get(event);
      if (!s) listeners.set(event, (s = new Set()));
      s.add(fn as (p: unknown) => void);
      return () => s.delete(fn as (p: unknown) => void);
    },
    connection: () => state,
    onConnection(fn) {
      conn.add(fn);
      return () => conn.delete(fn);
    },
    dispose: () => undefined,
  };
  return {
    bridge,
    emit<E extends EngineEvent>(event: E, payload: EngineEvents[E]) {
      for (const fn of listeners.get(event) ?? []) fn(payload);
    },
    setState(s: ConnectionState) {
      state = s;
      for (const fn of conn) fn(s);
    },
    listenerCount: () => [...listeners.values()].reduce((n, s) => n + s.size, 0),
  };
}

/** A job DTO with defaults. */
export function makeJob(p: Partial<JobInfo> & { id: string }): JobInfo {
  return { kind: 'backup', status: 'running', createdAt: '2026-11-22T10:00:00.000Z', steps: [], warnings: [], ...p };
}
