import type { SerializedError } from '../errors/serialize.js';

/** Frames of the WebSocket protocol (client → server). */
export interface CallFrame {
  type: 'call';
  seq: number;
  method: string;
  req: unknown;
}
/** Frames of the WebSocket protocol (server → client). */
export type ServerFrame =
  { type: 'result'; seq: number; ok: true; value: unknown } | { type: 'result'; seq: number | null; ok: false; error: SerializedError } | { type: 'event'; event: string; payload: unknown };
