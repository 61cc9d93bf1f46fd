import { describe, expect, it } from 'vitest';
import { planRetention } from './retention.js';

/** Local-time ISO strings so calendar buckets do not depend on the test machine's zone. */
const at = (y: number, mo: number, d: number, h = 12, mi = 0) => new Date(y, mo - 1, d, h, mi).toISOString();
const snaps = (times: string[]) => times.map((time, i) => ({ id: `s${i}`, time }));
const kept = (ds: ReturnType<typeof planRetention>) =>
  ds
    .filter((d) => d.keep)
    .map((d) => d.snapshotId)
    .sort();

describe('planRetention', () => {
  it('keeps the N newest with keepLast and says why', () => {
    const ds = planRetention(snaps([at(2026, 1, 1), at(2026, 1, 2), at(2026, 1, 3)]), { keepLast: 2 });
    expect(ds.map((d) => [d.snapshotId, d.keep, d.reasons])).toEqual([
      ['s2', true, ['last']],
      ['s1', true, ['last']],
      ['s0', false, []],
    ]);
  });

  it('keeps the newest snapshot of each of the last N days', () => {
    const ds = planRetention(snaps([at(2026, 1, 1, 9), at(2026, 1, 1, 18), at(2026, 1, 2, 9), at(2026, 1, 2, 18), at(2026, 1, 3, 9)]), { keepDaily: 2 });
    expect(kept(ds)).toEqual(['s3', 's4']);
  });

  it('counts only periods that have a snapshot (restic semantics)', () => {
    const ds = planRetention(snaps([at(2026, 1, 1), at(2026, 1, 10), at(2026, 1, 20)]), { keepDaily: 3 });
    expect(kept(ds)).toEqual(['s0', 's1', 's2']);
  });

  it('combines tiers and reports every rule that keeps a snapshot', () => {
    const ds = planRetention(snaps([at(2025, 12, 31), at(2026, 1, 15), at(2026, 2, 1), at(2026, 2, 2)]), { keepDaily: 1, keepMonthly: 3, keepYearly: 2 });
    const by = Object.fromEntries(ds.map((d) => [d.snapshotId, d.reasons]));
    expect(by).toEqual({ s3: ['daily', 'monthly', 'yearly'], s2: [], s1: ['monthly'], s0: ['monthly', 'yearly'] });
  });

  it('keeps weekly by ISO week', () => {
    // 2026-01-04 is a Sunday (week 1), 2026-01-05 Monday (week 2)
    const ds = planRetention(snaps([at(2026, 1, 3), at(2026, 1, 4), at(2026, 1, 5)]), { keepWeekly: 2 });
    expect(kept(ds)).toEqual(['s1', 's2']);
  });

  it('keeps everything within D days of the newest snapshot', () => {
    const ds = planRetention(snaps([at(2026, 1, 1), at(2026, 1, 8), at(2026, 1, 10)]), { keepWithinDays: 3 });
    expect(kept(ds)).toEqual(['s1', 's2']);
    expect(ds[0]!.reasons).toEqual(['within']);
  });

  it('keeps everything when the policy is empty', () => {
    const ds = planRetention(snaps([at(2026, 1, 1), at(2026, 1, 2)]), {});
    expect(ds.every((d) => d.keep && d.reasons[0] === 'no-policy')).toBe(true);
  });

  it('keeps hourly by local hour', () => {
    const ds = planRetention(snaps([at(2026, 1, 1, 10, 5), at(2026, 1, 1, 10, 50), at(2026, 1, 1, 11, 5)]), { keepHourly: 5 });
    expect(kept(ds)).toEqual(['s1', 's2']);
  });
});
