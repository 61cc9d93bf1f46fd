import type { RetentionDecision, RetentionPolicy } from '../../../../shared/domain/policy.js';

/** What retention needs of a snapshot. */
export interface RetentionItem {
  id: string;
  time: string;
}

type Tier = { rule: string; count?: number; bucket: (d: Date) => string };

const pad = (n: number) => String(n).padStart(2, '0');
/** ISO week-year and week number of a local date. */
function isoWeek(d: Date): string {
  const t = new Date(d.getFullYear(), d.getMonth(), d.getDate());
  const day = (t.getDay() + 6) % 7; // Monday = 0
  t.setDate(t.getDate() - day + 3); // Thursday of this week decides the year
  const firstThu = new Date(t.getFullYear(), 0, 4);
  const week = 1 + Math.round(((t.getTime() - firstThu.getTime()) / 86400000 - 3 + ((firstThu.getDay() + 6) % 7)) / 7);
  return `${t.getFullYear()}-W${pad(week)}`;
}

/** True when the policy has at least one rule that keeps something. */
export function policyIsEmpty(p: RetentionPolicy): boolean {
  return !p.keepLast && !p.keepHourly && !p.keepDaily && !p.keepWeekly && !p.keepMonthly && !p.keepYearly && !p.keepWithinDays;
}

/**
 * Applies a retention policy to one guest's snapshots with restic/PBS semantics: going from the
 * newest to the oldest, `last` keeps the N newest; each calendar tier (hourly, daily, weekly
 * (ISO weeks), monthly, yearly, in local time) keeps the newest snapshot of each of its N most
 * recent periods that have a snapshot; `within` keeps everything within D days of the newest
 * snapshot. A snapshot may be kept by several rules; all are reported. An empty policy keeps
 * everything (reason `no-policy`) — forgetting everything is never a default.
 * Returns decisions newest first.
 */
export function planRetention(items: RetentionItem[], policy: RetentionPolicy): RetentionDecision[] {
  const sorted = [...items].sort((a, b) => Date.parse(b.time) - Date.parse(a.time) || (a.id < b.id ? 1 : -1));
  if (policyIsEmpty(policy)) return sorted.map((s) => ({ snapshotId: s.id, time: s.time, keep: true, reasons: ['no-policy'] }));
  const tiers: Tier[] = [
    { rule: 'last', count: policy.keepLast, bucket: () => '' },
    { rule: 'hourly', count: policy.keepHourly, bucket: (d) => `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}` },
    { rule: 'daily', count: policy.keepDaily, bucket: (d) => `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}` },
    { rule: 'weekly', count: policy.keepWeekly, bucket: isoWeek },
    { rule: 'monthly', count: policy.keepMonthly, bucket: (d) => `${d.getFullYear()}-${pad(d.getMonth() + 1)}` },
    { rule: 'yearly', count: policy.keepYearly, bucket: (d) => `${d.getFullYear()}` },
  ];
  const left = tiers.map((t) => t.count ?? 0);
  const lastBucket: (string | undefined)[] = tiers.map(() => undefined);
  const newest = sorted.length ? Date.parse(sorted[0]!.time) : 0;
  const withinMs = (policy.keepWithinDays ?? 0) * 86400000;
  return sorted.map((s, idx) => {
    const d = new Date(s.time);
    const reasons: string[] = [];
    tiers.forEach((t, k) => {
      if (left[k]! <= 0) return;
      const b = t.rule === 'last' ? String(idx) : t.bucket(d);
      if (b !== lastBucket[k]) {
        lastBucket[k] = b;
        left[k]!--;
        reasons.push(t.rule);
      }
    });
    if (withinMs > 0 && newest - Date.parse(s.time) <= withinMs) reasons.push('within');
    return { snapshotId: s.id, time: s.time, keep: reasons.length > 0, reasons };
  });
}
