import { AppError } from '../../../shared/errors/app-error.js';
import type { SnapshotInput, SnapshotSink, StoredSnapshot, VerifyResult } from './snapshot-sink.js';

/**
 * A SnapshotSink that keeps snapshots in memory (tests, dry runs). Disks are "stored" by name and
 * path only; `bytesPerDisk` is reported as their logical size. `fail` / `hang` script errors.
 */
export class MemorySnapshotSink implements SnapshotSink {
  readonly snapshots: (SnapshotInput & { snapshotId: string; verify?: VerifyResult })[] = [];
  readonly discarded: string[] = [];
  fail: Error | undefined;
  hang = false;
  private seq = 0;

  constructor(private readonly bytesPerDisk = 64 * 1024 * 1024) {}

  async createSnapshot(input: SnapshotInput, opts: { onProgress?: (bytesDone: number, bytesTotal: number) => void; signal?: AbortSignal }): Promise<StoredSnapshot> {
    const total = input.disks.length * this.bytesPerDisk;
    opts.onProgress?.(0, total);
    if (this.fail) throw this.fail;
    if (this.hang) {
      await new Promise<never>((_, reject) => opts.signal?.addEventListener('abort', () => reject(opts.signal?.reason), { once: true }));
    }
    if (opts.signal?.aborted) throw new AppError('CANCELLED', 'archive cancelled');
    opts.onProgress?.(total, total);
    const snapshotId = `snap-${String(++this.seq).padStart(4, '0')}`;
    this.snapshots.push({ ...structuredClone({ ...input }), snapshotId });
    return { snapshotId, logicalBytes: total, newBytes: total };
  }

  async discardPartial(jobId: string): Promise<void> {
    this.discarded.push(jobId);
  }

  async recordVerification(snapshotId: string, result: VerifyResult): Promise<void> {
    const s = this.snapshots.find((x) => x.snapshotId === snapshotId);
    if (!s) throw new AppError('SNAPSHOT_NOT_FOUND', `snapshot ${snapshotId} not found`);
    s.verify = result;
  }
}
