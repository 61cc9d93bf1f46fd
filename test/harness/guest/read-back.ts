/**
 * Reads a test guest's data disk back with independent tools: `qemu-img convert` flattens the
 * disk (any chain: VMDK deltas, VHDX, raw) to raw, `debugfs` extracts the database, its WAL and
 * the clean-shutdown marker from ext4, and the host's `sqlite3` checks and counts them.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { run } from './exec.js';
import { GUEST_DB_PATH, GUEST_MARKER_PATH } from './guest-scripts.js';

/** What a data disk holds, as seen by qemu-img + debugfs + sqlite3. */
export interface DataDiskContents {
  /** The database file exists on the file system. */
  dbPresent: boolean;
  /** A non-empty `-wal` file was present (the database was not checkpointed/closed). */
  walPresent: boolean;
  /** `PRAGMA integrity_check` output (`ok` when healthy); undefined without a database. */
  integrity?: string;
  /** Number of committed transactions (rows), after WAL recovery. */
  count: number;
  /** Highest committed transaction number (0 if none). */
  maxN: number;
  /** e2fsck exit code on the flattened copy (0 clean, 1 errors fixed / journal replayed). */
  fsckCode: number;
  /** The clean-shutdown marker file exists. */
  markerPresent: boolean;
  /** Marker text, e.g. `clean-shutdown last=42`. */
  marker?: string;
}

/**
 * Inspects the guest data disk at `diskPath` (top of its chain; opened read-only with
 * force-share, so a running VM's disk can be read too, crash-consistently).
 */
export async function inspectDataDisk(diskPath: string): Promise<DataDiskContents> {
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'twinsnap-readback-'));
  try {
    const raw = path.join(tmp, 'disk.raw');
    await run('qemu-img', ['convert', '-U', '-O', 'raw', diskPath, raw], { timeoutMs: 120_000 });
    // replay the ext4 journal like a mount would (a crash-consistent copy may need it)
    const fsck = await run('e2fsck', ['-fy', raw], { allowFailure: true });
    const fsckCode = fsck.code ?? 8;
    const dump = async (inner: string, out: string): Promise<boolean> => {
      await run('debugfs', ['-R', `dump ${inner} ${out}`, raw], { allowFailure: true });
      return existsSync(out);
    };
    const db = path.join(tmp, 'app.db');
    const dbPresent = await dump(GUEST_DB_PATH, db);
    const walPresent = (await dump(`${GUEST_DB_PATH}-wal`, `${db}-wal`)) && (await readFile(`${db}-wal`)).length > 0;
    const markerFile = path.join(tmp, 'marker');
    const markerPresent = await dump(GUEST_MARKER_PATH, markerFile);
    const marker = markerPresent ? (await readFile(markerFile, 'utf8')).trim() : undefined;
    if (!dbPresent) return { dbPresent, walPresent, count: 0, maxN: 0, fsckCode, markerPresent, marker };
    const integrity = (await run('sqlite3', [db, 'PRAGMA integrity_check;'], { allowFailure: true })).stdout.trim();
    const q = await run('sqlite3', [db, "SELECT count(*) || ' ' || coalesce(max(n),0) FROM tx;"], { allowFailure: true });
    const [count, maxN] = q.stdout.trim().split(' ').map(Number);
    return { dbPresent, walPresent, integrity, count: count ?? 0, maxN: maxN ?? 0, fsckCode, markerPresent, marker };
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

/** Transaction numbers acknowledged (`ACK n`) in a serial log, in order. */
export async function readAcks(serialLog: string): Promise<number[]> {
  const text = await readFile(serialLog, 'latin1').catch(() => '');
  const acks: number[] = [];
  for (const m of text.matchAll(/^ACK (\d+)\r?$/gm)) acks.push(Number(m[1]));
  return acks;
}
