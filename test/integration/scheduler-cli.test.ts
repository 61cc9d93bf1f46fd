import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../../electron/cli/index.js';

const dir = mkdtempSync(join(tmpdir(), 'twinsnap-sched-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function cli(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(['--data-dir', dir, ...args], { stdout: (s) => void (out += s), stderr: (s) => void (err += s), stdoutBytes: async () => {}, isTTY: false });
  return { code, out, err };
}

describe('twinsnap schedule', () => {
  it('sets every kind from flags and lists them as JSON', async () => {
    expect((await cli('schedule', 'set', 'web', '--times', '18:00,12:00', '--weekdays', 'mon-fri', '--tz', 'Europe/Berlin')).code).toBe(0);
    expect((await cli('schedule', 'set', 'db', '--every', '2h', '--from', '07:00', '--to', '19:00', '--weekdays', 'sat,sun')).code).toBe(0);
    expect(await cli('schedule', 'set', 'mail', '--cron', '15 3 * * 1')).toMatchObject({ code: 0 });
    expect(await cli('schedule', 'set', 'old', '--off')).toMatchObject({ code: 0 });
    const r = await cli('--json', 'schedule', 'list');
    expect(r.code, r.err).toBe(0);
    const list = JSON.parse(r.out) as { guest: string; schedule: unknown; timeZone?: string; nextRuns: string[] }[];
    expect(list.map((s) => [s.guest, s.schedule, s.timeZone])).toEqual([
      ['db', { kind: 'interval', everyHours: 2, from: '07:00', to: '19:00', weekdays: [0, 6] }, undefined],
      ['mail', { kind: 'cron', expression: '15 3 * * 1' }, undefined],
      ['old', { kind: 'off' }, undefined],
      ['web', { kind: 'times', times: ['12:00', '18:00'], weekdays: [1, 2, 3, 4, 5] }, 'Europe/Berlin'],
    ]);
    expect(list.find((s) => s.guest === 'old')!.nextRuns).toEqual([]);
    expect(list.find((s) => s.guest === 'web')!.nextRuns).toHaveLength(5);
  });

  it('rejects conflicting or missing kinds as usage errors (exit 2)', async () => {
    const both = await cli('schedule', 'set', 'x', '--times', '12:00', '--off');
    expect(both.code).toBe(2);
    expect(both.err).toMatch(/give exactly one of --times/);
    expect((await cli('schedule', 'set', 'x')).code).toBe(2);
    expect((await cli('schedule', 'set', 'x', '--every', 'often')).err).toMatch(/invalid --every 'often'/);
    expect((await cli('schedule', 'set', 'x', '--cron', '0 3 * * *', '--weekdays', 'mon')).code).toBe(2);
  });

  it('reports invalid values as SCHEDULE_INVALID (exit 1) with the offending value', async () => {
    const r = await cli('schedule', 'set', 'x', '--times', '12:00', '--weekdays', 'funday');
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/unknown weekday 'funday'.*\[SCHEDULE_INVALID\]/);
    const tz = await cli('--json', 'schedule', 'set', 'x', '--times', '12:00', '--tz', 'Europe/Atlantis');
    expect(tz.code).toBe(1);
    expect(JSON.parse(tz.err)).toMatchObject({ error: { code: 'SCHEDULE_INVALID', message: expect.stringMatching(/unknown time zone 'Europe\/Atlantis'/) } });
  });

  it('previews runs without saving', async () => {
    const r = await cli('--json', 'schedule', 'preview', '--times', '06:00', '--tz', 'UTC', '--count', '3');
    expect(r.code, r.err).toBe(0);
    const runs = (JSON.parse(r.out) as { nextRuns: string[] }).nextRuns;
    expect(runs).toHaveLength(3);
    for (const x of runs) expect(x).toMatch(/T06:00:00.000Z$/);
    expect((JSON.parse((await cli('--json', 'schedule', 'list')).out) as unknown[]).length).toBe(4);
  });

  it('service --dry-run prints the unit without touching the system', async () => {
    const r = await cli('service', 'install', '--dry-run', '--unit-dir', join(dir, 'units'));
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain(`# write ${join(dir, 'units', 'twinsnap.service')}`);
    expect(r.out).toMatch(/^ExecStart=".*" ".*twinsnap\.mjs" "--data-dir" ".*" "daemon"$/m);
    expect(r.out).toContain('# run: systemctl enable --now twinsnap.service');
  });
});
