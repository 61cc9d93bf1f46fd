import type { BridgeApi, EngineEvent, EngineEvents, IpcResult } from '../../../shared/ipc/contract.js';
import type { SerializedError } from '../../../shared/errors/serialize.js';
import type { CallFrame, ServerFrame } from '../../../shared/ipc/wire.js';

/** State of the connection to the engine. */
export type ConnectionState = 'connecting' | 'open' | 'closed';

/** A BridgeApi that also tells about its connection (the WebSocket one does; Electron's is always open). */
export interface ConnectedBridge extends BridgeApi {
  /** Current connection state. */
  connection(): ConnectionState;
  /** Calls `fn` on every state change; returns an unsubscribe function. */
  onConnection(fn: (state: ConnectionState) => void): () => void;
  /** Closes the socket for good (no reconnect). */
  dispose(): void;
}

/** Minimal WebSocket surface used here (the browser's WebSocket, or a fake in tests). */
export interface SocketLike {
  readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((ev: unknown) => void) | null;
  onclose: ((ev: unknown) => void) | null;
  onerror: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
}

/** Options of createWebSocketBridge. */
export interface WebSocketBridgeOptions {
  url: string;
  /** Socket factory; defaults to the global WebSocket. */
  createSocket?: (url: string) => SocketLike;
  /** First reconnect delay in ms (doubles up to maxDelayMs). */
  minDelayMs?: number;
  maxDelayMs?: number;
  /** Timers (tests inject fakes). */
  setTimer?: (fn: () => void, ms: number) => unknown;
  clearTimer?: (t: unknown) => void;
}

const OPEN = 1;

function unreachable(message: string): SerializedError {
  return { code: 'ENGINE_UNREACHABLE', message };
}

/**
 * BridgeApi over the `twinsnap serve` WebSocket (shared/ipc/wire.ts). Calls made while the socket
 * is connecting wait for it; calls in flight when it drops are answered with ENGINE_UNREACHABLE
 * (never left hanging); it reconnects with exponential backoff and keeps event subscriptions.
 */
export function createWebSocketBridge(opts: WebSocketBridgeOptions): ConnectedBridge {
  const createSocket = opts.createSocket ?? ((url: string) => new WebSocket(url) as unknown as SocketLike);
  const minDelay = opts.minDelayMs ?? 500;
  const maxDelay = opts.maxDelayMs ?? 5000;
  const setTimer = opts.setTimer ?? ((fn, ms) => setTimeout(fn, ms));
  const clearTimer = opts.clearTimer ?? ((t) => clearTimeout(t as ReturnType<typeof setTimeout>));

  let seq = 0;
  let socket: SocketLike | null = null;
  let state: ConnectionState = 'connecting';
  let delay = minDelay;
  let timer: unknown = null;
  let disposed = false;
  const pending = new Map<number, (r: IpcResult<unknown>) => void>();
  const queued: CallFrame[] = [];
  const listeners = new Map<string, Set<(payload: unknown) => void>>();
  const stateListeners = new Set<(s: ConnectionState) => void>();

  const setState = (s: ConnectionState) => {
    if (s === state) return;
    state = s;
    for (const fn of stateListeners) fn(s);
  };

  const failAll = (why: string) => {
    const waiting = [...pending.values()];
    pending.clear();
    queued.length = 0;
    for (const resolve of waiting) resolve({ ok: false, error: unreachable(why) });
  };

  const onFrame = (raw: unknown) => {
    let f: ServerFrame;
    try {
      f = JSON.parse(String(raw)) as ServerFrame;
    } catch {
      return;
    }
    if (f.type === 'event') {
      for (const fn of listeners.get(f.event) ?? []) fn(f.payload);
      return;
    }
    if (f.type === 'result' && typeof f.seq === 'number') {
      const resolve = pending.get(f.seq);
      if (!resolve) return;
      pending.delete(f.seq);
      resolve(f.ok ? { ok: true, value: f.value } : { ok: false, error: f.error });
    }
  };

  const connect = () => {
    if (disposed) return;
    setState('connecting');
    const s = createSocket(opts.url);
    socket = s;
    s.onopen = () => {
      delay = minDelay;
      setState('open');
      for (const frame of queued.splice(0)) s.send(JSON.stringify(frame));
    };
    s.onmessage = (ev) => onFrame(ev.data);
    s.onerror = () => {
      /* onclose follows */
    };
    s.onclose = () => {
      if (socket !== s) return;
      socket = null;
      failAll('the connection to the TwinSnap engine was lost; retrying');
      setState('closed');
      if (disposed) return;
      timer = setTimer(() => {
        timer = null;
        connect();
      }, delay);
      delay = Math.min(delay * 2, maxDelay);
    };
  };

  connect();

  return {
    call(method, req) {
      if (disposed) return Promise.resolve({ ok: false, error: unreachable('the engine connection is closed') });
      const frame: CallFrame = { type: 'call', seq: ++seq, method, req };
      return new Promise((resolve) => {
        pending.set(frame.seq, resolve as (r: IpcResult<unknown>) => void);
        if (socket && socket.readyState === OPEN) socket.send(JSON.stringify(frame));
        else queued.push(frame);
      });
    },
    on<E extends EngineEvent>(event: E, fn: (payload: EngineEvents[E]) => void) {
      let set = listeners.get(event);
      if (!set) listeners.set(event, (set = new Set()));
      const f = fn as (p: unknown) => void;
      set.add(f);
      return () => set.delete(f);
    },
    connection: () => state,
    onConnection(fn) {
      stateListeners.add(fn);
      return () => stateListeners.delete(fn);
    },
    dispose() {
      disposed = true;
      if (timer !== null) clearTimer(timer);
      failAll('the engine connection is closed');
      socket?.close();
      socket = null;
      setState('closed');
    },
  };
}
