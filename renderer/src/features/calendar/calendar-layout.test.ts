import { describe, expect, it } from 'vitest';
import type { SnapshotSummary } from '../../../../shared/domain/snapshot.js';
import { makeJob } from '../../test/fakes.js';
import { addDays, dayKey, layoutCalendar, retentionHorizonDays } from './calendar-layout.js';
import type { GuestId } from '../../../../shared/domain/guest-id.js';

const local = (y: number, m: number, d: number, h = 0, min = 0) => new Date(y, m - 1, d, h, min).toISOString();
const snap = (id: string, guest: string, time: string, extra: Partial<SnapshotSummary> = {}): SnapshotSummary => ({
  id,
  guestId: guest as GuestId,
  guest,
  time,
  consistency: 'clean-twin',
  disks: [],
  logicalBytes: 1,
  ...extra,
});

describe('layoutCalendar', () => {
  const now = new Date(2026, 10, 22, 15, 0).getTime();

  it('puts each snapshot into its local day at its time of day, and marks today', () => {
    const l = layoutCalendar({
      guests: ['A', 'B'],
      snapshots: [snap('s1', 'A', local(2026, 11, 22, 12)), snap('s2', 'A', local(2026, 11, 22, 18)), snap('s3', 'B', local(2026, 11, 20, 6), { consistency: 'crash' })],
      jobs: [],
      endDay: '2026-11-22',
      days: 7,
      now,
    });
    expect(l.days.map((d) => d.key)).toEqual(['2026-11-16', '2026-11-17', '2026-11-18', '2026-11-19', '2026-11-20', '2026-11-21', '2026-11-22']);
    expect(l.days.filter((d) => d.isToday).map((d) => d.key)).toEqual(['2026-11-22']);
    const a = l.rows[0];
    expect(a.guest).toBe('A');
    expect(a.cells[6].marks.map((m) => [m.key, m.frac])).toEqual([
      ['s1', 0.5],
      ['s2', 0.75],
    ]);
    expect(l.rows[1].cells[4].marks[0]).toMatchObject({ key: 's3', kind: 'crash', frac: 0.25 });
    expect(a.count).toBe(2);
  });

  it('drops points outside the range, shows failed jobs, verified points, orphan guests and previews', () => {
    const l = layoutCalendar({
      guests: ['A'],
      snapshots: [
        snap('old', 'A', local(2026, 11, 1, 2)),
        snap('v', 'A', local(2026, 11, 21, 2), { verify: { ok: true, at: local(2026, 11, 21, 3) } }),
        snap('gone', 'Z', local(2026, 11, 21, 9), { consistency: 'cold' }),
      ],
      jobs: [
        makeJob({ id: 'f', guest: 'A', guestId: 'A' as GuestId, status: 'failed', createdAt: local(2026, 11, 22, 1), finishedAt: local(2026, 11, 22, 1, 30) }),
        makeJob({ id: 'ok', guest: 'A', guestId: 'A' as GuestId, status: 'succeeded', finishedAt: local(2026, 11, 22, 2) }),
        makeJob({ id: 'r', kind: 'restore', guest: 'A', guestId: 'A' as GuestId, status: 'failed', finishedAt: local(2026, 11, 22, 3) }),
      ],
      endDay: '2026-11-22',
      days: 3,
      now,
      forget: new Set(['v']),
    });
    const [a, z] = l.rows;
    expect(a.count).toBe(2);
    expect(a.lastGood).toBe(local(2026, 11, 21, 2));
    expect(a.cells[1].marks[0]).toMatchObject({ key: 'v', verified: true, forget: true });
    expect(a.cells[2].marks.map((m) => [m.key, m.kind])).toEqual([['job:f', 'failed']]);
    expect(z).toMatchObject({ guest: 'Z', orphan: true });
    expect(z.cells[1].marks[0].kind).toBe('cold');
  });

  it('flags days beyond the retention horizon per guest', () => {
    const l = layoutCalendar({ guests: ['A', 'B'], snapshots: [], jobs: [], endDay: '2026-11-22', days: 14, now, horizons: { A: 3 } });
    expect(l.rows[0].cells.map((c) => c.beyondHorizon).lastIndexOf(true)).toBe(l.days.findIndex((d) => d.key === '2026-11-19') - 1);
    expect(l.rows[1].cells.some((c) => c.beyondHorizon)).toBe(false);
  });

  it('lays out 50 guests × 90 days × 4 points a day', () => {
    const guests = Array.from({ length: 50 }, (_, i) => `guest-${i}`);
    const snapshots: SnapshotSummary[] = [];
    for (const g of guests) for (let d = 0; d < 90; d++) for (const h of [2, 8, 14, 20]) snapshots.push(snap(`${g}-${d}-${h}`, g, new Date(2026, 10, 22 - d, h).toISOString()));
    const t0 = performance.now();
    const l = layoutCalendar({ guests, snapshots, jobs: [], endDay: '2026-11-22', days: 90, now });
    const ms = performance.now() - t0;
    expect(l.rows).toHaveLength(50);
    expect(l.rows.every((r) => r.count === 360 && r.cells.every((c) => c.marks.length === 4))).toBe(true);
    expect(ms).toBeLessThan(2000); // generous: a sanity bound, the benchmark measures the real figure
  });
});

describe('date helpers', () => {
  it('adds calendar days across month ends and DST changes', () => {
    expect(addDays('2026-10-31', 1)).toBe('2026-11-01');
    expect(addDays('2026-03-29', 1)).toBe('2026-03-30');
    expect(addDays('2026-01-01', -1)).toBe('2025-12-31');
    expect(dayKey(new Date(2026, 1, 3, 23, 59))).toBe('2026-02-03');
  });

  it('derives a retention horizon from time tiers, none from counts alone', () => {
    expect(retentionHorizonDays({ keepLast: 5 })).toBeUndefined();
    expect(retentionHorizonDays({ keepWithinDays: 14, keepDaily: 30 })).toBe(30);
    expect(retentionHorizonDays({ keepWeekly: 12 })).toBe(84);
    expect(retentionHorizonDays(undefined)).toBeUndefined();
  });
});
