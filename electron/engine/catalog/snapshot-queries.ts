import type { BootVerification, SnapshotSummary } from '../../../shared/domain/snapshot.js';
import type { Db } from './catalog-db.js';

/**
 * The snapshot tables: a cache of the repository's manifests. The repository is the source of
 * truth; `replaceAll` (catalog rebuild) and `sync` make the cache match it.
 */
export interface SnapshotStore {
  /** Inserts or replaces one snapshot (and its disks); also records the guest. */
  upsert(s: SnapshotSummary): void;
  get(id: string): SnapshotSummary | undefined;
  /** Oldest first, optionally for one guest. */
  list(opts?: { guest?: string }): SnapshotSummary[];
  /** Ids of every cached snapshot. */
  ids(): string[];
  delete(id: string): void;
  /** Replaces every snapshot row with `all`, atomically (catalog rebuild). */
  replaceAll(all: SnapshotSummary[]): void;
  /** Records the result of a verify (or boot test) of one snapshot. */
  setVerify(id: string, v: { ok: boolean; at: string; bootMs?: number }): void;
}

/** Guests seen in snapshots or added by the app. */
export interface GuestStore {
  upsert(name: string, hypervisor?: string): void;
  list(): { name: string; hypervisor?: string }[];
}

interface SnapRow {
  id: string;
  guest: string;
  time_ms: number;
  consistency: SnapshotSummary['consistency'];
  pause_ms: number | null;
  logical_bytes: number;
  new_bytes: number | null;
  job_id: string | null;
  verify_ok: number | null;
  verify_at: string | null;
  verify_boot_ms: number | null;
  boot_verify_ok: number | null;
  boot_verify_at: string | null;
  boot_verify_json: string | null;
}
interface DiskRow {
  snapshot_id: string;
  name: string;
  size: number;
  source_format: string | null;
  data_bytes: number | null;
}

/** Creates the snapshot and guest stores over `db` (schema version ≥ 3). */
export function createSnapshotStores(db: Db, now: () => number): { snapshots: SnapshotStore; guests: GuestStore } {
  const insGuest = db.prepare('INSERT INTO guests (name, hypervisor, first_seen_ms) VALUES (?, ?, ?) ON CONFLICT(name) DO UPDATE SET hypervisor = COALESCE(excluded.hypervisor, hypervisor)');
  const insSnap = db.prepare(
    'INSERT OR REPLACE INTO snapshots (id, guest, time_ms, consistency, pause_ms, logical_bytes, new_bytes, job_id, verify_ok, verify_at, verify_boot_ms, boot_verify_ok, boot_verify_at, boot_verify_json) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)',
  );
  const delDisks = db.prepare('DELETE FROM snapshot_disks WHERE snapshot_id = ?');
  const insDisk = db.prepare('INSERT INTO snapshot_disks (snapshot_id, name, size, source_format, data_bytes, ord) VALUES (?,?,?,?,?,?)');
  const delSnap = db.prepare('DELETE FROM snapshots WHERE id = ?');
  const disksOf = db.prepare('SELECT * FROM snapshot_disks WHERE snapshot_id = ? ORDER BY ord');
  const setVer = db.prepare('UPDATE snapshots SET verify_ok = ?, verify_at = ?, verify_boot_ms = ? WHERE id = ?');

  const toSummary = (r: SnapRow): SnapshotSummary => {
    const disks = (disksOf.all(r.id) as DiskRow[]).map((d) => ({
      name: d.name,
      size: d.size,
      ...(d.source_format ? { sourceFormat: d.source_format } : {}),
      ...(d.data_bytes != null ? { dataBytes: d.data_bytes } : {}),
    }));
    const s: SnapshotSummary = {
      id: r.id,
      guest: r.guest,
      time: new Date(r.time_ms).toISOString(),
      consistency: r.consistency,
      disks,
      logicalBytes: r.logical_bytes,
    };
    if (r.pause_ms != null) s.pauseMs = r.pause_ms;
    if (r.new_bytes != null) s.newBytes = r.new_bytes;
    if (r.job_id) s.jobId = r.job_id;
    if (r.verify_ok != null && r.verify_at) s.verify = { ok: r.verify_ok === 1, at: r.verify_at, ...(r.verify_boot_ms != null ? { bootMs: r.verify_boot_ms } : {}) };
    const bv = parseBootVerify(r.boot_verify_json);
    if (bv) s.bootVerify = bv;
    return s;
  };
  const upsertOne = (s: SnapshotSummary) => {
    insGuest.run(s.guest, null, now());
    const prev = db.prepare('SELECT verify_ok, verify_at, verify_boot_ms, boot_verify_ok, boot_verify_at, boot_verify_json FROM snapshots WHERE id = ?').get(s.id) as
      | Pick<SnapRow, 'verify_ok' | 'verify_at' | 'verify_boot_ms' | 'boot_verify_ok' | 'boot_verify_at' | 'boot_verify_json'>
      | undefined;
    const v = s.verify;
    const bv = s.bootVerify;
    insSnap.run(
      s.id,
      s.guest,
      Date.parse(s.time),
      s.consistency,
      s.pauseMs ?? null,
      s.logicalBytes,
      s.newBytes ?? null,
      s.jobId ?? null,
      v ? (v.ok ? 1 : 0) : (prev?.verify_ok ?? null),
      v ? v.at : (prev?.verify_at ?? null),
      v ? (v.bootMs ?? null) : (prev?.verify_boot_ms ?? null),
      bv ? (bv.ok ? 1 : 0) : (prev?.boot_verify_ok ?? null),
      bv ? bv.at : (prev?.boot_verify_at ?? null),
      bv ? JSON.stringify(bv) : (prev?.boot_verify_json ?? null),
    );
    delDisks.run(s.id);
    s.disks.forEach((d, i) => insDisk.run(s.id, d.name, d.size, d.sourceFormat ?? null, d.dataBytes ?? null, i));
  };
  const snapshots: SnapshotStore = {
    upsert: db.transaction(upsertOne) as (s: SnapshotSummary) => void,
    get(id) {
      const r = db.prepare('SELECT * FROM snapshots WHERE id = ?').get(id) as SnapRow | undefined;
      return r ? toSummary(r) : undefined;
    },
    list(opts = {}) {
      const rows = opts.guest
        ? (db.prepare('SELECT * FROM snapshots WHERE guest = ? ORDER BY time_ms, id').all(opts.guest) as SnapRow[])
        : (db.prepare('SELECT * FROM snapshots ORDER BY time_ms, id').all() as SnapRow[]);
      return rows.map(toSummary);
    },
    ids: () => (db.prepare('SELECT id FROM snapshots').all() as { id: string }[]).map((r) => r.id),
    delete: db.transaction((id: string) => {
      delDisks.run(id);
      delSnap.run(id);
    }) as (id: string) => void,
    replaceAll: db.transaction((all: SnapshotSummary[]) => {
      db.prepare('DELETE FROM snapshot_disks').run();
      db.prepare('DELETE FROM snapshots').run();
      for (const s of all) upsertOne(s);
    }) as (all: SnapshotSummary[]) => void,
    setVerify(id, v) {
      setVer.run(v.ok ? 1 : 0, v.at, v.bootMs ?? null, id);
    },
  };
  const guests: GuestStore = {
    upsert: (name, hv) => void insGuest.run(name, hv ?? null, now()),
    list: () =>
      (db.prepare('SELECT name, hypervisor FROM guests ORDER BY name').all() as { name: string; hypervisor: string | null }[]).map((r) => ({
        name: r.name,
        ...(r.hypervisor ? { hypervisor: r.hypervisor } : {}),
      })),
  };
  return { snapshots, guests };
}

/** The stored boot verification, or undefined when absent or unreadable (the manifest stays the source of truth). */
function parseBootVerify(json: string | null): BootVerification | undefined {
  if (!json) return undefined;
  try {
    const v = JSON.parse(json) as BootVerification;
    return typeof v?.ok === 'boolean' && typeof v.at === 'string' ? v : undefined;
  } catch {
    return undefined;
  }
}
