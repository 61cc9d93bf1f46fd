/**
 * The boot verification as part of the snapshot (no VM needed): RepositorySnapshotSink stores a
 * small VHDX made by qemu-img, then records a verification — in the manifest (digest still
 * valid, repository verifies), in the summary handed to the catalog, and through a catalog
 * rebuild from the repository alone. The sqlite3 shell reads the catalog independently.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { BootVerification, SnapshotSummary } from '../../shared/domain/snapshot.js';
import { openCatalog } from '../../electron/engine/catalog/catalog.js';
import { initRepository, rebuildCatalog, syncCatalog } from '../../electron/engine/repository/repository.js';
import { RepositorySnapshotSink } from '../../electron/engine/workflow/repository-snapshot-sink.js';

const dir = mkdtempSync(join(tmpdir(), 'twinsnap-bootverify-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('boot verification recorded with the snapshot', () => {
  it('lands in the manifest and the catalog row, survives a catalog rebuild, and fails cleanly for a forgotten snapshot', async () => {
    const disk = join(dir, 'disk0.vhdx');
    execFileSync('qemu-img', ['create', '-q', '-f', 'vhdx', disk, '8M']);
    execFileSync('qemu-io', ['-f', 'vhdx', '-c', 'write -P 0x5a 1M 64k', disk], { stdio: 'ignore' });
    const repo = await initRepository(join(dir, 'repo'));
    const catFile = join(dir, 'catalog.sqlite');
    const cat = openCatalog(catFile);
    const changed: SnapshotSummary[] = [];
    const sink = new RepositorySnapshotSink(
      async () => repo,
      () => Date.now(),
      (s) => {
        changed.push(s);
        cat.snapshots.upsert(s);
      },
    );
    try {
      const stored = await sink.createSnapshot(
        {
          jobId: 'job-1',
          guest: 'db',
          time: Date.parse('2026-03-01T10:00:00Z'),
          consistency: 'clean-twin',
          metrics: { steps: {} },
          log: [],
          configFiles: [],
          disks: [{ name: 'SCSI-0-0', path: disk }],
        },
        {},
      );
      // as after a backup: the catalog learns the snapshot before the verification is recorded
      await syncCatalog(repo, cat);
      expect(cat.snapshots.get(stored.snapshotId)!.bootVerify).toBeUndefined();

      const result: BootVerification = { ok: false, at: '2026-03-01T10:05:00.000Z', method: 'guest-tools', hypervisor: 'hyperv', limitMs: 600_000, detail: 'guest tools never answered' };
      await sink.recordVerification(stored.snapshotId, result);
      expect((await repo.readManifest(stored.snapshotId)).bootVerify).toEqual(result);
      expect(changed.map((s) => s.bootVerify)).toEqual([result]);
      expect(cat.snapshots.get(stored.snapshotId)!.bootVerify).toEqual(result);
      const v = await repo.verify({ full: true });
      expect(v).toMatchObject({ ok: true, damaged: [] });
      expect(execFileSync('sqlite3', [catFile, `SELECT boot_verify_ok, boot_verify_at FROM snapshots WHERE id = '${stored.snapshotId}'`], { encoding: 'utf8' }).trim()).toBe(
        '0|2026-03-01T10:05:00.000Z',
      );

      // a fresh catalog rebuilt from the repository alone has it too
      const cat2 = openCatalog(join(dir, 'rebuilt.sqlite'));
      try {
        expect(await rebuildCatalog(repo, cat2)).toBe(1);
        expect(cat2.snapshots.get(stored.snapshotId)!.bootVerify).toEqual(result);
      } finally {
        cat2.close();
      }

      await repo.forget([stored.snapshotId]);
      await expect(sink.recordVerification(stored.snapshotId, { ...result, ok: true })).rejects.toMatchObject({ code: 'SNAPSHOT_NOT_FOUND' });
    } finally {
      cat.close();
      await repo.close();
    }
  });
});
