import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { makeTempDir } from '../../test/helpers/temp-dir.js';
import { createEngine, type Engine } from '../engine/engine.js';
import type { Logger } from '../engine/core/logger.js';
import { hostAllowed, startServer, type RunningServer } from './serve.js';

// the static file handler fails in two ways: a synchronous throw and a rejected promise
let mode: 'ok' | 'throw' | 'reject' = 'ok';
vi.mock('./static-files.js', async (orig) => {
  const real = await orig<typeof import('./static-files.js')>();
  return {
    ...real,
    serveStatic: (...a: Parameters<typeof real.serveStatic>) => {
      if (mode === 'throw') throw new TypeError('boom (sync)');
      if (mode === 'reject') return Promise.reject(new RangeError('boom (async)'));
      return real.serveStatic(...a);
    },
  };
});

const errors: { msg: string; fields?: Record<string, unknown> }[] = [];
const logger: Logger = { log() {}, debug() {}, info() {}, warn() {}, error: (msg, fields) => void errors.push({ msg, fields }), child: () => logger };
let engine: Engine;
let server: RunningServer;

beforeAll(async () => {
  const dir = makeTempDir();
  const rendererDir = join(dir.path, 'renderer');
  mkdirSync(rendererDir);
  writeFileSync(join(rendererDir, 'index.html'), '<!doctype html><title>TwinSnap</title>');
  engine = await createEngine({ dataDir: join(dir.path, 'data'), logger, hypervisors: [] });
  server = await startServer({ engine, rendererDir });
});
afterAll(async () => {
  await server?.close();
  await engine?.close();
});

describe('serve handler failures', () => {
  it('turns an exception in a handler into a logged 500 and keeps serving', async () => {
    mode = 'throw';
    expect((await fetch(server.url)).status).toBe(500);
    mode = 'reject';
    expect((await fetch(server.url)).status).toBe(500);
    expect(errors.map((e) => String((e.fields?.error as Error)?.message))).toEqual(['boom (sync)', 'boom (async)']);
    mode = 'ok';
    expect((await fetch(server.url)).status).toBe(200);
  });

  it('accepts only the bound address as Host (DNS rebinding)', () => {
    expect(hostAllowed('127.0.0.1:8080', '127.0.0.1', 8080)).toBe(true);
    expect(hostAllowed('localhost:8080', '127.0.0.1', 8080)).toBe(true);
    expect(hostAllowed('[::1]:8080', '127.0.0.1', 8080)).toBe(true);
    expect(hostAllowed('[::1]:8080', '::1', 8080)).toBe(true);
    expect(hostAllowed('127.0.0.1:8081', '127.0.0.1', 8080)).toBe(false);
    expect(hostAllowed('attacker.example:8080', '127.0.0.1', 8080)).toBe(false);
    expect(hostAllowed('127.0.0.2:8080', '127.0.0.1', 8080)).toBe(false);
    expect(hostAllowed(undefined, '127.0.0.1', 8080)).toBe(false);
    expect(hostAllowed('192.168.1.5:8080', '192.168.1.5', 8080)).toBe(true);
    expect(hostAllowed('localhost:8080', '192.168.1.5', 8080)).toBe(false);
    expect(hostAllowed('nas.example:8080', '192.168.1.5', 8080)).toBe(false);
    // a wildcard bind: any IP literal (rebinding needs a name), never a foreign name
    expect(hostAllowed('10.0.0.7:8080', '0.0.0.0', 8080)).toBe(true);
    expect(hostAllowed('attacker.example:8080', '0.0.0.0', 8080)).toBe(false);
    expect(hostAllowed('127.0.0.1', '127.0.0.1', 80)).toBe(true);
  });
});
