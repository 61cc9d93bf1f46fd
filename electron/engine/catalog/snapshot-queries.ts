import type { BootVerification, SnapshotSummary } from '../../../shared/domain/snapshot.js';
import type { GuestId } from '../../../shared/domain/guest-id.js';
import type { Db } from './catalog-db.js';

/**
 * The snapshot tables: a cache of the repository's manifests. The repository is the source of
 * truth; `replaceAll` (catalog rebuild) and `sync` make the cache match it.
 */
export interface SnapshotStore {
  /** Inserts or replaces one snapshot (and its disks); also records the guest. */
  upsert(s: SnapshotSummary): void;
  get(id: string): SnapshotSummary | undefined;
  /** Oldest first, optionally for one guest (by id). */
  list(opts?: { guestId?: GuestId }): SnapshotSummary[];
  /** Ids of every cached snapshot. */
  ids(): string[];
  delete(id: string): void;
  /** Replaces every snapshot row with `all`, atomically (catalog rebuild). */
  replaceAll(all: SnapshotSummary[]): void;
  /** Records the result of a verify (or boot test) of one snapshot. */
  setVerify(id: string, v: { ok: boolean; at: string; bootMs?: number }): void;
}

/** A guest as the catalog remembers it (seen live, or known from its snapshots). */
export interface GuestRecord {
  id: GuestId;
  /** The last display name seen. */
  name: string;
  hypervisor?: string;
  /** The folder of its configuration when last seen. */
  folder?: string;
}

/** Guests seen in snapshots or listed by a hypervisor, by id. */
export interface GuestStore {
  /** Records a guest seen live (its name and folder are updated). */
  upsert(g: GuestRecord): void;
  get(id: GuestId): GuestRecord | undefined;
  list(): GuestRecord[];
  /**
   * Moves every record of `alias` (a `name:` id of records made before guest ids) to `id` —
   * snapshots, jobs, schedule, retention policy, scheduler state — and remembers the alias so
   * snapshots synced later under it land on `id`. One transaction. A schedule or policy that
   * `id` already has wins over the alias's.
   */
  adopt(alias: GuestId, id: GuestId): void;
  /** The id an alias was adopted into, or `id` itself. */
  canonical(id: GuestId): GuestId;
  /** The aliases adopted into `id`. */
  aliases(id: GuestId): GuestId[];
}

interface SnapRow {
  id: string;
  guest: string;
  guest_id: string | null;
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
  const seenGuest = db.prepare(
    'INSERT INTO guests (id, name, hypervisor, folder, first_seen_ms) VALUES (?, ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET name = excluded.name, hypervisor = COALESCE(excluded.hypervisor, hypervisor), folder = COALESCE(excluded.folder, folder)',
  );
  const snapGuest = db.prepare('INSERT OR IGNORE INTO guests (id, name, first_seen_ms) VALUES (?, ?, ?)');
  const aliasOf = db.prepare('SELECT guest_id FROM guest_aliases WHERE alias = ?');
  const canonical = (id: GuestId): GuestId => (aliasOf.get(id) as { guest_id: GuestId } | undefined)?.guest_id ?? id;
  const insSnap = db.prepare(
    'INSERT OR REPLACE INTO snapshots (id, guest, guest_id, time_ms, consistency, pause_ms, logical_bytes, new_bytes, job_id, verify_ok, verify_at, verify_boot_ms, boot_verify_ok, boot_verify_at, boot_verify_json) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)',
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
      guestId: (r.guest_id ?? `name:${r.guest}`) as GuestId,
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
    const guestId = canonical(s.guestId);
    snapGuest.run(guestId, s.guest, now());
    const prev = db.prepare('SELECT verify_ok, verify_at, verify_boot_ms, boot_verify_ok, boot_verify_at, boot_verify_json FROM snapshots WHERE id = ?').get(s.id) as
      Pick<SnapRow, 'verify_ok' | 'verify_at' | 'verify_boot_ms' | 'boot_verify_ok' | 'boot_verify_at' | 'boot_verify_json'> | undefined;
    const v = s.verify;
    const bv = s.bootVerify;
    insSnap.run(
      s.id,
      s.guest,
      guestId,
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
      const rows = opts.guestId
        ? (db.prepare('SELECT * FROM snapshots WHERE guest_id = ? ORDER BY time_ms, id').all(opts.guestId) as SnapRow[])
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
  type GuestRow = { id: GuestId; name: string; hypervisor: string | null; folder: string | null };
  const toRecord = (r: GuestRow): GuestRecord => ({ id: r.id, name: r.name, ...(r.hypervisor ? { hypervisor: r.hypervisor } : {}), ...(r.folder ? { folder: r.folder } : {}) });
  const guests: GuestStore = {
    upsert: (g) => void seenGuest.run(g.id, g.name, g.hypervisor ?? null, g.folder ?? null, now()),
    get: (id) => {
      const r = db.prepare('SELECT id, name, hypervisor, folder FROM guests WHERE id = ?').get(id) as GuestRow | undefined;
      return r ? toRecord(r) : undefined;
    },
    list: () => (db.prepare('SELECT id, name, hypervisor, folder FROM guests ORDER BY name, id').all() as GuestRow[]).map(toRecord),
    adopt: db.transaction((alias: GuestId, id: GuestId) => {
      if (alias === id) return;
      const from = db.prepare('SELECT name FROM guests WHERE id = ?').get(alias) as { name: string } | undefined;
      snapGuest.run(id, from?.name ?? alias.replace(/^name:/, ''), now());
      db.prepare('UPDATE snapshots SET guest_id = ? WHERE guest_id = ?').run(id, alias);
      db.prepare('UPDATE jobs SET guest_id = ? WHERE guest_id = ?').run(id, alias);
      db.prepare("UPDATE OR IGNORE schedules SET guest_id = ?, schedule_json = json_set(schedule_json, '$.guestId', ?) WHERE guest_id = ?").run(id, id, alias);
      db.prepare('DELETE FROM schedules WHERE guest_id = ?').run(alias);
      db.prepare('UPDATE OR IGNORE retention_policies SET guest_id = ? WHERE guest_id = ?').run(id, alias);
      db.prepare('DELETE FROM retention_policies WHERE guest_id = ?').run(alias);
      db.prepare('UPDATE OR IGNORE settings SET key = ? WHERE key = ?').run(`scheduler.state.${id}`, `scheduler.state.${alias}`);
      db.prepare('DELETE FROM settings WHERE key = ?').run(`scheduler.state.${alias}`);
      db.prepare('UPDATE guest_aliases SET guest_id = ? WHERE guest_id = ?').run(id, alias);
      db.prepare('DELETE FROM guests WHERE id = ?').run(alias);
      db.prepare('INSERT OR REPLACE INTO guest_aliases (alias, guest_id) VALUES (?, ?)').run(alias, id);
    }) as (alias: GuestId, id: GuestId) => void,
    canonical,
    aliases: (id) => (db.prepare('SELECT alias FROM guest_aliases WHERE guest_id = ? ORDER BY alias').all(id) as { alias: GuestId }[]).map((r) => r.alias),
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
