import { describe, expect, it } from 'vitest';
import { createWebSocketBridge, type SocketLike } from './ws-bridge.js';
import { webSocketUrl } from './bridge.js';

class FakeSocket implements SocketLike {
  readyState = 0;
  sent: unknown[] = [];
  onopen: ((ev: unknown) => void) | null = null;
  onclose: ((ev: unknown) => void) | null = null;
  onerror: ((ev: unknown) => void) | null = null;
  onmessage: ((ev: { data: unknown }) => void) | null = null;
  constructor(readonly url: string) {}
  send(data: string) {
    this.sent.push(JSON.parse(data));
  }
  close() {
    this.readyState = 3;
    this.onclose?.({});
  }
  open() {
    this.readyState = 1;
    this.onopen?.({});
  }
  serverSends(frame: unknown) {
    this.onmessage?.({ data: JSON.stringify(frame) });
  }
}

function setup() {
  const sockets: FakeSocket[] = [];
  const timers: { fn: () => void; ms: number }[] = [];
  const bridge = createWebSocketBridge({
    url: 'ws://h/api/ws?token=t',
    createSocket: (u) => {
      const s = new FakeSocket(u);
      sockets.push(s);
      return s;
    },
    setTimer: (fn, ms) => timers.push({ fn, ms }),
    clearTimer: () => undefined,
  });
  return { bridge, sockets, timers };
}

describe('createWebSocketBridge', () => {
  it('queues calls until the socket opens, then matches results by seq', async () => {
    const { bridge, sockets } = setup();
    const a = bridge.call('engine.status', {});
    const b = bridge.call('guests.list', {});
    expect(sockets[0].sent).toEqual([]);
    sockets[0].open();
    expect(sockets[0].sent).toMatchObject([
      { type: 'call', seq: 1, method: 'engine.status', req: {} },
      { type: 'call', seq: 2, method: 'guests.list', req: {} },
    ]);
    sockets[0].serverSends({ type: 'result', seq: 2, ok: true, value: ['g'] });
    sockets[0].serverSends({ type: 'result', seq: 1, ok: false, error: { code: 'NOT_IMPLEMENTED', message: 'x' } });
    expect(await b).toEqual({ ok: true, value: ['g'] });
    expect(await a).toEqual({ ok: false, error: { code: 'NOT_IMPLEMENTED', message: 'x' } });
  });

  it('answers calls in flight with ENGINE_UNREACHABLE when the socket drops, then reconnects with backoff', async () => {
    const { bridge, sockets, timers } = setup();
    const states: string[] = [];
    bridge.onConnection((s) => states.push(s));
    sockets[0].open();
    const p = bridge.call('jobs.list', {});
    sockets[0].close();
    const r = await p;
    expect(r.ok).toBe(false);
    expect(!r.ok && r.error.code).toBe('ENGINE_UNREACHABLE');
    expect(timers.map((t) => t.ms)).toEqual([500]);
    timers[0].fn();
    expect(sockets).toHaveLength(2);
    sockets[1].close();
    timers[1].fn();
    expect(timers.map((t) => t.ms)).toEqual([500, 1000]);
    sockets[2].open();
    expect(states).toEqual(['open', 'closed', 'connecting', 'closed', 'connecting', 'open']);
    // after a successful open the delay starts again from the minimum
    sockets[2].close();
    expect(timers[2].ms).toBe(500);
  });

  it('delivers pushed events to subscribers and stops after unsubscribe', () => {
    const { bridge, sockets } = setup();
    sockets[0].open();
    const got: unknown[] = [];
    const off = bridge.on('snapshots.changed', (p) => got.push(p));
    sockets[0].serverSends({ type: 'event', event: 'snapshots.changed', payload: { guest: 'a' } });
    off();
    sockets[0].serverSends({ type: 'event', event: 'snapshots.changed', payload: { guest: 'b' } });
    sockets[0].onmessage?.({ data: 'not json' });
    expect(got).toEqual([{ guest: 'a' }]);
  });

  it('dispose fails pending calls and never reconnects', async () => {
    const { bridge, sockets, timers } = setup();
    const p = bridge.call('engine.status', {});
    bridge.dispose();
    expect((await p).ok).toBe(false);
    expect(timers).toHaveLength(0);
    expect(sockets).toHaveLength(1);
  });
});

describe('webSocketUrl', () => {
  it('derives ws(s) URL and carries the token', () => {
    expect(webSocketUrl({ protocol: 'http:', host: '127.0.0.1:5', search: '?token=a%2Bb' })).toBe('ws://127.0.0.1:5/api/ws?token=a%2Bb');
    expect(webSocketUrl({ protocol: 'https:', host: 'h', search: '' })).toBe('wss://h/api/ws');
  });
});
