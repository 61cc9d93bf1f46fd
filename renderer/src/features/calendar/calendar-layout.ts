import type { JobInfo } from '../../../../shared/domain/job.js';
import type { RetentionPolicy } from '../../../../shared/domain/policy.js';
import type { SnapshotSummary } from '../../../../shared/domain/snapshot.js';

/** How a mark on the calendar is drawn. */
export type MarkKind = 'clean' | 'crash' | 'cold' | 'failed';

/** A restore point's offsite copy (from `offsite.status`): there, and until when Object Lock protects it. */
export interface OffsitePoint {
  protectedUntil?: string;
}

/** One restore point (or failed attempt) on the calendar. */
export interface CalendarMark {
  /** Snapshot id, or `job:<id>` for a failed job. */
  key: string;
  kind: MarkKind;
  at: string;
  /** Time of day as a fraction 0..1 (local time). */
  frac: number;
  verified: boolean;
  /** Its last verify found damaged data (drawn with a red ring, said in the cell's label). */
  damaged?: boolean;
  /** True when a retention preview says it would be forgotten. */
  forget: boolean;
  /** It is in the offsite copy; `locked` while its Object Lock date is ahead. */
  offsite?: OffsitePoint & { locked: boolean };
  snapshot?: SnapshotSummary;
  job?: JobInfo;
}

/** One day of one guest. */
export interface CalendarCell {
  marks: CalendarMark[];
  /** The day lies beyond the guest's retention horizon. */
  beyondHorizon: boolean;
}

/** One column. */
export interface CalendarDay {
  /** Local date `YYYY-MM-DD`. */
  key: string;
  dayOfMonth: number;
  /** 0 = Sunday. */
  weekday: number;
  month: number;
  isToday: boolean;
}

/** One guest's row. */
export interface CalendarRow {
  /** The guest's id (rows, policies and selections are keyed by it). */
  guest: string;
  /** What the row shows: the name, with the folder (or id) when another guest has the same name. */
  label: string;
  /** True when the guest is not (or no longer) known to any hypervisor but has restore points. */
  orphan: boolean;
  cells: CalendarCell[];
  /** Newest good restore point overall (not only in range). */
  lastGood?: string;
  /** Number of points in range. */
  count: number;
}

/** Input of layoutCalendar. */
export interface CalendarInput {
  /** Guest ids, in display order. */
  guests: string[];
  /** Display label per guest id (default: the name recorded with its newest snapshot, else the id). */
  labels?: Record<string, string>;
  snapshots: SnapshotSummary[];
  jobs: JobInfo[];
  /** Last day shown, `YYYY-MM-DD` local. */
  endDay: string;
  days: number;
  /** Epoch ms "now" (marks today). */
  now: number;
  /** Per guest: days kept by retention (see retentionHorizonDays); absent = no horizon drawn. */
  horizons?: Record<string, number | undefined>;
  /** Snapshot ids a retention preview would forget. */
  forget?: ReadonlySet<string>;
  /** Restore points in the offsite copy, by snapshot id (one `offsite.status` per calendar load). */
  offsite?: ReadonlyMap<string, OffsitePoint>;
}

/** The whole calendar. */
export interface CalendarLayout {
  days: CalendarDay[];
  rows: CalendarRow[];
}

const pad = (n: number) => String(n).padStart(2, '0');

/** Local date key of a Date. */
export function dayKey(d: Date): string {
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

/** A local Date at midnight of a `YYYY-MM-DD` key. */
export function parseDayKey(key: string): Date {
  const [y, m, d] = key.split('-').map(Number);
  return new Date(y, m - 1, d);
}

/** Adds whole days to a key (DST-safe: works on calendar dates, not milliseconds). */
export function addDays(key: string, n: number): string {
  const d = parseDayKey(key);
  d.setDate(d.getDate() + n);
  return dayKey(d);
}

/**
 * How many days back retention keeps something, as drawn on the calendar: the longest of
 * "keep within N days" and the time tiers (daily N → N days, weekly → 7N, monthly → 31N,
 * yearly → 366N). Undefined when the policy only counts (keep last N) or keeps nothing.
 */
export function retentionHorizonDays(p: RetentionPolicy | undefined): number | undefined {
  if (!p) return undefined;
  const d = Math.max(p.keepWithinDays ?? 0, p.keepDaily ?? 0, (p.keepHourly ?? 0) / 24, (p.keepWeekly ?? 0) * 7, (p.keepMonthly ?? 0) * 31, (p.keepYearly ?? 0) * 366);
  return d > 0 ? Math.ceil(d) : undefined;
}

const KIND: Record<SnapshotSummary['consistency'], MarkKind> = { 'clean-twin': 'clean', crash: 'crash', cold: 'cold' };

/**
 * Lays out restore points as a guest × day grid: each snapshot lands in its local day at its
 * time of day; failed backup jobs appear as failed marks; days older than a guest's retention
 * horizon are flagged. Pure and O(guests × days + snapshots + jobs).
 */
export function layoutCalendar(input: CalendarInput): CalendarLayout {
  const { days: n, endDay, now } = input;
  const todayKey = dayKey(new Date(now));
  const start = addDays(endDay, -(n - 1));
  const days: CalendarDay[] = [];
  const index = new Map<string, number>();
  const cursor = parseDayKey(start);
  for (let i = 0; i < n; i++) {
    const key = dayKey(cursor);
    index.set(key, i);
    days.push({ key, dayOfMonth: cursor.getDate(), weekday: cursor.getDay(), month: cursor.getMonth(), isToday: key === todayKey });
    cursor.setDate(cursor.getDate() + 1);
  }

  const names = [...input.guests];
  const listed = new Set(names);
  const known = new Set(names);
  const orphans: string[] = [];
  const named = new Map<string, string>();
  for (const s of input.snapshots) {
    named.set(s.guestId, s.guest);
    if (!known.has(s.guestId)) {
      known.add(s.guestId);
      orphans.push(s.guestId);
    }
  }
  const labelOf = (id: string) => input.labels?.[id] ?? named.get(id) ?? id;
  names.push(...orphans.sort((a, b) => labelOf(a).localeCompare(labelOf(b)) || a.localeCompare(b)));
  const rows = new Map<string, CalendarRow>();
  for (const g of names) {
    const horizon = input.horizons?.[g];
    const cutoff = horizon === undefined ? undefined : addDays(todayKey, -horizon);
    rows.set(g, {
      guest: g,
      label: labelOf(g),
      orphan: !listed.has(g),
      cells: days.map((d) => ({ marks: [], beyondHorizon: cutoff !== undefined && d.key < cutoff })),
      count: 0,
    });
  }

  // Local midnights of every shown day plus the day after: a point's column is found by binary
  // search on epoch ms (no per-point local-time conversions, which are slow for 18 000 points).
  const bounds: number[] = [];
  const b = parseDayKey(start);
  for (let i = 0; i <= n; i++) {
    bounds.push(b.getTime());
    b.setDate(b.getDate() + 1);
  }
  const columnOf = (ms: number): number => {
    if (!(ms >= bounds[0]) || ms >= bounds[n]) return -1;
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (bounds[mid] <= ms) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  };

  const place = (guest: string, iso: string, key: string, kind: MarkKind, verified: boolean, forget: boolean, snapshot?: SnapshotSummary, job?: JobInfo, damaged = false, offsite?: OffsitePoint) => {
    const row = rows.get(guest);
    if (!row) return;
    const ms = Date.parse(iso);
    const col = columnOf(ms);
    if (col < 0) return;
    const frac = (ms - bounds[col]) / (bounds[col + 1] - bounds[col]);
    const mark: CalendarMark = { key, kind, at: iso, frac, verified, forget, snapshot, job, ...(damaged ? { damaged } : {}) };
    if (offsite) mark.offsite = { ...offsite, locked: offsite.protectedUntil !== undefined && Date.parse(offsite.protectedUntil) > now };
    row.cells[col].marks.push(mark);
    row.count++;
  };

  for (const s of input.snapshots) {
    const row = rows.get(s.guestId);
    if (row && (!row.lastGood || row.lastGood < s.time)) row.lastGood = s.time;
    place(s.guestId, s.time, s.id, KIND[s.consistency], s.verify?.ok === true, input.forget?.has(s.id) ?? false, s, undefined, s.verify?.ok === false, input.offsite?.get(s.id));
  }
  for (const j of input.jobs) {
    if (j.kind !== 'backup' || j.status !== 'failed' || !j.guestId) continue;
    place(j.guestId, j.finishedAt ?? j.startedAt ?? j.createdAt, `job:${j.id}`, 'failed', false, false, undefined, j);
  }
  for (const row of rows.values()) for (const c of row.cells) if (c.marks.length > 1) c.marks.sort((a, b) => a.frac - b.frac);
  return { days, rows: [...rows.values()] };
}

/** Symbols of the legend, also used as text alternatives. */
export const MARK_SYMBOL: Record<MarkKind, string> = { clean: '●', crash: '◐', cold: '○', failed: '✕' };

/** Words for a point's offsite copy (cell labels, the hover card): "offsite, protected until …". */
export function offsiteWords(o: CalendarMark['offsite'], date: (iso: string) => string): string {
  if (!o) return '';
  return o.locked && o.protectedUntil ? `offsite, protected until ${date(o.protectedUntil)}` : 'offsite';
}

/** Words for a mark kind. */
export const MARK_LABEL: Record<MarkKind, string> = {
  clean: 'clean twin',
  crash: 'crash-consistent',
  cold: 'cold (guest was off)',
  failed: 'failed',
};
