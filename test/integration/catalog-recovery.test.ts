import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { AppNotification } from '../../shared/domain/notification.js';
import { main } from '../../electron/cli/index.js';
import { createEngine, type Engine } from '../../electron/engine/engine.js';
import { makeTempDir } from '../helpers/temp-dir.js';

// A damaged catalog database must not block anything: the next start moves it aside, creates a
// new one, lists the snapshots again from the repository and still has the schedules, retention
// policies and settings (from policies.json) — and says so in the log, by notification and in
// engine.status. The oracle for "damaged" is the sqlite3 shell refusing the file.

const tmp = makeTempDir('twinsnap-catalog-recovery-');
afterAll(() => tmp.cleanup());
const MiB = 1024 * 1024;
const schedule = { kind: 'times' as const, times: ['02:30'], weekdays: [1, 3, 5] };
const policy = { keepLast: 3, keepDaily: 7 };

async function cli(dataDir: string, ...args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(['--data-dir', dataDir, ...args], { stdout: (s) => void (out += s), stderr: (s) => void (err += s), stdoutBytes: async () => {}, isTTY: false });
  return { code, out, err };
}

/** A data folder with one snapshot, a schedule, a retention policy and a setting; returns the snapshot id. */
async function populated(dataDir: string): Promise<string> {
  const img = join(dataDir, '..', `${Math.random().toString(36).slice(2)}.img`);
  writeFileSync(img, randomBytes(2 * MiB));
  const r = await cli(dataDir, '--json', 'import-disk', '--guest', 'Accounting', img);
  expect(r.code, r.err).toBe(0);
  const engine = await createEngine({ dataDir });
  try {
    await engine.service.call('schedules.set', { guest: 'Accounting', schedule });
    await engine.service.call('retention.set', { guest: 'Accounting', policy });
    engine.context.store.catalog().settings.set('ui.lastVerify', { ok: true, at: '2026-12-01T00:00:00.000Z' });
  } finally {
    await engine.close();
  }
  return JSON.parse(r.out).id as string;
}

const corruptions: [string, (file: string) => void][] = [
  ['overwritten with garbage bytes', (f) => writeFileSync(f, randomBytes(statSync(f).size))],
  ['truncated at half', (f) => truncateSync(f, Math.floor(statSync(f).size / 2))],
];

/** Resolves once `done()` holds (checked every 10 ms, for at most 10 s). */
async function until(done: () => boolean): Promise<void> {
  for (let waited = 0; !done() && waited < 10_000; waited += 10) await new Promise((r) => setTimeout(r, 10));
}

/** Starts an engine and records its notifications. */
async function start(dataDir: string): Promise<{ engine: Engine; notes: AppNotification[] }> {
  const engine = await createEngine({ dataDir });
  const notes: AppNotification[] = [];
  engine.onEvent((event, payload) => {
    if (event === 'notify.raised') notes.push(payload as AppNotification);
  });
  return { engine, notes };
}

describe('a corrupt catalog comes back by itself', { timeout: 120_000 }, () => {
  it.each(corruptions)('%s: moved aside, snapshots listed again, schedules, retention and settings kept, said loudly', async (_name, corrupt) => {
    const dataDir = join(tmp.path, `data-${Math.random().toString(36).slice(2)}`);
    const id = await populated(dataDir);
    const file = join(dataDir, 'catalog.sqlite');
    expect(existsSync(`${file}-wal`)).toBe(false); // closed cleanly: everything is in the main file
    corrupt(file);
    expect(() => execFileSync('sqlite3', [file, 'PRAGMA integrity_check;'], { stdio: 'pipe' }), 'the oracle must see the damage').toThrow();

    const { engine, notes } = await start(dataDir);
    try {
      const snaps = await engine.service.call('snapshots.list', {});
      expect(snaps.map((s) => s.id)).toEqual([id]);
      expect((await engine.service.call('schedules.list', {})).map((s) => [s.guest, s.schedule])).toEqual([['Accounting', schedule]]);
      expect((await engine.service.call('retention.get', { guest: 'Accounting' })).policy).toEqual(policy);
      expect(engine.context.store.catalog().settings.get('ui.lastVerify')).toEqual({ ok: true, at: '2026-12-01T00:00:00.000Z' });
      const status = await engine.service.call('engine.status', {});
      expect(status.catalogRecovered).toMatchObject({ reason: 'corrupt', restored: { schedules: 1, retention: 1 } });
      expect(status.catalogRecovered!.restored!.settings).toBeGreaterThanOrEqual(1); // ours and the engine's own
      const aside = status.catalogRecovered!.movedTo!;
      expect(aside).toMatch(/catalog\.sqlite\.corrupt-\d{8}T\d{6}Z$/);
      expect(readdirSync(dataDir)).toContain(aside.split('/').pop());
      await until(() => notes.length > 0); // the notification is sent in the background
      expect(notes).toEqual([expect.objectContaining({ topic: 'catalog', severity: 'warning', title: 'the catalog was rebuilt' })]);
    } finally {
      await engine.close();
    }
    const log = readFileSync(join(dataDir, 'logs', 'engine.log'), 'utf8');
    expect(log).toContain('catalog was damaged and moved aside');
    // the new catalog is sound, and policies.json is owner-only
    expect(execFileSync('sqlite3', [file, 'PRAGMA integrity_check;'], { encoding: 'utf8' }).trim()).toBe('ok');
    expect(statSync(join(dataDir, 'policies.json')).mode & 0o777).toBe(0o600);
  });

  it('catalog rebuild works on a damaged catalog too', async () => {
    const dataDir = join(tmp.path, 'data-rebuild');
    await populated(dataDir);
    writeFileSync(join(dataDir, 'catalog.sqlite'), randomBytes(8192));
    const r = await cli(dataDir, '--json', 'catalog', 'rebuild');
    expect(r.code, r.err).toBe(0);
    expect(JSON.parse(r.out)).toMatchObject({ snapshots: 1 });
  });

  it('without a usable policies.json the loss is announced as a failure, and a deleted catalog gets its schedules back', async () => {
    const dataDir = join(tmp.path, 'data-lost');
    await populated(dataDir);
    // deleted catalog, mirror kept: schedules come back
    rmSync(join(dataDir, 'catalog.sqlite'));
    let run = await start(dataDir);
    try {
      expect((await run.engine.service.call('schedules.list', {})).length).toBe(1);
      expect((await run.engine.service.call('engine.status', {})).catalogRecovered).toMatchObject({ reason: 'missing', restored: { schedules: 1 } });
    } finally {
      await run.engine.close();
    }
    // damaged catalog and damaged mirror: the loss is said, never silent
    writeFileSync(join(dataDir, 'catalog.sqlite'), randomBytes(8192));
    writeFileSync(join(dataDir, 'policies.json'), '{"format":');
    run = await start(dataDir);
    try {
      expect((await run.engine.service.call('engine.status', {})).catalogRecovered).toMatchObject({ reason: 'corrupt', restored: null });
      await until(() => run.notes.length > 0);
      expect(run.notes).toEqual([expect.objectContaining({ topic: 'catalog', severity: 'failure', body: expect.stringContaining('SCHEDULES, RETENTION POLICIES AND SETTINGS WERE LOST') })]);
    } finally {
      await run.engine.close();
    }
  });
});
