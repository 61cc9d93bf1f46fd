import { appendFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { watchHostFiles, type HostFilesSeen } from './host-progress.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Waits until `ok()` holds (polls stay condition-based on a loaded machine); fails after 10 s. */
async function until(ok: () => boolean): Promise<void> {
  for (const end = Date.now() + 10_000; !ok(); await sleep(10)) if (Date.now() > end) throw new Error('condition not reached in 10 s');
}

describe('watchHostFiles', () => {
  const dir = mkdtempSync(join(tmpdir(), 'twinsnap-host-progress-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reports each poll that sees files grow or appear under a folder, and nothing while they stay as they are', async () => {
    const root = join(dir, 'twin');
    const seen: HostFilesSeen[] = [];
    const stop = watchHostFiles(
      () => [root],
      (s) => seen.push(s),
      { intervalMs: 30 },
    );
    try {
      await sleep(150);
      expect(seen).toEqual([]); // a folder that does not exist yet, then an unchanged one: no progress
      mkdirSync(join(root, 'export', 'Virtual Hard Disks'), { recursive: true });
      writeFileSync(join(root, 'export', 'Virtual Hard Disks', 'disk.vhdx'), Buffer.alloc(1024));
      await until(() => seen.at(-1)?.bytes === 1024);
      appendFileSync(join(root, 'export', 'Virtual Hard Disks', 'disk.vhdx'), Buffer.alloc(4096));
      await until(() => seen.at(-1)?.bytes === 5120);
      expect(seen.at(-1)).toEqual({ bytes: 5120, files: 1 });
      const n = seen.length;
      await sleep(200);
      expect(seen.length).toBe(n); // stalled: no report, so a watchdog can fire
    } finally {
      stop();
    }
    appendFileSync(join(root, 'export', 'Virtual Hard Disks', 'disk.vhdx'), Buffer.alloc(1));
    const n = seen.length;
    await sleep(150);
    expect(seen.length).toBe(n); // nothing after stop
  });

  it('watches single files too: a merge that deletes its differencing file is progress', async () => {
    const child = join(dir, 'disk_1.avhdx');
    writeFileSync(child, Buffer.alloc(100));
    const seen: HostFilesSeen[] = [];
    const stop = watchHostFiles(
      () => [child],
      (s) => seen.push(s),
      { intervalMs: 30 },
    );
    try {
      await sleep(100);
      rmSync(child);
      await until(() => seen.length > 0);
      expect(seen).toEqual([{ bytes: 0, files: 0 }]);
    } finally {
      stop();
    }
  });
});
