import { describe, expect, it } from 'vitest';
import { AppError } from '../../shared/errors/app-error.js';
import { createEngineClient } from '../../shared/ipc/client.js';
import type { BridgeApi } from '../../shared/ipc/contract.js';
import { CONTRACT_KEYS_AGREE } from '../../shared/ipc/contract.js';
import { requestSchemas } from '../../shared/ipc/schemas.js';
import { validateRequest } from '../../shared/ipc/validate.js';
import { toSerializedError } from '../../shared/errors/serialize.js';
import { createEngine } from '../../electron/engine/engine.js';
import { nullLogger } from '../../electron/engine/core/logger.js';
import { makeTempDir } from '../helpers/temp-dir.js';

const methods = Object.keys(requestSchemas).sort();

describe('the engine contract', () => {
  it('has the same method set in schemas and responses (checked by the compiler too)', () => {
    expect(CONTRACT_KEYS_AGREE).toBe(true);
  });

  it('is implemented in full by the EngineService', async () => {
    const engine = await createEngine({ dataDir: makeTempDir().path, logger: nullLogger, hypervisors: [] });
    try {
      expect(engine.service.implementedMethods().sort()).toEqual(methods);
    } finally {
      await engine.close();
    }
  });

  it('gives every client exactly the contract methods, and unwraps errors into AppError', async () => {
    const seen: string[] = [];
    const bridge: BridgeApi = {
      call: async (method) => {
        seen.push(method);
        return { ok: false, error: toSerializedError(new AppError('SNAPSHOT_NOT_FOUND', `no snapshot for '${method}'`)) };
      },
      on: () => () => {},
    };
    const client = createEngineClient(bridge);
    expect(Object.keys(client).sort()).toEqual(methods);
    await expect(client['snapshots.list']({})).rejects.toMatchObject({ code: 'SNAPSHOT_NOT_FOUND' });
    expect(seen).toEqual(['snapshots.list']);
  });

  it('rejects unknown methods and invalid requests with typed errors naming the field', () => {
    expect(() => validateRequest('drop.tables', {})).toThrow(expect.objectContaining({ code: 'UNKNOWN_METHOD' }));
    try {
      validateRequest('jobs.backupNow', { guests: [] });
      expect.unreachable();
    } catch (e) {
      expect(e).toMatchObject({ code: 'INVALID_REQUEST', message: expect.stringContaining('guests') });
    }
    expect(() => validateRequest('engine.status', { extra: 1 })).toThrow(expect.objectContaining({ code: 'INVALID_REQUEST' }));
  });

  it('accepts a valid request for every method with an empty-compatible schema', () => {
    for (const m of methods) {
      const r = requestSchemas[m as keyof typeof requestSchemas].safeParse({});
      if (r.success) expect(validateRequest(m, {}).method).toBe(m);
    }
  });
});
