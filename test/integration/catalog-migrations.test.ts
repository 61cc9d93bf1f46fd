import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openCatalog, LATEST_VERSION } from '../../electron/engine/catalog/catalog.js';
import { openCatalogDb, schemaVersion } from '../../electron/engine/catalog/catalog-db.js';

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
    expect(cat.version()).toBe(3);
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
    expect(sqlite(f, 'PRAGMA user_version')).toBe('3');
  });

  it('a catalog rebuild replaces rows with what the manifests say (boot verification included)', () => {
    const cat = openCatalog(tmpFile());
    const base = { id: 's2', guest: 'g', time: '2026-02-01T09:00:00.000Z', consistency: 'clean-twin' as const, disks: [], logicalBytes: 1 };
    cat.snapshots.upsert(base);
    cat.snapshots.replaceAll([{ ...base, bootVerify: { ...bootVerify, ok: false, bootMs: undefined, detail: 'guest tools never answered' } }]);
    expect(cat.snapshots.get('s2')!.bootVerify).toMatchObject({ ok: false, detail: 'guest tools never answered' });
    cat.close();
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
    const job = { id: 'j1', kind: 'backup' as const, guest: 'web', status: 'queued' as const, createdAt: '2026-01-01T00:00:00.000Z', steps: [], warnings: [] };
    c.jobs.insert(job);
    c.jobs.insert({ ...job, id: 'j2', guest: 'db', createdAt: '2026-01-02T00:00:00.000Z' });
    expect(() => c.jobs.insert(job)).toThrow(expect.objectContaining({ code: 'ALREADY_EXISTS' }));
    expect(c.jobs.update('j1', { status: 'succeeded', snapshotId: 's9' })).toMatchObject({ id: 'j1', status: 'succeeded', snapshotId: 's9' });
    expect(() => c.jobs.update('nope', {})).toThrow(expect.objectContaining({ code: 'JOB_NOT_FOUND' }));
    expect(c.jobs.list().map((j) => j.id)).toEqual(['j2', 'j1']);
    expect(c.jobs.list({ guest: 'web' }).map((j) => j.id)).toEqual(['j1']);
    expect(c.jobs.list({ status: ['queued'] }).map((j) => j.id)).toEqual(['j2']);
    c.jobLog.append('j1', { at: 'a', level: 'info', message: 'one', step: 'freeze' });
    c.jobLog.append('j1', { at: 'b', level: 'warn', message: 'two' });
    expect(c.jobLog.list('j1')).toEqual([
      { at: 'a', level: 'info', message: 'one', step: 'freeze' },
      { at: 'b', level: 'warn', message: 'two' },
    ]);
    c.schedules.set({ guest: 'web', schedule: { kind: 'times', times: ['02:00'] } });
    expect(c.schedules.get('web')).toEqual({ guest: 'web', schedule: { kind: 'times', times: ['02:00'] } });
    expect(c.schedules.list()).toHaveLength(1);
    c.retention.set('web', { keepLast: 3 });
    c.retention.set('web', { keepDaily: 7 });
    expect(c.retention.get('web')).toEqual({ keepDaily: 7 });
    expect(c.retention.get('other')).toBeUndefined();
    c.settings.set('lastVerify', { ok: true });
    expect(c.settings.get('lastVerify')).toEqual({ ok: true });
    c.jobs.delete('j1');
    expect(c.jobLog.list('j1')).toEqual([]);
    c.close();
  });

  it('replaces the snapshot cache atomically', () => {
    const c = openCatalog(tmpFile());
    const s = (id: string, guest: string) => ({ id, guest, time: '2026-01-01T00:00:00.000Z', consistency: 'cold' as const, disks: [{ name: 'd0', size: 10 }], logicalBytes: 10 });
    c.snapshots.upsert(s('a', 'g1'));
    c.snapshots.replaceAll([s('b', 'g2'), s('c', 'g2')]);
    expect(c.snapshots.ids().sort()).toEqual(['b', 'c']);
    expect(c.snapshots.list({ guest: 'g2' })[0]?.disks).toEqual([{ name: 'd0', size: 10 }]);
    expect(c.guests.list().map((g) => g.name)).toEqual(['g1', 'g2']);
    c.close();
  });
});
