import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openCatalog, LATEST_VERSION } from '../../electron/engine/catalog/catalog.js';
import { openCatalogDb, schemaVersion } from '../../electron/engine/catalog/catalog-db.js';
import { nameGuestId, vmwareGuestId } from '../../shared/domain/guest-id.js';

const dirs: string[] = [];
function tmpFile(): string {
  const d = mkdtempSync(join(tmpdir(), 'ts-cat-'));
  dirs.push(d);
  return join(d, 'catalog.sqlite');
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
/** Independent oracle: the sqlite3 command-line shell. */
const sqlite = (file: string, sql: string) => execFileSync('sqlite3', [file, sql], { encoding: 'utf8' }).trim();

describe('migration 0001 initial', () => {
  it('creates every table and records user_version 1', () => {
    const f = tmpFile();
    const db = openCatalogDb(f, { migrateTo: 1 });
    expect(schemaVersion(db)).toBe(1);
    db.close();
    expect(sqlite(f, "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%' ORDER BY name").split('\n')).toEqual([
      'guests',
      'job_logs',
      'jobs',
      'retention_policies',
      'schedules',
      'settings',
      'snapshot_disks',
      'snapshots',
    ]);
    expect(sqlite(f, 'PRAGMA journal_mode')).toBe('wal');
    expect(sqlite(f, 'PRAGMA integrity_check')).toBe('ok');
  });
});

describe('migration 0002 snapshot-verify', () => {
  it('adds verify columns and keeps rows written under version 1', () => {
    const f = tmpFile();
    openCatalogDb(f, { migrateTo: 1 }).close();
    sqlite(f, "INSERT INTO snapshots (id, guest, time_ms, consistency, logical_bytes) VALUES ('s1','g',1000,'cold',42)");
    const cat = openCatalog(f);
    expect(cat.version()).toBe(LATEST_VERSION);
    expect(cat.snapshots.get('s1')).toMatchObject({ id: 's1', guest: 'g', logicalBytes: 42, consistency: 'cold' });
    cat.snapshots.setVerify('s1', { ok: true, at: '2026-01-01T00:00:00.000Z', bootMs: 5 });
    cat.close();
    expect(sqlite(f, "SELECT verify_ok, verify_boot_ms FROM snapshots WHERE id='s1'")).toBe('1|5');
    expect(sqlite(f, 'PRAGMA user_version')).toBe(String(LATEST_VERSION));
  });
});

describe('migration 0003 snapshot-boot-verify', () => {
  const bootVerify = { ok: true, at: '2026-02-01T10:00:00.000Z', bootMs: 4321, method: 'guest-tools' as const, hypervisor: 'vmware' as const, limitMs: 600_000 };

  it('adds boot-verify columns, keeps version-2 rows and their repository-check verify, and round-trips the record', () => {
    const f = tmpFile();
    openCatalogDb(f, { migrateTo: 2 }).close();
    sqlite(f, "INSERT INTO snapshots (id, guest, time_ms, consistency, logical_bytes, verify_ok, verify_at) VALUES ('s1','g',1000,'clean-twin',42,1,'2026-01-01T00:00:00.000Z')");
    const cat = openCatalog(f);
    expect(cat.version()).toBe(LATEST_VERSION);
    const old = cat.snapshots.get('s1')!;
    expect(old).toMatchObject({ id: 's1', consistency: 'clean-twin', verify: { ok: true } });
    expect(old.bootVerify).toBeUndefined();
    cat.snapshots.upsert({ ...old, bootVerify });
    // a later upsert without the field (sync from an older summary) keeps it
    cat.snapshots.upsert({ ...old, bootVerify: undefined });
    expect(cat.snapshots.get('s1')!.bootVerify).toEqual(bootVerify);
    expect(cat.snapshots.get('s1')!.verify).toMatchObject({ ok: true });
    cat.close();
    expect(sqlite(f, "SELECT boot_verify_ok, boot_verify_at, json_extract(boot_verify_json, '$.bootMs') FROM snapshots WHERE id='s1'")).toBe('1|2026-02-01T10:00:00.000Z|4321');
    expect(sqlite(f, 'PRAGMA user_version')).toBe(String(LATEST_VERSION));
  });

  it('a catalog rebuild replaces rows with what the manifests say (boot verification included)', () => {
    const cat = openCatalog(tmpFile());
    const base = { id: 's2', guestId: nameGuestId('g'), guest: 'g', time: '2026-02-01T09:00:00.000Z', consistency: 'clean-twin' as const, disks: [], logicalBytes: 1 };
    cat.snapshots.upsert(base);
    cat.snapshots.replaceAll([{ ...base, bootVerify: { ...bootVerify, ok: false, bootMs: undefined, detail: 'guest tools never answered' } }]);
    expect(cat.snapshots.get('s2')!.bootVerify).toMatchObject({ ok: false, detail: 'guest tools never answered' });
    cat.close();
  });
});

describe('migration 0004 guest-identity', () => {
  it('keys an old name-keyed catalog by guest id (name:<name>) with every history intact, and sqlite finds no damage', () => {
    const f = tmpFile();
    openCatalogDb(f, { migrateTo: 3 }).close();
    // a version-3 catalog as an older TwinSnap left it: two guests, their snapshots, jobs, policies
    sqlite(
      f,
      `INSERT INTO guests (name, hypervisor, first_seen_ms) VALUES ('web', 'vmware', 1), ('db', NULL, 2);
       INSERT INTO snapshots (id, guest, time_ms, consistency, logical_bytes, verify_ok, verify_at) VALUES ('s1','web',1000,'clean-twin',42,1,'2026-01-01T00:00:00.000Z'), ('s2','web',2000,'crash',43,NULL,NULL), ('s3','db',3000,'cold',44,NULL,NULL), ('s4','gone',4000,'cold',45,NULL,NULL);
       INSERT INTO snapshot_disks (snapshot_id, name, size, ord) VALUES ('s1','scsi0:0',42,0), ('s2','scsi0:0',43,0), ('s3','d0',44,0);
       INSERT INTO jobs (id, kind, guest, status, created_ms, info_json) VALUES ('j1','backup','web','succeeded',1000,'{"id":"j1","kind":"backup","guest":"web","status":"succeeded","createdAt":"1970-01-01T00:00:01.000Z","steps":[],"warnings":[]}'), ('j2','gc',NULL,'succeeded',2000,'{"id":"j2","kind":"gc","status":"succeeded","createdAt":"1970-01-01T00:00:02.000Z","steps":[],"warnings":[]}');
       INSERT INTO job_logs (job_id, at, level, message) VALUES ('j1','a','info','archived');
       INSERT INTO schedules (guest, schedule_json) VALUES ('web', '{"guest":"web","schedule":{"kind":"times","times":["02:00"]}}');
       INSERT INTO retention_policies (guest, policy_json) VALUES ('web', '{"keepLast":3}');
       INSERT INTO settings (key, value_json) VALUES ('scheduler.state.web', '{"lastSuccessAt":5}'), ('scheduler.maintenance', '{"lastOk":true}');`,
    );
    const cat = openCatalog(f);
    expect(cat.version()).toBe(4);
    const web = nameGuestId('web');
    expect(cat.snapshots.list({ guestId: web }).map((s) => [s.id, s.guest, s.guestId, s.disks.length, s.verify?.ok])).toEqual([
      ['s1', 'web', web, 1, true],
      ['s2', 'web', web, 1, undefined],
    ]);
    expect(cat.snapshots.list().map((s) => s.guestId)).toEqual([web, web, nameGuestId('db'), nameGuestId('gone')]);
    expect(cat.jobs.list({ guestId: web }).map((j) => [j.id, j.guest, j.guestId])).toEqual([['j1', 'web', web]]);
    expect(cat.jobs.get('j2')?.guestId).toBeUndefined();
    expect(cat.jobLog.list('j1').map((l) => l.message)).toEqual(['archived']);
    expect(cat.schedules.get(web)).toEqual({ guestId: web, guest: 'web', schedule: { kind: 'times', times: ['02:00'] } });
    expect(cat.retention.list()).toEqual([{ guestId: web, guest: 'web', policy: { keepLast: 3 } }]);
    expect(cat.settings.get(`scheduler.state.${web}`)).toEqual({ lastSuccessAt: 5 });
    expect(cat.settings.get('scheduler.maintenance')).toEqual({ lastOk: true });
    expect(cat.guests.list().map((g) => [g.id, g.name, g.hypervisor])).toEqual([
      [nameGuestId('db'), 'db', undefined],
      [nameGuestId('gone'), 'gone', undefined],
      [web, 'web', 'vmware'],
    ]);
    cat.close();
    // the oracle: sqlite3 itself finds the file sound and every reference resolving
    expect(sqlite(f, 'PRAGMA integrity_check')).toBe('ok');
    expect(sqlite(f, 'PRAGMA foreign_key_check')).toBe('');
    expect(sqlite(f, 'SELECT count(*) FROM snapshot_disks')).toBe('3');
  });

  it('adopts a name: guest into the id of the vm that has that name: snapshots, jobs, schedule, retention and run state move, later syncs follow', () => {
    const f = tmpFile();
    const cat = openCatalog(f);
    const old = nameGuestId('web');
    const id = vmwareGuestId('56 4d ef 2d 3f d4 14 e2-2e 04 c5 34 3a ec ee 65')!;
    const snap = (sid: string, guestId = old) => ({ id: sid, guestId, guest: 'web', time: '2026-01-01T00:00:00.000Z', consistency: 'cold' as const, disks: [], logicalBytes: 1 });
    cat.snapshots.upsert(snap('s1'));
    cat.jobs.insert({ id: 'j1', kind: 'backup', guest: 'web', guestId: old, status: 'succeeded', createdAt: '2026-01-01T00:00:00.000Z', steps: [], warnings: [] });
    cat.schedules.set({ guestId: old, guest: 'web', schedule: { kind: 'times', times: ['02:00'] } });
    cat.retention.set(old, 'web', { keepLast: 2 });
    cat.settings.set(`scheduler.state.${old}`, { lastSuccessAt: 7 });
    cat.guests.upsert({ id, name: 'web', hypervisor: 'vmware', folder: '/vms/web' });
    cat.guests.adopt(old, id);
    expect(cat.snapshots.get('s1')?.guestId).toBe(id);
    expect(cat.jobs.get('j1')?.guestId).toBe(id);
    expect(cat.schedules.get(id)).toMatchObject({ guestId: id, guest: 'web' });
    expect(cat.schedules.get(old)).toBeUndefined();
    expect(cat.retention.get(id)).toEqual({ keepLast: 2 });
    expect(cat.settings.get(`scheduler.state.${id}`)).toEqual({ lastSuccessAt: 7 });
    expect(cat.guests.list().map((g) => g.id)).toEqual([id]);
    expect(cat.guests.aliases(id)).toEqual([old]);
    // an old manifest read again (sync, rebuild) lands on the adopted id
    cat.snapshots.replaceAll([snap('s1'), snap('s2')]);
    expect(cat.snapshots.list({ guestId: id }).map((s) => s.id)).toEqual(['s1', 's2']);
    cat.close();
    expect(sqlite(f, 'PRAGMA foreign_key_check')).toBe('');
  });
});

describe('catalog', () => {
  it('is at the latest version, and reopening is idempotent', () => {
    const f = tmpFile();
    openCatalog(f).close();
    const c = openCatalog(f);
    expect(c.version()).toBe(LATEST_VERSION);
    expect(c.integrityCheck()).toBe('ok');
    c.close();
  });

  it('refuses a catalog from a newer version', () => {
    const f = tmpFile();
    openCatalog(f).close();
    sqlite(f, 'PRAGMA user_version = 999');
    expect(() => openCatalog(f)).toThrow(/newer/);
  });

  it('reports a file that is not sqlite as CATALOG_CORRUPT; openCatalog moves it aside and starts a new one', () => {
    const f = tmpFile();
    execFileSync('sh', ['-c', `head -c 8192 /dev/urandom > '${f}'`]);
    expect(() => openCatalogDb(f)).toThrow(expect.objectContaining({ code: 'CATALOG_CORRUPT', details: expect.objectContaining({ reason: 'corrupt' }) }));
    const c = openCatalog(f);
    expect(c.recovered).toMatchObject({ reason: 'corrupt', movedTo: expect.stringContaining(`${f}.corrupt-`) });
    expect(c.integrityCheck()).toBe('ok');
    c.close();
  });

  it('stores jobs, job logs, schedules, retention and settings', () => {
    const c = openCatalog(tmpFile());
    const web = vmwareGuestId('56 4d ef 2d 3f d4 14 e2-2e 04 c5 34 3a ec ee 65')!;
    const job = { id: 'j1', kind: 'backup' as const, guest: 'web', status: 'queued' as const, createdAt: '2026-01-01T00:00:00.000Z', steps: [], warnings: [] };
    c.jobs.insert({ ...job, guestId: web });
    c.jobs.insert({ ...job, id: 'j2', guest: 'db', guestId: nameGuestId('db'), createdAt: '2026-01-02T00:00:00.000Z' });
    expect(() => c.jobs.insert(job)).toThrow(expect.objectContaining({ code: 'ALREADY_EXISTS' }));
    expect(c.jobs.update('j1', { status: 'succeeded', snapshotId: 's9' })).toMatchObject({ id: 'j1', status: 'succeeded', snapshotId: 's9' });
    expect(() => c.jobs.update('nope', {})).toThrow(expect.objectContaining({ code: 'JOB_NOT_FOUND' }));
    expect(c.jobs.list().map((j) => j.id)).toEqual(['j2', 'j1']);
    expect(c.jobs.list({ guestId: web }).map((j) => j.id)).toEqual(['j1']);
    expect(c.jobs.list({ status: ['queued'] }).map((j) => j.id)).toEqual(['j2']);
    c.jobLog.append('j1', { at: 'a', level: 'info', message: 'one', step: 'freeze' });
    c.jobLog.append('j1', { at: 'b', level: 'warn', message: 'two' });
    expect(c.jobLog.list('j1')).toEqual([
      { at: 'a', level: 'info', message: 'one', step: 'freeze' },
      { at: 'b', level: 'warn', message: 'two' },
    ]);
    c.schedules.set({ guestId: web, guest: 'web', schedule: { kind: 'times', times: ['02:00'] } });
    expect(c.schedules.get(web)).toEqual({ guestId: web, guest: 'web', schedule: { kind: 'times', times: ['02:00'] } });
    expect(c.schedules.list()).toHaveLength(1);
    c.retention.set(web, 'web', { keepLast: 3 });
    c.retention.set(web, 'web', { keepDaily: 7 });
    expect(c.retention.get(web)).toEqual({ keepDaily: 7 });
    expect(c.retention.get(nameGuestId('web'))).toBeUndefined();
    c.settings.set('lastVerify', { ok: true });
    expect(c.settings.get('lastVerify')).toEqual({ ok: true });
    c.jobs.delete('j1');
    expect(c.jobLog.list('j1')).toEqual([]);
    c.close();
  });

  it('replaces the snapshot cache atomically', () => {
    const c = openCatalog(tmpFile());
    const s = (id: string, guest: string) => ({
      id,
      guestId: nameGuestId(guest),
      guest,
      time: '2026-01-01T00:00:00.000Z',
      consistency: 'cold' as const,
      disks: [{ name: 'd0', size: 10 }],
      logicalBytes: 10,
    });
    c.snapshots.upsert(s('a', 'g1'));
    c.snapshots.replaceAll([s('b', 'g2'), s('c', 'g2')]);
    expect(c.snapshots.ids().sort()).toEqual(['b', 'c']);
    expect(c.snapshots.list({ guestId: nameGuestId('g2') })[0]?.disks).toEqual([{ name: 'd0', size: 10 }]);
    expect(c.guests.list().map((g) => g.name)).toEqual(['g1', 'g2']);
    c.close();
  });
});
