/** The repository's contract methods through the in-process engine (same path as the UI). */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nullLogger } from '../../electron/engine/core/logger.js';
import { createEngine, type Engine } from '../../electron/engine/engine.js';
import { REPO_CONFIG_FILE } from '../../electron/engine/repository/repository.js';
import { RawFileDisk } from '../helpers/raw-file-disk.js';

let dir: string;
let engine: Engine;
const MiB = 1024 * 1024;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ts-svc-'));
  engine = await createEngine({ dataDir: join(dir, 'data'), logger: nullLogger, hypervisors: [] });
  const repo = await engine.context.store.repository();
  for (let i = 0; i < 3; i++) {
    const f = join(dir, `d${i}.img`);
    writeFileSync(f, randomBytes(2 * MiB));
    const disk = await RawFileDisk.open(f);
    await repo.createSnapshot({ guest: 'web', consistency: i === 2 ? 'clean-twin' : 'crash', timeMs: Date.UTC(2026, 0, 1 + i, 12), pauseMs: 30, disks: [{ name: 'disk0', disk }] });
    await disk.close();
  }
});
afterAll(async () => {
  await engine.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('repository handlers', () => {
  const c = () => engine.service.client();

  it('lists snapshots from the catalog, synced with the repository', async () => {
    const list = await c()['snapshots.list']({ guest: 'web' });
    expect(list.map((s) => [s.guest, s.time, s.consistency, s.disks])).toEqual([
      ['web', '2026-01-01T12:00:00.000Z', 'crash', [{ name: 'disk0', size: 2 * MiB, dataBytes: 2 * MiB }]],
      ['web', '2026-01-02T12:00:00.000Z', 'crash', [{ name: 'disk0', size: 2 * MiB, dataBytes: 2 * MiB }]],
      ['web', '2026-01-03T12:00:00.000Z', 'clean-twin', [{ name: 'disk0', size: 2 * MiB, dataBytes: 2 * MiB }]],
    ]);
    expect(await c()['snapshots.list']({ guest: 'other' })).toEqual([]);
  });

  it('stores retention policies and previews/applies them', async () => {
    expect(await c()['retention.get']({ guest: 'web' })).toEqual({ guestId: 'name:web', guest: 'web', policy: {} });
    await c()['retention.set']({ guest: 'web', policy: { keepLast: 2 } });
    expect((await c()['retention.get']({ guest: 'web' })).policy).toEqual({ keepLast: 2 });
    const preview = await c()['retention.preview']({ guest: 'web', policy: { keepLast: 2 } });
    expect(preview.decisions.map((d) => d.keep)).toEqual([true, true, false]);
    expect(preview.freedBytes).toBeGreaterThan(2 * MiB);
    const events: string[] = [];
    const off = engine.onEvent((e) => events.push(e));
    await c()['retention.apply']({ guest: 'web', policy: { keepLast: 2 } });
    off();
    expect(events).toContain('snapshots.changed');
    expect(await c()['snapshots.list']({ guest: 'web' })).toHaveLength(2);
  });

  it('verifies, reports stats, collects garbage and rebuilds the catalog', async () => {
    const [s] = await c()['snapshots.list']({});
    expect(await c()['snapshots.verify']({ snapshotId: s!.id, full: true })).toEqual({ ok: true, damaged: [], damagedPoints: [] });
    expect((await c()['snapshots.list']({}))[0]!.verify?.ok).toBe(true);
    const v = await c()['repository.verify']({ full: true });
    expect(v).toMatchObject({ ok: true, damaged: [] });
    const stats = await c()['repository.stats']({});
    expect(stats).toMatchObject({ snapshots: 2, logicalBytes: 4 * MiB, lastVerify: { ok: true, damaged: [] } });
    expect(stats.chunks).toBe(6); // the forgotten snapshot's chunks stay until GC's grace has passed
    expect(await c()['repository.gc']({})).toEqual({ removedChunks: 0, freedBytes: 0 });
    engine.context.store.catalog().snapshots.replaceAll([]);
    expect(await c()['catalog.rebuild']({})).toEqual({ snapshots: 2 });
    expect(engine.context.store.catalog().snapshots.ids()).toHaveLength(2);
  });

  it('rejects unknown snapshots', async () => {
    await expect(c()['snapshots.verify']({ snapshotId: '20260101T000000Z-abcdef' })).rejects.toMatchObject({ code: 'SNAPSHOT_NOT_FOUND' });
  });
});

describe('the default repository after a kill while it was being created', () => {
  it('is finished on next use: folders without the configuration file are not "no repository"', async () => {
    const d = mkdtempSync(join(tmpdir(), 'ts-halfrepo-'));
    try {
      const dataDir = join(d, 'data');
      // What initRepository leaves when killed between its folders and its configuration file.
      for (const sub of ['chunks', 'snapshots', 'tmp', 'trash', 'locks']) mkdirSync(join(dataDir, 'repository', sub), { recursive: true });
      const e = await createEngine({ dataDir, logger: nullLogger, hypervisors: [] });
      try {
        const repo = await e.context.store.repository();
        expect(existsSync(join(dataDir, 'repository', REPO_CONFIG_FILE))).toBe(true);
        expect(await repo.snapshotIds()).toEqual([]);
      } finally {
        await e.close();
      }
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
  });
});
