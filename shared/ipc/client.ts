import { fromSerializedError } from '../errors/serialize.js';
import type { BridgeApi, EngineClient } from './contract.js';
import { requestSchemas, type EngineMethod } from './schemas.js';

/**
 * Builds the typed EngineClient over any BridgeApi (Electron preload or WebSocket): unwraps
 * IpcResult and rethrows errors as AppError. Methods are exactly the contract's.
 */
export function createEngineClient(bridge: BridgeApi): EngineClient {
  const client = {} as Record<EngineMethod, (req: unknown) => Promise<unknown>>;
  for (const method of Object.keys(requestSchemas) as EngineMethod[]) {
    client[method] = async (req: unknown) => {
      const r = await bridge.call(method, req as never);
      if (r.ok) return r.value;
      throw fromSerializedError(r.error);
    };
  }
  return client as unknown as EngineClient;
}
